// data/sprite_stats.hpp — "does it look like a sprite?" as numbers.
//
// A sprite is one creature on a plain background. Three figures per set of
// palette images tell samples that are from samples that are not:
//
//   background share   the share of pixels in the background colour (the
//                      colour of pixel 0 in most TRAIN images: white)
//   components         the number of 4-connected regions of non-background
//                      pixels per image (one creature: 1; scattered
//                      fragments: many)
//   colours            the number of distinct colours per image
//
// Reported beside the same figures for TEST, they show a model whose samples
// are textures (too many components, too many colours) without a judge's
// taste. Components and colours are given as median and mean over images.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "../error.hpp"
#include "../palette.hpp"

namespace deepgen::data {

/// The background colour of `set`: the colour of pixel 0 in most of its
/// images (ties: the smaller index). Throws deepgen::Error on an empty set.
inline int32_t background_colour(const ImageSet& set) {
  DEEPGEN_CHECK(set.count > 0 && set.side > 0, "background_colour: the set holds no images");
  std::vector<int64_t> votes;
  for (int64_t i = 0; i < set.count; ++i) {
    const int32_t c = set.image(i)[0];
    DEEPGEN_CHECK(c >= 0, "background_colour: image ", i, " pixel 0 has index ", c, "; not a palette colour");
    if (size_t(c) >= votes.size()) votes.resize(size_t(c) + 1, 0);
    ++votes[size_t(c)];
  }
  return int32_t(std::max_element(votes.begin(), votes.end()) - votes.begin());
}

/// The number of 4-connected regions of pixels other than `background` in a
/// side × side image.
inline int64_t foreground_components(const int32_t* image, int64_t side, int32_t background) {
  const int64_t P = side * side;
  std::vector<char> seen(size_t(P), 0);
  std::vector<int64_t> stack;
  int64_t regions = 0;
  for (int64_t start = 0; start < P; ++start) {
    if (seen[size_t(start)] || image[start] == background) continue;
    ++regions;
    seen[size_t(start)] = 1;
    stack.push_back(start);
    while (!stack.empty()) {  // flood fill, iterative: a 4096² image must not overflow the call stack
      const int64_t p = stack.back(), r = p / side, c = p % side;
      stack.pop_back();
      const int64_t next[4] = {r > 0 ? p - side : -1, r + 1 < side ? p + side : -1, c > 0 ? p - 1 : -1,
                               c + 1 < side ? p + 1 : -1};
      for (int64_t q : next)
        if (q >= 0 && !seen[size_t(q)] && image[q] != background) {
          seen[size_t(q)] = 1;
          stack.push_back(q);
        }
    }
  }
  return regions;
}

/// The number of distinct values among the P pixels of an image.
inline int64_t distinct_colours(const int32_t* image, int64_t P) {
  std::vector<int32_t> v(image, image + P);
  std::sort(v.begin(), v.end());
  return int64_t(std::unique(v.begin(), v.end()) - v.begin());
}

/// The figures of one set of images (see the top of this header).
struct SpriteStats {
  int64_t images = 0;              ///< images measured
  double background_share = 0;     ///< share of all pixels in the background colour
  double components_median = 0;    ///< 4-connected non-background regions per image: median
  double components_mean = 0;      ///< … and mean
  double colours_median = 0;       ///< distinct colours per image: median
  double colours_mean = 0;         ///< … and mean
};

namespace detail {
inline double median_of(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? double(v[n / 2]) : 0.5 * double(v[n / 2 - 1] + v[n / 2]);
}
inline double mean_of(const std::vector<int64_t>& v) {
  double s = 0;
  for (int64_t x : v) s += double(x);
  return s / double(v.size());
}
}  // namespace detail

/// The figures of `set`, with `background` as the background colour (usually
/// background_colour of TRAIN). Throws deepgen::Error on an empty set.
inline SpriteStats sprite_stats(const ImageSet& set, int32_t background) {
  DEEPGEN_CHECK(set.count > 0 && set.side > 0, "sprite_stats: the set holds no images");
  const int64_t P = set.pixels_per_image();
  std::vector<int64_t> components, colours;
  int64_t background_pixels = 0;
  for (int64_t i = 0; i < set.count; ++i) {
    const int32_t* im = set.image(i);
    background_pixels += std::count(im, im + P, background);
    components.push_back(foreground_components(im, set.side, background));
    colours.push_back(distinct_colours(im, P));
  }
  SpriteStats s;
  s.images = set.count;
  s.background_share = double(background_pixels) / double(set.count * P);
  s.components_median = detail::median_of(components);
  s.components_mean = detail::mean_of(components);
  s.colours_median = detail::median_of(colours);
  s.colours_mean = detail::mean_of(colours);
  return s;
}

}  // namespace deepgen::data
