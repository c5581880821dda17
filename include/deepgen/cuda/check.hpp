// cuda/check.hpp — turn CUDA, cuBLAS and cuRAND status codes into exceptions.
//
// Every runtime, cuBLAS and cuRAND call in deepgen goes through one of the
// DEEPGEN_*_CHECK macros, which throw deepgen::CudaError naming the call, its
// file:line and the library's own error string. A library must not exit() or
// abort() (llm.c's cudaCheck does, which suits a program, not a library): the
// caller decides, and a checkpoint already on disk stays intact.
//
// Kernel launches return nothing, so a bad launch configuration is only seen by
// the cudaGetLastError() that DEEPGEN_CUDA_CHECK_LAUNCH() performs right after
// the launch. Faults inside a kernel are asynchronous: they surface at the next
// synchronising call (a cudaMemcpy, a cudaStreamSynchronize), which is checked
// like any other.
//
// Plain C++: this header compiles with g++ as well as nvcc.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <curand.h>

#include <string>

#include "../error.hpp"

namespace deepgen {
namespace detail {

/// The name of a cuRAND status (cuRAND has no cudaGetErrorString equivalent).
inline const char* curand_status_string(curandStatus_t status) {
  switch (status) {
    case CURAND_STATUS_SUCCESS: return "CURAND_STATUS_SUCCESS: no error";
    case CURAND_STATUS_VERSION_MISMATCH:
      return "CURAND_STATUS_VERSION_MISMATCH: header and linked library versions differ";
    case CURAND_STATUS_NOT_INITIALIZED: return "CURAND_STATUS_NOT_INITIALIZED: generator not initialised";
    case CURAND_STATUS_ALLOCATION_FAILED: return "CURAND_STATUS_ALLOCATION_FAILED: memory allocation failed";
    case CURAND_STATUS_TYPE_ERROR: return "CURAND_STATUS_TYPE_ERROR: generator is of the wrong type";
    case CURAND_STATUS_OUT_OF_RANGE: return "CURAND_STATUS_OUT_OF_RANGE: argument out of range";
    case CURAND_STATUS_LENGTH_NOT_MULTIPLE:
      return "CURAND_STATUS_LENGTH_NOT_MULTIPLE: length is not a multiple of the dimension "
             "(normal generators need an even count)";
    case CURAND_STATUS_DOUBLE_PRECISION_REQUIRED:
      return "CURAND_STATUS_DOUBLE_PRECISION_REQUIRED: the GPU lacks double precision";
    case CURAND_STATUS_LAUNCH_FAILURE: return "CURAND_STATUS_LAUNCH_FAILURE: kernel launch failed";
    case CURAND_STATUS_PREEXISTING_FAILURE:
      return "CURAND_STATUS_PREEXISTING_FAILURE: an earlier CUDA error was still pending";
    case CURAND_STATUS_INITIALIZATION_FAILED:
      return "CURAND_STATUS_INITIALIZATION_FAILED: CUDA could not be initialised";
    case CURAND_STATUS_ARCH_MISMATCH:
      return "CURAND_STATUS_ARCH_MISMATCH: the GPU does not support the requested feature";
    case CURAND_STATUS_INTERNAL_ERROR: return "CURAND_STATUS_INTERNAL_ERROR: internal cuRAND error";
  }
  return "unknown curandStatus_t value";
}

/// What to try next for the CUDA errors a user can act on; empty otherwise.
inline const char* cuda_error_remedy(cudaError_t err) {
  switch (err) {
    case cudaErrorNoDevice:
      return "; no GPU is visible: check nvidia-smi and CUDA_VISIBLE_DEVICES, or use the CPU path";
    case cudaErrorInsufficientDriver:
      return "; there is no NVIDIA driver (a machine without a GPU), or it is older than this CUDA "
             "runtime: install or update the driver, build with an older toolkit, or use the CPU path";
    case cudaErrorMemoryAllocation:
      return "; the GPU is out of memory: reduce the batch size or free other device buffers";
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
      return "; deepgen::cuda was not built for this GPU: reconfigure with "
             "-DDEEPGEN_CUDA_ARCHITECTURES=native (or this GPU's compute capability, e.g. 90)";
    case cudaErrorIllegalAddress:
      return "; a kernel read or wrote outside a buffer: run under compute-sanitizer to find it "
             "(scripts/gpu_check.sh does); the CUDA context is now unusable";
    default: return "";
  }
}

/// "cudaErrorMemoryAllocation: out of memory; <remedy>".
inline std::string cuda_status_string(cudaError_t err) {
  return str(cudaGetErrorName(err), ": ", cudaGetErrorString(err), cuda_error_remedy(err));
}

[[noreturn]] inline void throw_cuda_error(const char* call, const char* file, int line,
                                          const std::string& status) {
  throw CudaError(str(call, " failed: ", status, " [", file, ":", line, "]"));
}

}  // namespace detail

/// True when the CUDA runtime sees at least one GPU. Never throws: without a
/// driver or a device it returns false and, if `why` is given, stores the
/// runtime's reason there (for a test's skip message).
inline bool cuda_device_available(std::string* why = nullptr) noexcept {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();  // clear the error so later, unrelated checks do not report it
    if (why) {
      try {
        *why = detail::str(cudaGetErrorName(err), ": ", cudaGetErrorString(err));
      } catch (...) {  // out of memory while formatting: the answer is still false
      }
    }
    return false;
  }
  if (count == 0 && why) {
    try {
      *why = "cudaGetDeviceCount reports 0 devices";
    } catch (...) {
    }
  }
  return count > 0;
}

}  // namespace deepgen

/// Evaluate a CUDA runtime call; throw deepgen::CudaError unless it returns cudaSuccess.
#define DEEPGEN_CUDA_CHECK(call)                                                          \
  do {                                                                                    \
    const cudaError_t deepgen_cuda_status_ = (call);                                      \
    if (deepgen_cuda_status_ != cudaSuccess)                                              \
      ::deepgen::detail::throw_cuda_error(#call, __FILE__, __LINE__,                      \
          ::deepgen::detail::cuda_status_string(deepgen_cuda_status_));                   \
  } while (0)

/// Evaluate a cuBLAS call; throw deepgen::CudaError unless it returns CUBLAS_STATUS_SUCCESS.
#define DEEPGEN_CUBLAS_CHECK(call)                                                        \
  do {                                                                                    \
    const cublasStatus_t deepgen_cublas_status_ = (call);                                 \
    if (deepgen_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                  \
      ::deepgen::detail::throw_cuda_error(                                                \
          #call, __FILE__, __LINE__,                                                      \
          ::deepgen::detail::str(cublasGetStatusName(deepgen_cublas_status_), ": ",       \
                                 cublasGetStatusString(deepgen_cublas_status_)));         \
  } while (0)

/// Evaluate a cuRAND call; throw deepgen::CudaError unless it returns CURAND_STATUS_SUCCESS.
#define DEEPGEN_CURAND_CHECK(call)                                                        \
  do {                                                                                    \
    const curandStatus_t deepgen_curand_status_ = (call);                                 \
    if (deepgen_curand_status_ != CURAND_STATUS_SUCCESS)                                  \
      ::deepgen::detail::throw_cuda_error(                                                \
          #call, __FILE__, __LINE__,                                                      \
          ::deepgen::detail::curand_status_string(deepgen_curand_status_));               \
  } while (0)

/// Right after a kernel launch: throw if the launch itself failed (bad grid,
/// too many resources, no kernel image for this GPU). Errors inside the kernel
/// surface later, at the next synchronising call.
#define DEEPGEN_CUDA_CHECK_LAUNCH()                                                       \
  do {                                                                                    \
    const cudaError_t deepgen_cuda_status_ = cudaGetLastError();                          \
    if (deepgen_cuda_status_ != cudaSuccess)                                              \
      ::deepgen::detail::throw_cuda_error("kernel launch (cudaGetLastError())", __FILE__, \
          __LINE__, ::deepgen::detail::cuda_status_string(deepgen_cuda_status_));         \
  } while (0)
