// ops/slice.hpp — parts of a tensor: a range of columns (the mean and the
// log-variance halves of a VAE encoder's output), and one time step per
// sequence (an encoder's state after each sentence's last word).
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

/// Row b of the result is x[b, steps[b], :]: x (B, T, D), steps B entries in
/// [0, T) → (B, D). For sequences padded at the end, steps[b] = length − 1
/// picks each one's state after its last real element.
template <typename T>
Var<T> select_steps(const Var<T>& x, const std::vector<int64_t>& steps) {
  const Shape& sx = x.shape();
  DEEPGEN_CHECK(sx.rank() == 3, "select_steps: x must be (B, T, D) but has shape ", sx);
  const int64_t B = sx[0], T_ = sx[1], D = sx[2];
  DEEPGEN_CHECK(int64_t(steps.size()) == B, "select_steps: ", steps.size(), " steps given for ", B,
                " sequences of ", sx, "; give one per sequence");
  for (int64_t b = 0; b < B; ++b)
    DEEPGEN_CHECK(steps[size_t(b)] >= 0 && steps[size_t(b)] < T_, "select_steps: step ", steps[size_t(b)],
                  " of sequence ", b, " is outside [0, ", T_, ") for x ", sx);
  Tensor<T> out = Tensor<T>::uninitialized(Shape{B, D});
  for (int64_t b = 0; b < B; ++b)
    std::copy_n(x.value().data() + (b * T_ + steps[size_t(b)]) * D, D, out.data() + b * D);
  return Var<T>::make(std::move(out), {x}, [steps, T_, D](Node<T>& self) {
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dx) {
      for (size_t b = 0; b < steps.size(); ++b)
        for (int64_t d = 0; d < D; ++d) dx[(int64_t(b) * T_ + steps[b]) * D + d] += self.grad[int64_t(b) * D + d];
    });
  }, "select_steps");
}

}  // namespace deepgen
