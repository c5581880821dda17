// detail/lstm_gates.hpp — the pointwise math of one LSTM step, shared by the
// CPU path (nn/lstm.hpp) and the CUDA kernel (kernels/lstm.cu).
//
// Gate order and equations are PyTorch's, so weights move between the two.
// For a batch row, the pre-activations a (4H values) are laid out as four
// blocks of H: [a_i | a_f | a_g | a_o], the row order of weight_ih_l0/weight_hh_l0.
//
//   (1) i = σ(a_i)      (2) f = σ(a_f)      (3) g = tanh(a_g)    (4) o = σ(a_o)
//   (5) c' = f ⊙ c + i ⊙ g
//   (6) h' = o ⊙ tanh(c')
//
// Forward writes the activated gates (i, f, g, o) over the same layout and c'
// — exactly what backward needs: tanh(c') is recomputed there, which is one
// tanh per unit against storing another B·T·H array.
#pragma once

#include <cstdint>

#include "math.hpp"

namespace deepgen::detail {

/// Hidden unit j of one row: pre-activations `pre` (4H) → gates `act` (4H), c', h'.
/// `pre` and `act` may alias (in-place activation).
template <typename T>
DEEPGEN_HD inline void lstm_unit_fwd(const T* pre, T* act, int64_t H, int64_t j, T c_prev,
                                     T* c_out, T* h_out) {
  const T i = sigmoid_(pre[j]);          // (1)
  const T f = sigmoid_(pre[H + j]);      // (2)
  const T g = tanh_(pre[2 * H + j]);     // (3)
  const T o = sigmoid_(pre[3 * H + j]);  // (4)
  const T c = f * c_prev + i * g;        // (5)
  act[j] = i;
  act[H + j] = f;
  act[2 * H + j] = g;
  act[3 * H + j] = o;
  *c_out = c;
  *h_out = o * tanh_(c);  // (6)
}

/// Backward of unit j. dh: total gradient on h' (from the output and from the
/// next step's recurrence); dc_next: gradient on c' from the next step.
/// Writes the pre-activation gradients `dpre` (4H layout) and the gradient on c.
template <typename T>
DEEPGEN_HD inline void lstm_unit_bwd(const T* act, int64_t H, int64_t j, T c_prev, T c, T dh,
                                     T dc_next, T* dpre, T* dc_prev) {
  const T i = act[j], f = act[H + j], g = act[2 * H + j], o = act[3 * H + j];
  const T tc = tanh_(c);
  const T dc = dc_next + dh * o * (T(1) - tc * tc);  // through (6) and (5)
  dpre[j] = dc * g * i * (T(1) - i);                 // (5) → (1)
  dpre[H + j] = dc * c_prev * f * (T(1) - f);        // (5) → (2)
  dpre[2 * H + j] = dc * i * (T(1) - g * g);         // (5) → (3)
  dpre[3 * H + j] = dh * tc * o * (T(1) - o);        // (6) → (4)
  *dc_prev = dc * f;
}

}  // namespace deepgen::detail
