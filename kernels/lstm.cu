// kernels/lstm.cu — the pointwise half of an LSTM step on the GPU, and the
// gradient of its one-hot input gather.
//
// The GEMMs of a step (h_prev · weight_hhᵀ, and the big per-sequence weight
// gradients) belong to cuBLAS; this file owns everything elementwise around
// them, fused into one pass each way, so a step reads and writes every (B, 4H)
// element once. The arithmetic is not here: it is detail::lstm_unit_fwd/bwd
// (DEEPGEN_HD), the very functions the CPU path and the CPU tests run. The
// kernels only do index math, loads, one call and stores.
//
// Thread mapping: one thread per (b, j) — batch row b, hidden unit j — with j
// fastest, so a warp reads 32 consecutive floats of each gate block: coalesced.
// The four gate values of unit j are copied into a local array and the shared
// function is called on it with H = 1, j = 0; that is the same function on a
// 4-element row, which keeps registers, not global memory, as its scratch.
//
// Launchers come last; they validate arguments (throwing deepgen::Error with a
// remedy) before any CUDA call and check every launch.

#include <math.h>

#include <algorithm>
#include <cstdint>

#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/launchers.hpp"
#include "deepgen/detail/lstm_gates.hpp"
#include "deepgen/error.hpp"
#include "launch.cuh"

namespace deepgen::cuda {
namespace {

using namespace kernels;

// ---- kernels -------------------------------------------------------------------

/// One thread per (b, j), idx = b·H + j.
///   pre       (B, 4H)  h_prev · weight_hhᵀ, without biases (cuBLAS output)
///   tokens    (B, S)   input indices per row (one-hot: S = 1), or nullptr for no input term;
///                      negative = no input, >= I = invalid (row set to NaN)
///   weight_ih (4H, I)  input weights; read only at columns tokens[b, ·]; unused if !tokens
///   b_ih/b_hh (4H)     the two biases (PyTorch keeps both; they are summed here)
///   c_prev    (B, H)   cell state entering the step
///   act       (B, 4H)  out: activated gates i, f, g, o (may alias pre)
///   c, h      (B, H)   out: new cell and hidden state (c may alias c_prev)
/// SLOTS = 1: one token per row, the loop unrolled away (the lecture's model);
/// SLOTS = 0: S tokens per row, read at run time (multi-hot).
template <typename T, int SLOTS>
__global__ void lstm_pointwise_fwd_kernel(const T* pre, const int32_t* tokens, const T* weight_ih,
                                          int64_t I, int64_t runtime_S, const T* b_ih, const T* b_hh,
                                          const T* c_prev, T* act, T* c, T* h, int64_t B,
                                          int64_t H) {
  const int64_t S = SLOTS > 0 ? int64_t(SLOTS) : runtime_S;
  DEEPGEN_GRID_STRIDE(idx, B * H) {
    const int64_t b = idx / H, j = idx - b * H;
    const int64_t row = b * 4 * H;  // start of row b in the (B, 4H) arrays
    T a[4];                         // pre-activations a_i, a_f, a_g, a_o of unit j
    for (int q = 0; q < 4; ++q) {
      const int64_t k = q * H + j;  // gate q, unit j, within a 4H row
      a[q] = pre[row + k] + b_ih[k] + b_hh[k];
    }
    if (tokens != nullptr) {
      // weight_ih is (4H, I) row-major, so its column t is strided by I: each
      // thread touches its own 32-byte sector. Only 4·S loads per thread, next
      // to the GEMM that produced `pre`, so the PyTorch layout is kept as is.
      for (int64_t s = 0; s < S; ++s) {
        const int32_t t = tokens[b * S + s];
        if (t >= I) {
          for (int q = 0; q < 4; ++q) a[q] = T(NAN);  // invalid token: loud, not out of bounds
        } else if (t >= 0) {
          for (int q = 0; q < 4; ++q) a[q] += weight_ih[(q * H + j) * I + t];
        }
      }
    }
    T gates[4];
    T c_new, h_new;
    detail::lstm_unit_fwd(a, gates, int64_t(1), int64_t(0), c_prev[idx], &c_new, &h_new);
    for (int q = 0; q < 4; ++q) act[row + q * H + j] = gates[q];
    c[idx] = c_new;
    h[idx] = h_new;
  }
}

/// One thread per (b, j), idx = b·H + j.
///   act      (B, 4H)  activated gates saved by the forward
///   c_prev   (B, H)   cell state entering the step; c (B, H) the one it produced
///   dh       (B, H)   total gradient on h; dc_next (B, H) gradient on c from step t+1
///   dpre     (B, 4H)  out: gradient on the pre-activations (may alias act)
///   dc_prev  (B, H)   out: gradient on c_prev (may alias dc_next)
template <typename T>
__global__ void lstm_pointwise_bwd_kernel(const T* act, const T* c_prev, const T* c, const T* dh,
                                          const T* dc_next, T* dpre, T* dc_prev, int64_t B,
                                          int64_t H) {
  DEEPGEN_GRID_STRIDE(idx, B * H) {
    const int64_t b = idx / H, j = idx - b * H;
    const int64_t row = b * 4 * H;
    T gates[4];  // i, f, g, o of unit j
    for (int q = 0; q < 4; ++q) gates[q] = act[row + q * H + j];
    T da[4];
    T dc;
    detail::lstm_unit_bwd(gates, int64_t(1), int64_t(0), c_prev[idx], c[idx], dh[idx],
                          dc_next[idx], da, &dc);
    for (int q = 0; q < 4; ++q) dpre[row + q * H + j] = da[q];
    dc_prev[idx] = dc;
  }
}

/// One thread per (n, r), idx = n·H4 + r, r fastest so the dpre reads coalesce.
///   tokens     (N, S)   input indices of each row (SLOTS as the forward's);
///                       < 0 or >= I: no input, skipped
///   dpre       (N, H4)  gradient on the pre-activations of all T·B rows
///   dweight_ih (H4, I)  in/out: accumulated (+=) gradient of weight_ih
/// atomicAdd because many rows share a token (the background colour most of
/// all); this makes the float summation order, and so the last bits of the
/// result, nondeterministic. A deterministic alternative is a segmented sum
/// over rows sorted by token.
template <typename T, int SLOTS>
__global__ void onehot_scatter_add_kernel(const int32_t* tokens, const T* dpre, T* dweight_ih,
                                          int64_t N, int64_t H4, int64_t I, int64_t runtime_S) {
  const int64_t S = SLOTS > 0 ? int64_t(SLOTS) : runtime_S;
  DEEPGEN_GRID_STRIDE(idx, N * H4) {
    const int64_t n = idx / H4, r = idx - n * H4;
    const T d = dpre[idx];
    for (int64_t s = 0; s < S; ++s) {
      const int32_t t = tokens[n * S + s];
      if (t >= 0 && t < I) atomicAdd(&dweight_ih[r * I + t], d);
    }
  }
}

// ---- launch helper ----------------------------------------------------------------

template <typename T>
void fwd_launch(const char* fn, const T* pre, const int32_t* tokens, const T* weight_ih,
                int64_t I, int64_t S, const T* b_ih, const T* b_hh, const T* c_prev, T* act, T* c,
                T* h, int64_t B, int64_t H, cudaStream_t stream) {
  check_positive(fn, "B", B, "the batch size, rows stepped together");
  check_positive(fn, "H", H, "the hidden size");
  check_product(fn, 4, H, "4 x H");
  check_product(fn, B, 4 * H, "B x 4H");
  check_pointer(fn, "pre", pre, "(B, 4H)");
  check_pointer(fn, "b_ih", b_ih, "(4H)");
  check_pointer(fn, "b_hh", b_hh, "(4H)");
  check_pointer(fn, "c_prev", c_prev, "(B, H) (zeros at the first step)");
  check_pointer(fn, "act", act, "(B, 4H)");
  check_pointer(fn, "c", c, "(B, H)");
  check_pointer(fn, "h", h, "(B, H)");
  const int64_t n = B * H;
  if (S == 1)
    lstm_pointwise_fwd_kernel<T, 1><<<grid_for(n), THREADS, 0, stream>>>(
        pre, tokens, weight_ih, I, 1, b_ih, b_hh, c_prev, act, c, h, B, H);
  else
    lstm_pointwise_fwd_kernel<T, 0><<<grid_for(n), THREADS, 0, stream>>>(
        pre, tokens, weight_ih, I, S, b_ih, b_hh, c_prev, act, c, h, B, H);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

}  // namespace

// ---- launchers ---------------------------------------------------------------------

template <typename T>
void lstm_pointwise_fwd(const T* pre, const T* b_ih, const T* b_hh, const T* c_prev, T* act, T* c,
                        T* h, int64_t B, int64_t H, cudaStream_t stream) {
  fwd_launch<T>("lstm_pointwise_fwd", pre, nullptr, nullptr, 0, 1, b_ih, b_hh, c_prev, act, c, h,
                B, H, stream);
}

template <typename T>
void lstm_pointwise_fwd(const T* pre, const int32_t* tokens, const T* weight_ih, const T* b_ih,
                        const T* b_hh, const T* c_prev, T* act, T* c, T* h, int64_t B, int64_t H,
                        int64_t I, cudaStream_t stream) {
  lstm_pointwise_fwd<T>(pre, tokens, weight_ih, b_ih, b_hh, c_prev, act, c, h, B, H, I, 1, stream);
}

template <typename T>
void lstm_pointwise_fwd(const T* pre, const int32_t* tokens, const T* weight_ih, const T* b_ih,
                        const T* b_hh, const T* c_prev, T* act, T* c, T* h, int64_t B, int64_t H,
                        int64_t I, int64_t S, cudaStream_t stream) {
  const char* fn = S == 1 ? "lstm_pointwise_fwd (one-hot input)" : "lstm_pointwise_fwd (multi-hot input)";
  check_positive(fn, "I", I, "the input size: K, or a PixelRNN context's input_size()");
  check_positive(fn, "S", S, "the tokens per row: 1, or a PixelRNN context's slots()");
  check_positive(fn, "H", H, "the hidden size");
  check_product(fn, 4, H, "4 x H");
  check_product(fn, 4 * H, I, "4H x I");
  check_pointer(fn, "tokens", tokens, "(B, S) int32 (-1 for no input)");
  check_pointer(fn, "weight_ih", weight_ih, "(4H, I)");
  check_product(fn, B, S, "B x S");
  fwd_launch<T>(fn, pre, tokens, weight_ih, I, S, b_ih, b_hh, c_prev, act, c, h, B, H, stream);
}

template <typename T>
void lstm_pointwise_bwd(const T* act, const T* c_prev, const T* c, const T* dh, const T* dc_next,
                        T* dpre, T* dc_prev, int64_t B, int64_t H, cudaStream_t stream) {
  const char* fn = "lstm_pointwise_bwd";
  check_positive(fn, "B", B, "the batch size, rows stepped together");
  check_positive(fn, "H", H, "the hidden size");
  check_product(fn, 4, H, "4 x H");
  check_product(fn, B, 4 * H, "B x 4H");
  check_pointer(fn, "act", act, "(B, 4H), the gates saved by the forward");
  check_pointer(fn, "c_prev", c_prev, "(B, H)");
  check_pointer(fn, "c", c, "(B, H)");
  check_pointer(fn, "dh", dh, "(B, H)");
  check_pointer(fn, "dc_next", dc_next, "(B, H) (zeros at the last step)");
  check_pointer(fn, "dpre", dpre, "(B, 4H)");
  check_pointer(fn, "dc_prev", dc_prev, "(B, H)");
  const int64_t n = B * H;
  lstm_pointwise_bwd_kernel<T><<<grid_for(n), THREADS, 0, stream>>>(act, c_prev, c, dh, dc_next,
                                                                    dpre, dc_prev, B, H);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

template <typename T>
void onehot_scatter_add(const int32_t* tokens, const T* dpre, T* dweight_ih, int64_t N, int64_t H4,
                        int64_t I, cudaStream_t stream) {
  onehot_scatter_add<T>(tokens, dpre, dweight_ih, N, H4, I, 1, stream);
}

template <typename T>
void onehot_scatter_add(const int32_t* tokens, const T* dpre, T* dweight_ih, int64_t N, int64_t H4,
                        int64_t I, int64_t S, cudaStream_t stream) {
  const char* fn = "onehot_scatter_add";
  check_positive(fn, "N", N, "the number of rows, T x B for a whole sequence");
  check_positive(fn, "H4", H4, "the row width 4H of dpre");
  check_positive(fn, "I", I, "the input size: K, or a PixelRNN context's input_size()");
  check_positive(fn, "S", S, "the tokens per row: 1, or a PixelRNN context's slots()");
  check_product(fn, N, H4, "N x H4");
  check_product(fn, H4, I, "H4 x I");
  check_product(fn, N, S, "N x S");
  check_pointer(fn, "tokens", tokens, "(N, S) int32");
  check_pointer(fn, "dpre", dpre, "(N, H4)");
  check_pointer(fn, "dweight_ih", dweight_ih, "(H4, I)");
  const int64_t n = N * H4;
  if (S == 1)
    onehot_scatter_add_kernel<T, 1><<<grid_for(n), THREADS, 0, stream>>>(tokens, dpre, dweight_ih, N,
                                                                         H4, I, 1);
  else
    onehot_scatter_add_kernel<T, 0><<<grid_for(n), THREADS, 0, stream>>>(tokens, dpre, dweight_ih, N,
                                                                         H4, I, S);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

// ---- explicit instantiations (the header declares, this library defines) ----------

#define DEEPGEN_INSTANTIATE(T)                                                                 \
  template void lstm_pointwise_fwd<T>(const T*, const T*, const T*, const T*, T*, T*, T*,       \
                                      int64_t, int64_t, cudaStream_t);                         \
  template void lstm_pointwise_fwd<T>(const T*, const int32_t*, const T*, const T*, const T*,   \
                                      const T*, T*, T*, T*, int64_t, int64_t, int64_t,         \
                                      cudaStream_t);                                           \
  template void lstm_pointwise_fwd<T>(const T*, const int32_t*, const T*, const T*, const T*,   \
                                      const T*, T*, T*, T*, int64_t, int64_t, int64_t, int64_t,\
                                      cudaStream_t);                                           \
  template void lstm_pointwise_bwd<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, \
                                      int64_t, int64_t, cudaStream_t);                         \
  template void onehot_scatter_add<T>(const int32_t*, const T*, T*, int64_t, int64_t, int64_t,  \
                                      cudaStream_t);                                           \
  template void onehot_scatter_add<T>(const int32_t*, const T*, T*, int64_t, int64_t, int64_t,  \
                                      int64_t, cudaStream_t);
DEEPGEN_INSTANTIATE(float)
DEEPGEN_INSTANTIATE(double)
#undef DEEPGEN_INSTANTIATE

}  // namespace deepgen::cuda
