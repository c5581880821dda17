// data/quantize.hpp — from RGB sprites to palette indices, the lecture's way:
// cluster every pixel's colour with k-means, merge colours that almost no
// pixel uses into their nearest kept colour, and give every pixel the index
// of its nearest palette colour. The models then see one of K classes per
// pixel, not an RGB triple to regress (which comes out grey).
//
// How, and why so:
//  * k-means runs on the distinct colours weighted by how many pixels have
//    them. That is the same objective as k-means over every pixel, but a set
//    of 792 sprites has ~300k pixels and only a few thousand colours.
//  * Seeding is k-means++ (each new centre drawn with probability ∝ pixels ×
//    squared distance to the nearest centre) from deepgen's Philox generator,
//    so a seed fixes the palette on every machine; Lloyd iterations follow
//    until no colour changes cluster.
//  * Pure white (the background, about 40% of the pixels) is a centre pinned
//    at (255, 255, 255): it never drifts to an off-white mean, so background
//    stays exactly white and the other K − 1 centres go to the sprites.
//  * Distances are Euclidean in RGB. The quality measure is RGB error, and
//    k-means in RGB minimises exactly its square; a perceptual space (Lab)
//    would spend centres on differences the measure does not count.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <unordered_map>
#include <vector>

#include "../config.hpp"
#include "../error.hpp"
#include "../io/rgb_image.hpp"
#include "../random.hpp"
#include "pokemon.hpp"

namespace deepgen {
namespace data {

/// The settings of build_palette.
struct QuantizeOptions {
  int colors = 167;         ///< K: palette size before merging, white included (the lecture's 167)
  int64_t min_count = 0;    ///< colours used by fewer pixels are merged into their nearest kept colour
  uint64_t seed = 0;        ///< k-means++ seeding; the same seed gives the same palette
  int max_iterations = 300; ///< Lloyd iterations at most (they stop earlier when nothing moves)
};

/// The distinct colours of a set of images and how many pixels have each,
/// sorted by colour (R, then G, then B) so the result does not depend on hashing.
struct ColorCounts {
  std::vector<io::Rgb> colors;  ///< the distinct colours, sorted
  std::vector<int64_t> counts;  ///< counts[i]: pixels of colour colors[i]

  /// The number of distinct colours.
  size_t size() const { return colors.size(); }
  /// The number of pixels counted.
  int64_t total() const {
    int64_t t = 0;
    for (int64_t c : counts) t += c;
    return t;
  }
};

namespace detail {

inline uint32_t pack_rgb(const io::Rgb& c) { return uint32_t(c[0]) << 16 | uint32_t(c[1]) << 8 | c[2]; }
inline io::Rgb unpack_rgb(uint32_t v) { return {uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}; }

inline double squared_distance(const double* a, const double* b) {
  const double d0 = a[0] - b[0], d1 = a[1] - b[1], d2 = a[2] - b[2];
  return d0 * d0 + d1 * d1 + d2 * d2;
}

// Index of the centre nearest to p (lowest index on ties) and its squared distance.
inline std::pair<int, double> nearest_centre(const double* p, const std::vector<double>& centres) {
  const int k = int(centres.size() / 3);
  int best = 0;
  double best_d = std::numeric_limits<double>::infinity();
  for (int j = 0; j < k; ++j) {
    const double d = squared_distance(p, &centres[size_t(3 * j)]);
    if (d < best_d) best_d = d, best = j;
  }
  return {best, best_d};
}

// Draws an index with probability ∝ weight[i] (all >= 0, sum > 0).
inline size_t draw_weighted(const std::vector<double>& weight, double sum, Philox& rng) {
  double u = rng.uniform<double>() * sum;
  for (size_t i = 0; i < weight.size(); ++i) {
    if (u < weight[i]) return i;
    u -= weight[i];
  }
  for (size_t i = weight.size(); i-- > 0;)  // rounding ran past the end: the last one with weight
    if (weight[i] > 0) return i;
  return 0;
}

}  // namespace detail

/// Counts the colour of every pixel of every image.
inline ColorCounts count_colors(const std::vector<io::RgbImage>& images) {
  std::unordered_map<uint32_t, int64_t> count;
  for (const auto& img : images)
    for (size_t i = 0; i + 2 < img.rgb.size(); i += 3)
      ++count[uint32_t(img.rgb[i]) << 16 | uint32_t(img.rgb[i + 1]) << 8 | img.rgb[i + 2]];
  std::vector<std::pair<uint32_t, int64_t>> sorted(count.begin(), count.end());
  std::sort(sorted.begin(), sorted.end());
  ColorCounts out;
  out.colors.reserve(sorted.size());
  out.counts.reserve(sorted.size());
  for (const auto& [c, n] : sorted) {
    out.colors.push_back(detail::unpack_rgb(c));
    out.counts.push_back(n);
  }
  return out;
}

/// Index of the palette colour nearest to `c` in RGB (lowest index on ties).
inline int nearest_color(const Palette& palette, const io::Rgb& c) {
  DEEPGEN_CHECK(palette.size() > 0, "nearest_color: the palette is empty");
  int best = 0, best_d = std::numeric_limits<int>::max();
  for (int j = 0; j < palette.size(); ++j) {
    const auto& q = palette.rgb[size_t(j)];
    const int d0 = int(c[0]) - q[0], d1 = int(c[1]) - q[1], d2 = int(c[2]) - q[2];
    const int d = d0 * d0 + d1 * d1 + d2 * d2;
    if (d < best_d) best_d = d, best = j;
  }
  return best;
}

/// For each colour of `counts`, the index of its nearest palette colour.
inline std::vector<int32_t> nearest_colors(const Palette& palette, const ColorCounts& counts) {
  std::vector<int32_t> idx(counts.size());
  const int64_t n = int64_t(counts.size());
  DEEPGEN_PARALLEL_FOR
  for (int64_t i = 0; i < n; ++i) idx[size_t(i)] = nearest_color(palette, counts.colors[size_t(i)]);
  return idx;
}

/// A palette of at most options.colors colours for the pixels in `counts`
/// (k-means with white pinned, then rare colours merged; see the top of this
/// header). Fewer colours come back when there are fewer distinct colours
/// than asked for, or when merging removed some. Colours are in no
/// particular order; see order_by_first_appearance.
inline Palette build_palette(const ColorCounts& counts, const QuantizeOptions& options = {}) {
  DEEPGEN_CHECK(options.colors >= 1, "build_palette: colors is ", options.colors,
                "; a palette needs at least 1 colour (the lecture used 167)");
  DEEPGEN_CHECK(options.min_count >= 0, "build_palette: min_count is ", options.min_count,
                "; it must be >= 0 (0 keeps every colour k-means found)");
  DEEPGEN_CHECK(options.max_iterations >= 0, "build_palette: max_iterations is ",
                options.max_iterations, "; it must be >= 0");
  DEEPGEN_CHECK(counts.size() > 0, "build_palette: there are no pixels to cluster");

  const size_t n = counts.size();
  std::vector<double> point(3 * n), weight(n);
  bool has_white = false;
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) point[3 * i + size_t(c)] = counts.colors[i][size_t(c)];
    weight[i] = double(counts.counts[i]);
    has_white = has_white || counts.colors[i] == io::WHITE;
  }

  // Every distinct colour gets its own centre when K allows: nothing to cluster.
  Palette palette;
  if (n <= size_t(options.colors)) {
    palette.rgb = counts.colors;
  } else {
    // ---- k-means++ seeding, white first (pinned) when the images have white.
    Philox rng(options.seed);
    std::vector<double> centres;
    std::vector<double> d2(n, std::numeric_limits<double>::infinity()), score(n);
    auto add_centre = [&](const double* c) {
      centres.insert(centres.end(), c, c + 3);
      DEEPGEN_PARALLEL_FOR
      for (int64_t i = 0; i < int64_t(n); ++i)
        d2[size_t(i)] = std::min(d2[size_t(i)], detail::squared_distance(&point[3 * size_t(i)], c));
    };
    const double white[3] = {255, 255, 255};
    if (has_white) add_centre(white);
    else add_centre(&point[3 * detail::draw_weighted(weight, counts.total(), rng)]);
    while (centres.size() < 3 * size_t(options.colors)) {
      double sum = 0;
      for (size_t i = 0; i < n; ++i) sum += score[i] = weight[i] * d2[i];
      if (!(sum > 0)) break;  // every colour already is a centre
      add_centre(&point[3 * detail::draw_weighted(score, sum, rng)]);
    }

    // ---- Lloyd iterations; centre 0 stays white when pinned.
    const int k = int(centres.size() / 3);
    std::vector<int> label(n, -1);
    for (int it = 0; it < options.max_iterations; ++it) {
      int64_t changed = 0;
      DEEPGEN_PARALLEL_FOR_REDUCE_SUM(changed)
      for (int64_t i = 0; i < int64_t(n); ++i) {
        const auto [j, d] = detail::nearest_centre(&point[3 * size_t(i)], centres);
        d2[size_t(i)] = d;
        if (label[size_t(i)] != j) label[size_t(i)] = j, ++changed;
      }
      if (changed == 0) break;
      std::vector<double> sum(3 * size_t(k), 0.0), mass(size_t(k), 0.0);
      for (size_t i = 0; i < n; ++i) {
        const size_t j = size_t(label[i]);
        mass[j] += weight[i];
        for (int c = 0; c < 3; ++c) sum[3 * j + size_t(c)] += weight[i] * point[3 * i + size_t(c)];
      }
      for (int j = has_white ? 1 : 0; j < k; ++j) {
        if (mass[size_t(j)] > 0) {
          for (int c = 0; c < 3; ++c) centres[3 * size_t(j) + size_t(c)] = sum[3 * size_t(j) + size_t(c)] / mass[size_t(j)];
        } else {
          // An empty cluster moves to the colour that costs the most error now.
          size_t worst = 0;
          for (size_t i = 1; i < n; ++i)
            if (weight[i] * d2[i] > weight[worst] * d2[worst]) worst = i;
          std::copy_n(&point[3 * worst], 3, &centres[3 * size_t(j)]);
          d2[worst] = 0;
        }
      }
    }
    // Centres rounded to 8 bits; two centres that round alike become one colour.
    std::vector<uint32_t> seen;
    for (int j = 0; j < k; ++j) {
      io::Rgb c;
      for (int ch = 0; ch < 3; ++ch)
        c[size_t(ch)] = uint8_t(std::clamp(std::lround(centres[3 * size_t(j) + size_t(ch)]), 0L, 255L));
      if (std::find(seen.begin(), seen.end(), detail::pack_rgb(c)) != seen.end()) continue;
      seen.push_back(detail::pack_rgb(c));
      palette.rgb.push_back(c);
    }
  }

  // ---- Merge rare colours: drop every non-white colour that fewer than
  // min_count pixels map to. Dropping only adds pixels to the colours that
  // stay, so one pass leaves every kept colour above the threshold.
  if (options.min_count > 0 && palette.size() > 1) {
    const std::vector<int32_t> idx = nearest_colors(palette, counts);
    std::vector<int64_t> used(size_t(palette.size()), 0);
    for (size_t i = 0; i < n; ++i) used[size_t(idx[i])] += counts.counts[i];
    Palette kept;
    for (int j = 0; j < palette.size(); ++j)
      if (used[size_t(j)] >= options.min_count || palette.rgb[size_t(j)] == io::WHITE)
        kept.rgb.push_back(palette.rgb[size_t(j)]);
    if (kept.size() == 0) {  // every colour is rare: keep the most used one
      kept.rgb.push_back(palette.rgb[size_t(std::max_element(used.begin(), used.end()) - used.begin())]);
    }
    palette = std::move(kept);
  }
  return palette;
}

/// Every pixel of `images` (all size × size, same size) as the index of its
/// nearest `palette` colour.
inline ImageSet quantize(const std::vector<io::RgbImage>& images, const Palette& palette) {
  DEEPGEN_CHECK(!images.empty(), "quantize: no images");
  const int side = images[0].width;
  for (size_t i = 0; i < images.size(); ++i)
    DEEPGEN_CHECK(images[i].width == side && images[i].height == side, "quantize: image ", i, " is ",
                  images[i].width, "x", images[i].height, " but the images must all be ", side, "x",
                  side, " (square, the size of image 0); crop them first (data/crop.hpp)");
  const ColorCounts counts = count_colors(images);
  const std::vector<int32_t> idx = nearest_colors(palette, counts);
  std::unordered_map<uint32_t, int32_t> index_of;
  index_of.reserve(counts.size());
  for (size_t i = 0; i < counts.size(); ++i) index_of[detail::pack_rgb(counts.colors[i])] = idx[i];

  ImageSet set;
  set.count = int64_t(images.size());
  set.side = side;
  set.pixels.resize(size_t(set.count * set.pixels_per_image()));
  size_t o = 0;
  for (const auto& img : images)
    for (size_t i = 0; i < img.rgb.size(); i += 3)
      set.pixels[o++] = index_of.at(uint32_t(img.rgb[i]) << 16 | uint32_t(img.rgb[i + 1]) << 8 | img.rgb[i + 2]);
  return set;
}

/// Mean over all pixels of the Euclidean RGB distance (0..255 per channel)
/// between `images` and their palette version `set`: the quantisation error.
inline double mean_rgb_error(const std::vector<io::RgbImage>& images, const ImageSet& set,
                             const Palette& palette) {
  DEEPGEN_CHECK(int64_t(images.size()) == set.count, "mean_rgb_error: ", images.size(),
                " images but the palette set holds ", set.count);
  double total = 0;
  int64_t pixels = 0;
  for (size_t m = 0; m < images.size(); ++m) {
    const auto& img = images[m];
    DEEPGEN_CHECK(int64_t(img.width) * img.height == set.pixels_per_image(), "mean_rgb_error: image ", m,
                  " is ", img.width, "x", img.height, " but the set's images have ",
                  set.pixels_per_image(), " pixels");
    const int32_t* q = set.image(int64_t(m));
    for (int64_t p = 0; p < set.pixels_per_image(); ++p) {
      const auto& c = palette[q[p]];
      double d2 = 0;
      for (int ch = 0; ch < 3; ++ch) {
        const double d = double(img.rgb[3 * size_t(p) + size_t(ch)]) - c[size_t(ch)];
        d2 += d * d;
      }
      total += std::sqrt(d2);
      ++pixels;
    }
  }
  return pixels ? total / double(pixels) : 0.0;
}

/// Renumbers the palette in order of first use in `set` (image 0's top-left
/// pixel first), as the lecture's colormap is numbered, and drops colours no
/// pixel uses. `set` is rewritten to the new numbers.
inline void order_by_first_appearance(Palette& palette, ImageSet& set) {
  std::vector<int32_t> new_index(size_t(palette.size()), -1);
  Palette ordered;
  for (auto& p : set.pixels) {
    DEEPGEN_CHECK(p >= 0 && p < palette.size(), "order_by_first_appearance: pixel index ", p,
                  " is outside the palette of ", palette.size(), " colours");
    int32_t& ni = new_index[size_t(p)];
    if (ni < 0) {
      ni = ordered.size();
      ordered.rgb.push_back(palette.rgb[size_t(p)]);
    }
    p = ni;
  }
  palette = std::move(ordered);
}

}  // namespace data
}  // namespace deepgen
