// tests/cuda/vae_layers.test.cu — the VAE's one-hot first layer and ReLU
// (kernels/vae_layers.cu) against double-precision CPU references.
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

#include "cuda/support.hpp"

namespace {

using namespace deepgen::test::gpu;
using Catch::Contains;

}  // namespace

/// The one-hot linear layer on the GPU (forward, then backward accumulating
/// onto dw0) beside its double CPU reference. A colour outside [0, K) adds
/// nothing to the reference; the kernel is expected to make that image's y NaN.
template <typename T>
struct OnehotLinearRun {
  std::vector<double> y_ref, dw_ref;  ///< the reference's y (B, H) and dW (H, P·K)
  std::vector<T> y, dw;               ///< the kernels'
};

template <typename T>
OnehotLinearRun<T> run_onehot_linear(const std::vector<int32_t>& images, const std::vector<T>& w,
                                     const std::vector<T>& bias, const std::vector<T>& dy, const std::vector<T>& dw0,
                                     int64_t B, int64_t P, int64_t K, int64_t H) {
  OnehotLinearRun<T> r;
  r.y_ref.assign(size_t(B * H), 0.0);
  r.dw_ref.assign(dw0.begin(), dw0.end());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      double acc = double(bias[size_t(h)]);
      for (int64_t p = 0; p < P; ++p) {
        const int32_t k = images[size_t(b * P + p)];
        if (k < 0 || k >= K) continue;
        const size_t col = size_t(h * P * K + p * K + k);
        acc += double(w[col]);
        r.dw_ref[col] += double(dy[size_t(b * H + h)]);
      }
      r.y_ref[size_t(b * H + h)] = acc;
    }
  Stream stream;
  const auto d_images = to_device(images);
  const auto d_w = to_device(w), d_bias = to_device(bias), d_dy = to_device(dy);
  Output<T> y(size_t(B * H)), dw(dw0);
  deepgen::cuda::onehot_linear_fwd<T>(d_images.data(), d_w.data(), d_bias.data(), y.data(), B, P, K, H,
                                      stream.get());
  deepgen::cuda::onehot_linear_bwd<T>(d_images.data(), d_dy.data(), dw.data(), B, P, K, H, stream.get());
  stream.sync();
  r.y = y.fetch("y");
  r.dw = dw.fetch("dweight");
  return r;
}

TEMPLATE_TEST_CASE("onehot_linear: a colour outside 0 ≤ k < K makes its image's outputs NaN and adds no gradient",
                   "[cuda][vae]", float, double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t B = 4, P = 37, K = 5, H = 9;
  auto rng = make_rng(17, B * P, K * H);
  std::uniform_int_distribution<int32_t> colour(0, int32_t(K - 1));
  std::vector<int32_t> images(size_t(B * P));
  for (auto& c : images) c = colour(rng);
  images[size_t(1 * P + 4)] = int32_t(K);  // image 1: one past the palette
  images[size_t(3 * P + 36)] = -1;         // image 3: negative
  const std::vector<T> w = uniform<T>(rng, size_t(H * P * K), -1, 1), bias = uniform<T>(rng, size_t(H), -1, 1);
  const std::vector<T> dy = uniform<T>(rng, size_t(B * H), -1, 1);
  const std::vector<T> dw0 = uniform<T>(rng, size_t(H * P * K), -1, 1);
  const auto run = run_onehot_linear(images, w, bias, dy, dw0, B, P, K, H);
  const std::vector<T>& got = run.y;
  const std::vector<double>& y_ref = run.y_ref;
  for (int64_t b = 0; b < B; ++b) {
    INFO("image " << b);
    const std::vector<T> row(got.begin() + b * H, got.begin() + (b + 1) * H);
    if (b == 1 || b == 3) {
      CHECK(std::all_of(row.begin(), row.end(), [](T v) { return std::isnan(v); }));
    } else {
      require_close("y", row, std::vector<double>(y_ref.begin() + b * H, y_ref.begin() + (b + 1) * H));
    }
  }
  require_close("dweight", run.dw, run.dw_ref);
}

TEMPLATE_TEST_CASE("onehot_linear_fwd/bwd and relu_fwd/bwd match the double CPU reference", "[cuda][vae]", float,
                   double) {
  if (gpu_missing()) return;
  using T = TestType;
  for (const auto& [B, P, K, H] : {std::array<int64_t, 4>{1, 1, 1, 1}, {3, 37, 5, 9}, {70, 400, 17, 33}}) {
    INFO("B=" << B << " P=" << P << " K=" << K << " H=" << H);
    auto rng = make_rng(15, B * P, K * H);
    std::uniform_int_distribution<int32_t> colour(0, int32_t(K - 1));
    std::vector<int32_t> images(size_t(B * P));
    for (auto& c : images) c = colour(rng);
    const std::vector<T> w = uniform<T>(rng, size_t(H * P * K), -1, 1), bias = uniform<T>(rng, size_t(H), -1, 1);
    const std::vector<T> dy = uniform<T>(rng, size_t(B * H), -1, 1);
    const std::vector<T> dw0 = uniform<T>(rng, size_t(H * P * K), -1, 1);  // bwd accumulates onto this
    const auto run = run_onehot_linear(images, w, bias, dy, dw0, B, P, K, H);
    require_close("onehot_linear_fwd y", run.y, run.y_ref);
    require_close("onehot_linear_bwd dweight", run.dw, run.dw_ref);

    // ReLU on y's values (mixed signs), and its backward from dy.
    const std::vector<T> x = uniform<T>(rng, size_t(B * H), -1, 1);
    std::vector<double> relu_ref(x.size()), drelu_ref(x.size());
    for (size_t n = 0; n < x.size(); ++n) {
      relu_ref[n] = x[n] > 0 ? double(x[n]) : 0.0;
      drelu_ref[n] = x[n] > 0 ? double(dy[n]) : 0.0;
    }
    Stream stream;
    const auto d_x = to_device(x), d_dy = to_device(dy);
    Output<T> r(x.size()), dr(x.size());
    deepgen::cuda::relu_fwd<T>(d_x.data(), r.data(), int64_t(x.size()), stream.get());
    deepgen::cuda::relu_bwd<T>(r.data(), d_dy.data(), dr.data(), int64_t(x.size()), stream.get());
    stream.sync();
    const std::vector<T> relu_got = r.fetch("relu");  // (the canaries are checked either way)
    if (std::any_of(relu_ref.begin(), relu_ref.end(), [](double v) { return v != 0; }))
      require_close("relu_fwd", relu_got, relu_ref);
    else
      CHECK(std::all_of(relu_got.begin(), relu_got.end(), [](T v) { return v == T(0); }));
    const std::vector<T> drelu_got = dr.fetch("drelu");
    if (std::any_of(drelu_ref.begin(), drelu_ref.end(), [](double v) { return v != 0; }))
      require_close("relu_bwd", drelu_got, drelu_ref);
    else
      CHECK(std::all_of(drelu_got.begin(), drelu_got.end(), [](T v) { return v == T(0); }));
  }
}

TEST_CASE("onehot_linear and relu launchers reject bad arguments before touching the device", "[cuda][vae]") {
  const int32_t* no_images = nullptr;
  float* p = reinterpret_cast<float*>(uintptr_t(256));  // never dereferenced: the checks come first
  CHECK_THROWS_WITH(deepgen::cuda::onehot_linear_fwd<float>(no_images, p, p, p, 2, 3, 4, 5, nullptr),
                    Catch::Contains("device pointer 'images' is null"));
  CHECK_THROWS_WITH(deepgen::cuda::onehot_linear_bwd<float>(reinterpret_cast<const int32_t*>(p), p, p, 2, 0, 4, 5,
                                                            nullptr),
                    Catch::Contains("P = 0 must be positive"));
  CHECK_THROWS_WITH(deepgen::cuda::relu_fwd<float>(p, nullptr, 8, nullptr), Catch::Contains("'y' is null"));
  CHECK_THROWS_WITH(deepgen::cuda::relu_bwd<float>(p, p, p, -1, nullptr), Catch::Contains("n = -1 must be positive"));
}
