// support/gradcheck.hpp — finite-difference gradient checks in double.
//
// Central differences with h = 1e-6·max(1, |x|) against the gradients that
// backward() accumulates, compared per tensor by ‖analytic − numeric‖ /
// max(‖analytic‖, ‖numeric‖, tiny). Written so NaN fails: !(err <= tol).
//
// An all-zero gradient fails too: zero against zero has no relative error,
// so a backward that writes nothing, checked on a loss that does not reach
// the input, would pass. Where zero is the right answer for an input, the
// caller says so and why (ZeroGradient), and the check then requires both
// gradients to be exactly zero.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <deepgen/autograd.hpp>
#include <deepgen/ops/elementwise.hpp>
#include <deepgen/ops/reduce.hpp>

namespace deepgen::test {

/// A generator seeded from Catch2's --rng-seed, so a failure can be replayed.
inline std::mt19937_64& rng() {
  static std::mt19937_64 gen(Catch::rngSeed());
  return gen;
}

/// Fresh values in [lo, hi), never all zero.
template <typename T = double>
Tensor<T> random_tensor(const Shape& shape, double lo = -1.0, double hi = 1.0) {
  std::uniform_real_distribution<double> u(lo, hi);
  Tensor<T> t(shape);
  for (auto& v : t) v = T(u(rng()));
  return t;
}

inline Tensor<int32_t> random_indices(const Shape& shape, int32_t lo, int32_t hi_exclusive) {
  std::uniform_int_distribution<int32_t> u(lo, hi_exclusive - 1);
  Tensor<int32_t> t(shape);
  for (auto& v : t) v = u(rng());
  return t;
}

/// sum(x ⊙ R) for a fixed random R: turns any output into a scalar loss whose
/// gradient is not all ones (which would hide transposition bugs).
inline Var<double> weighted_sum(const Var<double>& x, uint64_t salt = 0) {
  std::mt19937_64 gen(Catch::rngSeed() * 7919 + salt);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Tensor<double> r(x.shape());
  for (auto& v : r) v = u(gen);
  return sum(mul(x, Var<double>(r)));
}

/// Relative error of two tensors by norms.
inline double relative_error(const Tensor<double>& a, const Tensor<double>& b) {
  double diff = 0, na = 0, nb = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return std::sqrt(diff) / std::max({std::sqrt(na), std::sqrt(nb), 1e-300});
}

/// Inputs whose gradient must be all zero, and why (say it: a zero gradient
/// is otherwise a failure).
struct ZeroGradient {
  std::vector<size_t> inputs;  ///< indices into check_gradients' inputs
  std::string why;             ///< the reason zero is right for them
};

/// What gradient_check found: `passed`, or the first failure in words.
struct GradCheckResult {
  bool passed = true;
  std::string failure;
};

/// d loss / d input for every input against central differences, without
/// Catch2 assertions (so a test can check that a planted bug fails).
/// `loss` rebuilds the graph from the inputs' current values each call.
inline GradCheckResult gradient_check(const std::function<Var<double>()>& loss, std::vector<Var<double>> inputs,
                                      double tol = 1e-6, const ZeroGradient& zero = {}) {
  const auto fail = [](std::string why) { return GradCheckResult{false, std::move(why)}; };
  if (!zero.inputs.empty() && zero.why.empty()) return fail("ZeroGradient without a reason");
  for (auto& x : inputs) x.zero_grad();
  backward(loss());
  for (size_t k = 0; k < inputs.size(); ++k) {
    Var<double>& x = inputs[k];
    const Tensor<double> analytic = x.grad();
    Tensor<double> numeric(x.shape());
    for (int64_t i = 0; i < x.value().numel(); ++i) {
      const double x0 = x.value()[i];
      const double h = 1e-6 * std::max(1.0, std::abs(x0));
      double fp, fm;
      {
        NoGradGuard ng;
        x.value()[i] = x0 + h;
        fp = loss().value()[0];
        x.value()[i] = x0 - h;
        fm = loss().value()[0];
      }
      x.value()[i] = x0;
      numeric[i] = (fp - fm) / (2 * h);
    }
    std::ostringstream where;
    where << "input " << k << " of shape " << x.shape() << ": ";
    const bool all_zero = std::all_of(analytic.begin(), analytic.end(), [](double g) { return g == 0.0; });
    if (std::find(zero.inputs.begin(), zero.inputs.end(), k) != zero.inputs.end()) {
      const bool numeric_zero = std::all_of(numeric.begin(), numeric.end(), [](double g) { return g == 0.0; });
      if (!all_zero || !numeric_zero)
        return fail(where.str() + "a gradient was expected to be all zero (" + zero.why + ") and is not");
      continue;
    }
    if (all_zero)
      return fail(where.str() + "the analytic gradient is all zero (pass ZeroGradient{{" + std::to_string(k) +
                  "}, \"why\"} if that is right)");
    const double err = relative_error(analytic, numeric);
    if (!(err <= tol)) {
      where << "relative error " << err << " > " << tol;
      return fail(where.str());
    }
  }
  return {};
}

/// gradient_check as a Catch2 assertion: REQUIREs that it passed.
inline void check_gradients(const std::function<Var<double>()>& loss, std::vector<Var<double>> inputs,
                            double tol = 1e-6, const ZeroGradient& zero = {}) {
  const GradCheckResult r = gradient_check(loss, std::move(inputs), tol, zero);
  INFO(r.failure);
  REQUIRE(r.passed);
}

}  // namespace deepgen::test
