// ops/softmax_cross_entropy.hpp — fused, numerically stable softmax +
// cross-entropy over integer targets, mean over the counted rows.
//
// Fused because the gradient is simply softmax(z) − onehot(y): forward keeps
// the probabilities, backward subtracts 1 at the target and scales, with no
// separate log-softmax node. Stability: log Σ exp(z) = m + log Σ exp(z − m)
// with m the row maximum, so no exp overflows.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "../autograd.hpp"
#include "../config.hpp"  // IGNORE_INDEX
#include "../detail/math.hpp"
#include "../detail/parallel.hpp"

namespace deepgen {

namespace detail {
/// One row: writes softmax(z) into p and returns −log p[target].
template <typename T>
DEEPGEN_HD inline T softmax_cross_entropy_row(const T* z, int64_t K, int32_t target, T* p) {
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

// The same row on the CPU with Eigen's vectorised exp (within an ulp or two
// of std::exp): the row loop of a 400-pixel batch runs 4 million exps.
template <typename T>
inline T softmax_cross_entropy_row_vectorised(const T* z, int64_t K, int32_t target, T* p) {
  const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> Z(z, K);
  Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> P(p, K);
  const T m = Z.maxCoeff();
  P = (Z - m).exp();
  const T s = P.sum();
  P *= T(1) / s;
  return std::log(s) + m - z[target];
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
  // Rows in parallel, each row's exp vectorised by Eigen; the loss is summed
  // per fixed block of rows and the blocks in order, so it has the same bits
  // on any thread count.
  Tensor<T> probs = Tensor<T>::uninitialized(Shape{N, K});
  const int64_t rows_per_block = std::max<int64_t>(1, detail::PARALLEL_CHUNK / K);
  std::vector<double> partial(size_t((N + rows_per_block - 1) / rows_per_block), 0.0);
  const T* Z = logits.value().data();
  detail::parallel_chunks(N, [&](int64_t r0, int64_t r1) {
    double sum = 0;
    for (int64_t n = r0; n < r1; ++n)
      if (targets[n] != IGNORE_INDEX)
        sum += double(detail::softmax_cross_entropy_row_vectorised(Z + n * K, K, targets[n], probs.data() + n * K));
    partial[size_t(r0 / rows_per_block)] = sum;
  }, rows_per_block);
  double total = 0;
  for (double v : partial) total += v;
  Tensor<T> out = Tensor<T>::scalar(T(total / double(counted)));
  return Var<T>::make(std::move(out), {logits}, [probs = std::move(probs), targets, N, K, counted,
                                                 rows_per_block](Node<T>& self) {
    const T g = self.grad[0] / T(counted);
    // d = g·(p − onehot(y)) per counted row, 0 for ignored rows.
    auto write = [&](Tensor<T>& dz, bool assign) {
      detail::parallel_chunks(N, [&](int64_t r0, int64_t r1) {
        for (int64_t n = r0; n < r1; ++n) {
          Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> d(dz.data() + n * K, K);
          const int32_t y = targets[n];
          if (y == IGNORE_INDEX) {
            if (assign) d.setZero();
            continue;
          }
          const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> p(probs.data() + n * K, K);
          if (assign) d = g * p;
          else d += g * p;
          d[y] -= g;
        }
      }, rows_per_block);
    };
    detail::write_grad(self.parents[0], [&](Tensor<T>& dz) { write(dz, true); },
                       [&](Tensor<T>& dz) { write(dz, false); });
  }, "softmax_cross_entropy");
}

}  // namespace deepgen
