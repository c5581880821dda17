// Forward values on hand-computed cases and finite-difference gradient checks
// (double) for every op except the LSTM (ops/lstm.test.cpp).
#include <deepgen/ops/dropout.hpp>
#include <deepgen/ops/elementwise.hpp>
#include <deepgen/ops/embedding.hpp>
#include <deepgen/ops/gaussian.hpp>
#include <deepgen/ops/matmul.hpp>
#include <deepgen/ops/reduce.hpp>
#include <deepgen/ops/reshape.hpp>
#include <deepgen/ops/softmax_cross_entropy.hpp>

#include "support/gradcheck.hpp"

using namespace deepgen;
using deepgen::test::check_gradients;
using deepgen::test::random_indices;
using deepgen::test::random_tensor;
using deepgen::test::weighted_sum;
using Catch::Contains;
using V = Var<double>;

TEST_CASE("matmul: forward on a hand-computed case", "[ops]") {
  V a(Tensor<double>({2, 3}, {1, 2, 3, 4, 5, 6}));
  V b(Tensor<double>({3, 2}, {7, 8, 9, 10, 11, 12}));
  const Tensor<double> c = matmul(a, b).value();
  REQUIRE(c.shape() == Shape{2, 2});
  CHECK(c.at(0, 0) == 58);
  CHECK(c.at(0, 1) == 64);
  CHECK(c.at(1, 0) == 139);
  CHECK(c.at(1, 1) == 154);
}

TEST_CASE("matmul: gradients", "[ops][gradcheck]") {
  const int64_t m = GENERATE(1, 3, 7), k = GENERATE(1, 5), n = GENERATE(2, 4);
  SECTION("m=" + std::to_string(m) + " k=" + std::to_string(k) + " n=" + std::to_string(n)) {
    V a(random_tensor({m, k}), true), b(random_tensor({k, n}), true);
    check_gradients([&] { return weighted_sum(matmul(a, b)); }, {a, b});
  }
}

TEST_CASE("matmul: shape mismatch names both shapes", "[ops][errors]") {
  V a(Tensor<double>(Shape{2, 3})), b(Tensor<double>(Shape{4, 2})), v(Tensor<double>(Shape{3}));
  REQUIRE_THROWS_WITH(matmul(a, b), Contains("[2, 3]") && Contains("[4, 2]") && Contains("inner dimensions"));
  REQUIRE_THROWS_WITH(matmul(a, v), Contains("rank 2") && Contains("[3]"));
}

TEST_CASE("linear: forward, gradients, rank-3 input, errors", "[ops][gradcheck]") {
  V x(Tensor<double>({1, 2}, {1, 2}));
  V w(Tensor<double>({3, 2}, {1, 0, 0, 1, 1, 1}));
  V b(Tensor<double>({3}, {0.5, -0.5, 0}));
  const Tensor<double> y = linear(x, w, b).value();
  CHECK(y.at(0, 0) == 1.5);
  CHECK(y.at(0, 1) == 1.5);
  CHECK(y.at(0, 2) == 3);

  V x3(random_tensor({2, 3, 5}), true), w3(random_tensor({4, 5}), true), b3(random_tensor({4}), true);
  REQUIRE(linear(x3, w3, b3).shape() == Shape{2, 3, 4});
  check_gradients([&] { return weighted_sum(linear(x3, w3, b3)); }, {x3, w3, b3});
  check_gradients([&] { return weighted_sum(linear(x3, w3)); }, {x3, w3});

  REQUIRE_THROWS_WITH(linear(x3, w), Contains("[2, 3, 5]") && Contains("[3, 2]"));
  REQUIRE_THROWS_WITH(linear(x, w, V(Tensor<double>(Shape{2}))), Contains("bias"));
}

TEST_CASE("add: equal shapes and row broadcast", "[ops][gradcheck]") {
  V a(Tensor<double>({2, 2}, {1, 2, 3, 4})), r(Tensor<double>({2}, {10, 20}));
  const Tensor<double> s = add(a, r).value();
  CHECK(s.at(1, 0) == 13);
  CHECK(s.at(1, 1) == 24);
  V x(random_tensor({3, 4}), true), y(random_tensor({3, 4}), true), bias(random_tensor({4}), true);
  check_gradients([&] { return weighted_sum(add(x, y)); }, {x, y});
  check_gradients([&] { return weighted_sum(add(x, bias)); }, {x, bias});
  REQUIRE_THROWS_WITH(add(x, V(Tensor<double>(Shape{3}))), Contains("[3, 4]") && Contains("[3]"));
}

TEST_CASE("mul, scale: forward and gradients", "[ops][gradcheck]") {
  V a(Tensor<double>({3}, {1, 2, 3})), b(Tensor<double>({3}, {4, 5, 6}));
  CHECK(mul(a, b).value()[2] == 18);
  CHECK(scale(a, 2.5).value()[1] == 5);
  V x(random_tensor({2, 5}), true), y(random_tensor({2, 5}), true);
  check_gradients([&] { return weighted_sum(mul(x, y)); }, {x, y});
  check_gradients([&] { return weighted_sum(scale(x, -1.7)); }, {x});
  REQUIRE_THROWS_WITH(mul(x, V(Tensor<double>(Shape{5, 2}))), Contains("[5, 2]") && Contains("[2, 5]"));
}

TEST_CASE("activations: forward values and gradients", "[ops][gradcheck]") {
  V x(Tensor<double>({3}, {-1, 0.5, 2}));
  const Tensor<double> r = relu(x).value();
  CHECK(r[0] == 0);
  CHECK(r[2] == 2);
  CHECK(deepgen::tanh(x).value()[1] == Approx(std::tanh(0.5)).epsilon(1e-15));
  CHECK(sigmoid(x).value()[2] == Approx(1 / (1 + std::exp(-2.0))).epsilon(1e-15));
  // relu is not differentiable at 0: keep inputs away from it.
  Tensor<double> t = random_tensor({4, 6});
  for (auto& v : t) v = v < 0 ? v - 0.1 : v + 0.1;
  V z(t, true);
  check_gradients([&] { return weighted_sum(relu(z)); }, {z});
  check_gradients([&] { return weighted_sum(deepgen::tanh(z)); }, {z});
  check_gradients([&] { return weighted_sum(sigmoid(z)); }, {z});
}

TEST_CASE("sum, mean, reshape: forward and gradients", "[ops][gradcheck]") {
  V a(Tensor<double>({2, 2}, {1, 2, 3, 4}));
  CHECK(sum(a).value()[0] == 10);
  CHECK(mean(a).value()[0] == 2.5);
  V x(random_tensor({3, 4}), true);
  check_gradients([&] { return sum(mul(x, x)); }, {x});
  check_gradients([&] { return mean(mul(x, x)); }, {x});
  check_gradients([&] { return weighted_sum(reshape(x, Shape{2, 6})); }, {x});
  REQUIRE_THROWS_WITH(reshape(x, Shape{5, 2}), Contains("[3, 4]") && Contains("[5, 2]"));
  REQUIRE_THROWS_WITH(mean(V(Tensor<double>(Shape{0}))), Contains("no elements"));
}

TEST_CASE("embedding: row gather, scatter-add backward, bad indices", "[ops][gradcheck]") {
  V w(Tensor<double>({3, 2}, {1, 2, 3, 4, 5, 6}));
  const Tensor<double> e = embedding(w, Tensor<int32_t>({2, 2}, {2, 0, 2, 1})).value();
  REQUIRE(e.shape() == Shape{2, 2, 2});
  CHECK(e.at(0, 0, 1) == 6);
  CHECK(e.at(0, 1, 0) == 1);
  CHECK(e.at(1, 1, 1) == 4);

  V weight(random_tensor({7, 5}), true);
  const Tensor<int32_t> idx = random_indices({4, 3}, 0, 7);  // repeats likely: accumulation is exercised
  check_gradients([&] { return weighted_sum(embedding(weight, idx)); }, {weight});

  REQUIRE_THROWS_WITH(embedding(weight, Tensor<int32_t>({2}, {1, 7})), Contains("index 7") && Contains("[0, 7)"));
  REQUIRE_THROWS_WITH(embedding(weight, Tensor<int32_t>({2}, {-1, 0})), Contains("index -1"));
  REQUIRE_THROWS_WITH(embedding(V(Tensor<double>(Shape{7})), idx), Contains("[7]"));
}

TEST_CASE("gather_columns: equals one-hot times weight transposed", "[ops][gradcheck]") {
  const int64_t R = 6, I = 5;
  V weight(random_tensor({R, I}), true);
  Tensor<int32_t> idx = random_indices({3, 4}, 0, I);
  idx[0] = NO_INPUT;
  const Tensor<double> g = gather_columns(weight, idx).value();
  REQUIRE(g.shape() == Shape{3, 4, R});
  // Independent path: build the one-hot matrix and multiply.
  Tensor<double> onehot(Shape{12, I});
  for (int64_t n = 0; n < 12; ++n)
    if (idx[n] != NO_INPUT) onehot.at(n, idx[n]) = 1;
  const MatrixRM<double> ref = onehot.matrix() * weight.value().matrix().transpose();
  REQUIRE((g.matrix(12, R) - ref).norm() == 0.0);

  check_gradients([&] { return weighted_sum(gather_columns(weight, idx)); }, {weight});
  REQUIRE_THROWS_WITH(gather_columns(weight, Tensor<int32_t>({1}, 5)), Contains("index 5"));
  REQUIRE_THROWS_WITH(gather_columns(weight, Tensor<int32_t>({1}, -2)), Contains("index -2"));
}

TEST_CASE("softmax_cross_entropy: forward, stability, gradients, errors", "[ops][gradcheck]") {
  // Two rows, hand-computed: −log softmax.
  V z(Tensor<double>({2, 3}, {1, 2, 3, 0, 0, 0}));
  const double row0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 1.0;
  const double row1 = std::log(3.0);
  CHECK(softmax_cross_entropy(z, Tensor<int32_t>({2}, {0, 2})).value()[0] == Approx((row0 + row1) / 2).epsilon(1e-14));
  // Ignored rows do not count.
  CHECK(softmax_cross_entropy(z, Tensor<int32_t>({2}, {0, IGNORE_INDEX})).value()[0] == Approx(row0).epsilon(1e-14));
  // Huge logits stay finite (max subtraction).
  V big(Tensor<double>({1, 3}, {1000, 0, -1000}));
  CHECK(softmax_cross_entropy(big, Tensor<int32_t>({1}, 1)).value()[0] == Approx(1000).epsilon(1e-12));
  Var<float> bigf(Tensor<float>({1, 2}, {100.f, -100.f}));
  REQUIRE(std::isfinite(softmax_cross_entropy(bigf, Tensor<int32_t>({1}, 1)).value()[0]));

  V logits(random_tensor({2, 3, 7}, -3, 3), true);
  Tensor<int32_t> y = random_indices({6}, 0, 7);
  y[4] = IGNORE_INDEX;
  check_gradients([&] { return softmax_cross_entropy(logits, y); }, {logits});
  REQUIRE_THROWS_WITH(softmax_cross_entropy(logits, Tensor<int32_t>({5}, {0, 0, 0, 0, 0})),
                      Contains("6 rows") && Contains("5 entries"));
  REQUIRE_THROWS_WITH(softmax_cross_entropy(logits, Tensor<int32_t>({6}, {0, 7, 0, 0, 0, 0})),
                      Contains("target 7") && Contains("[0, 7)"));
}

TEST_CASE("reparameterize and gaussian_kl: values and gradients", "[ops][gradcheck]") {
  V m(Tensor<double>({1, 2}, {0.5, -1})), s(Tensor<double>({1, 2}, {0, std::log(4.0)}));
  const Tensor<double> e({1, 2}, {2, 0.5});
  const Tensor<double> c = reparameterize(m, s, e).value();
  CHECK(c[0] == Approx(0.5 + 1 * 2).epsilon(1e-15));
  CHECK(c[1] == Approx(-1 + 2 * 0.5).epsilon(1e-15));
  // KL: ½[(1 + 0.25 − 1 − 0) + (4 + 1 − 1 − ln 4)]
  CHECK(gaussian_kl(m, s).value()[0] == Approx(0.5 * (0.25 + 4 - std::log(4.0))).epsilon(1e-14));
  // KL of the prior itself is zero.
  V z0(Tensor<double>(Shape{3, 4})), z1(Tensor<double>(Shape{3, 4}));
  CHECK(gaussian_kl(z0, z1).value()[0] == 0.0);

  V mean(random_tensor({3, 4}), true), logvar(random_tensor({3, 4}), true);
  const Tensor<double> noise = random_tensor({3, 4}, -2, 2);
  check_gradients([&] { return weighted_sum(reparameterize(mean, logvar, noise)); }, {mean, logvar});
  check_gradients([&] { return gaussian_kl(mean, logvar); }, {mean, logvar});
  check_gradients([&] { return add(sum(mul(reparameterize(mean, logvar, noise), reparameterize(mean, logvar, noise))),
                                   gaussian_kl(mean, logvar)); }, {mean, logvar});
  REQUIRE_THROWS_WITH(reparameterize(mean, logvar, Tensor<double>(Shape{4, 3})), Contains("noise") && Contains("[4, 3]"));
}

TEST_CASE("dropout: keeps 1 - p of the elements scaled by 1/(1 - p); gradients through the mask", "[ops][gradcheck]") {
  const double p = 0.3;
  Philox rng(Catch::rngSeed());
  V ones(Tensor<double>(Shape{200, 50}, 1.0));
  const Tensor<double> y = dropout(ones, p, rng).value();
  int64_t kept = 0;
  for (double v : y) {
    REQUIRE((v == 0.0 || v == Approx(1 / (1 - p)).epsilon(1e-15)));
    kept += v != 0.0;
  }
  // 10,000 Bernoulli(0.7) draws: the kept fraction is within 5 standard errors of 0.7.
  CHECK(std::abs(double(kept) / 10000 - 0.7) < 5 * std::sqrt(0.7 * 0.3 / 10000));
  CHECK(dropout(ones, 0.0, rng).value()[0] == 1.0);
  V x(random_tensor({4, 6}), true);
  // The same stream every call, so the finite differences see the same mask.
  check_gradients([&] { Philox r(5); return weighted_sum(dropout(x, 0.5, r)); }, {x});
  REQUIRE_THROWS_WITH(dropout(x, 1.0, rng), Contains("rate 1"));
}
