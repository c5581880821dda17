// ops/reshape.hpp — the same elements under a new shape (a copy; Tensors own
// their storage). Backward reshapes the gradient back.
#pragma once

#include "../autograd.hpp"

namespace deepgen {

/// The same elements under `shape` (equal element count); backward reshapes the gradient back.
template <typename T>
Var<T> reshape(const Var<T>& x, const Shape& shape) {
  DEEPGEN_CHECK(shape.numel() == x.value().numel(), "reshape: cannot view ", x.shape(), " (", x.value().numel(),
                " elements) as ", shape, " (", shape.numel(), " elements)");
  return Var<T>::make(x.value().reshaped(shape), {x}, [](Node<T>& self) {
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dx) { dx.vec() += self.grad.vec(); });
  }, "reshape");
}

}  // namespace deepgen
