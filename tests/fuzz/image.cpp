// Fuzz target: io::decode_image, the PNG and GIF reader over stb_image.
// An accepted image is at most MAX_IMAGE_PIXELS, its size the one stb's
// header scan reports, and every pixel the RGBA that stb decodes composited
// on white: a·colour + (255 − a)·255 over 255, rounded, within 0..255.
#include <deepgen/io/image.hpp>

#include <cmath>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace io = deepgen::io;
  const std::vector<uint8_t> bytes(data, data + size);
  io::RgbImage img;
  if (!fuzz::accepted([&] { img = io::decode_image(bytes, "sprite"); })) return 0;
  FUZZ_REQUIRE(img.width >= 1 && img.height >= 1 && int64_t(img.width) * img.height <= io::MAX_IMAGE_PIXELS,
               img.width, "x", img.height);
  FUZZ_REQUIRE(img.rgb.size() == size_t(img.width) * size_t(img.height) * 3, "rgb size ", img.rgb.size());
  int w = 0, h = 0, n = 0;
  uint8_t* rgba = stbi_load_from_memory(data, int(size), &w, &h, &n, 4);
  FUZZ_REQUIRE(rgba != nullptr && w == img.width && h == img.height, "stb decodes ", w, "x", h);
  for (size_t i = 0; i < size_t(w) * size_t(h); ++i) {
    const uint8_t* p = rgba + 4 * i;
    for (int c = 0; c < 3; ++c) {
      const long expected = std::lround((double(p[c]) * p[3] + 255.0 * (255 - p[3])) / 255.0);
      if (img.rgb[3 * i + size_t(c)] != expected) {
        stbi_image_free(rgba);
        fuzz::bug(deepgen::detail::str("pixel ", i, " channel ", c, " is ", int(img.rgb[3 * i + size_t(c)]),
                                       ", not ", expected));
      }
    }
  }
  stbi_image_free(rgba);
  return 0;
}
