// io/png.hpp — PNG files: the bytes of an io/rgb_image.hpp canvas
// (encode_png) and an atomic write of them (write_png). What goes on the
// canvas (palette images, grids, text, plots) is io/figures.hpp.
//
// Encoding goes through stb_image_write (Debian libstb-dev). deepgen is
// header-only, so this header compiles stb's implementation into every
// translation unit that includes it, as `static` functions
// (STB_IMAGE_WRITE_STATIC): no symbol clashes between translation units or
// with a program that links its own copy. Where <stb/stb_image_write.h> was
// already included before this header, its declarations are used as they are
// and the program must provide the implementation (as it must anyway).
//
// write_png never leaves a half-written file under the real name
// (io/atomic_file.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../error.hpp"
#include "atomic_file.hpp"
#include "rgb_image.hpp"

#include "../detail/stb_begin.hpp"
#if !defined(INCLUDE_STB_IMAGE_WRITE_H)
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#undef STB_IMAGE_WRITE_IMPLEMENTATION  // a later #include of stb must not define it twice
#endif
#include "../detail/stb_end.hpp"

namespace deepgen {
namespace io {

/// The PNG file bytes of `img`. Throws on an empty image.
inline std::vector<uint8_t> encode_png(const RgbImage& img) {
  DEEPGEN_CHECK(!img.empty(), "encode_png: the image is ", img.width, "x", img.height,
                "; PNG needs at least one pixel");
  DEEPGEN_CHECK(img.rgb.size() == size_t(img.width) * size_t(img.height) * 3, "encode_png: a ",
                img.width, "x", img.height, " image needs ", size_t(img.width) * size_t(img.height) * 3,
                " bytes but rgb holds ", img.rgb.size());
  std::vector<uint8_t> bytes;
  auto sink = [](void* ctx, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(ctx);
    const auto* p = static_cast<const uint8_t*>(data);
    out->insert(out->end(), p, p + size);
  };
  const int ok = stbi_write_png_to_func(sink, &bytes, img.width, img.height, 3, img.rgb.data(),
                                        img.width * 3);
  DEEPGEN_CHECK(ok != 0 && !bytes.empty(), "encode_png: stb_image_write failed to encode a ",
                img.width, "x", img.height, " image (out of memory?)");
  return bytes;
}

/// Writes `img` as a PNG file at `path`, atomically: a temporary file in the
/// same directory is written, closed and renamed over `path`. Throws
/// deepgen::Error naming the path on failure; `path` is then untouched.
inline void write_png(const std::string& path, const RgbImage& img) {
  const std::vector<uint8_t> bytes = encode_png(img);
  write_file_atomically(path, {ByteSpan{bytes.data(), bytes.size()}},
                        deepgen::detail::str("write_png: cannot write '", path, "': "));
}

}  // namespace io
}  // namespace deepgen
