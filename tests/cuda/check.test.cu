// tests/cuda/check.test.cu — the checked-call macros of cuda/check.hpp: a
// failed CUDA, cuBLAS or cuRAND status throws deepgen::CudaError naming the
// call, this file and line, the library's message and a remedy. No device
// needed.
#include <catch2/catch.hpp>

#include "deepgen/cuda/check.hpp"

TEST_CASE("DEEPGEN_CUDA_CHECK and friends throw CudaError with call and file:line and message",
          "[cuda][check]") {
  using Catch::Contains;
  REQUIRE_NOTHROW([] { DEEPGEN_CUDA_CHECK(cudaSuccess); }());
  REQUIRE_THROWS_AS([] { DEEPGEN_CUDA_CHECK(cudaErrorMemoryAllocation); }(), deepgen::CudaError);
  REQUIRE_THROWS_WITH([] { DEEPGEN_CUDA_CHECK(cudaErrorMemoryAllocation); }(),
                      Contains("cudaErrorMemoryAllocation failed") && Contains("out of memory") &&
                          Contains("reduce the batch size") && Contains("check.test.cu:"));
  REQUIRE_THROWS_WITH([] { DEEPGEN_CUBLAS_CHECK(CUBLAS_STATUS_NOT_INITIALIZED); }(),
                      Contains("CUBLAS_STATUS_NOT_INITIALIZED") && Contains("check.test.cu:"));
  REQUIRE_THROWS_WITH([] { DEEPGEN_CURAND_CHECK(CURAND_STATUS_LENGTH_NOT_MULTIPLE); }(),
                      Contains("CURAND_STATUS_LENGTH_NOT_MULTIPLE") && Contains("check.test.cu:"));
  // cuda_device_available never throws, with or without a device.
  REQUIRE_NOTHROW(deepgen::cuda_device_available());
}
