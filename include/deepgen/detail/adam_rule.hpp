// detail/adam_rule.hpp — Adam's per-element rule, for the CPU optimizer
// (optim/adam.hpp) and the GPU kernel (kernels/adam.cu) alike. No Eigen, so
// nvcc compiles it as is.
//
// Per element, with t the step count (from 1):
//   (1) g ← g + λ·p                     (weight_decay λ: L2, as torch.optim.Adam)
//   (2) m ← β1·m + (1 − β1)·g
//   (3) v ← β2·v + (1 − β2)·g²
//   (4) p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
#pragma once

#include <cmath>
#include <cstdint>

#include "math.hpp"

namespace deepgen::detail {

/// The constants of (1)–(4) at one step: the bias corrections folded into
/// step_size = lr/(1 − β1ᵗ) and inv_bc2_sqrt = 1/√(1 − β2ᵗ).
template <typename T>
struct AdamScalars {
  T beta1, beta2, eps, weight_decay, step_size, inv_bc2_sqrt;
};

/// The constants for step t >= 1, computed in double like PyTorch.
template <typename T>
AdamScalars<T> adam_scalars(double lr, double beta1, double beta2, double eps, double weight_decay, int64_t t) {
  return {T(beta1), T(beta2), T(eps), T(weight_decay), T(lr / (1.0 - std::pow(beta1, double(t)))),
          T(1.0 / std::sqrt(1.0 - std::pow(beta2, double(t))))};
}

/// (1)–(4) for one element.
template <typename T>
DEEPGEN_HD inline void adam_update(T* p, T g, T* m, T* v, const AdamScalars<T>& s) {
  g += s.weight_decay * *p;
  *m = s.beta1 * *m + (T(1) - s.beta1) * g;
  *v = s.beta2 * *v + (T(1) - s.beta2) * g * g;
  *p -= s.step_size * *m / (sqrt_(*v) * s.inv_bc2_sqrt + s.eps);
}

}  // namespace deepgen::detail
