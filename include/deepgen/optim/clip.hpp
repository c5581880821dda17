// optim/clip.hpp — global gradient-norm clipping and the no-silent-NaN check.
//
// The global norm is computed anyway for clipping, so checking it for NaN/inf
// costs nothing; a non-finite norm throws with the name of the first
// offending tensor instead of letting NaN spread into the weights.
#pragma once

#include <cmath>

#include "../nn/module.hpp"

namespace deepgen::optim {

/// ‖g‖₂ over all parameters' gradients. Throws if it is not finite, naming
/// the first parameter whose gradient holds NaN or inf.
template <typename T>
double global_grad_norm(const nn::NamedParameters<T>& params) {
  double sq = 0;
  for (const auto& [name, p] : params) sq += p.grad().vec().template cast<double>().squaredNorm();
  const double norm = std::sqrt(sq);
  if (!std::isfinite(norm)) {
    for (const auto& [name, p] : params)
      DEEPGEN_CHECK(p.grad().vec().allFinite(), "non-finite gradient in '", name,
                    "' (NaN or inf): training diverged; lower the learning rate or clip gradients");
    DEEPGEN_CHECK(false, "the global gradient norm overflowed to ", norm, "; lower the learning rate");
  }
  return norm;
}

/// Scale all gradients so their global norm is at most max_norm (PyTorch's
/// clip_grad_norm_). Returns the norm before clipping.
template <typename T>
double clip_grad_norm(const nn::NamedParameters<T>& params, double max_norm) {
  DEEPGEN_CHECK(max_norm > 0, "clip_grad_norm: max_norm must be positive, got ", max_norm);
  const double norm = global_grad_norm(params);
  const double factor = max_norm / (norm + 1e-6);
  if (factor < 1)
    for (const auto& [name, p] : params) {
      Var<T> q = p;
      q.grad().vec() *= T(factor);
    }
  return norm;
}

}  // namespace deepgen::optim
