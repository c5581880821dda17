// ops/reduce.hpp — sum and mean of all elements (scalar results).
#pragma once

#include "../autograd.hpp"

namespace deepgen {

/// Σ of all elements → a scalar.
template <typename T>
Var<T> sum(const Var<T>& x) {
  Tensor<T> out = Tensor<T>::scalar(x.value().vec().sum());
  return Var<T>::make(std::move(out), {x}, [](Node<T>& self) {
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dx) { dx.vec().array() += self.grad[0]; });
  }, "sum");
}

/// Mean of all elements → a scalar.
template <typename T>
Var<T> mean(const Var<T>& x) {
  const int64_t n = x.value().numel();
  DEEPGEN_CHECK(n > 0, "mean: the input ", x.shape(), " has no elements; the mean is undefined");
  Tensor<T> out = Tensor<T>::scalar(x.value().vec().sum() / T(n));
  return Var<T>::make(std::move(out), {x}, [n](Node<T>& self) {
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dx) { dx.vec().array() += self.grad[0] / T(n); });
  }, "mean");
}

}  // namespace deepgen
