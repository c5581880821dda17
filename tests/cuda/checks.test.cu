// tests/cuda/checks.test.cu — what runs without a device: the launch-time
// checks that guard the kernels' assumptions (kernels/launch.cuh: block sizes,
// size products checked before they are formed), the sampling temperature
// check that sample_rows and cuda::PixelRNN::complete share, and the test
// support itself (require_close on empty vectors, the integer poison).
// kernels/launch.cuh is private to the kernels; this test includes it by path
// because its checks are what every launcher calls before touching a device.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "deepgen/cuda/launchers.hpp"
#include "deepgen/error.hpp"

#include "../../kernels/launch.cuh"
#include "cuda/support.hpp"

namespace {

using Catch::Contains;
using namespace deepgen::test::gpu;
namespace kernels = deepgen::cuda::kernels;

}  // namespace

TEST_CASE("check_block_size: whole warps from 32 to 1024, as block_reduce and onehot_linear_fwd need", "[cuda][launch]") {
  for (int64_t ok : {32, 64, 96, 256, 1024}) CHECK_NOTHROW(kernels::check_block_size("f", ok));
  CHECK_NOTHROW(kernels::check_block_size("f", kernels::THREADS));  // what every launcher uses
  for (int64_t bad : {0, 1, 16, 31, 48, 100, 1056, 2048, -32}) {
    INFO("block size " << bad);
    CHECK_THROWS_AS(kernels::check_block_size("f", bad), deepgen::Error);
  }
  CHECK_THROWS_WITH(kernels::check_block_size("sample_rows", 48),
                    Contains("sample_rows: block size 48") && Contains("multiple of 32"));
}

TEST_CASE("check_sequence_sizes: every product is checked before it is formed", "[cuda][launch]") {
  const int64_t big = int64_t(1) << 62;
  CHECK_NOTHROW(kernels::check_sequence_sizes("f", 64, 4096, 256, 167));
  // 4·H alone overflows: refused before B·4H is computed.
  CHECK_THROWS_WITH(kernels::check_sequence_sizes("f", 2, 3, big, 5), Contains("4 x H"));
  // 4·H fits, B·4H does not.
  CHECK_THROWS_WITH(kernels::check_sequence_sizes("f", big, 3, 8, 5), Contains("B x 4H"));
  // B·4H fits, (T + 1)·B·4H does not.
  CHECK_THROWS_WITH(kernels::check_sequence_sizes("f", int64_t(1) << 20, int64_t(1) << 40, 8, 5),
                    Contains("(T + 1) x B x 4H"));
  CHECK_THROWS_WITH(kernels::check_sequence_sizes("f", 1, INT64_MAX, 1, 5), Contains("steps = "));
  // Within int64_t but past cuBLAS's int.
  CHECK_THROWS_WITH(kernels::check_sequence_sizes("f", int64_t(1) << 16, int64_t(1) << 16, 8, 5),
                    Contains("cuBLAS's int sizes"));
  CHECK_THROWS_WITH(kernels::check_sequence_sizes("f", 0, 3, 8, 5), Contains("B = 0 must be positive"));
}

TEST_CASE("sampling temperature: checked once, the same for sample_rows and complete()", "[cuda][sampling]") {
  for (double ok : {0.0, 1e-30, 0.5, 1.0, 1e35, 1e300}) CHECK_NOTHROW(deepgen::cuda::check_sampling_temperature("f", ok));
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  for (double bad : {-1.0, -1e-300, inf, -inf, nan}) {
    INFO("temperature " << bad);
    CHECK_THROWS_AS(deepgen::cuda::check_sampling_temperature("f", bad), deepgen::Error);
  }
  CHECK_THROWS_WITH(deepgen::cuda::check_sampling_temperature("cuda::PixelRNN::complete", inf),
                    Contains("cuda::PixelRNN::complete: temperature inf is invalid"));
  // sample_rows refuses the same values before touching the device.
  float f = 0;
  int32_t t = 0;
  CHECK_THROWS_WITH(deepgen::cuda::sample_rows<float>(&f, 2, 3, inf, 0, 0, 0, &f, &t, nullptr),
                    Contains("sample_rows: temperature inf"));
  CHECK_THROWS_WITH(deepgen::cuda::sample_rows<double>(nullptr, 2, 3, nan, 0, 0, 0, nullptr, &t, nullptr),
                    Contains("temperature nan"));
}

TEST_CASE("require_close: empty vectors compare equal, a length mismatch fails", "[cuda][support]") {
  std::string why;
  CHECK(is_close(std::vector<float>{}, std::vector<double>{}, 1e-5, &why));
  CHECK(is_close(std::vector<double>{}, std::vector<double>{}, 1e-12, &why));
  require_close("two empty vectors", std::vector<float>{}, std::vector<double>{});  // passes: no 0/0
  CHECK_FALSE(is_close(std::vector<float>{}, std::vector<double>{1.0}, 1e-5, &why));
  CHECK_THAT(why, Contains("0 elements against a reference of 1"));
  CHECK_FALSE(is_close(std::vector<float>{1.f}, std::vector<double>{}, 1e-5, &why));
  // Zero references: equal passes, any difference is an infinite error.
  CHECK(is_close(std::vector<float>{0.f, 0.f}, std::vector<double>{0, 0}, 1e-5));
  CHECK_FALSE(is_close(std::vector<float>{0.f, 1e-30f}, std::vector<double>{0, 0}, 1e-5));
  // NaN and inf fail, and so does a plain miss.
  CHECK_FALSE(is_close(std::vector<float>{1.f, NAN}, std::vector<double>{1, 1}, 1e-5));
  CHECK_FALSE(is_close(std::vector<double>{INFINITY}, std::vector<double>{1}, 1e-12));
  CHECK_FALSE(is_close(std::vector<double>{1.1}, std::vector<double>{1}, 1e-12));
  CHECK(is_close(std::vector<double>{1 + 1e-15}, std::vector<double>{1}, 1e-12));
}

TEST_CASE("poison: NaN for floating point, no valid index for integers", "[cuda][support]") {
  CHECK(std::isnan(poison<float>()));
  CHECK(std::isnan(poison<double>()));
  CHECK(poison<int32_t>() == std::numeric_limits<int32_t>::min());
  CHECK(poison<int32_t>() < -1);  // neither a colour nor sample_rows' −1 "no class"
}
