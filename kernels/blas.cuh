// kernels/blas.cuh — the few cuBLAS calls deepgen makes, typed once for float
// and double, every status checked. Row-major products are written as
// cuBLAS's column-major ones at the call sites: a row-major (r × c) buffer
// read column-major is its (c × r) transpose.
// Private to the repository's CUDA sources (kernels/*.cu, benchmarks/).
#pragma once

#include <cublas_v2.h>

#include <type_traits>
#include <vector>

#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/memory.hpp"

namespace deepgen::cuda::kernels {

// n ones on the device: the vector a GEMV sums rows with, and the depth-1
// GEMM factor that broadcasts a bias over rows.
template <typename T>
DeviceBuffer<T> device_ones(size_t n) {
  DeviceBuffer<T> ones(n);
  const std::vector<T> host(n, T(1));
  ones.upload(host.data(), n);
  return ones;
}

// C (m × n, column-major) = op(A)·op(B) + β·C.
template <typename T>
void gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const T* A, int lda,
          const T* B, int ldb, T beta, T* C, int ldc) {
  const T one = 1;
  if constexpr (std::is_same<T, float>::value)
    DEEPGEN_CUBLAS_CHECK(cublasSgemm(h, ta, tb, m, n, k, &one, A, lda, B, ldb, &beta, C, ldc));
  else
    DEEPGEN_CUBLAS_CHECK(cublasDgemm(h, ta, tb, m, n, k, &one, A, lda, B, ldb, &beta, C, ldc));
}

// y += A·x for column-major A (m × n).
template <typename T>
void gemv_add(cublasHandle_t h, int m, int n, const T* A, int lda, const T* x, T* y) {
  const T one = 1;
  if constexpr (std::is_same<T, float>::value)
    DEEPGEN_CUBLAS_CHECK(cublasSgemv(h, CUBLAS_OP_N, m, n, &one, A, lda, x, 1, &one, y, 1));
  else
    DEEPGEN_CUBLAS_CHECK(cublasDgemv(h, CUBLAS_OP_N, m, n, &one, A, lda, x, 1, &one, y, 1));
}

// y += x, n elements.
template <typename T>
void axpy_add(cublasHandle_t h, int n, const T* x, T* y) {
  const T one = 1;
  if constexpr (std::is_same<T, float>::value)
    DEEPGEN_CUBLAS_CHECK(cublasSaxpy(h, n, &one, x, 1, y, 1));
  else
    DEEPGEN_CUBLAS_CHECK(cublasDaxpy(h, n, &one, x, 1, y, 1));
}

// x·y to the host (the handle's default host pointer mode: waits for the result).
template <typename T>
T dot(cublasHandle_t h, int n, const T* x, const T* y) {
  T out = 0;
  if constexpr (std::is_same<T, float>::value)
    DEEPGEN_CUBLAS_CHECK(cublasSdot(h, n, x, 1, y, 1, &out));
  else
    DEEPGEN_CUBLAS_CHECK(cublasDdot(h, n, x, 1, y, 1, &out));
  return out;
}

// ‖x‖₂ to the host (waits for the result). cuBLAS scales as it sums, so it
// neither overflows nor underflows where the plain sum of squares would.
template <typename T>
T nrm2(cublasHandle_t h, int64_t n, const T* x) {
  T out = 0;
  if constexpr (std::is_same<T, float>::value)
    DEEPGEN_CUBLAS_CHECK(cublasSnrm2_64(h, n, x, 1, &out));
  else
    DEEPGEN_CUBLAS_CHECK(cublasDnrm2_64(h, n, x, 1, &out));
  return out;
}

// x *= alpha.
template <typename T>
void scal(cublasHandle_t h, int64_t n, T alpha, T* x) {
  if constexpr (std::is_same<T, float>::value)
    DEEPGEN_CUBLAS_CHECK(cublasSscal_64(h, n, &alpha, x, 1));
  else
    DEEPGEN_CUBLAS_CHECK(cublasDscal_64(h, n, &alpha, x, 1));
}

}  // namespace deepgen::cuda::kernels
