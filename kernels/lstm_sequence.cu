// kernels/lstm_sequence.cu — the one-hot LSTM sequence on the GPU, forward
// and backward (declared and explained in deepgen/cuda/lstm_sequence.hpp):
// per step, a cuBLAS GEMM for the recurrence and the fused pointwise kernel
// for the rest; the backward's weight gradients as whole-sequence products.
#include <cublas_v2.h>

#include <cstdint>
#include <utility>

#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/launchers.hpp"
#include "deepgen/cuda/lstm_sequence.hpp"
#include "deepgen/error.hpp"
#include "blas.cuh"
#include "launch.cuh"

namespace deepgen::cuda {
namespace {

using namespace kernels;

}  // namespace

template <typename T>
void lstm_sequence_forward_onehot(const Context& ctx, const int32_t* tokens, const T* weight_ih, const T* weight_hh,
                                  const T* b_ih, const T* b_hh, const T* h0, const T* c0, int64_t B, int64_t steps,
                                  int64_t H, int64_t I, T* act, T* hs, T* cs) {
  lstm_sequence_forward_onehot<T>(ctx, tokens, weight_ih, weight_hh, b_ih, b_hh, h0, c0, B, steps, H, I, 1, act, hs,
                                  cs);
}

template <typename T>
void lstm_sequence_forward_onehot(const Context& ctx, const int32_t* tokens, const T* weight_ih, const T* weight_hh,
                                  const T* b_ih, const T* b_hh, const T* h0, const T* c0, int64_t B, int64_t steps,
                                  int64_t H, int64_t I, int64_t S, T* act, T* hs, T* cs) {
  const char* fn = "lstm_sequence_forward_onehot";
  check_sequence_sizes(fn, B, steps, H, I);
  check_positive(fn, "S", S, "the tokens per row: 1, or a PixelRNN context's slots()");
  check_product(fn, steps * B, S, "T·B x S");
  check_pointer(fn, "tokens", tokens, "(T, B, S) int32, time-major");
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
    gemm<T>(ctx.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, G, int(B), int(H), weight_hh, int(H), hs + t * B * H, int(H),
            T(0), a, G);
    lstm_pointwise_fwd<T>(a, tokens + t * B * S, weight_ih, b_ih, b_hh, cs + t * B * H, a, cs + (t + 1) * B * H,
                          hs + (t + 1) * B * H, B, H, I, S, ctx.stream());
  }
}

template <typename T>
void lstm_sequence_backward_onehot(const Context& ctx, const int32_t* tokens, const T* weight_hh, const T* act,
                                   const T* hs, const T* cs, const T* dy, const T* dh_n, const T* dc_n, int64_t B,
                                   int64_t steps, int64_t H, int64_t I, const T* ones, T* dpre, T* work,
                                   T* dweight_ih, T* dweight_hh, T* db_ih, T* db_hh, T* dh0, T* dc0) {
  lstm_sequence_backward_onehot<T>(ctx, tokens, weight_hh, act, hs, cs, dy, dh_n, dc_n, B, steps, H, I, 1, ones, dpre,
                                   work, dweight_ih, dweight_hh, db_ih, db_hh, dh0, dc0);
}

template <typename T>
void lstm_sequence_backward_onehot(const Context& ctx, const int32_t* tokens, const T* weight_hh, const T* act,
                                   const T* hs, const T* cs, const T* dy, const T* dh_n, const T* dc_n, int64_t B,
                                   int64_t steps, int64_t H, int64_t I, int64_t S, const T* ones, T* dpre, T* work,
                                   T* dweight_ih, T* dweight_hh, T* db_ih, T* db_hh, T* dh0, T* dc0) {
  const char* fn = "lstm_sequence_backward_onehot";
  check_sequence_sizes(fn, B, steps, H, I);
  check_positive(fn, "S", S, "the tokens per row: 1, or a PixelRNN context's slots()");
  for (const auto& [name, ptr] : {std::pair<const char*, const void*>{"tokens", tokens}, {"weight_hh", weight_hh},
                                  {"act", act}, {"hs", hs}, {"cs", cs}, {"dy", dy}, {"ones", ones}, {"dpre", dpre},
                                  {"work", work}, {"dweight_ih", dweight_ih}, {"dweight_hh", dweight_hh},
                                  {"db_ih", db_ih}, {"db_hh", db_hh}})
    check_pointer(fn, name, ptr, "as documented in cuda/lstm_sequence.hpp");
  const int G = int(4 * H), N = int(steps * B);
  const size_t state_bytes = size_t(B * H) * sizeof(T);
  T* dh = work;          // (B, H)
  T* dc = work + B * H;  // (B, H), the gradient on c_t flowing back
  if (dc_n) DEEPGEN_CUDA_CHECK(cudaMemcpyAsync(dc, dc_n, state_bytes, cudaMemcpyDeviceToDevice, ctx.stream()));
  else DEEPGEN_CUDA_CHECK(cudaMemsetAsync(dc, 0, state_bytes, ctx.stream()));
  for (int64_t t = steps - 1; t >= 0; --t) {
    DEEPGEN_CUDA_CHECK(cudaMemcpyAsync(dh, dy + t * B * H, state_bytes, cudaMemcpyDeviceToDevice, ctx.stream()));
    if (t == steps - 1) {
      if (dh_n) axpy_add<T>(ctx.cublas(), int(B * H), dh_n, dh);  // the gradient arriving on h_T
    } else {
      // dh (B × H) += dpre[t+1] (B × 4H) · W_hh (4H × H); column-major: dhᵀ += W_hhᵀ·dpre[t+1]ᵀ.
      gemm<T>(ctx.cublas(), CUBLAS_OP_N, CUBLAS_OP_N, int(H), int(B), G, weight_hh, int(H), dpre + (t + 1) * B * G, G,
              T(1), dh, int(H));
    }
    lstm_pointwise_bwd<T>(act + t * B * G, cs + t * B * H, cs + (t + 1) * B * H, dh, dc, dpre + t * B * G, dc, B, H,
                          ctx.stream());
  }
  if (dc0) DEEPGEN_CUDA_CHECK(cudaMemcpyAsync(dc0, dc, state_bytes, cudaMemcpyDeviceToDevice, ctx.stream()));
  if (dh0) {  // dh0 = dpre[0]·W_hh
    gemm<T>(ctx.cublas(), CUBLAS_OP_N, CUBLAS_OP_N, int(H), int(B), G, weight_hh, int(H), dpre, G, T(0), dh0, int(H));
  }
  // dW_hh (4H × H) += dpreᵀ (4H × N) · hs[0 … T−1] (N × H); column-major: dW_hhᵀ += hsᵀ·dpre.
  gemm<T>(ctx.cublas(), CUBLAS_OP_N, CUBLAS_OP_T, int(H), G, N, hs, int(H), dpre, G, T(1), dweight_hh, int(H));
  // db (4H) += Σ over the N rows of dpre: dpre read column-major is (4H × N).
  gemv_add<T>(ctx.cublas(), G, N, dpre, G, ones, db_ih);
  gemv_add<T>(ctx.cublas(), G, N, dpre, G, ones, db_hh);
  onehot_scatter_add<T>(tokens, dpre, dweight_ih, int64_t(N), int64_t(G), I, S, ctx.stream());
}

template void lstm_sequence_forward_onehot<float>(const Context&, const int32_t*, const float*, const float*,
                                                  const float*, const float*, const float*, const float*, int64_t,
                                                  int64_t, int64_t, int64_t, float*, float*, float*);
template void lstm_sequence_forward_onehot<double>(const Context&, const int32_t*, const double*, const double*,
                                                   const double*, const double*, const double*, const double*,
                                                   int64_t, int64_t, int64_t, int64_t, double*, double*, double*);

template void lstm_sequence_forward_onehot<float>(const Context&, const int32_t*, const float*, const float*,
                                                  const float*, const float*, const float*, const float*, int64_t,
                                                  int64_t, int64_t, int64_t, int64_t, float*, float*, float*);
template void lstm_sequence_forward_onehot<double>(const Context&, const int32_t*, const double*, const double*,
                                                   const double*, const double*, const double*, const double*,
                                                   int64_t, int64_t, int64_t, int64_t, int64_t, double*, double*,
                                                   double*);

template void lstm_sequence_backward_onehot<float>(const Context&, const int32_t*, const float*, const float*,
                                                   const float*, const float*, const float*, const float*,
                                                   const float*, int64_t, int64_t, int64_t, int64_t, const float*,
                                                   float*, float*, float*, float*, float*, float*, float*, float*);
template void lstm_sequence_backward_onehot<double>(const Context&, const int32_t*, const double*, const double*,
                                                    const double*, const double*, const double*, const double*,
                                                    const double*, int64_t, int64_t, int64_t, int64_t, const double*,
                                                    double*, double*, double*, double*, double*, double*, double*,
                                                    double*);
template void lstm_sequence_backward_onehot<float>(const Context&, const int32_t*, const float*, const float*,
                                                   const float*, const float*, const float*, const float*,
                                                   const float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                                   const float*, float*, float*, float*, float*, float*, float*,
                                                   float*, float*);
template void lstm_sequence_backward_onehot<double>(const Context&, const int32_t*, const double*, const double*,
                                                    const double*, const double*, const double*, const double*,
                                                    const double*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                                    const double*, double*, double*, double*, double*, double*,
                                                    double*, double*, double*);

}  // namespace deepgen::cuda
