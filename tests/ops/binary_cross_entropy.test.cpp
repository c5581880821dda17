// ops/binary_cross_entropy.hpp: the loss against −log σ written out, finite at
// huge logits, gradients in double for several targets; leaky_relu's values
// and gradients.
#include <catch2/catch.hpp>

#include <deepgen/ops/binary_cross_entropy.hpp>

#include <cmath>

#include "support/gradcheck.hpp"

using namespace deepgen;
using deepgen::test::check_gradients;
using deepgen::test::random_tensor;
using deepgen::test::weighted_sum;
using V = Var<double>;

TEST_CASE("binary_cross_entropy_with_logits: the mean of −t·log σ(x) − (1 − t)·log(1 − σ(x))", "[ops]") {
  const Tensor<double> x = random_tensor({4, 1}, -3, 3);
  for (double t : {0.0, 0.9, 1.0}) {
    double want = 0;
    for (int64_t i = 0; i < 4; ++i) {
      const double s = 1 / (1 + std::exp(-x[i]));
      want += -t * std::log(s) - (1 - t) * std::log(1 - s);
    }
    CHECK(binary_cross_entropy_with_logits(V(x), t).value()[0] == Approx(want / 4).epsilon(1e-12));
  }
  // A confident, wrong discriminator: the loss is the logit itself, not inf.
  const Tensor<double> big(Shape{2}, std::vector<double>{800.0, -800.0});
  CHECK(binary_cross_entropy_with_logits(V(big), 0.0).value()[0] == Approx(400.0));
  CHECK_THROWS_WITH(binary_cross_entropy_with_logits(V(x), 1.5), Catch::Contains("[0, 1]"));
}

TEST_CASE("binary_cross_entropy_with_logits and leaky_relu: gradients in double", "[ops]") {
  const double t = GENERATE(0.0, 0.9, 1.0);
  SECTION("target=" + std::to_string(t)) {
    V x(random_tensor({5, 1}, -3, 3), true);
    check_gradients([&] { return binary_cross_entropy_with_logits(x, t); }, {x});
  }
  // Away from the kink at 0, where the derivative jumps.
  Tensor<double> v = random_tensor({3, 4}, 0.1, 2.0);
  for (int64_t i = 0; i < v.numel(); i += 2) v[i] = -v[i];
  V y(v, true);
  check_gradients([&] { return weighted_sum(leaky_relu(y, 0.2)); }, {y});
  CHECK(leaky_relu(V(v), 0.2).value()[0] == Approx(0.2 * v[0]));
  CHECK(leaky_relu(V(v), 0.2).value()[1] == Approx(v[1]));
  CHECK_THROWS_WITH(leaky_relu(V(v), 1.0), Catch::Contains("slope"));
}
