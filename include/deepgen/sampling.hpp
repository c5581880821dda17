// sampling.hpp — turning a row of logits into a colour (or word).
//
// temperature 0 takes the likeliest class; otherwise the draw is from
// softmax(logits / temperature), optionally restricted to the top_k largest
// logits. Each row draws from its own Philox stream, so what image i gets
// depends only on (seed, i), not on how many images are drawn together.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "detail/math.hpp"
#include "random.hpp"

namespace deepgen {

/// How to draw a class from logits: temperature and top-k; for a PixelRNN,
/// also the precision of the weights each drawn pixel's step reads.
struct SamplingOptions {
  double temperature = 1.0;  ///< 0: always the likeliest class
  int64_t top_k = 0;         ///< 0: no restriction
  /// PixelRNN (float) only: keep lstm.weight_hh_l0 and fc.weight in bfloat16
  /// while drawing (detail/bfloat16.hpp): half the bytes per step, each
  /// weight rounded to 8 significant bits. Off: exact float32.
  bool bf16_weights = false;
};

/// Throws deepgen::Error unless temperature >= 0 (finite) and top_k >= 0.
inline void check_sampling(const SamplingOptions& s) {
  DEEPGEN_CHECK(s.temperature >= 0 && std::isfinite(s.temperature), "sampling: temperature ", s.temperature,
                " is invalid; use 0 (likeliest colour) or a positive value such as 0.5 or 1.0");
  DEEPGEN_CHECK(s.top_k >= 0, "sampling: top_k ", s.top_k, " is invalid; use 0 (all classes) or a positive count");
}

/// Draw a class from one row of K logits. `probs` is scratch space (K).
template <typename T>
int32_t sample_logits(const T* logits, int64_t K, const SamplingOptions& s, Philox& rng, std::vector<T>& probs) {
  int64_t best = 0;
  for (int64_t k = 1; k < K; ++k)
    if (logits[k] > logits[best]) best = k;
  if (s.temperature == 0 || s.top_k == 1) return static_cast<int32_t>(best);
  probs.resize(static_cast<size_t>(K));
  T cutoff = -std::numeric_limits<T>::infinity();
  if (s.top_k > 0 && s.top_k < K) {
    std::vector<T> sorted(logits, logits + K);
    std::nth_element(sorted.begin(), sorted.begin() + (s.top_k - 1), sorted.end(), std::greater<T>());
    cutoff = sorted[static_cast<size_t>(s.top_k - 1)];
  }
  const T inv_t = T(1 / s.temperature);
  for (int64_t k = 0; k < K; ++k)
    probs[k] = logits[k] >= cutoff ? detail::exp_((logits[k] - logits[best]) * inv_t) : T(0);
  return static_cast<int32_t>(rng.categorical(probs.data(), K));
}

}  // namespace deepgen
