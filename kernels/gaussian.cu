// kernels/gaussian.cu — the VAE's reparameterisation fused with its KL term, on
// the GPU, forward and backward (ops/gaussian.hpp is the CPU path; the
// per-element math is its DEEPGEN_HD reparam_fwd, reparam_dlogvar, kl_term
// and kl_dlogvar, called here unchanged).
//
// Forward, one thread per code row b (D is 10–32: a row is a few registers):
//   e[b, d] = N(0, 1) element b·D + d of Philox(seed, stream) — the draws
//             fill_normal(e, Philox(seed, stream)) makes on the CPU, so the
//             GPU and CPU paths of a training step see the same noise
//   c[b, d] = m + exp(s/2)·e,   kl_row[b] = ½ Σ_d (exp(s) + m² − 1 − s)
// The noise is written out for backward. The caller averages kl_row.
//
// Backward, one thread per element, with dkl = the KL's gradient per row
// (the loss's gradient / B for a batch mean):
//   dm = dc + dkl·m,   ds = ½·dc·e·exp(s/2) + dkl·½(exp(s) − 1)
#include <cstdint>

#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/launchers.hpp"
#include "deepgen/error.hpp"
#include "deepgen/detail/gaussian.hpp"
#include "deepgen/random.hpp"
#include "launch.cuh"

namespace deepgen::cuda {
namespace {

using namespace kernels;

// DRAW: the noise is drawn from (seed, stream) into noise_out; else it is
// read from noise_in.
template <typename T, bool DRAW>
__global__ void reparam_kl_fwd_kernel(const T* mean, const T* logvar, uint64_t seed, uint64_t stream,
                                      const T* noise_in, T* noise_out, T* code, T* kl_row, int64_t B, int64_t D) {
  DEEPGEN_GRID_STRIDE(b, B) {
    T kl = T(0);
    for (int64_t d = 0; d < D; ++d) {
      const int64_t i = b * D + d;
      T e;
      if constexpr (DRAW) {
        e = philox_normal_at<T>(seed, stream, uint64_t(i));
        noise_out[i] = e;
      } else {
        e = noise_in[i];
      }
      code[i] = detail::reparam_fwd(mean[i], logvar[i], e);
      kl += detail::kl_term(mean[i], logvar[i]);
    }
    kl_row[b] = kl;
  }
}

template <typename T>
__global__ void reparam_kl_bwd_kernel(const T* mean, const T* logvar, const T* noise, const T* dcode, T dkl,
                                      T* dmean, T* dlogvar, int64_t n) {
  DEEPGEN_GRID_STRIDE(i, n) {
    const T s = logvar[i], dc = dcode ? dcode[i] : T(0);
    dmean[i] = dc + dkl * mean[i];
    dlogvar[i] = detail::reparam_dlogvar(s, noise[i], dc) + dkl * detail::kl_dlogvar(s);
  }
}

void check_code(const char* fn, int64_t B, int64_t D) {
  check_positive(fn, "B", B, "the batch size, one code row per example");
  check_positive(fn, "D", D, "the code size");
  check_product(fn, B, D, "B x D");
}

}  // namespace

template <typename T>
void reparam_kl_fwd(const T* mean, const T* logvar, uint64_t seed, uint64_t stream, T* noise, T* code, T* kl_row,
                    int64_t B, int64_t D, cudaStream_t cuda_stream) {
  const char* fn = "reparam_kl_fwd";
  check_code(fn, B, D);
  check_pointer(fn, "mean", mean, "(B, D)");
  check_pointer(fn, "logvar", logvar, "(B, D)");
  check_pointer(fn, "noise", noise, "(B, D), kept for reparam_kl_bwd");
  check_pointer(fn, "code", code, "(B, D)");
  check_pointer(fn, "kl_row", kl_row, "(B)");
  reparam_kl_fwd_kernel<T, true><<<grid_for(B), THREADS, 0, cuda_stream>>>(mean, logvar, seed, stream, nullptr,
                                                                            noise, code, kl_row, B, D);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

template <typename T>
void reparam_kl_fwd_noise(const T* mean, const T* logvar, const T* noise, T* code, T* kl_row, int64_t B, int64_t D,
                          cudaStream_t cuda_stream) {
  const char* fn = "reparam_kl_fwd_noise";
  check_code(fn, B, D);
  check_pointer(fn, "mean", mean, "(B, D)");
  check_pointer(fn, "logvar", logvar, "(B, D)");
  check_pointer(fn, "noise", noise, "(B, D) standard normals");
  check_pointer(fn, "code", code, "(B, D)");
  check_pointer(fn, "kl_row", kl_row, "(B)");
  reparam_kl_fwd_kernel<T, false><<<grid_for(B), THREADS, 0, cuda_stream>>>(mean, logvar, 0, 0, noise, nullptr,
                                                                             code, kl_row, B, D);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

template <typename T>
void reparam_kl_bwd(const T* mean, const T* logvar, const T* noise, const T* dcode, T dkl, T* dmean, T* dlogvar,
                    int64_t B, int64_t D, cudaStream_t stream) {
  const char* fn = "reparam_kl_bwd";
  check_code(fn, B, D);
  check_pointer(fn, "mean", mean, "(B, D)");
  check_pointer(fn, "logvar", logvar, "(B, D)");
  check_pointer(fn, "noise", noise, "(B, D), written by reparam_kl_fwd");
  check_pointer(fn, "dmean", dmean, "(B, D)");
  check_pointer(fn, "dlogvar", dlogvar, "(B, D)");
  reparam_kl_bwd_kernel<T><<<grid_for(B * D), THREADS, 0, stream>>>(mean, logvar, noise, dcode, dkl, dmean,
                                                                     dlogvar, B * D);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

#define DEEPGEN_INSTANTIATE(T)                                                                             \
  template void reparam_kl_fwd<T>(const T*, const T*, uint64_t, uint64_t, T*, T*, T*, int64_t, int64_t,     \
                                  cudaStream_t);                                                           \
  template void reparam_kl_fwd_noise<T>(const T*, const T*, const T*, T*, T*, int64_t, int64_t, cudaStream_t); \
  template void reparam_kl_bwd<T>(const T*, const T*, const T*, const T*, T, T*, T*, int64_t, int64_t,      \
                                  cudaStream_t);
DEEPGEN_INSTANTIATE(float)
DEEPGEN_INSTANTIATE(double)
#undef DEEPGEN_INSTANTIATE

}  // namespace deepgen::cuda
