// ops/gumbel_softmax.hpp: values (rows sum to 1, the tempered softmax, the
// argmax as τ → 0, Gumbel-max draws follow softmax(z)) and gradients in double.
#include <catch2/catch.hpp>

#include <deepgen/ops/gumbel_softmax.hpp>

#include <cmath>
#include <vector>

#include "support/gradcheck.hpp"

using namespace deepgen;
using deepgen::test::check_gradients;
using deepgen::test::random_tensor;
using deepgen::test::weighted_sum;
using V = Var<double>;

TEST_CASE("gumbel_softmax: rows sum to 1, zero noise is the tempered softmax, small τ the argmax", "[ops]") {
  const Tensor<double> z = random_tensor({2, 3, 5}, -2, 2);
  const Tensor<double> zero(Shape{2, 3, 5});
  const Tensor<double> y = gumbel_softmax(V(z), zero, 0.5).value();
  for (int64_t r = 0; r < 6; ++r) {
    double total = 0, norm = 0;
    for (int64_t k = 0; k < 5; ++k) norm += std::exp(z[r * 5 + k] / 0.5);
    for (int64_t k = 0; k < 5; ++k) {
      total += y[r * 5 + k];
      CHECK(y[r * 5 + k] == Approx(std::exp(z[r * 5 + k] / 0.5) / norm).epsilon(1e-12));
    }
    CHECK(total == Approx(1.0).epsilon(1e-12));
  }
  Philox rng(4);
  const Tensor<double> g = gumbel_noise<double>(Shape{2, 3, 5}, rng);
  const Tensor<double> hard = gumbel_softmax(V(z), g, 1e-3).value();
  for (int64_t r = 0; r < 6; ++r) {
    int64_t best = 0;
    for (int64_t k = 1; k < 5; ++k)
      if (z[r * 5 + k] + g[r * 5 + k] > z[r * 5 + best] + g[r * 5 + best]) best = k;
    CHECK(hard[r * 5 + best] == Approx(1.0).epsilon(1e-6));
  }
  CHECK_THROWS_WITH(gumbel_softmax(V(z), zero, 0.0), Catch::Contains("temperature"));
  CHECK_THROWS_WITH(gumbel_softmax(V(z), Tensor<double>(Shape{2, 5}), 1.0), Catch::Contains("noise"));
}

TEST_CASE("gumbel_noise: the argmax of z + g is a draw from softmax(z) (Gumbel-max)", "[ops]") {
  const std::vector<double> z{0.0, 1.0, -1.0};
  double norm = 0;
  for (double v : z) norm += std::exp(v);
  Philox rng(9);
  const int64_t n = 20000;
  const Tensor<double> g = gumbel_noise<double>(Shape{n, 3}, rng);
  std::vector<int64_t> hits(3, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = 0;
    for (int64_t k = 1; k < 3; ++k)
      if (z[size_t(k)] + g[i * 3 + k] > z[size_t(best)] + g[i * 3 + best]) best = k;
    ++hits[size_t(best)];
  }
  for (size_t k = 0; k < 3; ++k) CHECK(double(hits[k]) / n == Approx(std::exp(z[k]) / norm).margin(0.015));
}

TEST_CASE("gumbel_softmax: gradients in double at several temperatures", "[ops]") {
  const double tau = GENERATE(0.3, 1.0, 2.5);
  SECTION("tau=" + std::to_string(tau)) {
    V z(random_tensor({3, 4, 6}), true);
    Philox rng(2);
    const Tensor<double> g = gumbel_noise<double>(Shape{3, 4, 6}, rng);
    check_gradients([&] { return weighted_sum(gumbel_softmax(z, g, tau)); }, {z});
  }
}
