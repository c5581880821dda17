// lstm_cuda_rows.hpp — what the two halves of bench_lstm_cuda share: the
// shapes, the work (FLOPs) and minimum traffic (bytes) of every row, and the
// counters. bench_lstm_cuda.cu holds the GPU rows and main(); the CPU rows
// live in lstm_cuda_cpu_rows.cpp, compiled by the host compiler because they
// need Eigen, which nvcc does not compile reliably.
//
// Counting rules, the same for every variant of a row so that GFLOP/s and GB/s
// compare directly (a variant that does extra work, such as the unfused path's
// dense one-hot GEMMs or cuDNN's input gradient, is charged for it in time,
// not credited for it in FLOPs):
//   FLOPs  matrix products only, a multiply-add counted as 2. The one-hot input
//          projection x·W_ihᵀ is a gather (no multiply) and its gradient a
//          scatter-add: both count 0.
//   bytes  the least traffic the work needs: every weight read once, every
//          weight gradient written once, the activations read and written
//          once; intermediates (gates, pre-activations) are not counted, as an
//          ideal implementation keeps them on chip. float = 4 bytes; a one-hot
//          input is one int32 token per row, and only the min(rows, I) columns
//          of W_ih it selects are read.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>

namespace deepgen_bench {

constexpr int64_t H = 512;      ///< LSTM cells
constexpr int64_t I = 167;      ///< one-hot input size = the palette size K
constexpr int64_t G = 4 * H;    ///< gate rows: i, f, g, o (PyTorch's order)
constexpr int64_t STEPS = 400;  ///< pixels of a 20×20 image: sequence length and sampled pixels
constexpr int REPETITIONS = 5;  ///< every row reports the median of this many repetitions

constexpr double F = 4;  // bytes per float (and per int32 token)

// ---- one LSTM step, batch B -----------------------------------------------------
// Forward: h_prev (B, H), c_prev (B, H), tokens (B) → h, c (B, H).
//   FLOPs  2·B·H·4H (h_prev·W_hhᵀ)
//   bytes  W_hh 4H·H + W_ih columns min(B, I)·4H + both biases 2·4H,
//          read h_prev, c_prev and the tokens, write h and c
inline double step_fwd_flops(int64_t B) { return 2.0 * double(B) * double(H) * double(G); }
inline double step_fwd_bytes(int64_t B) {
  return F * (double(G * H) + double(std::min(B, I) * G) + 2.0 * G + 4.0 * double(B * H) + double(B));
}

// Forward + backward: the forward above, then from the upstream gradients dh, dc
// (B, H) on h and c: dh_prev, dc_prev (B, H) and fresh dW_ih, dW_hh, db_ih, db_hh.
//   FLOPs  3 × 2·B·H·4H: h_prev·W_hhᵀ, dh_prev = dpre·W_hh, dW_hh = dpreᵀ·h_prev
//   bytes  W_hh read once, W_ih columns and biases read, dW_hh and the whole dense
//          dW_ih (4H·I) and both bias gradients written; read h_prev, c_prev, dh,
//          dc, tokens; write h, c, dh_prev, dc_prev
inline double step_fwdbwd_flops(int64_t B) { return 3.0 * step_fwd_flops(B); }
inline double step_fwdbwd_bytes(int64_t B) {
  return F * (2.0 * double(G * H) + double(std::min(B, I) * G) + double(G * I) + 4.0 * G + 8.0 * double(B * H) +
              double(B));
}

// ---- a whole sequence of T steps, batch B, forward + backward ---------------------
// Zero initial state; upstream gradient dy (T, B, H) on every h_t, none on the last
// state; outputs: every h_t (T, B, H) and fresh dW_ih, dW_hh, db_ih, db_hh.
//   FLOPs  2·B·H·4H · (3T − 1): T forward GEMMs, T − 1 products dpre[t+1]·W_hh
//          (no gradient on h_0 is asked for), and dW_hh over all T·B rows
//   bytes  W_hh read and dW_hh written once, W_ih's used columns read and the
//          dense dW_ih written once, biases and their gradients; T·B tokens,
//          dy read and the T·B·H outputs written
inline double seq_fwdbwd_flops(int64_t B, int64_t T) {
  return 2.0 * double(B) * double(H) * double(G) * double(3 * T - 1);
}
inline double seq_fwdbwd_bytes(int64_t B, int64_t T) {
  return F * (2.0 * double(G * H) + double(std::min(T * B, I) * G) + double(G * I) + 4.0 * G + double(T * B) +
              2.0 * double(T * B * H));
}

// ---- sampling P pixels for B images ------------------------------------------------
// Per pixel and image: the LSTM step 2·4H·H and the output layer 2·H·K (K = I), as
// bench_cpu's sample rows count. Bytes: the LSTM's and the output layer's weights
// and biases read once, the B·P sampled colours written.
inline double sample_flops(int64_t B, int64_t P) { return double(B * P) * (2.0 * G * H + 2.0 * H * I); }
inline double sample_bytes(int64_t B, int64_t P) {
  return F * (double(G * H) + double(G * I) + 2.0 * G + double(I * H) + double(I) + double(B * P));
}

/// The GFLOP and GB rate counters of one row (per-iteration FLOPs and bytes;
/// Google Benchmark prints a rate with "/s" after it: "GFLOP 101.3/s").
inline void set_rates(benchmark::State& state, double flops, double bytes) {
  state.counters["GFLOP"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GB"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

/// Register the CPU rows (lstm_cuda_cpu_rows.cpp): lstm_step_fwd/cpu/B and sample400/cpu/1.
void register_cpu_rows();

}  // namespace deepgen_bench
