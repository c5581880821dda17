// Tests for data/pokemon.hpp: the colormap and pixel-file parsers, every error
// they report (file:line:column and what was expected), the fixed TRAIN/TEST
// split, and — where the lecture data is present — the real files.
//
// Fixtures are tiny files written into a fresh temporary directory per test, so
// nothing from the lecture data is ever copied into the repository.
#include <catch2/catch.hpp>

#include <deepgen/data/pokemon.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>

#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace deepgen::data;
using Catch::Contains;

namespace {

using FixtureDir = deepgen::test::TempDir;

// `n` copies of `value` separated by single spaces.
std::string repeat(int n, const std::string& value) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? " " : "") + value;
  return s;
}

}  // namespace

TEST_CASE("data: load_colormap reads R G B lines", "[data]") {
  FixtureDir dir;
  SECTION("no newline after the last line") {
    const Palette p = load_colormap(dir.write("colormap.txt", "255 255 255\n53 53 53\n0 7 200"));
    REQUIRE(p.size() == 3);
    CHECK(p.rgb[0] == std::array<uint8_t, 3>{255, 255, 255});
    CHECK(p.rgb[1] == std::array<uint8_t, 3>{53, 53, 53});
    CHECK(p[2] == std::array<uint8_t, 3>{0, 7, 200});
    REQUIRE_THROWS_WITH(p[3], Contains("colour 3 does not exist"));
  }
  SECTION("trailing newline and trailing blank lines") {
    CHECK(load_colormap(dir.write("a.txt", "1 2 3\n4 5 6\n")).size() == 2);
    CHECK(load_colormap(dir.write("b.txt", "1 2 3\n4 5 6\n\n")).size() == 2);
    CHECK(load_colormap(dir.write("c.txt", "1 2 3\n4 5 6\n  \n\t\n")).size() == 2);
  }
  SECTION("CRLF line ends, tabs and extra spaces") {
    const Palette p = load_colormap(dir.write("crlf.txt", "1\t2  3\r\n  4 5 6 \r\n"));
    REQUIRE(p.size() == 2);
    CHECK(p.rgb[0] == std::array<uint8_t, 3>{1, 2, 3});
    CHECK(p.rgb[1] == std::array<uint8_t, 3>{4, 5, 6});
  }
  SECTION("single colour, boundary values") {
    const Palette p = load_colormap(dir.write("one.txt", "0 255 00"));
    REQUIRE(p.size() == 1);
    CHECK(p.rgb[0] == std::array<uint8_t, 3>{0, 255, 0});
  }
}

TEST_CASE("data: load_colormap errors name file, line, column and what was expected", "[data]") {
  FixtureDir dir;
  SECTION("stray token after R G B") {
    const auto path = dir.write("colormap.txt", "1 2 3\n4 5 6 x\n7 8 9\n");
    REQUIRE_THROWS_WITH(load_colormap(path), Contains("colormap.txt:2:7:") &&
                                                 Contains("unexpected 4th value 'x'") &&
                                                 Contains("exactly three integers 'R G B'"));
  }
  SECTION("too few values") {
    const auto path = dir.write("colormap.txt", "1 2 3\n4 5\n7 8 9\n");
    REQUIRE_THROWS_WITH(load_colormap(path), Contains("colormap.txt:2:4:") &&
                                                 Contains("line 2 has 2 values") &&
                                                 Contains("missing B"));
  }
  SECTION("too few values on the last line without newline") {
    const auto path = dir.write("colormap.txt", "1 2 3\n4");
    REQUIRE_THROWS_WITH(load_colormap(path),
                        Contains("colormap.txt:2:2:") && Contains("has 1 value;") && Contains("missing G"));
  }
  SECTION("non-numeric value") {
    const auto path = dir.write("colormap.txt", "1 2 3\n4 five 6\n");
    REQUIRE_THROWS_WITH(load_colormap(path), Contains("colormap.txt:2:3:") &&
                                                 Contains("expected an integer G value in 0..255") &&
                                                 Contains("'five'"));
  }
  SECTION("a decimal is not an integer") {
    const auto path = dir.write("colormap.txt", "1 2 3.5\n");
    REQUIRE_THROWS_WITH(load_colormap(path),
                        Contains("colormap.txt:1:5:") && Contains("found '3.5'"));
  }
  SECTION("value above 255") {
    const auto path = dir.write("colormap.txt", "1 2 3\n4 5 6\n7 8 256\n");
    REQUIRE_THROWS_WITH(load_colormap(path), Contains("colormap.txt:3:5:") &&
                                                 Contains("B value '256' is out of range") &&
                                                 Contains("0..255"));
  }
  SECTION("negative value") {
    const auto path = dir.write("colormap.txt", "-1 2 3\n");
    REQUIRE_THROWS_WITH(load_colormap(path),
                        Contains("colormap.txt:1:1:") && Contains("R value '-1' is out of range"));
  }
  SECTION("a number too large for any integer type") {
    const auto path = dir.write("colormap.txt", "1 99999999999999999999999 3\n");
    REQUIRE_THROWS_WITH(load_colormap(path),
                        Contains("colormap.txt:1:3:") && Contains("out of range"));
  }
  SECTION("blank line between colours") {
    const auto path = dir.write("colormap.txt", "1 2 3\n\n4 5 6\n");
    REQUIRE_THROWS_WITH(load_colormap(path), Contains("colormap.txt:2:1:") &&
                                                 Contains("line 2 is blank") &&
                                                 Contains("only trailing blank lines"));
  }
  SECTION("empty file") {
    const auto path = dir.write("colormap.txt", "");
    REQUIRE_THROWS_WITH(load_colormap(path),
                        Contains("colormap.txt:1:1:") && Contains("holds no colours"));
  }
  SECTION("whitespace-only file") {
    const auto path = dir.write("colormap.txt", "\n \n\n");
    REQUIRE_THROWS_WITH(load_colormap(path),
                        Contains("colormap.txt:1:1:") && Contains("holds no colours"));
  }
  SECTION("missing file") {
    const auto path = (dir.path / "nope" / "colormap.txt").string();
    REQUIRE_THROWS_AS(load_colormap(path), deepgen::Error);
    REQUIRE_THROWS_WITH(load_colormap(path), Contains("cannot open '" + path + "'") &&
                                                 Contains("No such file") && Contains("colormap"));
  }
  SECTION("a directory instead of a file") {
    REQUIRE_THROWS_WITH(load_colormap(dir.path.string()),
                        Contains(dir.path.string()) && Contains("directory"));
  }
}

TEST_CASE("data: load_pixel_colors reads square palette-indexed images", "[data]") {
  FixtureDir dir;
  SECTION("three 2x2 images, no final newline") {
    const ImageSet s = load_pixel_colors(dir.write("p.txt", "0 1 2 3\n4 4 4 4\n3 2 1 0"), 5);
    REQUIRE(s.count == 3);
    REQUIRE(s.side == 2);
    REQUIRE(s.pixels_per_image() == 4);
    REQUIRE(s.pixels.size() == 12);
    CHECK(s.image(0)[0] == 0);
    CHECK(s.image(0)[3] == 3);
    CHECK(s.image(1)[2] == 4);
    CHECK(s.image(2)[0] == 3);
    REQUIRE_THROWS_WITH(s.image(3), Contains("image 3 does not exist") && Contains("3 images"));
    REQUIRE_THROWS_WITH(s.image(-1), Contains("image -1 does not exist"));
    const auto t = s.to_tensor();
    CHECK(t.shape() == deepgen::Shape{3, 4});
    CHECK(t.at(2, 1) == 2);
  }
  SECTION("one 1x1 image, trailing blank lines and CRLF") {
    const ImageSet s = load_pixel_colors(dir.write("p.txt", "6\r\n7\r\n\r\n\n"), 8);
    REQUIRE(s.count == 2);
    REQUIRE(s.side == 1);
    CHECK(s.pixels == std::vector<int32_t>{6, 7});
  }
  SECTION("20x20 images") {
    std::string text;
    for (int r = 0; r < 5; ++r) text += repeat(400, std::to_string(r)) + "\n";
    const ImageSet s = load_pixel_colors(dir.write("p.txt", text), 5);
    REQUIRE(s.count == 5);
    REQUIRE(s.side == 20);
    CHECK(s.image(4)[399] == 4);
  }
}

TEST_CASE("data: load_pixel_colors errors name file, line, column and what was expected", "[data]") {
  FixtureDir dir;
  SECTION("index out of range for the palette (the message of the brief)") {
    // 5x5 images; on line 12 the 19th value (column 37) is 170.
    std::string text;
    for (int line = 1; line <= 14; ++line) {
      std::string row = repeat(18, "0") + (line == 12 ? " 170 " : " 1 ") + repeat(6, "2");
      text += row + "\n";
    }
    const auto path = dir.write("pixel_color.txt", text);
    REQUIRE_THROWS_WITH(load_pixel_colors(path, 167),
                        Contains("pixel_color.txt:12:37: index 170 is out of range for a palette of "
                                 "167 colours (0..166); the file may belong to another colormap"));
    // The same file is fine with a larger palette.
    CHECK(load_pixel_colors(path, 171).count == 14);
  }
  SECTION("negative index") {
    const auto path = dir.write("pixel_color.txt", "0 1 2 3\n0 -1 2 3\n");
    REQUIRE_THROWS_WITH(load_pixel_colors(path, 4),
                        Contains("pixel_color.txt:2:3: index -1 is out of range") &&
                            Contains("(0..3)"));
  }
  SECTION("index too large for any integer type") {
    const auto path = dir.write("pixel_color.txt", "0 1 2 123456789012345678901234567890\n");
    REQUIRE_THROWS_WITH(load_pixel_colors(path, 4),
                        Contains("pixel_color.txt:1:7: index '123456789012345678901234...' is out "
                                 "of range"));
  }
  SECTION("ragged rows: a short line") {
    std::string text;
    for (int line = 1; line <= 6; ++line) text += repeat(line == 5 ? 399 : 400, "0") + "\n";
    const auto path = dir.write("pixel_color.txt", text);
    // 399 one-digit values separated by spaces end at column 797.
    REQUIRE_THROWS_WITH(load_pixel_colors(path, 1),
                        Contains("pixel_color.txt:5:798:") &&
                            Contains("line 5 has 399 values but line 1 has 400") &&
                            Contains("20x20"));
  }
  SECTION("ragged rows: a long line points at the first extra value") {
    const auto path = dir.write("pixel_color.txt", "0 0 0 0\n0 0 0 0\n0 0 0 0 x 0\n");
    REQUIRE_THROWS_WITH(load_pixel_colors(path, 1),
                        Contains("pixel_color.txt:3:9:") &&
                            Contains("line 3 has 6 values but line 1 has 4"));
  }
  SECTION("ragged rows: the last line is short and has no newline") {
    const auto path = dir.write("pixel_color.txt", "0 0 0 0\n0 0");
    REQUIRE_THROWS_WITH(load_pixel_colors(path, 1),
                        Contains("pixel_color.txt:2:4:") &&
                            Contains("line 2 has 2 values but line 1 has 4"));
  }
  SECTION("first line is not a perfect square") {
    const auto path = dir.write("pixel_color.txt", "0 0 0\n0 0 0\n");
    REQUIRE_THROWS_WITH(load_pixel_colors(path, 1),
                        Contains("pixel_color.txt:1:6:") && Contains("line 1 has 3 values") &&
                            Contains("not a perfect square"));
  }
  SECTION("non-numeric token") {
    const auto path = dir.write("pixel_color.txt", "0 0 0 0\n0 0 0 0\n0 1 O 0\n");
    REQUIRE_THROWS_WITH(load_pixel_colors(path, 2),
                        Contains("pixel_color.txt:3:5:") &&
                            Contains("expected an integer colour index in 0..1 but found 'O'"));
  }
  SECTION("non-printable bytes are escaped in the message") {
    const auto path = dir.write("pixel_color.txt", std::string("0 \x01\xff 0 0\n"));
    REQUIRE_THROWS_WITH(load_pixel_colors(path, 2),
                        Contains("pixel_color.txt:1:3:") && Contains("'\\x01\\xff'"));
  }
  SECTION("blank line between images") {
    const auto path = dir.write("pixel_color.txt", "0 0 0 0\n0 0 0 0\n   \n0 0 0 0\n");
    REQUIRE_THROWS_WITH(load_pixel_colors(path, 1),
                        Contains("pixel_color.txt:3:1:") && Contains("line 3 is blank"));
  }
  SECTION("empty file") {
    const auto path = dir.write("pixel_color.txt", "");
    REQUIRE_THROWS_WITH(load_pixel_colors(path, 167),
                        Contains("pixel_color.txt:1:1:") && Contains("holds no images"));
  }
  SECTION("missing file") {
    const auto path = (dir.path / "pixel_color.txt").string();
    REQUIRE_THROWS_WITH(load_pixel_colors(path, 167),
                        Contains("cannot open '" + path + "'") && Contains("No such file"));
  }
  SECTION("palette size must be positive") {
    const auto path = dir.write("pixel_color.txt", "0\n");
    REQUIRE_THROWS_WITH(load_pixel_colors(path, 0), Contains("palette_size is 0"));
  }
}

TEST_CASE("data: load_pokemon takes K from the colormap", "[data]") {
  FixtureDir dir;
  dir.write("colormap.txt", "255 255 255\n0 0 0\n255 0 0\n");
  SECTION("indices within the colormap") {
    dir.write("pixel_color.txt", "0 1 2 0\n2 2 1 1\n");
    for (const std::string& d : {dir.path.string(), dir.path.string() + "/"}) {
      const PokemonData data = load_pokemon(d);
      CHECK(data.palette.size() == 3);
      CHECK(data.all.count == 2);
      CHECK(data.all.side == 2);
    }
  }
  SECTION("an index one past the colormap names the pixel file") {
    dir.write("pixel_color.txt", "0 1 2 0\n2 3 1 1\n");
    REQUIRE_THROWS_WITH(load_pokemon(dir.path.string()),
                        Contains("pixel_color.txt:2:3: index 3 is out of range for a palette of 3 "
                                 "colours (0..2)"));
  }
  SECTION("missing directory") {
    REQUIRE_THROWS_WITH(load_pokemon((dir.path / "missing").string()),
                        Contains("missing/colormap.txt") && Contains("No such file"));
  }
}

TEST_CASE("data: load_pokemon_split refuses, naming the file, a dataset too small for every part", "[data]") {
  FixtureDir dir;
  dir.write("colormap.txt", "255 255 255\n0 0 0\n");
  auto rows = [](int n) {
    std::string text;
    for (int i = 0; i < n; ++i) text += "0 1 1 0\n";
    return text;
  };
  SECTION("13 images: TEST has row 7, VALIDATION none") {
    dir.write("pixel_color.txt", rows(13));
    REQUIRE_THROWS_WITH(load_pokemon_split(dir.path.string()),
                        Contains("pixel_color.txt holds 13 images") && Contains("needs at least 14"));
  }
  SECTION("5 images: no TEST image") {
    dir.write("pixel_color.txt", rows(5));
    REQUIRE_THROWS_WITH(load_pokemon_split(dir.path.string()), Contains("holds 5 images"));
  }
  SECTION("14 images: one TEST, one VALIDATION, 12 TRAIN") {
    dir.write("pixel_color.txt", rows(int(MIN_SPLIT_IMAGES)));
    const PokemonSplit s = load_pokemon_split(dir.path.string());
    CHECK(s.test.count == 1);
    CHECK(s.valid.count == 1);
    CHECK(s.train.count == 12);
  }
}

TEST_CASE("data: the fixed TRAIN/VALIDATION/TEST split", "[data]") {
  CHECK(is_test_row(7));
  CHECK(is_test_row(27));
  CHECK(is_test_row(787));
  CHECK_FALSE(is_test_row(0));
  CHECK_FALSE(is_test_row(8));
  CHECK_FALSE(is_test_row(20));
  CHECK(is_valid_row(13));
  CHECK(is_valid_row(33));
  CHECK_FALSE(is_valid_row(7));
  CHECK(test_rows(792).size() == 40);
  CHECK(valid_rows(792).size() == 39);
  CHECK(train_rows(792).size() == 713);
  CHECK(test_rows(7).empty());
  CHECK(test_rows(8) == std::vector<int64_t>{7});

  // 45 2x2 images; pixel k of row r holds r*10 + k.
  ImageSet all;
  all.count = 45;
  all.side = 2;
  for (int r = 0; r < 45; ++r)
    for (int k = 0; k < 4; ++k) all.pixels.push_back(r * 10 + k);

  auto [train, valid, test] = split_sets(all);
  REQUIRE(test.count == 2);
  REQUIRE(valid.count == 2);
  REQUIRE(train.count == 41);
  CHECK(test.side == 2);
  CHECK(train.side == 2);
  CHECK(test.pixels.size() == 8);
  CHECK(test.image(0)[0] == 70);
  CHECK(test.image(1)[3] == 273);
  CHECK(valid.image(0)[0] == 130);
  CHECK(valid.image(1)[2] == 332);
  CHECK(train.image(6)[0] == 60);
  CHECK(train.image(7)[0] == 80);
  CHECK(train.image(11)[0] == 120);
  CHECK(train.image(12)[0] == 140);
  CHECK(train.image(40)[1] == 441);

  SECTION("subset keeps the given order and allows repeats") {
    const ImageSet s = subset(all, {3, 0, 3});
    REQUIRE(s.count == 3);
    CHECK(s.image(0)[0] == 30);
    CHECK(s.image(1)[0] == 0);
    CHECK(s.image(2)[2] == 32);
    CHECK(subset(all, {}).count == 0);
  }
  SECTION("subset rejects rows that do not exist") {
    REQUIRE_THROWS_WITH(subset(all, {0, 45}), Contains("row 45 does not exist") && Contains("45 images"));
    REQUIRE_THROWS_WITH(subset(all, {-1}), Contains("row -1 does not exist"));
  }
}

TEST_CASE("data: the lecture's Pokemon data", "[data][real]") {
#ifndef DEEPGEN_TEST_DATA_DIR
  WARN("data: the lecture's Pokemon data skipped: DEEPGEN_TEST_DATA_DIR is not defined");
#else
  const std::string dir = DEEPGEN_TEST_DATA_DIR;
  if (!fs::exists(fs::path(dir) / "colormap.txt") || !fs::exists(fs::path(dir) / "pixel_color.txt")) {
    WARN("data: the lecture's Pokemon data skipped: data not found at " << dir);
    return;
  }
  const PokemonData data = load_pokemon(dir);
  CHECK(data.palette.size() == 167);
  CHECK(data.palette.rgb[0] == std::array<uint8_t, 3>{255, 255, 255});
  CHECK(data.palette.rgb[1] == std::array<uint8_t, 3>{53, 53, 53});
  REQUIRE(data.all.count == 792);
  REQUIRE(data.all.side == 20);
  REQUIRE(data.all.pixels.size() == 792u * 400u);

  // The first line of the file starts with 23 white pixels and then colours 1, 2.
  CHECK(data.all.image(0)[22] == 0);
  CHECK(data.all.image(0)[23] == 1);
  CHECK(data.all.image(0)[24] == 2);
  int32_t max_index = 0;
  int64_t white = 0;
  for (int32_t v : data.all.pixels) {
    max_index = std::max(max_index, v);
    white += (v == 0);
  }
  CHECK(max_index == 166);
  // Colour 0 (white) covers 37.9 % of all pixels (README).
  CHECK(std::abs(double(white) / double(data.all.pixels.size()) - 0.379) < 0.001);

  auto [train, valid, test] = split_sets(data.all);
  CHECK(test.count == 40);
  CHECK(valid.count == 39);
  CHECK(train.count == 713);
  CHECK(std::equal(valid.image(0), valid.image(0) + 400, data.all.image(13)));
  CHECK(test.side == 20);
  CHECK(test_rows(data.all.count).front() == 7);
  CHECK(std::equal(test.image(0), test.image(0) + 400, data.all.image(7)));
  CHECK(std::equal(test.image(39), test.image(39) + 400, data.all.image(787)));
  CHECK(std::equal(train.image(7), train.image(7) + 400, data.all.image(8)));
#endif
}

// Palette and ImageSet moved to palette.hpp (below io/); the old names must
// still name the same types, so users' code and overloads keep working.
static_assert(std::is_same_v<deepgen::data::Palette, deepgen::Palette>,
              "deepgen::data::Palette must stay an alias of deepgen::Palette");
static_assert(std::is_same_v<deepgen::data::ImageSet, deepgen::ImageSet>,
              "deepgen::data::ImageSet must stay an alias of deepgen::ImageSet");
