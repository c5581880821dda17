// tests/cuda/memory.test.cu — cuda::DeviceBuffer (cuda/memory.hpp): empty
// buffers need no device, sizes are checked, and (on a device) an upload, a
// move and a download give the data back.
#include <catch2/catch.hpp>

#include <cstdint>
#include <utility>
#include <vector>

#include "deepgen/cuda/memory.hpp"

#include "cuda/support.hpp"

using deepgen::cuda::DeviceBuffer;
using deepgen::test::gpu::gpu_missing;

TEST_CASE("DeviceBuffer: empty buffers need no device and sizes are checked", "[cuda][memory]") {
  DeviceBuffer<float> empty;
  REQUIRE(empty.data() == nullptr);
  REQUIRE(empty.size() == 0);
  DeviceBuffer<double> zero(0);
  REQUIRE(zero.empty());
  REQUIRE_NOTHROW(zero.upload(nullptr, 0));
  double one = 1.0;
  REQUIRE_THROWS_WITH(zero.upload(&one, 1), Catch::Contains("1 elements requested but the buffer "
                                                            "holds 0"));
  if (gpu_missing()) return;
  const std::vector<int32_t> h_x{3, -1, 7, 65};
  DeviceBuffer<int32_t> d_x(h_x.size());
  d_x.upload(h_x.data(), h_x.size());
  DeviceBuffer<int32_t> d_y(std::move(d_x));
  REQUIRE(d_x.data() == nullptr);
  REQUIRE(d_y.size() == h_x.size());
  std::vector<int32_t> back(h_x.size(), 0);
  d_y.download(back.data(), back.size());
  REQUIRE(back == h_x);
}
