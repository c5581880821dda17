// ops/embedding.hpp — gathers that replace a GEMM with a one-hot matrix.
//
// A one-hot input e_k times a weight matrix is just one row (or column) of
// that matrix. For the PixelRNN's 167-colour input, gather_columns reads
// column k of weight_ih (4H, K) instead of multiplying by a 167-wide one-hot
// vector: 4H loads instead of 4H·K multiply-adds. Backward is the matching
// scatter-add: rows that share an index add up.
#pragma once

#include <cstdint>

#include "../autograd.hpp"
#include "../config.hpp"  // NO_INPUT

namespace deepgen {


namespace detail {
inline void check_indices(const Tensor<int32_t>& idx, int64_t limit, bool allow_no_input, const char* op,
                          const Shape& weight_shape) {
  for (int64_t n = 0; n < idx.numel(); ++n) {
    const int32_t k = idx[n];
    if (allow_no_input && k == NO_INPUT) continue;
    DEEPGEN_CHECK(k >= 0 && k < limit, op, ": index ", k, " at position ", n, " is out of range [0, ", limit,
                  ") for weight ", weight_shape,
                  allow_no_input ? " (-1 means no input)" : "", "; check the data against the vocabulary/palette size");
  }
}
inline Shape append_dim(const Shape& s, int64_t d) {
  std::vector<int64_t> dims = s.dims();
  dims.push_back(d);
  return Shape(dims);
}
}  // namespace detail

/// Row gather: weight (V, D), indices of any shape (rank ≤ 3) → (indices..., D).
template <typename T>
Var<T> embedding(const Var<T>& weight, const Tensor<int32_t>& indices) {
  const Shape& sw = weight.shape();
  DEEPGEN_CHECK(sw.rank() == 2, "embedding: weight must be (num_embeddings, dim) but has shape ", sw);
  detail::check_indices(indices, sw[0], false, "embedding", sw);
  const int64_t D = sw[1];
  Tensor<T> out(detail::append_dim(indices.shape(), D));
  const auto W = weight.value().matrix();
  auto Y = out.matrix(indices.numel(), D);
  for (int64_t n = 0; n < indices.numel(); ++n) Y.row(n) = W.row(indices[n]);
  return Var<T>::make(std::move(out), {weight}, [indices, D](Node<T>& self) {
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dW) {
      auto G = dW.matrix();
      const auto dY = self.grad.matrix(indices.numel(), D);
      for (int64_t n = 0; n < indices.numel(); ++n) G.row(indices[n]) += dY.row(n);
    });
  }, "embedding");
}

/// Column gather: weight (R, I), indices of any shape (rank ≤ 3) → (indices..., R);
/// equal to one_hot(indices) · weightᵀ. NO_INPUT gives a zero row.
template <typename T>
Var<T> gather_columns(const Var<T>& weight, const Tensor<int32_t>& indices) {
  const Shape& sw = weight.shape();
  DEEPGEN_CHECK(sw.rank() == 2, "gather_columns: weight must be (rows, inputs) but has shape ", sw);
  detail::check_indices(indices, sw[1], true, "gather_columns", sw);
  const int64_t R = sw[0];
  Tensor<T> out(detail::append_dim(indices.shape(), R));
  // Gather from the transpose so each output row is one contiguous copy.
  const MatrixRM<T> Wt = weight.value().matrix().transpose();
  auto Y = out.matrix(indices.numel(), R);
  for (int64_t n = 0; n < indices.numel(); ++n)
    if (indices[n] != NO_INPUT) Y.row(n) = Wt.row(indices[n]);
  return Var<T>::make(std::move(out), {weight}, [indices, R](Node<T>& self) {
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dW) {
      const int64_t I = dW.dim(1);
      MatrixRM<T> Gt = MatrixRM<T>::Zero(I, R);
      const auto dY = self.grad.matrix(indices.numel(), R);
      for (int64_t n = 0; n < indices.numel(); ++n)
        if (indices[n] != NO_INPUT) Gt.row(indices[n]) += dY.row(n);
      dW.matrix() += Gt.transpose();
    });
  }, "gather_columns");
}

}  // namespace deepgen
