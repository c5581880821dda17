// detail/colours.hpp — the check every palette model runs on the images it is
// given, on the CPU (models/) and the GPU (kernels/*.cu) alike: one message
// naming the image, the pixel and the palette. No Eigen, so nvcc compiles it.
#pragma once

#include <cstdint>

#include "../error.hpp"

namespace deepgen::detail {

/// Throws deepgen::Error, prefixed by `where`, unless pixels [0, shown) of
/// each of `count` images (P pixels each, back to back) are colours in [0, K).
inline void check_colours(const int32_t* images, int64_t count, int64_t P, int64_t shown, int64_t K,
                          const char* where) {
  for (int64_t b = 0; b < count; ++b)
    for (int64_t p = 0; p < shown; ++p) {
      const int32_t c = images[b * P + p];
      DEEPGEN_CHECK(c >= 0 && c < K, where, ": colour ", c, " at image ", b, ", pixel ", p,
                    " is outside the palette [0, ", K, "); was the model trained with another colormap?");
    }
}

}  // namespace deepgen::detail
