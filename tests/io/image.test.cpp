// Loading sprites: PNG and GIF (first frame), alpha composited on white, and
// a clear error for every kind of file that is not a readable image.
#include <deepgen/io/image.hpp>
#include <deepgen/io/png.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "support/temp_dir.hpp"

using namespace deepgen;
using namespace deepgen::io;
using Catch::Matchers::Contains;

namespace {
const std::string IMAGES = std::string(DEEPGEN_FIXTURE_DIR) + "/images/";

std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST_CASE("load_image: a PNG written by write_png reads back pixel for pixel", "[io][image]") {
  test::TempDir dir;
  RgbImage img(5, 3);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x) img.set(x, y, uint8_t(40 * x), uint8_t(70 * y), uint8_t(x * y * 9 + 1));
  const std::string path = (dir.path / "a.png").string();
  write_png(path, img);
  const RgbImage back = load_image(path);
  REQUIRE(back.width == 5);
  REQUIRE(back.height == 3);
  CHECK(back.rgb == img.rgb);
}

TEST_CASE("load_image: RGBA PNG is composited on white", "[io][image]") {
  // rgba.png: opaque red, black at alpha 128, blue at alpha 0 (make_images.py).
  const RgbImage img = load_image(IMAGES + "rgba.png");
  REQUIRE(img.width == 3);
  REQUIRE(img.height == 1);
  CHECK(img.get(0, 0) == Rgb{255, 0, 0});
  // 128/255 black over white: 255 * 127/255 = 127.
  CHECK(img.get(1, 0) == Rgb{127, 127, 127});
  CHECK(img.get(2, 0) == WHITE);  // the stored blue of a transparent pixel must not show
}

TEST_CASE("load_image: an animated GIF gives its first frame, transparency as white", "[io][image]") {
  const RgbImage img = load_image(IMAGES + "two_frames.gif");
  REQUIRE(img.width == 3);
  REQUIRE(img.height == 2);
  CHECK(img.get(0, 0) == Rgb{255, 0, 0});
  CHECK(img.get(1, 0) == Rgb{0, 255, 0});
  CHECK(img.get(2, 0) == WHITE);  // palette entry (7, 7, 7) is the transparent index
  CHECK(img.get(0, 1) == Rgb{0, 0, 255});
  CHECK(img.get(1, 1) == Rgb{0, 0, 0});
  CHECK(img.get(2, 1) == Rgb{255, 0, 0});
}

TEST_CASE("load_image: unreadable files throw, naming the file and the problem", "[io][image]") {
  test::TempDir dir;
  SECTION("missing file") {
    const std::string p = (dir.path / "nope.png").string();
    REQUIRE_THROWS_WITH(load_image(p), Contains("cannot open '" + p + "'") && Contains("No such file"));
  }
  SECTION("empty file") {
    const std::string p = dir.write("empty.png", "");
    REQUIRE_THROWS_WITH(load_image(p), Contains(p) && Contains("is empty"));
  }
  SECTION("a text file") {
    const std::string p = dir.write("README.txt", "these are my sprites\n");
    REQUIRE_THROWS_WITH(load_image(p), Contains(p) && Contains("not a PNG or GIF"));
  }
  SECTION("a truncated PNG") {
    RgbImage img(16, 16);
    for (int i = 0; i < 16; ++i) img.set(i, i, uint8_t(i * 13), 0, uint8_t(255 - i));
    const std::vector<uint8_t> png = encode_png(img);
    const std::string p = dir.write("cut.png", std::string(png.begin(), png.begin() + long(png.size() / 2)));
    REQUIRE_THROWS_WITH(load_image(p), Contains("cannot decode '" + p + "' as png") && Contains("truncated"));
  }
  SECTION("a truncated GIF") {
    const std::string gif = file_bytes(IMAGES + "two_frames.gif");
    REQUIRE(gif.size() > 40);
    const std::string p = dir.write("cut.gif", gif.substr(0, 30));
    REQUIRE_THROWS_WITH(load_image(p), Contains("cannot decode '" + p + "' as gif"));
  }
}

TEST_CASE("load_image: a huge claimed size is refused from the header, an endless file by its length",
          "[io][image][errors]") {
  test::TempDir dir;
  // A PNG whose IHDR claims 5000 x 5000 RGBA pixels (100 MB decoded) in a
  // 45-byte file: refused before stb allocates anything for it. (stb itself
  // refuses a PNG above 1 GB decoded; this bound is far below.)
  const auto be32 = [](uint32_t v) {
    return std::string{char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
  };
  std::string png = "\x89PNG\r\n\x1a\n";
  png += be32(13) + "IHDR" + be32(5000) + be32(5000) + std::string{8, 6, 0, 0, 0} + be32(0);
  png += be32(0) + "IEND" + be32(0);
  const std::string p = dir.write("huge.png", png);
  REQUIRE_THROWS_WITH(load_image(p), Contains(p) && Contains("claims 5000x5000 pixels") &&
                                         Contains("at most 4194304 pixels"));
  // A GIF whose screen is 65535 x 65535.
  std::string gif = "GIF89a";
  gif += std::string{char(0xff), char(0xff), char(0xff), char(0xff), 0, 0, 0};
  gif += std::string{0x2c, 0, 0, 0, 0, char(0xff), char(0xff), char(0xff), char(0xff), 0, 2, 0x44, 0x01, 0, 0x3b};
  const std::string g = dir.write("huge.gif", gif);
  REQUIRE_THROWS_WITH(load_image(g), Contains(g) && Contains("claims 65535x65535 pixels"));
  REQUIRE_THROWS_WITH(load_image("/dev/zero"), Contains("load_image:") && Contains("/dev/zero") &&
                                                   Contains("longer than"));
}

TEST_CASE("decode_image: alpha composited on white stays in range for every colour and alpha", "[io][image]") {
  // One 256 x 256 RGBA PNG: pixel (x, y) has colour x in every channel and alpha y.
  std::vector<uint8_t> rgba(size_t(256) * 256 * 4);
  for (int y = 0; y < 256; ++y)
    for (int x = 0; x < 256; ++x)
      for (int c = 0; c < 4; ++c) rgba[size_t(4 * (y * 256 + x) + c)] = uint8_t(c < 3 ? x : y);
  int len = 0;
  unsigned char* png = stbi_write_png_to_mem(rgba.data(), 256 * 4, 256, 256, 4, &len);
  REQUIRE(png != nullptr);
  const std::vector<uint8_t> bytes(png, png + len);
  STBIW_FREE(png);
  const RgbImage img = decode_image(bytes, "ramp.png");
  REQUIRE(img.width == 256);
  REQUIRE(img.height == 256);
  int wrong = 0;
  for (int y = 0; y < 256; ++y)
    for (int x = 0; x < 256; ++x) {
      // a·x + (255 − a)·255 over 255, rounded: between x and 255, 255 at a = 0, x at a = 255.
      const int expected = int(std::lround((double(x) * y + 255.0 * (255 - y)) / 255.0));
      const Rgb got = img.get(x, y);
      if (int(got[0]) != expected || got[1] != got[0] || got[2] != got[0]) {
        if (wrong++ == 0) UNSCOPED_INFO("first mismatch at x " << x << ", alpha " << y << ": " << int(got[0])
                                                               << " instead of " << expected);
      }
    }
  CHECK(wrong == 0);
}

TEST_CASE("load_image: a PNG chunk claiming more bytes than the file holds is refused before stb allocates",
          "[io][image][errors]") {
  // Found by scripts/fuzz.sh (tests/fuzz/regressions/image/): a 54-byte PNG
  // whose IDAT length field says 0x4d436742 made stb_image allocate 1.3 GB
  // for the chunk before finding the file too short.
  test::TempDir dir;
  RgbImage img(3, 2);
  std::vector<uint8_t> png = encode_png(img);
  const size_t idat = 33;  // after the signature (8) and IHDR (25)
  REQUIRE(std::string(png.begin() + idat + 4, png.begin() + idat + 8) == "IDAT");
  png[idat] = 0x4d;
  const std::string p = dir.write("claims.png", std::string(png.begin(), png.end()));
  REQUIRE_THROWS_WITH(load_image(p), Contains("cannot decode '" + p + "' as png: its chunk at byte 33 claims") &&
                                         Contains("truncated or corrupt"));
  // Without IEND, too.
  png = encode_png(img);
  const std::string q = dir.write("no_iend.png", std::string(png.begin(), png.end() - 12));
  REQUIRE_THROWS_WITH(load_image(q), Contains("ends before its IEND chunk"));
}
