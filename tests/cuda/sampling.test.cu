// tests/cuda/sampling.test.cu — a temperature draw per row (kernels/sampling.cu)
// against the CPU's sample_logits (sampling.hpp) from the same Philox streams.
// Without a device these WARN and pass (DEEPGEN_REQUIRE_GPU=1 makes that a
// failure); the argument checks run everywhere.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "deepgen/cuda/launchers.hpp"
#include "deepgen/error.hpp"
#include "deepgen/random.hpp"
#include "deepgen/sampling.hpp"

#include "cuda/support.hpp"

namespace {

using namespace deepgen::test::gpu;
using Catch::Contains;

}  // namespace

/// sample_rows on the GPU over logits h_z (B, K): row b draws from Philox
/// stream stream0 + b after its first `draw` uniforms.
template <typename T>
std::vector<int32_t> gpu_sample_rows(const std::vector<T>& h_z, int64_t B, int64_t K, double temperature,
                                     uint64_t seed, uint64_t stream0, uint64_t draw) {
  const auto d_z = to_device(h_z);
  Output<int32_t> d_out{size_t(B)};
  Output<T> d_w(size_t(B * K));
  Stream stream;
  deepgen::cuda::sample_rows<T>(d_z.data(), B, K, temperature, seed, stream0, draw, d_w.data(), d_out.data(),
                                stream.get());
  stream.sync();
  return d_out.fetch("out");
}

/// The CPU's draw for the same row: sample_logits over the K logits at `z`
/// from Philox(seed, stream) after `draw` uniforms; throws where the CPU refuses.
template <typename T>
int32_t cpu_sample_row(const T* z, int64_t K, double temperature, uint64_t seed, uint64_t stream, uint64_t draw,
                       std::vector<T>& scratch) {
  deepgen::Philox cpu(seed, stream);
  for (uint64_t i = 0; i < draw; ++i) cpu.uniform<T>();  // the row's earlier draws
  deepgen::SamplingOptions s;
  s.temperature = temperature;
  return deepgen::sample_logits(z, K, s, cpu, scratch);
}

TEMPLATE_TEST_CASE("sample_rows draws what the CPU's sample_logits draws", "[cuda][sampling]", float, double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t B = 500;
  const int64_t K = GENERATE(as<int64_t>{}, 1, 167, 1000);
  // 1e35: 1/T rounds to ~1e-35 in float, every weight to exactly 1 (on the
  // CPU too): a draw from equal weights, not the temperature-0 argmax.
  const double temperature = GENERATE(0.0, 0.5, 1.0, 1e35);
  DYNAMIC_SECTION("K=" << K << " temperature=" << temperature) {
    auto rng = make_rng(14, K, temperature < 100 ? int64_t(temperature * 10) : 99);
    const auto h_z = uniform<T>(rng, B * K, -4, 4);
    const uint64_t seed = 9, stream0 = 100, draw = 3;
    const auto out = gpu_sample_rows(h_z, B, K, temperature, seed, stream0, draw);
    int64_t differ = 0;
    std::vector<T> scratch;
    for (int64_t b = 0; b < B; ++b) {
      const int32_t want =
          cpu_sample_row(h_z.data() + b * K, K, temperature, seed, stream0 + uint64_t(b), draw, scratch);
      REQUIRE(out[size_t(b)] >= 0);
      REQUIRE(out[size_t(b)] < K);
      differ += out[size_t(b)] != want;
    }
    // Device and host exp may differ in the last bit, which moves a draw only
    // when the uniform falls within that of a class boundary.
    INFO(differ << " of " << B << " rows differ from the CPU's draw");
    REQUIRE(differ <= (std::is_same<T, float>::value && temperature > 0 ? 1 : 0));
  }
}

TEMPLATE_TEST_CASE("sample_rows refuses the rows the CPU's draw refuses (NaN, inf) and draws the rest alike",
                   "[cuda][sampling]", float, double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t K = 167;
  const T nan = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
  const double temperature = GENERATE(0.5, 1.0);
  DYNAMIC_SECTION("temperature=" << temperature) {
    // One row per case; the CPU's sample_logits either throws (want −1) or
    // draws, and the GPU must answer the same.
    const std::vector<std::pair<const char*, std::vector<std::pair<int64_t, T>>>> rows = {
        {"finite", {}},
        {"one NaN logit", {{40, nan}}},
        {"the last logit NaN", {{K - 1, nan}}},
        {"the first logit NaN", {{0, nan}}},
        {"all NaN", {}},  // filled below
        {"one +inf logit", {{7, inf}}},
        {"one -inf logit (weight 0: still a draw)", {{9, -inf}}},
    };
    const int64_t B = int64_t(rows.size());
    auto rng = make_rng(16, K, int64_t(temperature * 10));
    auto h_z = uniform<T>(rng, size_t(B * K), -4, 4);
    for (int64_t b = 0; b < B; ++b)
      for (const auto& [k, v] : rows[size_t(b)].second) h_z[size_t(b * K + k)] = v;
    for (int64_t k = 0; k < K; ++k) h_z[size_t(4 * K + k)] = nan;
    const uint64_t seed = 21, stream0 = 7, draw = 2;
    const auto out = gpu_sample_rows(h_z, B, K, temperature, seed, stream0, draw);
    std::vector<T> scratch;
    for (int64_t b = 0; b < B; ++b) {
      INFO("row " << b << ": " << rows[size_t(b)].first << ", GPU drew " << out[size_t(b)]);
      int32_t want = -1;
      try {
        want = cpu_sample_row(h_z.data() + b * K, K, temperature, seed, stream0 + uint64_t(b), draw, scratch);
      } catch (const deepgen::Error&) {
        want = -1;  // the CPU refuses this row
      }
      CHECK(out[size_t(b)] == want);
    }
    CHECK(out[0] >= 0);  // the finite row and the -inf row draw; the rest are refused
    CHECK(out[1] == -1);
    CHECK(out[6] >= 0);
    CHECK(out[6] != 9);
  }
}

TEST_CASE("sample_rows rejects bad arguments before touching the device", "[cuda][sampling]") {
  float f = 0;
  int32_t t = 0;
  REQUIRE_THROWS_WITH(deepgen::cuda::sample_rows<float>(&f, 2, 3, -1.0, 0, 0, 0, &f, &t, nullptr),
                      Contains("temperature -1"));
  REQUIRE_THROWS_WITH(deepgen::cuda::sample_rows<float>(&f, 2, 0, 1.0, 0, 0, 0, &f, &t, nullptr), Contains("K = 0"));
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
