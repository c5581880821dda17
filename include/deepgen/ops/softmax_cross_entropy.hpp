// ops/softmax_cross_entropy.hpp — fused, numerically stable softmax +
// cross-entropy over integer targets, mean over the counted rows.
//
// Fused because the gradient is simply softmax(z) − onehot(y): forward keeps
// the probabilities, backward subtracts 1 at the target and scales, with no
// separate log-softmax node. Stability: log Σ exp(z) = m + log Σ exp(z − m)
// with m the row maximum, so no exp overflows.
#pragma once

#include <cmath>
#include <cstdint>

#include "../autograd.hpp"
#include "../detail/math.hpp"

namespace deepgen {

/// Targets equal to this are skipped (padding), as in PyTorch's ignore_index.
constexpr int32_t IGNORE_INDEX = -100;

namespace detail {
/// One row: writes softmax(z) into p and returns −log p[target].
template <typename T>
DEEPGEN_HD inline T softmax_xent_row(const T* z, int64_t K, int32_t target, T* p) {
  T m = z[0];
  for (int64_t k = 1; k < K; ++k) m = z[k] > m ? z[k] : m;
  T s = T(0);
  for (int64_t k = 0; k < K; ++k) {
    p[k] = exp_(z[k] - m);
    s += p[k];
  }
  const T inv = T(1) / s;
  for (int64_t k = 0; k < K; ++k) p[k] *= inv;
  return log_(s) + m - z[target];
}
}  // namespace detail

/// logits (..., K), targets with one entry per row (numel = rows) → the mean
/// over non-ignored rows of −log softmax(logits)[target], a scalar.
template <typename T>
Var<T> softmax_cross_entropy(const Var<T>& logits, const Tensor<int32_t>& targets) {
  const Shape& sl = logits.shape();
  DEEPGEN_CHECK(sl.rank() >= 1 && sl.cols() > 0, "softmax_cross_entropy: logits ", sl,
                " must have a non-empty last (class) dimension");
  const int64_t N = sl.rows();
  const int64_t K = sl.cols();
  DEEPGEN_CHECK(targets.numel() == N, "softmax_cross_entropy: logits ", sl, " have ", N, " rows but targets ",
                targets.shape(), " have ", targets.numel(), " entries; give one target per row");
  int64_t counted = 0;
  for (int64_t n = 0; n < N; ++n) {
    const int32_t y = targets[n];
    if (y == IGNORE_INDEX) continue;
    DEEPGEN_CHECK(y >= 0 && y < K, "softmax_cross_entropy: target ", y, " at row ", n,
                  " is out of range [0, ", K, ") (", IGNORE_INDEX, " marks an ignored row)");
    ++counted;
  }
  DEEPGEN_CHECK(counted > 0, "softmax_cross_entropy: every target is IGNORE_INDEX; nothing to average");
  Tensor<T> probs(Shape{N, K});
  T total = T(0);
  for (int64_t n = 0; n < N; ++n) {
    const int32_t y = targets[n];
    if (y == IGNORE_INDEX) continue;
    total += detail::softmax_xent_row(logits.value().data() + n * K, K, y, probs.data() + n * K);
  }
  Tensor<T> out = Tensor<T>::scalar(total / T(counted));
  return Var<T>::make(std::move(out), {logits}, [probs = std::move(probs), targets, N, K, counted](Node<T>& self) {
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dz) {
      const T g = self.grad[0] / T(counted);
      for (int64_t n = 0; n < N; ++n) {
        const int32_t y = targets[n];
        if (y == IGNORE_INDEX) continue;
        T* d = dz.data() + n * K;
        const T* p = probs.data() + n * K;
        for (int64_t k = 0; k < K; ++k) d[k] += g * p[k];
        d[y] -= g;
      }
    });
  }, "softmax_cross_entropy");
}

}  // namespace deepgen
