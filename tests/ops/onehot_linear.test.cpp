// onehot_linear (the VAE encoder's one-hot first layer) against the dense
// one-hot product it replaces, finite-difference gradients in double, bad
// input; slice_columns (the VAE's mean / log-variance split), select_steps
// (an encoder's state after each sentence) and add_per_sequence.
#include <deepgen/ops/elementwise.hpp>
#include <deepgen/ops/matmul.hpp>
#include <deepgen/ops/onehot_linear.hpp>
#include <deepgen/ops/slice.hpp>

#include "support/gradcheck.hpp"

using namespace deepgen;
using deepgen::test::check_gradients;
using deepgen::test::random_indices;
using deepgen::test::random_tensor;
using deepgen::test::relative_error;
using deepgen::test::weighted_sum;
using Catch::Contains;
using V = Var<double>;

namespace {
/// The flattened one-hot images (B, P·K) that onehot_linear never builds.
Tensor<double> dense_onehot(const Tensor<int32_t>& images, int64_t K) {
  const int64_t B = images.dim(0), P = images.dim(1);
  Tensor<double> out(Shape{B, P * K});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t p = 0; p < P; ++p) out.at(b, p * K + images.at(b, p)) = 1;
  return out;
}
}  // namespace

TEST_CASE("onehot_linear: equals the dense one-hot product, forward and backward", "[ops][onehot_linear]") {
  // H = 40 splits the columns into slices of 16 and 24 on two threads.
  const int64_t B = GENERATE(1, 7), P = GENERATE(1, 6), K = GENERATE(1, 5), H = GENERATE(4, 40);
  SECTION("B=" + std::to_string(B) + " P=" + std::to_string(P) + " K=" + std::to_string(K) + " H=" +
          std::to_string(H)) {
    const Tensor<int32_t> images = random_indices({B, P}, 0, int32_t(K));
    V w_t(random_tensor({P * K, H}), true), b(random_tensor({H}), true);
    const V y = onehot_linear(images, K, w_t, b);
    REQUIRE(y.shape() == Shape{B, H});
    backward(weighted_sum(y, 1));
    const Tensor<double> dw = w_t.grad(), db = b.grad();
    w_t.zero_grad();
    b.zero_grad();
    const V ref = add(matmul(V(dense_onehot(images, K)), w_t), b);  // onehot(x)·Wᵀ + b
    backward(weighted_sum(ref, 1));
    const double fwd_err = relative_error(y.value(), ref.value());
    const double dw_err = relative_error(dw, w_t.grad()), db_err = relative_error(db, b.grad());
    INFO("forward " << fwd_err << ", dW " << dw_err << ", db " << db_err);
    REQUIRE(fwd_err <= 1e-14);  // written so that NaN fails
    REQUIRE(dw_err <= 1e-14);
    REQUIRE(db_err <= 1e-14);
  }
}

TEST_CASE("onehot_linear: gradients by central differences (double)", "[ops][onehot_linear][gradcheck]") {
  // K = 2 over 3 images makes repeated rows certain: their gradients must add up.
  const int64_t K = GENERATE(2, 5);
  SECTION("K=" + std::to_string(K)) {
    const Tensor<int32_t> images = random_indices({3, 4}, 0, int32_t(K));
    V w_t(random_tensor({4 * K, 3}), true), b(random_tensor({3}), true);
    check_gradients([&] { return weighted_sum(onehot_linear(images, K, w_t, b)); }, {w_t, b});
    check_gradients([&] { return weighted_sum(onehot_linear(images, K, w_t)); }, {w_t});
  }
}

TEST_CASE("onehot_linear: bad input names the shapes and the remedy", "[ops][onehot_linear][errors]") {
  V w_t(random_tensor({8, 3}), true), b(random_tensor({3}), true);
  const Tensor<int32_t> images({2, 4}, {0, 1, 0, 1, 1, 1, 2, 0});
  REQUIRE_THROWS_WITH(onehot_linear(images, 2, w_t, b),
                      Contains("class 2") && Contains("image 1, position 2") && Contains("[0, 2)"));
  const Tensor<int32_t> negative({1, 4}, {0, -1, 0, 0});
  REQUIRE_THROWS_WITH(onehot_linear(negative, 2, w_t, b), Contains("class -1"));
  REQUIRE_THROWS_WITH(onehot_linear(images, 3, w_t, b), Contains("[8, 3]") && Contains("(12, H)"));
  V bad_bias(random_tensor({4}));
  REQUIRE_THROWS_WITH(onehot_linear(Tensor<int32_t>(Shape{2, 4}), 2, w_t, bad_bias),
                      Contains("bias must be (3)") && Contains("[4]"));
  REQUIRE_THROWS_WITH(onehot_linear(Tensor<int32_t>(Shape{8}), 1, w_t, b), Contains("(B, P)") && Contains("[8]"));
}

TEST_CASE("slice_columns: values, gradients of two slices that add up, bad ranges", "[ops][gradcheck]") {
  V x(Tensor<double>({2, 3}, {1, 2, 3, 4, 5, 6}), true);
  const Tensor<double> y = slice_columns(x, 1, 3).value();
  REQUIRE(y.shape() == Shape{2, 2});
  CHECK(y.at(0, 0) == 2);
  CHECK(y.at(1, 1) == 6);
  V z(random_tensor({3, 2, 6}), true);
  check_gradients([&] { return add(weighted_sum(slice_columns(z, 0, 2), 1), weighted_sum(slice_columns(z, 1, 6), 2)); },
                  {z});
  REQUIRE_THROWS_WITH(slice_columns(x, 2, 2), Contains("[2, 2)") && Contains("[2, 3]"));
  REQUIRE_THROWS_WITH(slice_columns(x, 0, 4), Contains("[0, 4)"));
}

TEST_CASE("select_steps: one step per sequence, gradients, bad steps", "[ops][gradcheck]") {
  Var<double> x(random_tensor(Shape{3, 4, 2}), true);
  const std::vector<int64_t> steps{3, 0, 2};
  const Tensor<double> y = select_steps(x, steps).value();
  REQUIRE(y.shape() == Shape({3, 2}));
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t d = 0; d < 2; ++d) CHECK(y.at(b, d) == x.value().at(b, steps[size_t(b)], d));
  check_gradients([&] { return weighted_sum(select_steps(x, steps)); }, {x});
  REQUIRE_THROWS_WITH(select_steps(x, {0, 1}), Contains("2 steps given for 3"));
  REQUIRE_THROWS_WITH(select_steps(x, {0, 4, 1}), Contains("step 4 of sequence 1"));
  REQUIRE_THROWS_WITH(select_steps(Var<double>(random_tensor(Shape{3, 4})), {0, 0, 0}), Contains("(B, T, D)"));
}

TEST_CASE("add_per_sequence: a row per sequence added at every step, gradients", "[ops][gradcheck]") {
  Var<double> x(random_tensor(Shape{2, 3, 4}), true), y(random_tensor(Shape{2, 4}), true);
  const Tensor<double> z = add_per_sequence(x, y).value();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 3; ++t)
      for (int64_t d = 0; d < 4; ++d) CHECK(z.at(b, t, d) == x.value().at(b, t, d) + y.value().at(b, d));
  check_gradients([&] { return weighted_sum(add_per_sequence(x, y)); }, {x, y});
  REQUIRE_THROWS_WITH(add_per_sequence(x, Var<double>(random_tensor(Shape{3, 4}))), Contains("one row per sequence"));
}
