// models/latent_paths.hpp — the codes a latent-space picture decodes: the
// straight line between two codes, and sweeps of one or two dimensions
// around a fixed point. Any model with a D-dimensional code uses them (the
// image VAE's walks, the sentence VAE's interpolation); they only build the
// (N, D) batch of codes, so the model decodes it in one call. Also the text
// forms that choose them on a command line: "I,J" and "zero" | "test:K".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../tensor.hpp"
#include "option_text.hpp"

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

/// "dim 0", "dim 1", …: the row labels of sweep_each_dimension's grid of a D-dimensional code.
inline std::vector<std::string> dimension_labels(int64_t D) {
  std::vector<std::string> labels;
  for (int64_t d = 0; d < D; ++d) labels.push_back("dim " + std::to_string(d));
  return labels;
}

/// "I,J" → {I, J}: two different dimensions of a D-dimensional code, in [0, D).
/// Throws, naming `option` and showing a valid form, on anything else.
inline std::pair<int64_t, int64_t> parse_dims(const std::string& text, int64_t D, const char* option = "--dims") {
  const auto items = split_commas(text);
  DEEPGEN_CHECK(items.size() == 2, option, " '", text, "': give two dimensions separated by a comma, such as 0,1");
  long long d[2] = {0, 0};
  for (int k = 0; k < 2; ++k) {
    DEEPGEN_CHECK(parse_integer(items[size_t(k)], d[k]), option, " '", text, "': '", items[size_t(k)],
                  "' is not a number; give two dimensions such as 0,1");
    DEEPGEN_CHECK(d[k] >= 0 && d[k] < D, option, " '", text, "': dimension ", d[k], " does not exist; the code has ",
                  D, " dimensions, 0 … ", D - 1);
  }
  DEEPGEN_CHECK(d[0] != d[1], option, " '", text, "': the two dimensions must differ");
  return {d[0], d[1]};
}

/// The fixed point of a walk: "zero" (the prior's centre) → nullopt, "test:K" → K
/// (any integer: the caller checks it against its images). Throws, naming `option`, on anything else.
inline std::optional<long long> parse_base(const std::string& text, const char* option = "--base") {
  long long k = 0;
  if (text.rfind("test:", 0) == 0 && parse_integer(text.substr(5), k)) return k;
  DEEPGEN_CHECK(text == "zero", option, " '", text, "': expected zero or test:K, e.g. test:3");
  return std::nullopt;
}

}  // namespace deepgen::models
