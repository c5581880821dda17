// nn/embedding.hpp — a lookup table of vectors, PyTorch's nn.Embedding.
#pragma once

#include "../ops/embedding.hpp"
#include "../random.hpp"
#include "module.hpp"

namespace deepgen::nn {

/// A lookup table of vectors, PyTorch's nn.Embedding: parameter "weight" (num_embeddings, dim).
template <typename T>
class Embedding : public Module<T> {
 public:
  /// weight (num_embeddings, dim) ~ N(0, 1) as in PyTorch.
  Embedding(int64_t num_embeddings, int64_t dim, Philox& rng) {
    DEEPGEN_CHECK(num_embeddings > 0 && dim > 0, "Embedding: sizes must be positive, got ", num_embeddings, "x", dim);
    Tensor<T> w(Shape{num_embeddings, dim});
    fill_normal(w, rng, T(0), T(1));
    m_weight = Var<T>(std::move(w), true);
  }

  /// indices (any shape, values in [0, num_embeddings)) → (indices…, dim).
  Var<T> operator()(const Tensor<int32_t>& indices) const { return embedding(m_weight, indices); }

  /// The table, (num_embeddings, dim).
  const Var<T>& weight() const { return m_weight; }

  void collect_parameters(const std::string& prefix, NamedParameters<T>& out) const override {
    this->add(out, prefix, "weight", m_weight);
  }

 private:
  Var<T> m_weight;
};

}  // namespace deepgen::nn
