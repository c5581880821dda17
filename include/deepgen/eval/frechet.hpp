// eval/frechet.hpp — the Fréchet distance between two sets of feature
// vectors, each summarised by a Gaussian (mean, covariance):
//
//   FD = ‖μ₁ − μ₂‖² + tr(C₁) + tr(C₂) − 2·tr((C₁^½ C₂ C₁^½)^½)
//
// (Heusel et al. 2017, the FID's formula.) The trace of the cross term is
// computed through symmetric eigen-decompositions only: C₁^½ from C₁'s
// eigenpairs, then the eigenvalues of the symmetric M = C₁^½ C₂ C₁^½, whose
// square roots sum to tr((C₁C₂)^½). Covariances estimated from fewer samples
// than dimensions are singular; the eigenvalues that round to slightly below
// zero are clamped to zero, so the result is always real.
#pragma once

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>

#include "../error.hpp"
#include "../tensor.hpp"

namespace deepgen::eval {

/// Σ √max(λ, 0) over `eigenvalues`. A plain loop: GCC 12 reports a false
/// -Wuninitialized inside the AVX-512 intrinsics that Eigen's vectorised
/// cwiseMax/cwiseSqrt of doubles inline (the register left undefined on purpose).
inline Eigen::VectorXd clamped_sqrt(const Eigen::VectorXd& eigenvalues) {
  Eigen::VectorXd r(eigenvalues.size());
  for (Eigen::Index i = 0; i < eigenvalues.size(); ++i) r[i] = std::sqrt(std::max(eigenvalues[i], 0.0));
  return r;
}

/// A set of vectors summarised as a Gaussian: its mean and covariance (divisor n − 1).
struct Moments {
  Eigen::VectorXd mean;  ///< (F)
  Eigen::MatrixXd cov;   ///< (F, F)
};

/// The mean and covariance of the rows of `features` (N, F); N ≥ 2.
inline Moments moments(const Tensor<float>& features) {
  DEEPGEN_CHECK(features.rank() == 2 && features.dim(0) >= 2, "moments: need at least 2 feature rows (N, F), got ",
                features.shape());
  const Eigen::MatrixXd x = features.matrix().cast<double>();
  Moments m;
  m.mean = x.colwise().mean().transpose();
  const Eigen::MatrixXd centred = x.rowwise() - m.mean.transpose();
  m.cov = centred.transpose() * centred / double(x.rows() - 1);
  return m;
}

/// The square root of a symmetric positive semi-definite matrix (negative
/// eigenvalues from rounding clamped to zero).
inline Eigen::MatrixXd sqrt_psd(const Eigen::MatrixXd& a) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(0.5 * (a + a.transpose()));
  DEEPGEN_CHECK(es.info() == Eigen::Success, "sqrt_psd: the eigen-decomposition failed (non-finite features?)");
  const Eigen::VectorXd r = clamped_sqrt(es.eigenvalues());
  return es.eigenvectors() * r.asDiagonal() * es.eigenvectors().transpose();
}

/// The Fréchet distance between the Gaussians `a` and `b` (the formula at the top).
inline double frechet_distance(const Moments& a, const Moments& b) {
  DEEPGEN_CHECK(a.mean.size() == b.mean.size() && a.cov.rows() == a.mean.size() && b.cov.rows() == b.mean.size(),
                "frechet_distance: the two sets have ", a.mean.size(), " and ", b.mean.size(),
                " features; use one feature space for both");
  const Eigen::MatrixXd s = sqrt_psd(a.cov);
  const Eigen::MatrixXd m = s * b.cov * s;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(0.5 * (m + m.transpose()), Eigen::EigenvaluesOnly);
  DEEPGEN_CHECK(es.info() == Eigen::Success, "frechet_distance: the eigen-decomposition failed");
  const double cross = clamped_sqrt(es.eigenvalues()).sum();
  const double fd = (a.mean - b.mean).squaredNorm() + a.cov.trace() + b.cov.trace() - 2.0 * cross;
  return std::max(fd, 0.0);  // ≥ 0 in exact arithmetic; rounding can give −1e-12
}

/// The Fréchet distance between the rows of `a` (N, F) and of `b` (M, F).
inline double frechet_distance(const Tensor<float>& a, const Tensor<float>& b) {
  return frechet_distance(moments(a), moments(b));
}

}  // namespace deepgen::eval
