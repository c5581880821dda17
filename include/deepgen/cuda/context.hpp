// cuda/context.hpp — what a sequence of GPU work shares: a stream and the
// cuBLAS handle bound to it. RAII and move-only; creating one needs a device
// (it throws deepgen::CudaError, with a remedy, where there is none).
//
// Plain C++: this header compiles with g++ as well as nvcc.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdio>
#include <utility>

#include "check.hpp"

namespace deepgen::cuda {

/// A CUDA stream and the cuBLAS handle bound to it; move-only, released on destruction.
class Context {
 public:
  /// A new stream and cuBLAS handle on the current device; throws deepgen::CudaError without one.
  /// Delegates to the empty constructor first, so the object is constructed
  /// before anything is created: if a later call throws (cublasCreate, or
  /// cublasSetStream), the destructor runs and releases what exists.
  Context() : Context(Empty{}) {
    DEEPGEN_CUDA_CHECK(cudaStreamCreate(&m_stream));
    DEEPGEN_CUBLAS_CHECK(cublasCreate(&m_cublas));
    DEEPGEN_CUBLAS_CHECK(cublasSetStream(m_cublas, m_stream));
  }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  /// Takes over `o`'s stream and handle.
  Context(Context&& o) noexcept
      : m_stream(std::exchange(o.m_stream, nullptr)), m_cublas(std::exchange(o.m_cublas, nullptr)) {}
  /// Releases this context's stream and handle, then takes over `o`'s.
  Context& operator=(Context&& o) noexcept {
    if (this != &o) {
      release();
      m_stream = std::exchange(o.m_stream, nullptr);
      m_cublas = std::exchange(o.m_cublas, nullptr);
    }
    return *this;
  }
  ~Context() { release(); }

  /// The stream every launch and copy of this context runs on.
  cudaStream_t stream() const { return m_stream; }
  /// The cuBLAS handle, bound to stream().
  cublasHandle_t cublas() const { return m_cublas; }
  /// Wait for everything queued on the stream; throws on an asynchronous error.
  void sync() const { DEEPGEN_CUDA_CHECK(cudaStreamSynchronize(m_stream)); }

 private:
  struct Empty {};
  explicit Context(Empty) noexcept {}  // holds nothing; see Context()
  void release() noexcept {  // never throws: a failure is reported, as DeviceBuffer does
    if (m_cublas && cublasDestroy(m_cublas) != CUBLAS_STATUS_SUCCESS)
      std::fprintf(stderr, "deepgen: cublasDestroy failed\n");
    if (m_stream && cudaStreamDestroy(m_stream) != cudaSuccess)
      std::fprintf(stderr, "deepgen: cudaStreamDestroy failed\n");
    m_cublas = nullptr;
    m_stream = nullptr;
  }
  cudaStream_t m_stream = nullptr;
  cublasHandle_t m_cublas = nullptr;
};

}  // namespace deepgen::cuda
