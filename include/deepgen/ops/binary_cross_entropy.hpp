// ops/binary_cross_entropy.hpp — the GAN's losses and its discriminator's
// activation.
//
// binary_cross_entropy_with_logits(x, t) = mean over elements of
//   t·softplus(−x) + (1 − t)·softplus(x) = −t·log σ(x) − (1 − t)·log(1 − σ(x)),
// computed from the logits with softplus(x) = max(x, 0) + log1p(exp(−|x|)), so
// a confident discriminator (|x| in the hundreds) gives finite losses and
// gradients, which σ followed by a log would not. A target t below 1 is the
// one-sided label smoothing of Salimans et al. 2016. d/dx = (σ(x) − t) / n.
//
// leaky_relu(x, a) = x for x > 0, a·x otherwise: the discriminator's
// activation in DCGAN-style models, so units never stop passing gradient to
// the generator. Its derivative depends only on the sign of the output.
#pragma once

#include <cmath>

#include "../autograd.hpp"
#include "../detail/math.hpp"
#include "elementwise.hpp"

namespace deepgen {

namespace detail {
template <typename T>
T softplus_(T x) {
  return std::max(x, T(0)) + std::log1p(std::exp(-std::abs(x)));
}
}  // namespace detail

/// The mean binary cross-entropy of logits `x` against the constant target
/// `target` ∈ [0, 1] for every element (a scalar).
template <typename T>
Var<T> binary_cross_entropy_with_logits(const Var<T>& x, double target) {
  DEEPGEN_CHECK(target >= 0 && target <= 1, "binary_cross_entropy_with_logits: target ", target,
                " must be in [0, 1]");
  const int64_t n = x.value().numel();
  DEEPGEN_CHECK(n > 0, "binary_cross_entropy_with_logits: the logits ", x.shape(), " are empty");
  const T t = T(target);
  T total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T v = x.value()[i];
    total += t * detail::softplus_(-v) + (T(1) - t) * detail::softplus_(v);
  }
  return Var<T>::make(Tensor<T>::scalar(total / T(n)), {x}, [t, n](Node<T>& self) {
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dx) {
      const T g = self.grad[0] / T(n);
      const T* v = self.parents[0]->value.data();
      for (int64_t i = 0; i < n; ++i) dx[i] += g * (detail::sigmoid_(v[i]) - t);
    });
  }, "binary_cross_entropy_with_logits");
}

/// x for x > 0, slope·x otherwise, elementwise (0 ≤ slope < 1).
template <typename T>
Var<T> leaky_relu(const Var<T>& x, double slope = 0.2) {
  DEEPGEN_CHECK(slope >= 0 && slope < 1, "leaky_relu: slope ", slope, " must be in [0, 1)");
  const T a = T(slope);
  return detail::activation(x, [a](T v) { return v > T(0) ? v : a * v; },
                            [a](T y) { return y > T(0) ? T(1) : a; }, "leaky_relu");
}

}  // namespace deepgen
