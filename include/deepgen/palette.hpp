// palette.hpp — palette-indexed images in memory: the colours (Palette) and
// the square images of colour indices (ImageSet).
//
// These two types sit below both io/ and data/ because both need them:
// io/figures.hpp draws an ImageSet with its Palette, and data/ reads, writes and
// builds them (data/pokemon.hpp, data/quantize.hpp). Keeping them here lets
// every include point down the layers (data/ → io/ → core), never back up.
// They stay reachable as deepgen::data::Palette and deepgen::data::ImageSet,
// their names before they moved here (data/pokemon.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "error.hpp"
#include "tensor.hpp"

namespace deepgen {

/// The colours of a palette-indexed image set: rgb[n] is colour n.
struct Palette {
  std::vector<std::array<uint8_t, 3>> rgb;  ///< colour n as R, G, B in 0..255

  /// K, the number of colours.
  int size() const { return static_cast<int>(rgb.size()); }
  /// Colour n, bounds-checked.
  const std::array<uint8_t, 3>& operator[](int n) const {
    DEEPGEN_CHECK(n >= 0 && n < size(), "Palette: colour ", n, " does not exist (palette of ",
                  size(), " colours)");
    return rgb[static_cast<size_t>(n)];
  }
};

/// `count` square images of side × side palette indices, row-major, image after image.
struct ImageSet {
  int64_t count = 0;  ///< number of images
  int64_t side = 0;   ///< images are side × side pixels
  std::vector<int32_t> pixels;  ///< (count, side*side), row-major, top-left pixel first

  /// Pixels per image: side * side.
  int64_t pixels_per_image() const { return side * side; }
  /// True when the set holds no image.
  bool empty() const { return count == 0; }

  /// The side*side indices of image i (0-based), bounds-checked.
  const int32_t* image(int64_t i) const {
    check_row(i);
    return pixels.data() + i * pixels_per_image();
  }
  /// The side*side indices of image i (0-based), bounds-checked, writable.
  int32_t* image(int64_t i) {
    check_row(i);
    return pixels.data() + i * pixels_per_image();
  }

  /// Images `items` (in that order, repeats allowed; each bounds-checked) as a
  /// (B, side*side) batch: what a training step or an encoder reads.
  Tensor<int32_t> batch(const std::vector<int64_t>& items) const {
    const int64_t B = static_cast<int64_t>(items.size()), P = pixels_per_image();
    Tensor<int32_t> out(Shape{B, P});
    for (int64_t b = 0; b < B; ++b) {
      const int32_t* src = image(items[static_cast<size_t>(b)]);
      std::copy(src, src + P, out.data() + b * P);
    }
    return out;
  }

  /// A copy as a Tensor of shape (count, side*side).
  Tensor<int32_t> to_tensor() const {
    return Tensor<int32_t>(Shape{count, pixels_per_image()},
                           std::vector<int32_t>(pixels.begin(), pixels.end()));
  }

 private:
  void check_row(int64_t i) const {
    DEEPGEN_CHECK(i >= 0 && i < count, "ImageSet::image: image ", i,
                  " does not exist (the set holds ", count, " images, 0..", count - 1, ")");
  }
};

}  // namespace deepgen
