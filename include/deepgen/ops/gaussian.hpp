// ops/gaussian.hpp — the VAE's diagonal Gaussian: reparameterisation and KL.
//
// The encoder gives a mean m and a log-variance s per code dimension.
//   (1) c = m + exp(s/2) ⊙ e,  e ~ N(0, I)              (reparameterisation)
//   (2) KL(N(m, exp s) ‖ N(0, I)) = ½ Σ (exp(s) + m² − 1 − s)
// Predicting log-variance keeps the variance positive without a constraint.
// The per-element math is in detail/gaussian.hpp (DEEPGEN_HD, no Eigen), so
// kernels/gaussian.cu runs the same code.
// The noise e is an explicit input: the caller draws it from a seeded
// generator (random.hpp), so a run is reproducible and testable.
#pragma once

#include "../autograd.hpp"
#include "../detail/gaussian.hpp"

namespace deepgen {

/// c = m + exp(s/2) ⊙ e, all three of the same shape.
template <typename T>
Var<T> reparameterize(const Var<T>& mean, const Var<T>& logvar, const Tensor<T>& noise) {
  check_shape(logvar.shape(), mean.shape(), "reparameterize: logvar");
  check_shape(noise.shape(), mean.shape(), "reparameterize: noise");
  Tensor<T> out(mean.shape());
  const T* m = mean.value().data();
  const T* s = logvar.value().data();
  for (int64_t i = 0; i < out.numel(); ++i) out[i] = detail::reparam_fwd(m[i], s[i], noise[i]);
  return Var<T>::make(std::move(out), {mean, logvar}, [noise](Node<T>& self) {
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dm) { dm.vec() += self.grad.vec(); });
    detail::accumulate_grad(self.parents[1], [&](Tensor<T>& ds) {
      const T* s = self.parents[1]->value.data();
      for (int64_t i = 0; i < ds.numel(); ++i) ds[i] += detail::reparam_dlogvar(s[i], noise[i], self.grad[i]);
    });
  }, "reparameterize");
}

/// KL(N(m, exp s) ‖ N(0, I)) summed over the code dimensions (the last axis)
/// and averaged over rows: nats per example, a scalar.
template <typename T>
Var<T> gaussian_kl(const Var<T>& mean, const Var<T>& logvar) {
  check_shape(logvar.shape(), mean.shape(), "gaussian_kl: logvar");
  const int64_t rows = mean.shape().rows();
  DEEPGEN_CHECK(rows > 0 && mean.value().numel() > 0, "gaussian_kl: mean ", mean.shape(), " has no elements");
  const T* m = mean.value().data();
  const T* s = logvar.value().data();
  T total = T(0);
  for (int64_t i = 0; i < mean.value().numel(); ++i) total += detail::kl_term(m[i], s[i]);
  Tensor<T> out = Tensor<T>::scalar(total / T(rows));
  return Var<T>::make(std::move(out), {mean, logvar}, [rows](Node<T>& self) {
    const T g = self.grad[0] / T(rows);
    const auto& M = self.parents[0];
    const auto& S = self.parents[1];
    detail::accumulate_grad(M, [&](Tensor<T>& dm) { dm.vec() += g * M->value.vec(); });
    detail::accumulate_grad(S, [&](Tensor<T>& ds) {
      for (int64_t i = 0; i < ds.numel(); ++i) ds[i] += g * detail::kl_dlogvar(S->value[i]);
    });
  }, "gaussian_kl");
}

}  // namespace deepgen
