// nn/linear.hpp — y = x·Wᵀ + b, PyTorch's nn.Linear (names, shapes, init).
#pragma once

#include <cmath>

#include "../ops/matmul.hpp"
#include "../random.hpp"
#include "module.hpp"

namespace deepgen::nn {

/// y = x·Wᵀ + b, PyTorch's nn.Linear: parameters "weight" (out, in) and "bias" (out).
template <typename T>
class Linear : public Module<T> {
 public:
  /// weight (out, in) and bias (out), both U(−1/√in, 1/√in) as in PyTorch.
  Linear(int64_t in_features, int64_t out_features, Philox& rng, bool bias = true) {
    DEEPGEN_CHECK(in_features > 0 && out_features > 0, "Linear: sizes must be positive, got in=", in_features,
                  " out=", out_features);
    const T bound = T(1) / std::sqrt(T(in_features));
    Tensor<T> w(Shape{out_features, in_features});
    fill_uniform(w, rng, -bound, bound);
    m_weight = Var<T>(std::move(w), true);
    if (bias) {
      Tensor<T> b(Shape{out_features});
      fill_uniform(b, rng, -bound, bound);
      m_bias = Var<T>(std::move(b), true);
    }
  }

  /// x (..., in) → (..., out).
  Var<T> operator()(const Var<T>& x) const { return linear(x, m_weight, m_bias); }

  /// The weight W, (out_features, in_features).
  const Var<T>& weight() const { return m_weight; }
  /// The bias b, (out_features); undefined when built without bias.
  const Var<T>& bias() const { return m_bias; }
  /// The input width.
  int64_t in_features() const { return m_weight.shape()[1]; }
  /// The output width.
  int64_t out_features() const { return m_weight.shape()[0]; }

  void collect_parameters(const std::string& prefix, NamedParameters<T>& out) const override {
    this->add(out, prefix, "weight", m_weight);
    if (m_bias.defined()) this->add(out, prefix, "bias", m_bias);
  }

 private:
  Var<T> m_weight, m_bias;
};

}  // namespace deepgen::nn
