// tests/cuda/context.test.cu — cuda::Context (cuda/context.hpp): a stream and a
// cuBLAS handle on a device, a CudaError naming the call without one.
#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include "deepgen/cuda/context.hpp"

#include "cuda/support.hpp"

namespace {

using namespace deepgen::test::gpu;
using Catch::Contains;

}  // namespace

TEST_CASE("cuda::Context: a stream and a cuBLAS handle, or a clear error without a device", "[cuda]") {
  std::string why;
  if (deepgen::cuda_device_available(&why)) {
    deepgen::cuda::Context ctx;
    REQUIRE(ctx.stream() != nullptr);
    REQUIRE(ctx.cublas() != nullptr);
    deepgen::cuda::Context moved(std::move(ctx));
    REQUIRE(moved.cublas() != nullptr);
    moved.sync();
  } else {
    REQUIRE_THROWS_AS(deepgen::cuda::Context(), deepgen::CudaError);
    REQUIRE_THROWS_WITH(deepgen::cuda::Context(), Contains("cudaStreamCreate") && Contains("failed"));
  }
}
