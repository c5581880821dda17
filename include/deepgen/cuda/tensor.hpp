// cuda/tensor.hpp — DeviceTensor<T>: a Shape and a DeviceBuffer, the GPU
// counterpart of Tensor<T>, with explicit copies to and from host tensors.
//
// Like Tensor it owns its elements, contiguous and row-major, and has no
// views. There is no implicit transfer anywhere: from_host(), copy_from(),
// to_host() and copy_to() are the only ways across, each queued on a stream
// and waited for before it returns (a host tensor is never left half-written),
// each checking shapes first.
//
// Header-only (g++ and nvcc); needs the CUDA runtime (link deepgen::cuda or CUDA::cudart).
#pragma once

#include <cuda_runtime_api.h>

#include "../tensor.hpp"
#include "check.hpp"
#include "memory.hpp"

namespace deepgen::cuda {

/// A tensor in device memory: a Shape over a DeviceBuffer, copied to and from host Tensors.
template <typename T>
class DeviceTensor {
 public:
  /// An empty tensor: shape [0], no allocation (no device needed).
  DeviceTensor() : m_shape{0} {}
  /// Uninitialised device storage of `shape` (no allocation when it holds no elements).
  explicit DeviceTensor(const Shape& shape) : m_shape(shape), m_buffer(size_t(shape.numel())) {}

  /// A device copy of `host`.
  static DeviceTensor from_host(const Tensor<T>& host, cudaStream_t stream = nullptr) {
    DeviceTensor t(host.shape());
    t.copy_from(host, stream);
    return t;
  }

  /// The shape.
  const Shape& shape() const { return m_shape; }
  /// The number of elements.
  int64_t numel() const { return m_shape.numel(); }
  /// Always Device::cuda.
  Device device() const { return Device::cuda; }
  /// Device pointer (nullptr when empty); never dereference on the host.
  T* data() { return m_buffer.data(); }
  /// Device pointer, read-only (nullptr when empty); never dereference on the host.
  const T* data() const { return m_buffer.data(); }

  /// Overwrite this tensor with `host`, which must have the same shape.
  void copy_from(const Tensor<T>& host, cudaStream_t stream = nullptr) {
    check_same_shape(host.shape(), "copy_from");
    copy(m_buffer.data(), host.data(), cudaMemcpyHostToDevice, stream);
  }

  /// Overwrite `host`, which must have this tensor's shape, with this tensor.
  void copy_to(Tensor<T>& host, cudaStream_t stream = nullptr) const {
    check_same_shape(host.shape(), "copy_to");
    copy(host.data(), m_buffer.data(), cudaMemcpyDeviceToHost, stream);
  }

  /// A host copy.
  Tensor<T> to_host(cudaStream_t stream = nullptr) const {
    Tensor<T> host = Tensor<T>::uninitialized(m_shape);
    copy_to(host, stream);
    return host;
  }

 private:
  void check_same_shape(const Shape& host, const char* what) const {
    DEEPGEN_CHECK(host == m_shape, "DeviceTensor::", what, ": the host tensor has shape ", host,
                  " but the device tensor ", m_shape, "; copy between tensors of one shape (allocate with "
                  "DeviceTensor::from_host, or reshape the host tensor first)");
  }

  void copy(void* dst, const void* src, cudaMemcpyKind kind, cudaStream_t stream) const {
    if (numel() == 0) return;
    DEEPGEN_CUDA_CHECK(cudaMemcpyAsync(dst, src, size_t(numel()) * sizeof(T), kind, stream));
    DEEPGEN_CUDA_CHECK(cudaStreamSynchronize(stream));
  }

  Shape m_shape;
  DeviceBuffer<T> m_buffer;
};

}  // namespace deepgen::cuda
