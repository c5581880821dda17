// optim/sgd.hpp — SGD with momentum, PyTorch's rule:
//   g ← g + λ·p;  b ← μ·b + (1 − dampening)·g  (b = g on the first step);  p ← p − lr·b
#pragma once

#include "../nn/module.hpp"

namespace deepgen::optim {

/// SGD's settings, PyTorch's defaults (lr aside, which PyTorch requires).
struct SGDOptions {
  double lr = 1e-2;  ///< learning rate
  double momentum = 0.0;  ///< μ; 0 is plain SGD
  double dampening = 0.0;  ///< scales the new gradient in the momentum buffer by 1 − dampening
  double weight_decay = 0.0;  ///< λ, L2 penalty added to the gradient
};

/// SGD with momentum over named parameters, PyTorch's rule.
template <typename T>
class SGD {
 public:
  /// Optimizes `params` (handles: updates reach the module); throws on invalid options.
  SGD(nn::NamedParameters<T> params, SGDOptions options = {}) : m_params(std::move(params)), m_opt(options) {
    DEEPGEN_CHECK(options.lr > 0 && options.momentum >= 0 && options.weight_decay >= 0, "SGD: invalid options lr=",
                  options.lr, " momentum=", options.momentum, " weight_decay=", options.weight_decay,
                  "; need lr > 0, momentum >= 0, weight_decay >= 0");
    for (const auto& [name, p] : m_params) m_buf.emplace_back(p.value().shape());
  }

  /// Apply one update from the parameters' current gradients.
  void step() {
    const T lr = T(m_opt.lr), mu = T(m_opt.momentum), damp = T(m_opt.dampening), wd = T(m_opt.weight_decay);
    for (size_t i = 0; i < m_params.size(); ++i) {
      Tensor<T>& p = m_params[i].second.value();
      const Tensor<T>& grad = m_params[i].second.grad();
      for (int64_t k = 0; k < p.numel(); ++k) {
        T g = grad[k] + wd * p[k];
        if (mu != T(0)) {
          m_buf[i][k] = m_first ? g : mu * m_buf[i][k] + (T(1) - damp) * g;
          g = m_buf[i][k];
        }
        p[k] -= lr * g;
      }
    }
    m_first = false;
  }

  /// Marks every parameter's gradient zero.
  void zero_grad() {
    for (auto& [name, p] : m_params) p.zero_grad();
  }

 private:
  nn::NamedParameters<T> m_params;
  SGDOptions m_opt;
  std::vector<Tensor<T>> m_buf;
  bool m_first = true;
};

}  // namespace deepgen::optim
