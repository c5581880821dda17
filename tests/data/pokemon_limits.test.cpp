// Hostile data files for data/pokemon.hpp (issue 16): what a wrong or
// malicious file can make the readers allocate, and endless inputs.
#include <deepgen/data/pokemon.hpp>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using namespace deepgen;
using namespace deepgen::data;
using Catch::Contains;

TEST_CASE("load_pixel_colors: a long first line then many line breaks reserves no more than the file holds",
          "[data][errors]") {
  // Line 1: 250000 indices (a 500 x 500 image), then two million blank
  // lines: 2.5 MB. The reader used to reserve 250000 x 2000001 indices
  // (2 TB) from the line count before looking at line 2, and died in
  // std::bad_alloc; now the reservation is bounded by the file's size and
  // the blank lines are reported.
  test::TempDir dir;
  std::string text;
  text.reserve(2'600'000);
  for (int i = 0; i < 250000; ++i) text += "0 ";
  text += "\n";
  text.append(2'000'000, '\n');
  text += "0\n";
  const std::string path = dir.write("pixel_color.txt", text);
  REQUIRE_THROWS_WITH(load_pixel_colors(path, 4), Contains(path + ":2:1: line 2 is blank but more data follows"));
  // Without the final line the trailing blank lines are allowed: one image.
  text.resize(text.size() - 2);
  const ImageSet set = load_pixel_colors(dir.write("ok.txt", text), 4);
  CHECK(set.count == 1);
  CHECK(set.side == 500);
}

TEST_CASE("load_colormap and load_pixel_colors: an endless file is refused by a size bound", "[data][errors]") {
  REQUIRE_THROWS_WITH(load_colormap("/dev/zero"), Contains("'/dev/zero' is longer than the 268435456 bytes"));
  REQUIRE_THROWS_WITH(load_pixel_colors("/dev/zero", 4), Contains("/dev/zero") && Contains("longer than"));
}
