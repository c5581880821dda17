// Tests for io/rgb_image.hpp: the RGB canvas.
#include <catch2/catch.hpp>

#include <deepgen/io/rgb_image.hpp>

using namespace deepgen::io;
using Catch::Contains;

TEST_CASE("rgb_image: RgbImage fill, set, get, blit", "[io]") {
  RgbImage img(5, 3, Rgb{1, 2, 3});
  REQUIRE(img.width == 5);
  REQUIRE(img.height == 3);
  REQUIRE(img.rgb.size() == 45);
  CHECK(img.get(4, 2) == Rgb{1, 2, 3});
  img.set(4, 2, 9, 8, 7);
  CHECK(img.get(4, 2) == Rgb{9, 8, 7});
  CHECK(img.rgb[(2 * 5 + 4) * 3] == 9);  // row-major, 3 bytes a pixel
  img.fill(WHITE);
  CHECK(img.get(4, 2) == WHITE);
  REQUIRE_THROWS_WITH(img.set(5, 0, BLACK), Contains("pixel (5, 0) is outside the 5x3 canvas"));
  REQUIRE_THROWS_WITH(img.get(0, -1), Contains("outside"));
  REQUIRE_THROWS_WITH(RgbImage(-1, 4), Contains("-1x4"));

  SECTION("fill_rect clips to the canvas") {
    img.fill_rect(3, 1, 10, 10, BLACK);
    CHECK(img.get(2, 1) == WHITE);
    CHECK(img.get(3, 1) == BLACK);
    CHECK(img.get(4, 2) == BLACK);
    CHECK(img.get(3, 0) == WHITE);
  }
  SECTION("blit copies and clips") {
    RgbImage src(2, 2, Rgb{50, 60, 70});
    src.set(1, 1, 1, 1, 1);
    img.blit(src, 1, 0);
    CHECK(img.get(0, 0) == WHITE);
    CHECK(img.get(1, 0) == Rgb{50, 60, 70});
    CHECK(img.get(2, 1) == Rgb{1, 1, 1});
    CHECK(img.get(3, 0) == WHITE);
    img.blit(src, 4, 2);  // only src (0, 0) lands on the canvas
    CHECK(img.get(4, 2) == Rgb{50, 60, 70});
    img.blit(src, -1, -1);  // only src (1, 1) lands on the canvas
    CHECK(img.get(0, 0) == Rgb{1, 1, 1});
    img.blit(src, 10, 10);  // entirely off the canvas: nothing happens
    img.blit(src, -5, 0);
    int copied = 0;
    for (size_t o = 0; o < img.rgb.size(); o += 3) copied += img.rgb[o] == 50 && img.rgb[o + 1] == 60;
    CHECK(copied == 4);
  }
}
