// nn/onehot_linear.hpp — PyTorch's nn.Linear(P·K, H) on a flattened one-hot
// image, read as a gather (ops/onehot_linear.hpp).
//
// The weight keeps PyTorch's name and, in checkpoints and optimizer state,
// its shape (H, P·K); in memory it is the transpose (P·K, H)
// (Var::stored_transposed), so that a pixel's colour selects one contiguous
// row. The initial values are nn.Linear's, drawn in its order, so a seed
// gives the same model as an nn::Linear of the same sizes would.
#pragma once

#include <cmath>

#include "../ops/onehot_linear.hpp"
#include "../random.hpp"
#include "module.hpp"

namespace deepgen::nn {

/// y = onehot(x)·Wᵀ + b for images x (B, P) of colours in [0, K): parameters
/// "weight" (H, P·K) in files, stored as Wᵀ (P·K, H), and "bias" (H).
template <typename T>
class OneHotLinear : public Module<T> {
 public:
  /// P positions of K classes each → H outputs; weight and bias U(−1/√(P·K), 1/√(P·K)) as in PyTorch.
  OneHotLinear(int64_t positions, int64_t classes, int64_t out_features, Philox& rng) : m_classes(classes) {
    DEEPGEN_CHECK(positions > 0 && classes > 0 && out_features > 0, "OneHotLinear: sizes must be positive, got ",
                  positions, " positions, ", classes, " classes, ", out_features, " outputs");
    const int64_t in = positions * classes;
    const T bound = T(1) / std::sqrt(T(in));
    Tensor<T> w(Shape{out_features, in});  // drawn in PyTorch's layout, then stored transposed
    fill_uniform(w, rng, -bound, bound);
    Tensor<T> b(Shape{out_features});
    fill_uniform(b, rng, -bound, bound);
    m_weight = Var<T>(detail::transposed(w), true);
    m_weight.node().stored_transposed = true;
    m_bias = Var<T>(std::move(b), true);
  }

  /// images (B, P) → (B, H).
  Var<T> operator()(const Tensor<int32_t>& images) const { return onehot_linear(images, m_classes, m_weight, m_bias); }

  /// Wᵀ, (P·K, H): the weight as stored (nn::file_layout gives PyTorch's (H, P·K)).
  const Var<T>& weight_t() const { return m_weight; }
  /// The bias b, (H).
  const Var<T>& bias() const { return m_bias; }
  /// K, the classes of each position.
  int64_t classes() const { return m_classes; }
  /// H, the output width.
  int64_t out_features() const { return m_weight.shape()[1]; }

  void collect_parameters(const std::string& prefix, NamedParameters<T>& out) const override {
    this->add(out, prefix, "weight", m_weight);
    this->add(out, prefix, "bias", m_bias);
  }

 private:
  int64_t m_classes;
  Var<T> m_weight, m_bias;
};

}  // namespace deepgen::nn
