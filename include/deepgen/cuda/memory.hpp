// cuda/memory.hpp — DeviceBuffer<T>: one owning, typed cudaMalloc allocation.
//
// RAII and move-only, so a device allocation has exactly one owner and is freed
// on every path, exceptions included. The destructor never throws (a throwing
// destructor during unwinding terminates the program): a failed cudaFree is
// printed to stderr instead, as tiny-cuda-nn's GPUMemory does. cudaFree also
// reports errors left behind by earlier asynchronous work, so such a message
// usually points at a kernel that faulted, not at the free.
//
// Allocations are meant to be made once and reused (workspaces): cudaMalloc
// synchronises the device and costs far more than a kernel step.
//
// upload()/download() are synchronous: the copy is queued on a stream and
// waited for, so the host array may be reused (or read) when they return. With
// a stream argument (a cuda::Context's), the copy runs in order with that
// stream's kernels: the models copy this way. Without one the copy runs on
// cudaStreamLegacy, named explicitly, which waits for earlier work on every
// blocking stream (cudaStreamCreate's kind, a Context's) even in a program
// built with --default-stream per-thread, where a plain cudaMemcpy would run
// on the per-thread stream and race the kernels. Work queued on a
// cudaStreamNonBlocking stream must be synchronised first, or passed as the
// stream. Neither overlaps copies with compute; none of deepgen's copies is
// large or frequent enough to need it (docs/cuda.md).
//
// Plain C++: this header compiles with g++ as well as nvcc.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdio>
#include <limits>
#include <type_traits>
#include <utility>

#include "check.hpp"

namespace deepgen::cuda {

/// `size()` elements of T in device memory (uninitialised after construction).
template <typename T>
class DeviceBuffer {
  static_assert(std::is_trivially_copyable_v<T>,
                "DeviceBuffer<T> copies raw bytes with cudaMemcpy, so T must be trivially copyable");

 public:
  /// An empty buffer: no allocation, data() == nullptr.
  DeviceBuffer() = default;

  /// Allocate n elements (none for n == 0). Throws deepgen::CudaError when the
  /// device is out of memory or absent.
  explicit DeviceBuffer(std::size_t n) {
    DEEPGEN_CHECK(n <= std::numeric_limits<std::size_t>::max() / sizeof(T),
                  "DeviceBuffer: ", n, " elements of ", sizeof(T),
                  " bytes overflow size_t; request fewer elements");
    if (n == 0) return;
    void* ptr = nullptr;
    DEEPGEN_CUDA_CHECK(cudaMalloc(&ptr, n * sizeof(T)));
    m_data = static_cast<T*>(ptr);
    m_size = n;
  }

  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  /// Takes over `other`'s allocation, leaving it empty.
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : m_data(std::exchange(other.m_data, nullptr)), m_size(std::exchange(other.m_size, 0)) {}

  /// Frees this buffer, then takes over `other`'s allocation.
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      release();
      m_data = std::exchange(other.m_data, nullptr);
      m_size = std::exchange(other.m_size, 0);
    }
    return *this;
  }

  ~DeviceBuffer() { release(); }

  /// Device pointer to the first element (nullptr when empty). Never dereference on the host.
  T* data() { return m_data; }
  /// Device pointer, read-only (nullptr when empty). Never dereference on the host.
  const T* data() const { return m_data; }
  /// Number of elements.
  std::size_t size() const { return m_size; }
  /// Number of bytes.
  std::size_t bytes() const { return m_size * sizeof(T); }
  /// True when the buffer holds no element.
  bool empty() const { return m_size == 0; }

  /// Copy n elements from host memory `h_src` into elements [0, n) of this
  /// buffer, in order with `stream`'s work (default: the legacy default
  /// stream), and wait for the copy.
  void upload(const T* h_src, std::size_t n, cudaStream_t stream = cudaStreamLegacy) {
    check_count("upload", n);
    if (n == 0) return;
    DEEPGEN_CHECK(h_src != nullptr, "DeviceBuffer::upload: the host source pointer is null but n = ",
                  n, "; pass a host array of at least n elements");
    DEEPGEN_CUDA_CHECK(cudaMemcpyAsync(m_data, h_src, n * sizeof(T), cudaMemcpyHostToDevice, stream));
    DEEPGEN_CUDA_CHECK(cudaStreamSynchronize(stream));  // h_src may be pinned: keep it until the copy is done
  }

  /// Copy elements [0, n) of this buffer into host memory `h_dst`, in order
  /// with `stream`'s work (default: the legacy default stream), and wait.
  void download(T* h_dst, std::size_t n, cudaStream_t stream = cudaStreamLegacy) const {
    check_count("download", n);
    if (n == 0) return;
    DEEPGEN_CHECK(h_dst != nullptr, "DeviceBuffer::download: the host destination pointer is null "
                  "but n = ", n, "; pass a host array of at least n elements");
    DEEPGEN_CUDA_CHECK(cudaMemcpyAsync(h_dst, m_data, n * sizeof(T), cudaMemcpyDeviceToHost, stream));
    DEEPGEN_CUDA_CHECK(cudaStreamSynchronize(stream));
  }

 private:
  void check_count(const char* what, std::size_t n) const {
    DEEPGEN_CHECK(n <= m_size, "DeviceBuffer::", what, ": ", n, " elements requested but the buffer "
                  "holds ", m_size, "; allocate a larger DeviceBuffer or copy fewer elements");
  }

  void release() noexcept {
    if (m_data == nullptr) return;
    const cudaError_t err = cudaFree(m_data);
    // cudaErrorCudartUnloading: a static buffer outlived the runtime at exit;
    // the driver reclaims the memory with the process, so there is nothing to report.
    if (err != cudaSuccess && err != cudaErrorCudartUnloading) {
      std::fprintf(stderr,
                   "deepgen: cudaFree of a %zu-byte DeviceBuffer failed: %s: %s (often an earlier "
                   "kernel fault; run under compute-sanitizer)\n",
                   bytes(), cudaGetErrorName(err), cudaGetErrorString(err));
    }
    m_data = nullptr;
    m_size = 0;
  }

  T* m_data = nullptr;
  std::size_t m_size = 0;
};

}  // namespace deepgen::cuda
