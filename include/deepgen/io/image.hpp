// io/image.hpp — reading sprites: PNG and GIF (the first frame of an animated
// GIF) into an RgbImage, transparency composited on white.
//
// Decoding goes through stb_image (Debian libstb-dev), compiled into every
// translation unit that includes this header as `static` functions
// (STB_IMAGE_STATIC), for the same reason as stb_image_write in io/png.hpp:
// deepgen stays header-only and cannot clash with a program's own copy. Only
// the PNG and GIF decoders are compiled in; other formats are refused by name.
//
// Why white: the lecture's sprites are drawn on transparency, and its palette
// data has white backgrounds. Compositing each pixel as
// alpha·colour + (1 − alpha)·white reproduces that, and keeps semi-transparent
// edge pixels as the light tints a viewer would see.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../error.hpp"
#include "read_file.hpp"
#include "rgb_image.hpp"

#include "../detail/stb_begin.hpp"
#if !defined(STBI_INCLUDE_STB_IMAGE_H)
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_GIF
#define STBI_NO_STDIO  // files are read here, so errors can name them
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>
#undef STB_IMAGE_IMPLEMENTATION
#endif
#include "../detail/stb_end.hpp"

namespace deepgen {
namespace io {

/// The largest image file load_image reads: 64 MiB (a sprite is a few KB).
constexpr uint64_t MAX_IMAGE_FILE_BYTES = uint64_t(64) << 20;
/// The most pixels a decoded image may have (2048 x 2048, 40 times a
/// 475 x 475 Pokémon artwork), checked from the header before decoding: a
/// small compressed file can claim a huge image, and stb would allocate its
/// whole RGBA buffer first. (4096 x 4096 let a 1 KB GIF take seconds to
/// decode: a fuzzer timeout.)
constexpr int64_t MAX_IMAGE_PIXELS = int64_t(2048) * 2048;

namespace detail {

// The whole file, at most MAX_IMAGE_FILE_BYTES; throws naming it when it
// cannot be opened or read or is longer (an endless /dev/zero).
inline std::vector<uint8_t> read_binary_file(const std::string& path) {
  try {
    const std::string bytes = read_file_limited(path, MAX_IMAGE_FILE_BYTES, "a PNG or GIF image");
    return std::vector<uint8_t>(bytes.begin(), bytes.end());
  } catch (const Error& e) {
    throw Error(std::string("load_image: ") + e.what());
  }
}

// What the first bytes say the file is: "png", "gif", or "" for anything else.
inline std::string sniff_format(const std::vector<uint8_t>& b) {
  static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (b.size() >= 8 && std::memcmp(b.data(), png, 8) == 0) return "png";
  if (b.size() >= 6 && (std::memcmp(b.data(), "GIF87a", 6) == 0 || std::memcmp(b.data(), "GIF89a", 6) == 0))
    return "gif";
  return "";
}

// A PNG's chunks each fit in the file: stb_image allocates a buffer for a
// chunk's claimed length before reading it, so a 60-byte file whose IDAT
// claims 1.3 GB would otherwise make it allocate that much. Empty when the
// chunks are sound, else what is wrong.
inline std::string png_chunk_problem(const std::vector<uint8_t>& b) {
  size_t at = 8;
  while (at + 8 <= b.size()) {
    const uint64_t length = (uint64_t(b[at]) << 24) | (uint64_t(b[at + 1]) << 16) | (uint64_t(b[at + 2]) << 8) | b[at + 3];
    const std::string type(reinterpret_cast<const char*>(&b[at + 4]), 4);
    if (length > b.size() - at - 8 || b.size() - at - 8 - length < 4)
      return deepgen::detail::str("its chunk at byte ", at, " claims ", length, " bytes but only ",
                                  b.size() - at - 8, " follow");
    if (type == "IEND") return "";
    at += 12 + size_t(length);
  }
  return "it ends before its IEND chunk";
}

}  // namespace detail

/// The image in `bytes` (PNG, or the first frame of a GIF), composited on
/// white. `name` is only used in error messages. Throws deepgen::Error saying
/// what is wrong: not a PNG/GIF, truncated, corrupt.
inline RgbImage decode_image(const std::vector<uint8_t>& bytes, const std::string& name) {
  DEEPGEN_CHECK(!bytes.empty(), "load_image: '", name, "' is empty; expected a PNG or GIF image");
  const std::string format = detail::sniff_format(bytes);
  DEEPGEN_CHECK(!format.empty(), "load_image: '", name,
                "' is not a PNG or GIF image (its first bytes are neither the PNG nor the GIF "
                "signature); convert it, or remove it from the image folder");
  DEEPGEN_CHECK(bytes.size() <= size_t(INT32_MAX), "load_image: '", name, "' is over 2 GiB");
  if (format == "png") {
    const std::string problem = detail::png_chunk_problem(bytes);
    DEEPGEN_CHECK(problem.empty(), "load_image: cannot decode '", name, "' as png: ", problem,
                  " (the file is truncated or corrupt; re-download or re-export it)");
  }
  // The size the header claims, bounded before stb allocates for it.
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(bytes.data(), int(bytes.size()), &w, &h, &channels))
    throw Error(deepgen::detail::str("load_image: cannot decode '", name, "' as ", format, ": ",
                                     stbi_failure_reason(),
                                     " (the file is truncated or corrupt; re-download or re-export it)"));
  DEEPGEN_CHECK(w > 0 && h > 0 && int64_t(w) * h <= MAX_IMAGE_PIXELS, "load_image: '", name, "' claims ", w, "x",
                h, " pixels; deepgen reads images of at most ", MAX_IMAGE_PIXELS, " pixels (2048x2048): "
                "scale it down, or the file is corrupt");
  const int info_w = w, info_h = h;
  uint8_t* rgba = stbi_load_from_memory(bytes.data(), int(bytes.size()), &w, &h, &channels, 4);
  if (!rgba)
    throw Error(deepgen::detail::str("load_image: cannot decode '", name, "' as ", format, ": ",
                                     stbi_failure_reason(),
                                     " (the file is truncated or corrupt; re-download or re-export it)"));
  if (w != info_w || h != info_h) {  // the bound above must hold for what was decoded
    stbi_image_free(rgba);
    throw Error(deepgen::detail::str("load_image: '", name, "' decodes to ", w, "x", h, " but its header says ",
                                     info_w, "x", info_h, "; the file is corrupt"));
  }
  RgbImage img;
  try {
    img = RgbImage(w, h);
  } catch (...) {
    stbi_image_free(rgba);
    throw;
  }
  for (size_t i = 0, n = size_t(w) * size_t(h); i < n; ++i) {
    const uint8_t* p = rgba + 4 * i;
    const unsigned a = p[3];
    for (int c = 0; c < 3; ++c)  // a·colour + (255 − a)·white, rounded to nearest
      img.rgb[3 * i + size_t(c)] = uint8_t((p[c] * a + 255u * (255u - a) + 127u) / 255u);
  }
  stbi_image_free(rgba);
  return img;
}

/// Reads the PNG or GIF file at `path` (a GIF's first frame), composited on white.
inline RgbImage load_image(const std::string& path) {
  return decode_image(detail::read_binary_file(path), path);
}

}  // namespace io
}  // namespace deepgen
