// cuda/lstm_sequence.hpp — a whole one-hot LSTM sequence forward on the GPU,
// the device counterpart of ops/lstm.hpp's lstm_sequence_onehot forward.
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
//   h0, c0 (B, H) or nullptr for zeros;  act (T, B, 4H);  hs, cs (T + 1, B, H)
// Declarations only, in plain C++; defined in kernels/lstm_sequence.cu.
#pragma once

#include <cstdint>

#include "context.hpp"

namespace deepgen::cuda {

template <typename T>
void lstm_sequence_forward_onehot(const Context& ctx, const int32_t* tokens, const T* weight_ih, const T* weight_hh,
                                  const T* b_ih, const T* b_hh, const T* h0, const T* c0, int64_t B, int64_t steps,
                                  int64_t H, int64_t I, T* act, T* hs, T* cs);

}  // namespace deepgen::cuda
