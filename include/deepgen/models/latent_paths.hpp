// models/latent_paths.hpp — the codes a latent-space picture decodes: the
// straight line between two codes, and sweeps of one or two dimensions
// around a fixed point. Any model with a D-dimensional code uses them (the
// image VAE's walks, the sentence VAE's interpolation); they only build the
// (N, D) batch of codes, so the model decodes it in one call.
#pragma once

#include <cstdint>

#include "../error.hpp"
#include "../tensor.hpp"

namespace deepgen::models {

/// `steps` codes (steps, D) evenly spaced on the line from `a` (1, D) to `b` (1, D), both ends included:
///   code_k = (1 − t_k)·a + t_k·b,  t_k = k / (steps − 1).
inline Tensor<float> interpolate_codes(const Tensor<float>& a, const Tensor<float>& b, int64_t steps) {
  DEEPGEN_CHECK(a.rank() == 2 && a.dim(0) == 1 && a.shape() == b.shape(), "interpolate_codes: the ends must be two "
                "(1, D) codes of the same D");
  DEEPGEN_CHECK(steps >= 2, "interpolate_codes: steps ", steps, " must be at least 2 (the two ends)");
  const int64_t D = a.dim(1);
  Tensor<float> codes(Shape{steps, D});
  for (int64_t k = 0; k < steps; ++k) {
    const float t = float(k) / float(steps - 1);
    for (int64_t d = 0; d < D; ++d) codes.at(k, d) = (1 - t) * a.at(0, d) + t * b.at(0, d);
  }
  return codes;
}

/// The value of point `i` of `grid` evenly spaced over [−range, range].
inline float sweep_value(int64_t i, int64_t grid, double range) {
  return float(-range + 2 * range * double(i) / double(grid - 1));
}

/// A grid × grid sweep (grid², D) around `centre` (1, D): code r·grid + c is
/// the centre with dimension `di` set to sweep_value(r) and `dj` to sweep_value(c).
inline Tensor<float> sweep_two_dimensions(const Tensor<float>& centre, int64_t di, int64_t dj, int64_t grid,
                                          double range) {
  DEEPGEN_CHECK(centre.rank() == 2 && centre.dim(0) == 1, "sweep_two_dimensions: the centre must be one (1, D) code");
  const int64_t D = centre.dim(1);
  DEEPGEN_CHECK(di >= 0 && di < D && dj >= 0 && dj < D && di != dj, "sweep_two_dimensions: dimensions ", di, " and ",
                dj, " must be two different ones of 0 … ", D - 1);
  DEEPGEN_CHECK(grid >= 2, "sweep_two_dimensions: grid ", grid, " must be at least 2");
  Tensor<float> codes(Shape{grid * grid, D});
  for (int64_t r = 0; r < grid; ++r)
    for (int64_t c = 0; c < grid; ++c) {
      for (int64_t d = 0; d < D; ++d) codes.at(r * grid + c, d) = centre.at(0, d);
      codes.at(r * grid + c, di) = sweep_value(r, grid, range);
      codes.at(r * grid + c, dj) = sweep_value(c, grid, range);
    }
  return codes;
}

/// Every dimension swept alone around `centre` (1, D): (D·grid, D), code
/// d·grid + i is the centre with dimension d set to sweep_value(i).
inline Tensor<float> sweep_each_dimension(const Tensor<float>& centre, int64_t grid, double range) {
  DEEPGEN_CHECK(centre.rank() == 2 && centre.dim(0) == 1, "sweep_each_dimension: the centre must be one (1, D) code");
  DEEPGEN_CHECK(grid >= 2, "sweep_each_dimension: grid ", grid, " must be at least 2");
  const int64_t D = centre.dim(1);
  Tensor<float> codes(Shape{D * grid, D});
  for (int64_t d = 0; d < D; ++d)
    for (int64_t i = 0; i < grid; ++i) {
      for (int64_t e = 0; e < D; ++e) codes.at(d * grid + i, e) = centre.at(0, e);
      codes.at(d * grid + i, d) = sweep_value(i, grid, range);
    }
  return codes;
}

}  // namespace deepgen::models
