// The graph machinery: accumulation when a value is used twice, leaf
// accumulation across backward calls, zero_grad, no-grad scope, bad use.
#include <deepgen/ops/elementwise.hpp>
#include <deepgen/ops/matmul.hpp>
#include <deepgen/ops/reduce.hpp>

#include <cmath>

#include "support/gradcheck.hpp"

using namespace deepgen;
using Catch::Contains;
using V = Var<double>;

TEST_CASE("autograd: a value used twice accumulates both contributions", "[autograd]") {
  V x(Tensor<double>({2}, {3, -2}), true);
  // loss = Σ (x⊙x + x): d/dx = 2x + 1.
  backward(sum(add(mul(x, x), x)));
  CHECK(x.grad()[0] == 7);
  CHECK(x.grad()[1] == -3);
}

TEST_CASE("autograd: diamond graph in topological order", "[autograd]") {
  V x(Tensor<double>({1}, 2), true);
  V a = scale(x, 3.0);     // 3x
  V b = mul(a, a);         // 9x²
  V c = add(b, a);         // 9x² + 3x
  backward(sum(mul(c, a)));  // (9x² + 3x)·3x = 27x³ + 9x² → 81x² + 18x = 360 at x = 2
  CHECK(x.grad()[0] == Approx(360).epsilon(1e-14));
}

TEST_CASE("autograd: leaves accumulate across backward calls until zero_grad", "[autograd]") {
  V x(Tensor<double>({1}, 1.5), true);
  backward(sum(mul(x, x)));
  backward(sum(mul(x, x)));
  CHECK(x.grad()[0] == 6);
  x.zero_grad();
  CHECK(x.grad()[0] == 0);
}

TEST_CASE("autograd: lazy zeros — assign after zero_grad, add otherwise, through GEMM ops", "[autograd]") {
  // linear and matmul write a zeroed gradient by assignment (no memset) and
  // add to a live one; zero_grad only marks. Poison the buffers to prove the
  // stale contents never leak into a result.
  V x(Tensor<double>({2, 3}, {1, 2, 3, -1, 0.5, 2}), true);
  V w(Tensor<double>({2, 3}, {0.5, -1, 2, 1, 1, -0.5}), true);
  V m(Tensor<double>({3, 2}, {1, 0, 0, 1, 2, -1}), true);
  auto loss = [&] { return add(sum(linear(x, w)), sum(matmul(x, m))); };
  backward(loss());
  const Tensor<double> w_once = w.grad(), x_once = x.grad(), m_once = m.grad();
  backward(loss());  // accumulates: twice the gradient
  for (int64_t i = 0; i < 6; ++i) {
    CHECK(w.grad()[i] == 2 * w_once[i]);
    CHECK(x.grad()[i] == 2 * x_once[i]);
    CHECK(m.grad()[i] == 2 * m_once[i]);
  }
  for (V* v : {&x, &w, &m}) {
    v->grad().fill(std::nan(""));  // stale contents a lazy zero must never read
    v->zero_grad();
  }
  backward(loss());
  for (int64_t i = 0; i < 6; ++i) {
    CHECK(w.grad()[i] == w_once[i]);
    CHECK(x.grad()[i] == x_once[i]);
    CHECK(m.grad()[i] == m_once[i]);
  }
  // A zeroed leaf that no backward wrote reads as zeros, not as stale values.
  V unused(Tensor<double>({2}, {1, 1}), true);
  unused.grad().fill(std::nan(""));
  unused.zero_grad();
  CHECK(unused.grad()[0] == 0);
  CHECK(unused.grad()[1] == 0);
}

TEST_CASE("autograd: no-grad scope records nothing", "[autograd]") {
  V x(Tensor<double>({1}, 1), true);
  V y;
  {
    NoGradGuard guard;
    y = mul(x, x);
    CHECK_FALSE(grad_enabled());
  }
  CHECK(grad_enabled());
  CHECK_FALSE(y.requires_grad());
  REQUIRE_THROWS_WITH(backward(sum(y)), Contains("does not depend"));
}

TEST_CASE("autograd: constants get no gradient; bad use throws", "[autograd]") {
  V w(Tensor<double>({2, 2}, {1, 2, 3, 4}), true);
  V c(Tensor<double>({2, 2}, {1, 1, 1, 1}));
  backward(sum(matmul(c, w)));
  CHECK_FALSE(c.requires_grad());
  CHECK(w.grad().at(0, 0) == 2);
  REQUIRE_THROWS_WITH(backward(matmul(c, w)), Contains("scalar") && Contains("[2, 2]"));
  V undefined;
  REQUIRE_THROWS_WITH(undefined.value(), Contains("undefined"));
}

TEST_CASE("tensor: shapes, access and errors", "[tensor]") {
  Tensor<float> t(Shape{2, 3, 4});
  CHECK(t.numel() == 24);
  CHECK(t.matrix().rows() == 6);
  CHECK(t.matrix().cols() == 4);
  t.at(1, 2, 3) = 5.f;
  CHECK(t[23] == 5.f);
  CHECK(Tensor<float>::scalar(2.f).rank() == 0);
  REQUIRE_THROWS_WITH(t.at(2, 0, 0), Contains("index 2") && Contains("[2, 3, 4]"));
  REQUIRE_THROWS_WITH(t.at(0, 0), Contains("2 indices") && Contains("[2, 3, 4]"));
  REQUIRE_THROWS_WITH(t.reshape(Shape{5, 5}), Contains("[2, 3, 4]") && Contains("[5, 5]"));
  REQUIRE_THROWS_WITH(Shape({1, 2, 3, 4, 5}), Contains("rank 5"));
  REQUIRE_THROWS_WITH(Shape({2, -1}), Contains("-1"));
  REQUIRE_THROWS_WITH(Tensor<float>(Shape{2, 2}, std::vector<float>{1, 2, 3}), Contains("[2, 2]") && Contains("3 values"));
  REQUIRE_THROWS_WITH(check_shape(Shape{2, 3}, Shape{3, 2}, "weight"), Contains("weight") && Contains("[3, 2]") && Contains("[2, 3]"));
}
