// optim/clip.hpp — global gradient-norm clipping and the no-silent-NaN check.
//
// The global norm is computed anyway for clipping, so checking it for NaN/inf
// costs nothing; a non-finite norm throws with the name of the first
// offending tensor instead of letting NaN spread into the weights.
#pragma once

#include <cmath>
#include <vector>

#include "../detail/parallel.hpp"
#include "../nn/module.hpp"

namespace deepgen::optim {

/// ‖g‖₂ over all parameters' gradients. Throws if it is not finite, naming
/// the first parameter whose gradient holds NaN or inf.
template <typename T>
double global_grad_norm(const nn::NamedParameters<T>& params) {
  // Chunk sums added in chunk order: the same bits on any thread count.
  double sq = 0;
  std::vector<double> partial;
  for (const auto& [name, p] : params) {
    const T* g = p.grad().data();
    const int64_t n = p.grad().numel();
    partial.assign(size_t((n + deepgen::detail::PARALLEL_CHUNK - 1) / deepgen::detail::PARALLEL_CHUNK), 0.0);
    deepgen::detail::parallel_chunks(n, [&](int64_t b, int64_t e) {
      // Within a chunk in T (vectorised; 16k terms lose nothing that matters
      // for a norm), across chunks in double.
      partial[size_t(b / deepgen::detail::PARALLEL_CHUNK)] =
          double(Eigen::Map<const VectorX<T>>(g + b, e - b).squaredNorm());
    });
    for (double s : partial) sq += s;
  }
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
      T* g = q.grad().data();
      deepgen::detail::parallel_chunks(q.grad().numel(), [g, factor](int64_t b, int64_t e) {
        Eigen::Map<VectorX<T>>(g + b, e - b) *= T(factor);
      });
    }
  return norm;
}

}  // namespace deepgen::optim
