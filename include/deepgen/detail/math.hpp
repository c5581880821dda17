// detail/math.hpp — scalar math usable on host and device.
//
// std::exp and friends are not __device__ functions, while the C functions
// expf/exp from <math.h> are available to both nvcc and g++. These overloads
// pick the right one for float and double so DEEPGEN_HD code stays generic.
#pragma once

#include <math.h>

#include "../config.hpp"

namespace deepgen::detail {

DEEPGEN_HD inline float exp_(float x) { return expf(x); }
DEEPGEN_HD inline double exp_(double x) { return exp(x); }
DEEPGEN_HD inline float log_(float x) { return logf(x); }
DEEPGEN_HD inline double log_(double x) { return log(x); }
DEEPGEN_HD inline float tanh_(float x) { return tanhf(x); }
DEEPGEN_HD inline double tanh_(double x) { return tanh(x); }
DEEPGEN_HD inline float sqrt_(float x) { return sqrtf(x); }
DEEPGEN_HD inline double sqrt_(double x) { return sqrt(x); }

/// σ(x) = 1 / (1 + e^-x); for very negative x, e^-x overflows to inf and σ → 0,
/// which is the right limit, so no branch is needed.
template <typename T>
DEEPGEN_HD inline T sigmoid_(T x) {
  return T(1) / (T(1) + exp_(-x));
}

}  // namespace deepgen::detail
