// data/crop.hpp — turning a sprite of any size into a size × size image.
//
//  center  The lecture's: the sprite at its native size, centred, and the
//          centre size × size pixels kept (for its 40×40 sprites and size 20,
//          rows and columns 10..29). Missing canvas is white. Pixel art keeps
//          its exact colours, but a large sprite loses its edges.
//  fit     The sprite's bounding box (every pixel that is not pure white),
//          padded with white to a square around its centre, then
//          area-downscaled to size × size. The whole creature is kept at the
//          cost of blended edge colours; right for sprites of varied sizes,
//          such as the 96×96 animated ones.
//
// Downscaling goes through stb_image_resize (Debian libstb-dev) with its box
// filter: each output pixel is the average of the source area it covers.
// Averaging is on the stored 8-bit values, not in linear light, as image
// editors' "box"/"area" resampling does: gamma-correct averaging would fade
// the one-pixel dark outlines that make a 20×20 sprite readable.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "../error.hpp"
#include "../io/rgb_image.hpp"

#include "../detail/stb_begin.hpp"
#if !defined(STBIR_INCLUDE_STB_IMAGE_RESIZE_H)
#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb/stb_image_resize.h>
#undef STB_IMAGE_RESIZE_IMPLEMENTATION
#endif
#include "../detail/stb_end.hpp"

namespace deepgen {
namespace data {

/// How a sprite becomes a size × size image (see the top of this header).
enum class Crop { center, fit };

/// "center" or "fit" → Crop; anything else throws, listing the choices.
inline Crop parse_crop(const std::string& name) {
  if (name == "center") return Crop::center;
  if (name == "fit") return Crop::fit;
  throw Error(deepgen::detail::str("crop mode '", name, "' is not known; use 'center' or 'fit'"));
}

/// "center" or "fit": the name parse_crop reads back.
inline const char* crop_name(Crop c) { return c == Crop::center ? "center" : "fit"; }

namespace detail {
inline void check_target_size(int size, const char* who) {
  DEEPGEN_CHECK(size >= 1 && size <= 4096, who, ": target size ", size,
                " is not possible; give a side length between 1 and 4096 pixels (the lecture uses 20)");
}
}  // namespace detail

/// The centre size × size pixels of `img` (white where the image is smaller).
/// For odd margins the extra pixel goes to the right/bottom: a 40×40 sprite
/// at size 20 keeps rows and columns 10..29.
inline io::RgbImage center_crop(const io::RgbImage& img, int size) {
  detail::check_target_size(size, "center_crop");
  io::RgbImage out(size, size, io::WHITE);
  // Division truncates toward zero, so an odd margin puts its extra pixel on
  // the right/bottom whether the image is larger or smaller than the target.
  out.blit(img, (size - img.width) / 2, (size - img.height) / 2);
  return out;
}

/// The bounding box of the pixels that are not pure white: {x0, y0, x1, y1},
/// half-open. An all-white image gives an empty box (x1 == x0).
inline std::array<int, 4> content_box(const io::RgbImage& img) {
  int x0 = img.width, y0 = img.height, x1 = 0, y1 = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      if (img.get(x, y) != io::WHITE) {
        x0 = std::min(x0, x), x1 = std::max(x1, x + 1);
        y0 = std::min(y0, y), y1 = std::max(y1, y + 1);
      }
  if (x1 <= x0) return {0, 0, 0, 0};
  return {x0, y0, x1, y1};
}

/// The sprite's bounding box padded with white to a square around its centre,
/// area-resampled to size × size. An all-white image gives an all-white result.
inline io::RgbImage fit_crop(const io::RgbImage& img, int size) {
  detail::check_target_size(size, "fit_crop");
  const auto box = content_box(img);
  const int bw = box[2] - box[0], bh = box[3] - box[1];
  if (bw <= 0 || bh <= 0) return io::RgbImage(size, size, io::WHITE);
  const int side = std::max(bw, bh);
  io::RgbImage square(side, side, io::WHITE);
  // Place the box in the square's centre: shift the source so box[0] lands at the margin.
  square.blit(img, (side - bw) / 2 - box[0], (side - bh) / 2 - box[1]);
  if (side == size) return square;
  io::RgbImage out(size, size, io::WHITE);
  const int ok = stbir_resize_uint8_generic(square.rgb.data(), side, side, side * 3, out.rgb.data(), size,
                                            size, size * 3, 3, STBIR_ALPHA_CHANNEL_NONE, 0,
                                            STBIR_EDGE_CLAMP, STBIR_FILTER_BOX, STBIR_COLORSPACE_LINEAR,
                                            nullptr);
  DEEPGEN_CHECK(ok != 0, "fit_crop: resampling a ", side, "x", side, " square to ", size, "x", size,
                " failed (out of memory?)");
  return out;
}

/// `img` cropped to size × size by `mode`.
inline io::RgbImage crop(const io::RgbImage& img, Crop mode, int size) {
  return mode == Crop::center ? center_crop(img, size) : fit_crop(img, size);
}

}  // namespace data
}  // namespace deepgen
