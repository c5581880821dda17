// io/rgb_image.hpp — an 8-bit RGB canvas: what images are loaded into, cropped,
// quantised from, drawn on and written out as PNG. No codec here: loading is
// io/image.hpp, drawing io/figures.hpp, writing io/png.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../error.hpp"

namespace deepgen {
namespace io {

/// An 8-bit RGB colour.
using Rgb = std::array<uint8_t, 3>;

/// White: the background sprites are composited on.
constexpr Rgb WHITE{255, 255, 255};
/// Black.
constexpr Rgb BLACK{0, 0, 0};
/// The colour of "hidden" pixels (index < 0): the unseen part of a completion.
constexpr Rgb HIDDEN_GREY{128, 128, 128};
/// Grid separators: light enough not to compete with the sprites, dark enough
/// to show where a white background ends.
constexpr Rgb LIGHT_GREY{200, 200, 200};
/// Text colour: near black.
constexpr Rgb INK{32, 32, 32};

/// An RGB canvas: width × height pixels, 3 bytes each, row-major, top row first.
struct RgbImage {
  int width = 0;  ///< pixels per row
  int height = 0;  ///< rows
  std::vector<uint8_t> rgb;  ///< (height, width, 3)

  /// A 0 × 0 canvas.
  RgbImage() = default;
  /// A width × height canvas filled with `background`.
  RgbImage(int width_, int height_, Rgb background = WHITE) : width(width_), height(height_) {
    DEEPGEN_CHECK(width_ >= 0 && height_ >= 0 && int64_t(width_) * height_ <= (int64_t(1) << 28),
                  "RgbImage: a ", width_, "x", height_,
                  " canvas is not possible; sizes must be non-negative and at most 2^28 pixels");
    rgb.resize(size_t(width_) * size_t(height_) * 3);
    fill(background);
  }

  /// True when the canvas has no pixel.
  bool empty() const { return width == 0 || height == 0; }
  /// True when pixel (x, y) lies on the canvas.
  bool contains(int x, int y) const { return x >= 0 && y >= 0 && x < width && y < height; }

  /// Paint every pixel `c`.
  void fill(Rgb c) {
    for (size_t i = 0; i < rgb.size(); i += 3) std::copy(c.begin(), c.end(), rgb.begin() + long(i));
  }
  /// Paint the rectangle [x, x+w) × [y, y+h), clipped to the canvas.
  void fill_rect(int x, int y, int w, int h, Rgb c) {
    const int x0 = std::max(x, 0), x1 = std::min(x + w, width);
    const int y0 = std::max(y, 0), y1 = std::min(y + h, height);
    for (int yy = y0; yy < y1; ++yy)
      for (int xx = x0; xx < x1; ++xx) std::copy(c.begin(), c.end(), &rgb[offset(xx, yy)]);
  }
  /// Paint pixel (x, y); throws when it lies outside the canvas.
  void set(int x, int y, uint8_t r, uint8_t g, uint8_t b) {
    check(x, y, "set");
    uint8_t* p = &rgb[offset(x, y)];
    p[0] = r;
    p[1] = g;
    p[2] = b;
  }
  /// Paint pixel (x, y) `c`; throws when it lies outside the canvas.
  void set(int x, int y, Rgb c) { set(x, y, c[0], c[1], c[2]); }
  /// Paint pixel (x, y) if it lies on the canvas (for drawing that may run off the edge).
  void set_clipped(int x, int y, Rgb c) {
    if (contains(x, y)) std::copy(c.begin(), c.end(), &rgb[offset(x, y)]);
  }
  /// Pixel (x, y); throws when it lies outside the canvas.
  Rgb get(int x, int y) const {
    check(x, y, "get");
    const uint8_t* p = &rgb[offset(x, y)];
    return {p[0], p[1], p[2]};
  }
  /// Copy `src` with its top-left corner at (x, y); parts off the canvas are dropped.
  void blit(const RgbImage& src, int x, int y) {
    const int x0 = std::max(x, 0), x1 = std::min(x + src.width, width);
    if (x0 >= x1) return;
    for (int yy = std::max(y, 0); yy < std::min(y + src.height, height); ++yy)
      std::copy_n(&src.rgb[src.offset(x0 - x, yy - y)], size_t(x1 - x0) * 3, &rgb[offset(x0, yy)]);
  }

 private:
  size_t offset(int x, int y) const { return (size_t(y) * size_t(width) + size_t(x)) * 3; }
  void check(int x, int y, const char* what) const {
    DEEPGEN_CHECK(contains(x, y), "RgbImage::", what, ": pixel (", x, ", ", y,
                  ") is outside the ", width, "x", height, " canvas");
  }
};

}  // namespace io
}  // namespace deepgen
