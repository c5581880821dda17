// The gradient check itself: it must fail on the bugs it exists to catch,
// including an all-zero gradient matched against an all-zero numeric one.
#include <deepgen/ops/elementwise.hpp>
#include <deepgen/ops/reduce.hpp>

#include "gradcheck.hpp"

using namespace deepgen;
using namespace deepgen::test;
using Catch::Contains;
using V = Var<double>;

namespace {
// A planted broken op: its forward forgot x (all zeros) and its backward
// writes nothing. Every gradient through it is zero, analytic and numeric.
V forgetful(const V& x) {
  return V::make(Tensor<double>(x.shape()), {x}, [](Node<double>&) {}, "forgetful");
}
// A planted broken op: forward x², backward writes nothing.
V square_without_backward(const V& x) {
  return V::make(mul(x, x).value(), {x}, [](Node<double>&) {}, "square_without_backward");
}
}  // namespace

TEST_CASE("gradcheck: an all-zero gradient against an all-zero numeric one fails", "[gradcheck]") {
  V x(random_tensor({3, 2}), true);
  const auto loss = [&] { return weighted_sum(forgetful(x)); };
  // The hole this closes: by relative error alone the planted op passes.
  backward(loss());
  CHECK(relative_error(x.grad(), Tensor<double>(x.shape())) == 0.0);
  const GradCheckResult r = gradient_check(loss, {x});
  CHECK_FALSE(r.passed);
  CHECK_THAT(r.failure, Contains("input 0") && Contains("all zero"));
}

TEST_CASE("gradcheck: a backward that writes nothing fails against the numeric gradient", "[gradcheck]") {
  V x(random_tensor({4}), true);
  const GradCheckResult r = gradient_check([&] { return weighted_sum(square_without_backward(x)); }, {x});
  CHECK_FALSE(r.passed);
  CHECK_THAT(r.failure, Contains("all zero"));
}

TEST_CASE("gradcheck: a zero gradient passes only where the caller says why", "[gradcheck]") {
  V x(random_tensor({2, 3}), true), w(random_tensor({2, 3}), true);
  // The loss reaches w; x only through an op that is constant in it.
  const auto loss = [&] { return add(weighted_sum(w), sum(forgetful(x))); };
  CHECK_FALSE(gradient_check(loss, {w, x}).passed);
  CHECK_FALSE(gradient_check(loss, {w, x}, 1e-6, {{1}, ""}).passed);  // no reason given
  const GradCheckResult r = gradient_check(loss, {w, x}, 1e-6, {{1}, "forgetful is constant in x"});
  INFO(r.failure);
  CHECK(r.passed);
  // Declared zero but not zero: fails, naming the reason.
  const GradCheckResult not_zero = gradient_check(loss, {w, x}, 1e-6, {{0}, "wrongly declared"});
  CHECK_FALSE(not_zero.passed);
  CHECK_THAT(not_zero.failure, Contains("wrongly declared"));
}

TEST_CASE("gradcheck: a correct op passes and check_gradients asserts it", "[gradcheck]") {
  V x(random_tensor({3}), true);
  check_gradients([&] { return weighted_sum(mul(x, x)); }, {x});
}
