// Tests for io/png.hpp: PNG files read back with stb_image — an independent
// decoder, so a round trip checks the bytes on disk — and atomic writes.
#include <catch2/catch.hpp>

#include <deepgen/data/pokemon.hpp>  // the real-sprites test loads the lecture data
#include <deepgen/io/figures.hpp>    // ... and draws them in a grid
#include <deepgen/io/png.hpp>

// stb_image's decoder, compiled by io/image.hpp, reads the files back: an
// implementation independent of the stb_image_write encoder under test.
#include <deepgen/io/image.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace deepgen::io;

namespace {

using FixtureDir = deepgen::test::TempDir;
using Catch::Contains;


// A PNG file decoded to RGB by stb_image.
struct Decoded {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
  Rgb at(int x, int y) const {
    const size_t o = (size_t(y) * size_t(width) + size_t(x)) * 3;
    return {rgb[o], rgb[o + 1], rgb[o + 2]};
  }
};

Decoded read_png(const std::string& path) {
  Decoded d;
  int channels = 0;
  const std::string bytes = deepgen::io::read_file_limited(path, deepgen::io::MAX_IMAGE_FILE_BYTES, "a PNG file");
  unsigned char* p = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(bytes.data()), int(bytes.size()),
                                           &d.width, &d.height, &channels, 3);
  REQUIRE(p != nullptr);
  d.rgb.assign(p, p + size_t(d.width) * size_t(d.height) * 3);
  stbi_image_free(p);
  return d;
}

}  // namespace

TEST_CASE("png: write_png round trip through stb_image", "[png]") {
  FixtureDir dir;
  const std::string path = (dir.path / "out.png").string();
  RgbImage img(7, 5, Rgb{12, 34, 56});
  img.set(0, 0, 255, 0, 0);
  img.set(6, 4, 0, 0, 255);
  img.set(3, 2, 1, 2, 3);
  write_png(path, img);

  const Decoded d = read_png(path);
  REQUIRE(d.width == 7);
  REQUIRE(d.height == 5);
  CHECK(d.at(0, 0) == Rgb{255, 0, 0});
  CHECK(d.at(6, 4) == Rgb{0, 0, 255});
  CHECK(d.at(3, 2) == Rgb{1, 2, 3});
  CHECK(d.at(1, 1) == Rgb{12, 34, 56});
  CHECK(d.rgb == img.rgb);

  SECTION("overwrites atomically and leaves no temporary file") {
    RgbImage other(3, 3, BLACK);
    write_png(path, other);
    const Decoded e = read_png(path);
    CHECK(e.width == 3);
    CHECK(e.at(2, 2) == BLACK);
    int files = 0;
    for (const auto& entry : fs::directory_iterator(dir.path)) {
      ++files;
      CHECK(entry.path().filename() == "out.png");
    }
    CHECK(files == 1);
  }
  SECTION("encode_png gives the PNG signature") {
    const auto bytes = encode_png(img);
    REQUIRE(bytes.size() > 8);
    CHECK(bytes[0] == 0x89);
    CHECK(bytes[1] == 'P');
    CHECK(bytes[2] == 'N');
    CHECK(bytes[3] == 'G');
  }
  SECTION("a missing directory names the path and leaves nothing behind") {
    const std::string bad = (dir.path / "no_such_dir" / "x.png").string();
    REQUIRE_THROWS_AS(write_png(bad, img), deepgen::Error);
    REQUIRE_THROWS_WITH(write_png(bad, img), Contains("cannot write '" + bad + "'") &&
                                                 Contains("No such file or directory"));
    CHECK_FALSE(fs::exists(dir.path / "no_such_dir"));
  }
  SECTION("a directory in the way of the target names the path and keeps it") {
    const fs::path target = dir.path / "taken.png";
    fs::create_directory(target);
    REQUIRE_THROWS_WITH(write_png(target.string(), img),
                        Contains("cannot write '" + target.string() + "'") &&
                            Contains("the previous file at this path is unchanged"));
    CHECK(fs::is_directory(target));
    int files = 0;
    for (const auto& entry : fs::directory_iterator(dir.path)) files += entry.is_regular_file();
    CHECK(files == 1);  // out.png only: the temporary file was removed
  }
  SECTION("an empty image is refused") {
    REQUIRE_THROWS_WITH(write_png(path, RgbImage()), Contains("0x0") && Contains("at least one pixel"));
    CHECK(read_png(path).width == 7);  // the earlier file is untouched
  }
}

TEST_CASE("png: a grid of real TEST sprites", "[png][real]") {
#ifndef DEEPGEN_TEST_DATA_DIR
  WARN("png: a grid of real TEST sprites skipped: DEEPGEN_TEST_DATA_DIR is not defined");
#else
  const std::string data_dir = DEEPGEN_TEST_DATA_DIR;
  if (!fs::exists(fs::path(data_dir) / "colormap.txt") ||
      !fs::exists(fs::path(data_dir) / "pixel_color.txt")) {
    WARN("png: a grid of real TEST sprites skipped: data not found at " << data_dir);
    return;
  }
  const auto data = deepgen::data::load_pokemon(data_dir);
  const auto test = deepgen::data::split_sets(data.all).test;
  std::vector<RgbImage> cells;
  for (int i = 0; i < 16; ++i) cells.push_back(render_image(test, i, data.palette, 4));
  const RgbImage g = grid(cells, 8);
  REQUIRE(g.width == 1 + 8 * 81);
  REQUIRE(g.height == 1 + 2 * 81);
  FixtureDir dir;
  const std::string path = (dir.path / "test_grid.png").string();
  write_png(path, g);
  const Decoded d = read_png(path);
  REQUIRE(d.width == g.width);
  CHECK(d.rgb == g.rgb);
  // Top-left pixel of TEST image 1 (row 27) at its block in the grid.
  const auto& c = data.palette.rgb[size_t(test.image(1)[0])];
  CHECK(d.at(1 + 81, 1) == Rgb{c[0], c[1], c[2]});
#endif
}
