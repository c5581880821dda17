// ops/dropout.hpp — inverted dropout: each element is kept with probability
// 1 − p and scaled by 1/(1 − p), so the expected value is unchanged and
// nothing needs rescaling at inference (where the op is simply not applied).
// The mask comes from an explicit Philox stream: a run repeats exactly.
#pragma once

#include "../autograd.hpp"
#include "../random.hpp"

namespace deepgen {

/// Inverted dropout: each element kept with probability 1 − p and scaled by 1/(1 − p).
template <typename T>
Var<T> dropout(const Var<T>& x, double p, Philox& rng) {
  DEEPGEN_CHECK(p >= 0 && p < 1, "dropout: rate ", p, " must be in [0, 1)");
  if (p == 0) return x;
  Tensor<T> mask = Tensor<T>::uninitialized(x.shape());
  const T keep_scale = T(1 / (1 - p));
  // Keep when 32 random bits are at least p·2³²: one Philox word per element.
  const uint64_t threshold = static_cast<uint64_t>(p * 4294967296.0);
  for (auto& m : mask) m = rng.next_u32() >= threshold ? keep_scale : T(0);
  Tensor<T> out(x.shape());
  out.vec() = x.value().vec().cwiseProduct(mask.vec());
  return Var<T>::make(std::move(out), {x}, [mask = std::move(mask)](Node<T>& self) {
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dx) { dx.vec() += self.grad.vec().cwiseProduct(mask.vec()); });
  }, "dropout");
}

}  // namespace deepgen
