// optim/adam.hpp — Adam with PyTorch's defaults and update rule
// (detail/adam_rule.hpp: the per-element rule and its per-step constants,
// shared with kernels/adam.cu). The CPU step runs that rule over fixed-size
// chunks in parallel, vectorised by Eigen.
// State (m, v, t) is exposed by name so a checkpoint can resume exactly.
#pragma once

#include <cmath>
#include <map>
#include <string>

#include "../detail/adam_rule.hpp"
#include "../detail/math.hpp"
#include "../detail/parallel.hpp"
#include "../nn/module.hpp"

namespace deepgen::optim {

/// Adam's settings, PyTorch's defaults.
struct AdamOptions {
  double lr = 1e-3;  ///< learning rate
  double beta1 = 0.9;  ///< decay of the first-moment average
  double beta2 = 0.999;  ///< decay of the second-moment average
  double eps = 1e-8;  ///< added to the root of the second moment
  double weight_decay = 0.0;  ///< L2 penalty added to the gradient (as torch.optim.Adam, not AdamW)
};

/// Adam over named parameters with PyTorch's update rule; its state saves and loads by name.
template <typename T>
class Adam {
 public:
  /// Optimizes `params` (handles: updates reach the module); throws on invalid options.
  Adam(nn::NamedParameters<T> params, AdamOptions options = {}) : m_params(std::move(params)), m_opt(options) {
    DEEPGEN_CHECK(options.lr > 0 && options.eps > 0 && options.beta1 >= 0 && options.beta1 < 1 &&
                      options.beta2 >= 0 && options.beta2 < 1 && options.weight_decay >= 0,
                  "Adam: invalid options lr=", options.lr, " betas=(", options.beta1, ", ", options.beta2,
                  ") eps=", options.eps, " weight_decay=", options.weight_decay,
                  "; need lr > 0, eps > 0, 0 <= beta < 1, weight_decay >= 0");
    for (const auto& [name, p] : m_params) {
      m_m.emplace_back(p.value().shape());
      m_v.emplace_back(p.value().shape());
    }
  }

  /// Apply one update from the parameters' current gradients.
  void step() {
    ++m_step;
    const auto s = scalars();
    const T b1 = s.beta1, b2 = s.beta2, step_size = s.step_size, inv_bc2_sqrt = s.inv_bc2_sqrt, eps = s.eps,
            wd = s.weight_decay;
    for (size_t i = 0; i < m_params.size(); ++i) {
      Var<T>& p = m_params[i].second;
      T* value = p.value().data();
      const T* grad = p.grad().data();
      T* m = m_m[i].data();
      T* v = m_v[i].data();
      // One pass over memory: each chunk's four arrays are read once and
      // three written once, while Eigen vectorises (1)–(4) within the chunk.
      deepgen::detail::parallel_chunks(p.value().numel(), [&](int64_t b, int64_t e) {
        using A = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
        const int64_t n = e - b;
        A P(value + b, n), M(m + b, n), V(v + b, n);
        const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> G0(grad + b, n);
        const auto G = (G0 + wd * P).eval();
        M = b1 * M + (T(1) - b1) * G;
        V = b2 * V + (T(1) - b2) * G * G;
        P -= step_size * M / (V.sqrt() * inv_bc2_sqrt + eps);
      });
    }
  }

  /// The constants of the rule at the current step (after step(): the last one taken).
  deepgen::detail::AdamScalars<T> scalars() const {
    return deepgen::detail::adam_scalars<T>(m_opt.lr, m_opt.beta1, m_opt.beta2, m_opt.eps, m_opt.weight_decay,
                                            m_step);
  }

  /// Marks every parameter's gradient zero.
  void zero_grad() {
    for (auto& [name, p] : m_params) p.zero_grad();
  }

  /// The current learning rate.
  double lr() const { return m_opt.lr; }
  /// Sets the learning rate for the next steps (a schedule).
  void set_lr(double lr) { m_opt.lr = lr; }
  /// The number of steps taken.
  int64_t steps() const { return m_step; }

  /// The optimizer state as named tensors: `NAME.exp_avg`, `NAME.exp_avg_sq` for each parameter NAME,
  /// in the parameter's PyTorch layout (nn::file_layout), and `step`.
  std::map<std::string, Tensor<T>> state() const {
    std::map<std::string, Tensor<T>> out;
    for (size_t i = 0; i < m_params.size(); ++i) {
      const Var<T>& p = m_params[i].second;
      out[m_params[i].first + ".exp_avg"] = nn::file_layout(p, m_m[i]);
      out[m_params[i].first + ".exp_avg_sq"] = nn::file_layout(p, m_v[i]);
    }
    out["step"] = Tensor<T>::scalar(T(m_step));
    return out;
  }

  /// Restore state() output; every tensor must be present with the right shape
  /// and finite values (exp_avg_sq non-negative, step a count).
  void load_state(const std::map<std::string, Tensor<T>>& state, const std::string& source = "optimizer state") {
    auto fetch = [&](const std::string& key, const Shape& shape) -> const Tensor<T>& {
      auto it = state.find(key);
      DEEPGEN_CHECK(it != state.end(), source, ": '", key, "' is missing; it was saved for a different model");
      DEEPGEN_CHECK(it->second.shape() == shape, source, ": '", key, "' has shape ", it->second.shape(),
                    " but the parameter has shape ", shape);
      // Moments that are NaN, infinite or (for exp_avg_sq) negative would
      // turn the first resumed step into NaN weights.
      const bool squares = key.size() > 11 && key.compare(key.size() - 11, 11, ".exp_avg_sq") == 0;
      for (int64_t i = 0; i < it->second.numel(); ++i)
        DEEPGEN_CHECK(std::isfinite(it->second[i]) && !(squares && it->second[i] < 0), source, ": '", key,
                      "' holds ", it->second[i], " at element ", i, "; optimizer state must be finite",
                      squares ? " and non-negative" : "", " (the file is damaged): delete it and the model "
                      "file to restart, or resume from a backup");
      return it->second;
    };
    std::vector<Tensor<T>> m, v;
    for (const auto& [name, p] : m_params) {
      m.push_back(nn::storage_layout(p, fetch(name + ".exp_avg", nn::file_shape(p))));
      v.push_back(nn::storage_layout(p, fetch(name + ".exp_avg_sq", nn::file_shape(p))));
    }
    const T step = fetch("step", Shape{})[0];
    // Bounded so the conversion to int64 below is defined (2^53: every
    // integer up to it is exact in a double).
    DEEPGEN_CHECK(step >= 0 && step == std::floor(step) && double(step) <= 9007199254740992.0, source,
                  ": 'step' is ", step, ", not a count");
    m_m = std::move(m);
    m_v = std::move(v);
    m_step = static_cast<int64_t>(step);
  }

 private:
  nn::NamedParameters<T> m_params;
  AdamOptions m_opt;
  std::vector<Tensor<T>> m_m, m_v;
  int64_t m_step = 0;
};

}  // namespace deepgen::optim
