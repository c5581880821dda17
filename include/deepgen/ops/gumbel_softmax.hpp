// ops/gumbel_softmax.hpp — the relaxed one-hot of the Gumbel-softmax
// (Jang et al. 2017; Maddison et al. 2017's "concrete" distribution):
//
//   y = softmax((z + g) / τ)   over the last axis, g ~ Gumbel(0, 1)
//
// As τ → 0 a row of y approaches the one-hot of argmax(z + g), which is a
// draw from softmax(z) (the Gumbel-max trick); for τ > 0 it is smooth in z, so
// a GAN's generator can emit palette images that its discriminator reads and
// back-propagates through. The noise g is an argument (gumbel_noise draws it
// from a Philox stream), so a training step repeats exactly.
//
// Backward: with s = dL/dy, dL/dz = (1/τ)·y ⊙ (s − Σₖ yₖ sₖ), row by row.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "../autograd.hpp"
#include "../random.hpp"

namespace deepgen {

/// softmax((logits + noise) / tau) over the last axis; noise has the logits' shape (zeros: a tempered softmax).
template <typename T>
Var<T> gumbel_softmax(const Var<T>& logits, const Tensor<T>& noise, double tau) {
  check_shape(noise.shape(), logits.shape(), "gumbel_softmax: noise");
  DEEPGEN_CHECK(tau > 0 && std::isfinite(tau), "gumbel_softmax: temperature ", tau, " must be positive and finite");
  const int64_t K = logits.shape().cols(), rows = K > 0 ? logits.value().numel() / K : 0;
  DEEPGEN_CHECK(K > 0, "gumbel_softmax: the last axis of ", logits.shape(), " is empty");
  Tensor<T> out(logits.shape());
  const T* z = logits.value().data();
  const T inv = T(1 / tau);
  for (int64_t r = 0; r < rows; ++r) {
    const T* zr = z + r * K;
    const T* gr = noise.data() + r * K;
    T* y = out.data() + r * K;
    T top = -std::numeric_limits<T>::infinity();
    for (int64_t k = 0; k < K; ++k) top = std::max(top, (zr[k] + gr[k]) * inv);
    T total = 0;
    for (int64_t k = 0; k < K; ++k) total += (y[k] = std::exp((zr[k] + gr[k]) * inv - top));
    for (int64_t k = 0; k < K; ++k) y[k] /= total;
  }
  return Var<T>::make(std::move(out), {logits}, [K, rows, inv](Node<T>& self) {
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dz) {
      for (int64_t r = 0; r < rows; ++r) {
        const T* y = self.value.data() + r * K;
        const T* s = self.grad.data() + r * K;
        T dot = 0;
        for (int64_t k = 0; k < K; ++k) dot += y[k] * s[k];
        T* d = dz.data() + r * K;
        for (int64_t k = 0; k < K; ++k) d[k] += inv * y[k] * (s[k] - dot);
      }
    });
  }, "gumbel_softmax");
}

/// Gumbel(0, 1) noise of `shape`: −log(−log u), u the next uniforms of `rng` (in (0, 1), so always finite).
template <typename T>
Tensor<T> gumbel_noise(const Shape& shape, Philox& rng) {
  Tensor<T> g(shape);
  for (auto& v : g) v = -std::log(-std::log(rng.uniform<T>()));
  return g;
}

}  // namespace deepgen
