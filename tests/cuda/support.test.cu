// tests/cuda/support.test.cu — the GPU tests' own support (cuda/support.hpp):
// require_close on empty vectors and zero references, and the poison values
// that make an unwritten output fail. Runs without a device.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "cuda/support.hpp"

namespace {
using Catch::Contains;
using namespace deepgen::test::gpu;
}  // namespace

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
