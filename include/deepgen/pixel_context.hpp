// pixel_context.hpp — what a PixelRNN sees at each step besides its
// state, and how that is written into a checkpoint.
//
// The lecture's PixelRNN sees only the previous pixel: to know the pixel
// above it must carry it through W steps of state. The 2-D contexts also give
// it, at step t (which predicts pixel t of a W-wide image, row r, column c):
//
//   above           the pixels above-left (t−W−1), above (t−W) and
//                   above-right (t−W+1); outside the image: no input
//   above_position  those, and the row r and the column c of pixel t
//
// Every one of these is already drawn (or kept) when pixel t is drawn, so
// sampling stays one step per pixel. Each is one-hot in its own block of
// columns of lstm.weight_ih_l0, so a step reads S = 1, 4 or 6 gathered
// columns (ops/lstm.hpp's multi-hot tokens) and the recurrent GEMM is
// unchanged. Input columns, in order:
//
//   [0, K)          previous pixel            (every context)
//   [K, 2K)         above-left
//   [2K, 3K)        above
//   [3K, 4K)        above-right
//   [4K, 4K+Hgt)    row of pixel t            (above_position)
//   [4K+Hgt, …+W)   column of pixel t
//
// A checkpoint records the configuration in its safetensors metadata
// (pixelrnn_metadata); a checkpoint without it is the lecture model.
//
// No Eigen, and at the top (core, below cuda/ and models/; docs/architecture.md):
// the CUDA model (cuda/pixelrnn.hpp) shares this header, and
// step_tokens is DEEPGEN_HD so the GPU sampler computes the same tokens.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "config.hpp"
#include "error.hpp"

namespace deepgen::models {

/// What a PixelRNN sees at each step besides its state (the table above).
enum class PixelContext {
  previous,        ///< the lecture's model: the previous pixel only
  above,           ///< also the three pixels above (left, centre, right)
  above_position,  ///< also the three pixels above and the pixel's row and column
};

/// The name of a context in checkpoints and on the command line: "previous", "above", "above+position".
inline const char* context_name(PixelContext c) {
  switch (c) {
    case PixelContext::previous: return "previous";
    case PixelContext::above: return "above";
    case PixelContext::above_position: return "above+position";
  }
  return "?";
}

/// The context called `name` (context_name's inverse); throws deepgen::Error naming `where` otherwise.
inline PixelContext parse_context(const std::string& name, const std::string& where) {
  for (PixelContext c : {PixelContext::previous, PixelContext::above, PixelContext::above_position})
    if (name == context_name(c)) return c;
  DEEPGEN_CHECK(false, where, ": unknown PixelRNN context '", name, "'; use previous, above or above+position");
  return PixelContext::previous;
}

/// A PixelRNN's sizes and context.
struct PixelRNNConfig {
  int64_t palette_size = 0;                       ///< K colours
  int64_t hidden_size = 512;                      ///< H LSTM cells
  PixelContext context = PixelContext::previous;  ///< what a step sees
  int64_t width = 0;   ///< pixels per row (W); needed by every context but `previous`
  int64_t height = 0;  ///< rows per image; needed by every context but `previous`

  /// The largest palette and hidden size a configuration (or a checkpoint's
  /// metadata) may give: 2^24 − 1. Named once: check() and pixelrnn_config_from use it.
  static constexpr int64_t MAX_SIZE = (int64_t(1) << 24) - 1;
  /// The largest width and height of the 2-D contexts' images.
  static constexpr int64_t MAX_SIDE = 4096;

  /// True for the 2-D contexts, whose images must be exactly width × height.
  DEEPGEN_HD bool two_dimensional() const { return context != PixelContext::previous; }
  /// S, the tokens a step reads: 1, 4 or 6.
  DEEPGEN_HD int64_t slots() const {
    return context == PixelContext::previous ? 1 : context == PixelContext::above ? 4 : 6;
  }
  /// I, the columns of lstm.weight_ih_l0.
  DEEPGEN_HD int64_t input_size() const {
    const int64_t K = palette_size;
    return context == PixelContext::previous ? K : context == PixelContext::above ? 4 * K : 4 * K + height + width;
  }

  /// Throws deepgen::Error, prefixed by `where`, unless the sizes fit the context.
  void check(const std::string& where) const {
    DEEPGEN_CHECK(palette_size > 0 && palette_size <= MAX_SIZE && hidden_size > 0 && hidden_size <= MAX_SIZE,
                  where, ": palette size ", palette_size, " and hidden size ", hidden_size,
                  " must be from 1 to ", MAX_SIZE);
    if (two_dimensional())
      DEEPGEN_CHECK(width > 0 && height > 0 && width <= MAX_SIDE && height <= MAX_SIDE, where, ": the '",
                    context_name(context), "' context needs the image size, but width = ", width,
                    " and height = ", height, "; give both (1 to ", MAX_SIDE, ")");
  }

  /// The S tokens of step t (predicting pixel t) of `image`, read from its
  /// pixels 0 … t−1 only, into out[0 … S). Host and device (the GPU
  /// sampler builds the next step's tokens with it).
  DEEPGEN_HD void step_tokens(const int32_t* image, int64_t t, int32_t* out) const {
    const int64_t K = palette_size;
    int32_t all[6] = {t > 0 ? image[t - 1] : NO_INPUT, NO_INPUT, NO_INPUT, NO_INPUT, NO_INPUT, NO_INPUT};
    if (two_dimensional()) {
      const int64_t r = t / width, c = t % width, up = t - width;
      // A pixel that is not a colour (the GPU sampler's −1 for a refused draw)
      // is no input, never a column of the block before.
      if (r > 0 && c > 0 && image[up - 1] >= 0) all[1] = int32_t(K + image[up - 1]);
      if (r > 0 && image[up] >= 0) all[2] = int32_t(2 * K + image[up]);
      if (r > 0 && c + 1 < width && image[up + 1] >= 0) all[3] = int32_t(3 * K + image[up + 1]);
      all[4] = int32_t(4 * K + r);  // read only by above_position (slots() = 6)
      all[5] = int32_t(4 * K + height + c);
    }
    for (int64_t s = 0; s < slots(); ++s) out[s] = all[s];
  }
};

/// The metadata keys that record a PixelRNN's configuration in a checkpoint.
inline std::map<std::string, std::string> pixelrnn_metadata(const PixelRNNConfig& c) {
  return {{"pixelrnn.context", context_name(c.context)},
          {"pixelrnn.palette_size", std::to_string(c.palette_size)},
          {"pixelrnn.hidden_size", std::to_string(c.hidden_size)},
          {"pixelrnn.width", std::to_string(c.width)},
          {"pixelrnn.height", std::to_string(c.height)}};
}

}  // namespace deepgen::models

namespace deepgen::detail {
/// meta[key] as a whole number in [lo, hi]; throws deepgen::Error naming `path` and the key otherwise.
inline int64_t metadata_int(const std::map<std::string, std::string>& meta, const std::string& key, int64_t lo,
                            int64_t hi, const std::string& path) {
  const auto it = meta.find(key);
  DEEPGEN_CHECK(it != meta.end(), path, ": metadata has 'pixelrnn.context' but no '", key,
                "'; the file was edited or damaged, save it again");
  const std::string& v = it->second;
  int64_t n = 0;
  bool ok = !v.empty() && v.size() <= 9;
  for (char ch : v) {
    ok = ok && ch >= '0' && ch <= '9';
    if (ok) n = n * 10 + (ch - '0');
  }
  DEEPGEN_CHECK(ok && n >= lo && n <= hi, path, ": metadata '", key, "' is '", v, "' but must be a whole number in [",
                lo, ", ", hi, "]; the file was edited or damaged, save it again");
  return n;
}
}  // namespace deepgen::detail

namespace deepgen::models {

/// The configuration recorded in a checkpoint's metadata, or, without
/// "pixelrnn.context", the lecture model: context previous, sizes 0 (the
/// caller reads them from the tensors' shapes). Throws deepgen::Error naming
/// `path` for an unknown context or a size that is not a number in range.
inline PixelRNNConfig pixelrnn_config_from(const std::map<std::string, std::string>& meta, const std::string& path) {
  PixelRNNConfig c;
  c.hidden_size = 0;
  const auto it = meta.find("pixelrnn.context");
  if (it == meta.end()) return c;
  c.context = parse_context(it->second, path + ": metadata 'pixelrnn.context'");
  c.palette_size = deepgen::detail::metadata_int(meta, "pixelrnn.palette_size", 1, PixelRNNConfig::MAX_SIZE, path);
  c.hidden_size = deepgen::detail::metadata_int(meta, "pixelrnn.hidden_size", 1, PixelRNNConfig::MAX_SIZE, path);
  const int64_t min_side = c.two_dimensional() ? 1 : 0;
  c.width = deepgen::detail::metadata_int(meta, "pixelrnn.width", min_side, PixelRNNConfig::MAX_SIDE, path);
  c.height = deepgen::detail::metadata_int(meta, "pixelrnn.height", min_side, PixelRNNConfig::MAX_SIDE, path);
  return c;
}

}  // namespace deepgen::models
