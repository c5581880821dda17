// eval/manifold.hpp — precision and recall of generated samples with k-NN
// manifolds (Kynkäänniemi et al. 2019, "Improved precision and recall metric
// for assessing generative models").
//
// Each real feature vector r owns a ball whose radius is the distance to its
// k-th nearest other real vector; the real manifold is the union of those
// balls. precision = the share of generated vectors inside the real manifold
// (are the samples realistic?); recall = the share of real vectors inside the
// generated manifold, built the same way from the samples (do the samples
// cover the data?). A point at distance exactly equal to a radius counts as
// inside, so two identical sets give 1 and 1.
#pragma once

#include <Eigen/Dense>

#include <algorithm>
#include <vector>

#include "../error.hpp"
#include "../tensor.hpp"

namespace deepgen::eval {

/// Squared Euclidean distances between the rows of a (N, F) and b (M, F): (N, M).
inline Eigen::MatrixXd squared_distances(const Tensor<float>& a, const Tensor<float>& b) {
  DEEPGEN_CHECK(a.rank() == 2 && b.rank() == 2 && a.dim(1) == b.dim(1), "squared_distances: shapes ", a.shape(),
                " and ", b.shape(), " are not two sets of vectors of one size");
  const Eigen::MatrixXd x = a.matrix().cast<double>(), y = b.matrix().cast<double>();
  Eigen::MatrixXd d = (-2.0 * x * y.transpose()).colwise() + x.rowwise().squaredNorm();
  d.rowwise() += y.rowwise().squaredNorm().transpose();
  // Rounding can leave −1e-12 for a point and itself; a loop, not cwiseMax,
  // which GCC 12 warns about inside Eigen's AVX-512 code (eval/frechet.hpp).
  for (Eigen::Index i = 0; i < d.size(); ++i) d.data()[i] = std::max(d.data()[i], 0.0);
  return d;
}

/// The squared radius of each row of `set`: the squared distance to its k-th nearest other row.
inline std::vector<double> knn_radii(const Tensor<float>& set, int k) {
  const int64_t n = set.dim(0);
  DEEPGEN_CHECK(k >= 1 && n > k, "knn_radii: k = ", k, " needs more than k vectors, got ", n);
  const Eigen::MatrixXd d = squared_distances(set, set);
  std::vector<double> radii(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> row;
    for (int64_t j = 0; j < n; ++j)
      if (j != i) row.push_back(d(i, j));
    std::nth_element(row.begin(), row.begin() + (k - 1), row.end());
    radii[size_t(i)] = row[size_t(k - 1)];
  }
  return radii;
}

/// The share of rows of `queries` inside the k-NN manifold of `set`.
inline double manifold_coverage(const Tensor<float>& set, const Tensor<float>& queries, int k) {
  const std::vector<double> radii = knn_radii(set, k);
  const Eigen::MatrixXd d = squared_distances(queries, set);  // (Q, N)
  int64_t inside = 0;
  for (int64_t q = 0; q < d.rows(); ++q)
    for (int64_t i = 0; i < d.cols(); ++i)
      if (d(q, i) <= radii[size_t(i)]) {
        ++inside;
        break;
      }
  return double(inside) / double(d.rows());
}

/// Precision and recall of `generated` against `real` (both (N, F) feature rows).
struct PrecisionRecall {
  double precision = 0;  ///< share of generated vectors inside the real manifold
  double recall = 0;     ///< share of real vectors inside the generated manifold
};

/// Both figures with k-nearest-neighbour radii (the paper's k = 3).
inline PrecisionRecall precision_recall(const Tensor<float>& real, const Tensor<float>& generated, int k = 3) {
  return {manifold_coverage(real, generated, k), manifold_coverage(generated, real, k)};
}

}  // namespace deepgen::eval
