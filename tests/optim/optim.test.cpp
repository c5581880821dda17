// Optimizers against update sequences computed by hand from the published
// rules (PyTorch's Adam and SGD), clipping and the non-finite check.
#include <deepgen/optim/adam.hpp>
#include <deepgen/optim/clip.hpp>
#include <deepgen/optim/sgd.hpp>

#include "support/gradcheck.hpp"

using namespace deepgen;
using Catch::Contains;
using V = Var<double>;

namespace {
nn::NamedParameters<double> one_param(V& p) { return {{"p", p}}; }
}  // namespace

TEST_CASE("optim::Adam: hand-computed updates", "[optim]") {
  V p(Tensor<double>({2}, {1.0, -2.0}), true);
  optim::Adam<double> adam(one_param(p), {0.1, 0.9, 0.999, 1e-8, 0.0});
  // Step 1: m̂ = g, v̂ = g², so p moves by lr·g/(|g| + ε) ≈ lr·sign(g).
  p.grad() = Tensor<double>({2}, {0.5, -3.0});
  adam.step();
  CHECK(p.value()[0] == Approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-8)).epsilon(1e-15));
  CHECK(p.value()[1] == Approx(-2.0 + 0.1 * 3.0 / (3.0 + 1e-8)).epsilon(1e-15));
  // Step 2 with g = 0.25 on element 0, by hand:
  //   m = 0.9·0.05 + 0.1·0.25 = 0.07;   v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225
  //   m̂ = 0.07/0.19;   v̂ = 0.00031225/0.001999;   p −= 0.1·m̂/(√v̂ + ε)
  p.grad() = Tensor<double>({2}, {0.25, 0.0});
  const double p1 = p.value()[0];
  adam.step();
  const double expected = p1 - 0.1 * (0.07 / 0.19) / (std::sqrt(0.00031225 / 0.001999) + 1e-8);
  CHECK(p.value()[0] == Approx(expected).epsilon(1e-13));
  CHECK(adam.steps() == 2);
}

TEST_CASE("optim::Adam: weight decay, state round trip, bad options", "[optim]") {
  V p(Tensor<double>({1}, 2.0), true);
  optim::Adam<double> adam(one_param(p), {0.01, 0.9, 0.999, 1e-8, 0.5});
  p.grad() = Tensor<double>({1}, 0.0);
  adam.step();  // g = 0 + 0.5·2 = 1 → p = 2 − 0.01
  CHECK(p.value()[0] == Approx(2.0 - 0.01 / (1 + 1e-8)).epsilon(1e-15));
  // A second optimizer restored from the state continues identically.
  V q(p.value(), true);
  optim::Adam<double> resumed(one_param(q), {0.01, 0.9, 0.999, 1e-8, 0.5});
  resumed.load_state(adam.state());
  p.grad() = Tensor<double>({1}, 0.3);
  q.grad() = Tensor<double>({1}, 0.3);
  adam.step();
  resumed.step();
  CHECK(q.value()[0] == p.value()[0]);
  auto bad = adam.state();
  bad.erase("p.exp_avg");
  REQUIRE_THROWS_WITH(resumed.load_state(bad), Contains("'p.exp_avg' is missing"));
  REQUIRE_THROWS_WITH(optim::Adam<double>(one_param(p), {-1.0}), Contains("lr=-1"));
}

TEST_CASE("optim::Adam: load_state refuses non-finite moments, negative squares and absurd steps",
          "[optim][errors]") {
  V p(Tensor<double>({2}, {1.0, 2.0}), true);
  optim::Adam<double> adam(one_param(p), {0.01});
  p.grad() = Tensor<double>({2}, {0.5, 0.5});
  adam.step();
  const auto good = adam.state();
  V q(p.value(), true);
  optim::Adam<double> resumed(one_param(q), {0.01});
  auto with = [&](const std::string& key, int64_t i, double v) {
    auto s = good;
    s[key][i] = v;
    return s;
  };
  REQUIRE_THROWS_WITH(resumed.load_state(with("p.exp_avg", 1, std::nan("")), "m.optim.safetensors"),
                      Contains("m.optim.safetensors") && Contains("'p.exp_avg'") && Contains("at element 1") &&
                          Contains("must be finite"));
  REQUIRE_THROWS_WITH(resumed.load_state(with("p.exp_avg_sq", 0, HUGE_VAL)), Contains("'p.exp_avg_sq'"));
  REQUIRE_THROWS_WITH(resumed.load_state(with("p.exp_avg_sq", 0, -1.0)),
                      Contains("'p.exp_avg_sq'") && Contains("non-negative"));
  REQUIRE_THROWS_WITH(resumed.load_state(with("step", 0, HUGE_VAL)), Contains("'step'"));
  REQUIRE_THROWS_WITH(resumed.load_state(with("step", 0, 1e30)), Contains("'step' is 1e+30, not a count"));
  CHECK(resumed.steps() == 0);  // nothing was taken from a refused state
  resumed.load_state(good);
  CHECK(resumed.steps() == 1);
}

TEST_CASE("optim::Adam: the vectorised step is detail::adam_update, the rule the GPU kernel runs", "[optim]") {
  // Three steps with weight decay over a tensor larger than one parallel
  // chunk, against the per-element DEEPGEN_HD rule that kernels/adam.cu calls.
  const int64_t n = 3 * detail::PARALLEL_CHUNK + 5;
  V p(test::random_tensor(Shape{n}), true);
  optim::Adam<double> adam(one_param(p), {0.01, 0.8, 0.99, 1e-6, 0.1});
  std::vector<double> rp(p.value().begin(), p.value().end()), rm(size_t(n), 0.0), rv(size_t(n), 0.0);
  for (int step = 1; step <= 3; ++step) {
    const Tensor<double> g = test::random_tensor(Shape{n});
    p.grad() = g;
    adam.step();
    const auto s = adam.scalars();
    for (int64_t i = 0; i < n; ++i) detail::adam_update(&rp[size_t(i)], g[i], &rm[size_t(i)], &rv[size_t(i)], s);
  }
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(p.value()[i] - rp[size_t(i)]));
  // Rounding only: clang contracts the scalar rule's multiply-adds into FMAs
  // where Eigen's packet arithmetic stays unfused (1.8e-14 measured with
  // clang 16; below 1e-14 with gcc 12). A wrong rule differs by ~lr.
  INFO("worst difference " << worst);
  CHECK(worst < 1e-12);
}

TEST_CASE("optim::SGD: momentum by hand", "[optim]") {
  V p(Tensor<double>({1}, 1.0), true);
  optim::SGD<double> sgd(one_param(p), {0.1, 0.9});
  p.grad() = Tensor<double>({1}, 1.0);
  sgd.step();  // b = 1, p = 0.9
  CHECK(p.value()[0] == Approx(0.9).epsilon(1e-15));
  p.grad() = Tensor<double>({1}, 0.5);
  sgd.step();  // b = 0.9 + 0.5 = 1.4, p = 0.9 − 0.14
  CHECK(p.value()[0] == Approx(0.76).epsilon(1e-15));
}

TEST_CASE("optim: gradient clipping and non-finite gradients", "[optim][errors]") {
  V a(Tensor<double>({2}, {0, 0}), true), b(Tensor<double>({1}, 0), true);
  nn::NamedParameters<double> params{{"a", a}, {"b", b}};
  a.grad() = Tensor<double>({2}, {3, 0});
  b.grad() = Tensor<double>({1}, 4);
  CHECK(optim::clip_grad_norm(params, 1.0) == Approx(5.0));
  CHECK(optim::global_grad_norm(params) == Approx(1.0).epsilon(1e-6));
  CHECK(a.grad()[0] == Approx(0.6).epsilon(1e-6));
  b.grad()[0] = std::numeric_limits<double>::quiet_NaN();
  REQUIRE_THROWS_WITH(optim::global_grad_norm(params), Contains("non-finite gradient in 'b'"));
}
