// tests/cuda/softmax_cross_entropy.test.cu — the fused softmax cross-entropy
// (kernels/softmax_cross_entropy.cu) against a double-precision CPU reference,
// on fresh random inputs, outputs poisoned with NaN and guarded by canaries
// (support.hpp).
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

#include "deepgen/config.hpp"  // IGNORE_INDEX
#include "deepgen/cuda/launchers.hpp"
#include "deepgen/error.hpp"

#include "cuda/support.hpp"

namespace {

using namespace deepgen::test::gpu;
using Catch::Contains;
constexpr int32_t IGNORE = deepgen::IGNORE_INDEX;

}  // namespace

TEMPLATE_TEST_CASE("softmax_cross_entropy_fwd/bwd match the double CPU reference", "[cuda][softmax]", float, double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t N = GENERATE(as<int64_t>{}, 1, 3, 130);
  const int64_t K = GENERATE(as<int64_t>{}, 1, 7, 167, 1000, 11833);
  DYNAMIC_SECTION("N=" << N << " K=" << K) {
    auto rng = make_rng(11, N, K);
    const auto h_z = uniform<T>(rng, N * K, -8, 8);
    std::vector<int32_t> h_y(N);
    std::uniform_int_distribution<int32_t> pick(0, int32_t(K - 1));
    for (auto& y : h_y) y = pick(rng);
    if (N > 1) h_y[1] = IGNORE;  // a padded row
    const auto d_z = to_device(h_z);
    const auto d_y = to_device(h_y);
    Output<T> d_p(N * K), d_loss(N), d_dz(N * K);
    Stream stream;
    const T scale = T(0.37);
    deepgen::cuda::softmax_cross_entropy_fwd<T>(d_z.data(), d_y.data(), d_p.data(), d_loss.data(), N, K, IGNORE,
                                                stream.get());
    deepgen::cuda::softmax_cross_entropy_bwd<T>(d_p.data(), d_y.data(), d_dz.data(), N, K, scale, IGNORE, stream.get());
    stream.sync();

    std::vector<double> ref_p(N * K), ref_loss(N), ref_dz(N * K);
    for (int64_t n = 0; n < N; ++n) {
      double m = h_z[n * K];
      for (int64_t k = 0; k < K; ++k) m = std::max(m, double(h_z[n * K + k]));
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += std::exp(double(h_z[n * K + k]) - m);
      for (int64_t k = 0; k < K; ++k) ref_p[n * K + k] = std::exp(double(h_z[n * K + k]) - m) / s;
      const bool ignored = h_y[n] == IGNORE;
      ref_loss[n] = ignored ? 0 : std::log(s) + m - double(h_z[n * K + h_y[n]]);
      for (int64_t k = 0; k < K; ++k)
        ref_dz[n * K + k] = ignored ? 0 : double(scale) * (ref_p[n * K + k] - (k == h_y[n] ? 1 : 0));
    }
    require_close("probs", d_p.fetch("probs"), ref_p);
    // ‖ref_loss‖ may be all zero at K = 1 (log 1 = 0): compare absolutely there.
    const auto loss = d_loss.fetch("row_loss");
    if (K == 1) {
      for (T v : loss) REQUIRE(std::abs(double(v)) <= 1e-6);
    } else {
      require_close("row_loss", loss, ref_loss);
    }
    // At K = 1 every probability is exactly 1 and every dlogit exactly 0: a
    // zero reference, which require_close passes only for exact zeros.
    const auto dz = d_dz.fetch("dlogits");
    require_close("dlogits", dz, ref_dz);
    if (N > 1)
      for (int64_t k = 0; k < K; ++k) REQUIRE(dz[size_t(K + k)] == T(0));  // the ignored row
  }
}

TEST_CASE("softmax_cross_entropy: an out-of-range target gives a NaN row loss", "[cuda][softmax]") {
  if (gpu_missing()) return;
  const std::vector<float> z{0.5f, -1.f, 2.f, 0.f, 0.f, 0.f};
  const std::vector<int32_t> y{1, 3};  // K = 3: the second is out of range
  const auto d_z = to_device(z);
  const auto d_y = to_device(y);
  Output<float> d_p(6), d_loss(2);
  Stream stream;
  deepgen::cuda::softmax_cross_entropy_fwd<float>(d_z.data(), d_y.data(), d_p.data(), d_loss.data(), 2, 3, IGNORE,
                                                  stream.get());
  stream.sync();
  const auto loss = d_loss.fetch("row_loss");
  REQUIRE(std::isfinite(loss[0]));
  REQUIRE(std::isnan(loss[1]));
}

TEST_CASE("softmax_cross_entropy launchers reject bad arguments before touching the device", "[cuda][softmax]") {
  float f = 0;
  int32_t t = 0;
  REQUIRE_THROWS_WITH(deepgen::cuda::softmax_cross_entropy_fwd<float>(&f, &t, &f, &f, 0, 5, IGNORE, nullptr),
                      Contains("N = 0"));
  REQUIRE_THROWS_WITH(deepgen::cuda::softmax_cross_entropy_fwd<float>(&f, nullptr, &f, &f, 2, 5, IGNORE, nullptr),
                      Contains("'targets' is null"));
  REQUIRE_THROWS_WITH(deepgen::cuda::softmax_cross_entropy_bwd<float>(&f, &t, &f, 2, -1, 1.f, IGNORE, nullptr),
                      Contains("K = -1"));
}
