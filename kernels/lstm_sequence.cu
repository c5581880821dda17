// kernels/lstm_sequence.cu — the one-hot LSTM sequence forward on the GPU
// (declared and explained in deepgen/cuda/lstm_sequence.hpp): per step, a
// cuBLAS GEMM for the recurrence and the fused pointwise kernel for the rest.
#include <cublas_v2.h>

#include <cstdint>
#include <type_traits>

#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/launchers.hpp"
#include "deepgen/cuda/lstm_sequence.hpp"
#include "deepgen/error.hpp"
#include "launch.cuh"

namespace deepgen::cuda {
namespace {

using namespace kernels;

// C (m × n, column-major) = op(A) · B, the one GEMM shape used here.
void gemm_tn(cublasHandle_t h, int m, int n, int k, const float* A, int lda, const float* B, int ldb, float* C,
             int ldc) {
  const float one = 1, zero = 0;
  DEEPGEN_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, A, lda, B, ldb, &zero, C, ldc));
}
void gemm_tn(cublasHandle_t h, int m, int n, int k, const double* A, int lda, const double* B, int ldb, double* C,
             int ldc) {
  const double one = 1, zero = 0;
  DEEPGEN_CUBLAS_CHECK(cublasDgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, A, lda, B, ldb, &zero, C, ldc));
}

}  // namespace

template <typename T>
void lstm_sequence_forward_onehot(const Context& ctx, const int32_t* tokens, const T* weight_ih, const T* weight_hh,
                                  const T* b_ih, const T* b_hh, const T* h0, const T* c0, int64_t B, int64_t steps,
                                  int64_t H, int64_t I, T* act, T* hs, T* cs) {
  const char* fn = "lstm_sequence_forward_onehot";
  check_positive(fn, "B", B, "the batch size");
  check_positive(fn, "steps", steps, "the sequence length T");
  check_positive(fn, "H", H, "the hidden size");
  check_positive(fn, "I", I, "the input size: the palette size K for PixelRNN");
  DEEPGEN_CHECK(B <= 0x7fffffff && 4 * H <= 0x7fffffff && I <= 0x7fffffff, fn, ": B = ", B, ", 4H = ", 4 * H,
                ", I = ", I, " must each fit cuBLAS's int sizes");
  check_product(fn, steps + 1, B * 4 * H, "(T + 1) x B x 4H");
  check_pointer(fn, "tokens", tokens, "(T, B) int32, time-major");
  check_pointer(fn, "weight_hh", weight_hh, "(4H, H)");
  check_pointer(fn, "act", act, "(T, B, 4H)");
  check_pointer(fn, "hs", hs, "(T + 1, B, H)");
  check_pointer(fn, "cs", cs, "(T + 1, B, H)");
  const size_t state_bytes = size_t(B * H) * sizeof(T);
  if (h0) DEEPGEN_CUDA_CHECK(cudaMemcpyAsync(hs, h0, state_bytes, cudaMemcpyDeviceToDevice, ctx.stream()));
  else DEEPGEN_CUDA_CHECK(cudaMemsetAsync(hs, 0, state_bytes, ctx.stream()));
  if (c0) DEEPGEN_CUDA_CHECK(cudaMemcpyAsync(cs, c0, state_bytes, cudaMemcpyDeviceToDevice, ctx.stream()));
  else DEEPGEN_CUDA_CHECK(cudaMemsetAsync(cs, 0, state_bytes, ctx.stream()));
  const int G = int(4 * H);
  for (int64_t t = 0; t < steps; ++t) {
    T* a = act + t * B * G;
    // Row-major (B × 4H) = (B × H)·W_hhᵀ is column-major (4H × B) = W_hh · hᵀ,
    // where row-major W_hh (4H × H) read column-major is W_hhᵀ: hence op T.
    gemm_tn(ctx.cublas(), G, int(B), int(H), weight_hh, int(H), hs + t * B * H, int(H), a, G);
    lstm_pointwise_fwd<T>(a, tokens + t * B, weight_ih, b_ih, b_hh, cs + t * B * H, a, cs + (t + 1) * B * H,
                          hs + (t + 1) * B * H, B, H, I, ctx.stream());
  }
}

template void lstm_sequence_forward_onehot<float>(const Context&, const int32_t*, const float*, const float*,
                                                  const float*, const float*, const float*, const float*, int64_t,
                                                  int64_t, int64_t, int64_t, float*, float*, float*);
template void lstm_sequence_forward_onehot<double>(const Context&, const int32_t*, const double*, const double*,
                                                   const double*, const double*, const double*, const double*,
                                                   int64_t, int64_t, int64_t, int64_t, double*, double*, double*);

}  // namespace deepgen::cuda
