// detail/gaussian.hpp — the per-element math of the VAE's diagonal Gaussian
// (ops/gaussian.hpp), host and device alike; no Eigen, so nvcc compiles it
// for kernels/gaussian.cu.
//   (1) c = m + exp(s/2)·e                              reparameterisation
//   (2) KL(N(m, exp s) ‖ N(0, 1)) = ½ (exp(s) + m² − 1 − s) per dimension
#pragma once

#include "math.hpp"

namespace deepgen::detail {

template <typename T>
DEEPGEN_HD inline T reparam_fwd(T m, T s, T e) { return m + exp_(s / T(2)) * e; }  // (1)
/// dc/ds = ½ exp(s/2) e; dc/dm = 1.
template <typename T>
DEEPGEN_HD inline T reparam_dlogvar(T s, T e, T dc) { return dc * e * exp_(s / T(2)) / T(2); }
template <typename T>
DEEPGEN_HD inline T kl_term(T m, T s) { return (exp_(s) + m * m - T(1) - s) / T(2); }  // (2)
/// ∂KL/∂m = m, ∂KL/∂s = ½(exp(s) − 1).
template <typename T>
DEEPGEN_HD inline T kl_dlogvar(T s) { return (exp_(s) - T(1)) / T(2); }

}  // namespace deepgen::detail
