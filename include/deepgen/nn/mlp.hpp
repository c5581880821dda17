// nn/mlp.hpp — a stack of Linear layers with an activation between them.
//
// Parameters are named like PyTorch's nn.Sequential(Linear, Act, Linear, …):
// the Linear layers sit at positions 0, 2, 4, … ("0.weight", "2.weight"), so
// an MLP saved from PyTorch loads by name.
#pragma once

#include <vector>

#include "../ops/elementwise.hpp"
#include "linear.hpp"

namespace deepgen::nn {

/// The nonlinearity between an MLP's layers.
enum class Activation { none, relu, tanh, sigmoid };

/// `a` applied to x (x itself for Activation::none).
template <typename T>
Var<T> activate(const Var<T>& x, Activation a) {
  switch (a) {
    case Activation::relu: return relu(x);
    case Activation::tanh: return deepgen::tanh(x);
    case Activation::sigmoid: return sigmoid(x);
    case Activation::none: break;
  }
  return x;
}

/// Linear layers with an activation between them, named like PyTorch's nn.Sequential ("0.weight",
/// "2.weight", …).
template <typename T>
class MLP : public Module<T> {
 public:
  /// sizes = {in, hidden…, out}; `activation` after every layer but the last
  /// (and after the last too if `activate_last`).
  MLP(const std::vector<int64_t>& sizes, Activation activation, Philox& rng, bool activate_last = false)
      : m_activation(activation), m_activate_last(activate_last) {
    DEEPGEN_CHECK(sizes.size() >= 2, "MLP: need at least {in, out} sizes, got ", sizes.size(), " size(s)");
    for (size_t i = 0; i + 1 < sizes.size(); ++i) m_layers.emplace_back(sizes[i], sizes[i + 1], rng);
  }

  /// x (..., in) → (..., out) through every layer.
  Var<T> operator()(Var<T> x) const {
    for (size_t i = 0; i < m_layers.size(); ++i) {
      x = m_layers[i](x);
      if (i + 1 < m_layers.size() || m_activate_last) x = activate(x, m_activation);
    }
    return x;
  }

  /// The Linear layers, input first.
  const std::vector<Linear<T>>& layers() const { return m_layers; }

  void collect_parameters(const std::string& prefix, NamedParameters<T>& out) const override {
    for (size_t i = 0; i < m_layers.size(); ++i)
      m_layers[i].collect_parameters(prefix + std::to_string(2 * i) + ".", out);
  }

 private:
  std::vector<Linear<T>> m_layers;
  Activation m_activation;
  bool m_activate_last;
};

}  // namespace deepgen::nn
