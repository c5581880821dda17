// ops/slice.hpp — a range of columns of a tensor, e.g. the mean and the
// log-variance halves of a VAE encoder's output.
//
// One encoder layer with 2D outputs followed by two slices is PyTorch's
// `m, s = h.chunk(2, dim=-1)`: the checkpoint keeps a single weight, and the
// two slices' gradients add up in that layer's gradient.
#pragma once

#include <cstdint>
#include <vector>

#include "../autograd.hpp"

namespace deepgen {

/// Columns [begin, end) of x seen as rows × last dimension: (..., C) → (..., end − begin).
template <typename T>
Var<T> slice_columns(const Var<T>& x, int64_t begin, int64_t end) {
  const Shape& sx = x.shape();
  DEEPGEN_CHECK(sx.rank() >= 1, "slice_columns: x must have a column dimension but is a scalar");
  const int64_t C = sx.cols();
  DEEPGEN_CHECK(0 <= begin && begin < end && end <= C, "slice_columns: columns [", begin, ", ", end,
                ") of ", sx, " are not a non-empty range within [0, ", C, ")");
  std::vector<int64_t> dims = sx.dims();
  dims.back() = end - begin;
  Tensor<T> out{Shape(dims)};
  out.matrix() = x.value().matrix().middleCols(begin, end - begin);
  return Var<T>::make(std::move(out), {x}, [begin, end](Node<T>& self) {
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dx) {
      dx.matrix().middleCols(begin, end - begin) += self.grad.matrix();
    });
  }, "slice_columns");
}

}  // namespace deepgen
