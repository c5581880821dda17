// cuda/lstm_sequence.hpp — a whole one-hot LSTM sequence on the GPU, forward
// and backward: the device counterpart of ops/lstm.hpp's lstm_sequence_onehot.
//
// Per step t, on the context's stream: one cuBLAS GEMM
//   act[t] = hs[t] · W_hhᵀ                 (B × 4H, written into act[t])
// then one lstm_pointwise_fwd (kernels/lstm.cu), in place on act[t]:
//   gather column tokens[t, b] of W_ih + b_ih + b_hh, gates, c and h
// writing cs[t + 1], hs[t + 1]. act keeps every step's activated gates, and
// hs/cs every state, exactly what a backward pass needs.
//
// Layouts (device pointers, row-major, time-major like the CPU op's saved tensors):
//   tokens (T, B) int32, −1 = the all-zeros input;  weight_ih (4H, I), weight_hh (4H, H)
//     (multi-hot, the overloads taking S: tokens (T, B, S), S columns summed per row)
//   h0, c0 (B, H) or nullptr for zeros;  act (T, B, 4H);  hs, cs (T + 1, B, H)
// Declarations only, in plain C++; defined in kernels/lstm_sequence.cu.
#pragma once

#include <cstdint>

#include "context.hpp"

namespace deepgen::cuda {

/// The whole one-hot LSTM sequence forward on ctx's stream, keeping act, hs and cs for backward
/// (layouts at the top of this header).
template <typename T>
void lstm_sequence_forward_onehot(const Context& ctx, const int32_t* tokens, const T* weight_ih, const T* weight_hh,
                                  const T* b_ih, const T* b_hh, const T* h0, const T* c0, int64_t B, int64_t steps,
                                  int64_t H, int64_t I, T* act, T* hs, T* cs);

/// As above with S tokens per row, tokens (T, B, S) time-major (a PixelRNN's
/// 2-D context): step t's input is the sum of weight_ih's columns tokens[t, b, ·].
template <typename T>
void lstm_sequence_forward_onehot(const Context& ctx, const int32_t* tokens, const T* weight_ih, const T* weight_hh,
                                  const T* b_ih, const T* b_hh, const T* h0, const T* c0, int64_t B, int64_t steps,
                                  int64_t H, int64_t I, int64_t S, T* act, T* hs, T* cs);

/// Backpropagation through time for the forward above, from dy (T, B, H), the
/// gradient on every h_t (time-major), and optionally dh_n, dc_n (B, H) on the
/// last state (nullptr: zero). Per step, from the last:
///   dh = dy[t] + dpre[t+1]·W_hh            (a copy, then a cuBLAS GEMM with β = 1)
///   dpre[t], dc = lstm_pointwise_bwd(act[t], cs[t], cs[t+1], dh, dc)
/// then the weight gradients of the whole sequence as single large products
/// over all T·B rows (the cuDNN RNN paper's trick), ADDED to what the
/// gradient buffers hold (zero them for a fresh backward):
///   dweight_hh += dpreᵀ·hs[0 … T−1]         one GEMM
///   db_ih, db_hh += Σ_rows dpre             one GEMV with `ones` (T·B ones)
///   dweight_ih += scatter of dpre rows into columns tokens  (onehot_scatter_add)
/// dpre (T, B, 4H) is kept (the pre-activation gradients); dh0, dc0 (B, H)
/// receive the gradients on the initial state (nullptr: not wanted).
/// work (2, B, H) is scratch.
template <typename T>
void lstm_sequence_backward_onehot(const Context& ctx, const int32_t* tokens, const T* weight_hh, const T* act,
                                   const T* hs, const T* cs, const T* dy, const T* dh_n, const T* dc_n, int64_t B,
                                   int64_t steps, int64_t H, int64_t I, const T* ones, T* dpre, T* work,
                                   T* dweight_ih, T* dweight_hh, T* db_ih, T* db_hh, T* dh0, T* dc0);

/// As above with S tokens per row, tokens (T, B, S): every token's column of
/// dweight_ih receives its row of dpre (onehot_scatter_add with S).
template <typename T>
void lstm_sequence_backward_onehot(const Context& ctx, const int32_t* tokens, const T* weight_hh, const T* act,
                                   const T* hs, const T* cs, const T* dy, const T* dh_n, const T* dc_n, int64_t B,
                                   int64_t steps, int64_t H, int64_t I, int64_t S, const T* ones, T* dpre, T* work,
                                   T* dweight_ih, T* dweight_hh, T* db_ih, T* db_hh, T* dh0, T* dc0);

}  // namespace deepgen::cuda
