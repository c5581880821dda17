// Cropping sprites to the model's size: the lecture's centre crop and the
// bounding-box fit.
#include <deepgen/data/crop.hpp>

#include <catch2/catch.hpp>

using namespace deepgen;
using namespace deepgen::data;
using io::Rgb;
using io::RgbImage;
using Catch::Matchers::Contains;

namespace {
// Pixel (x, y) coloured by its coordinates, so any shift shows.
RgbImage coordinate_image(int w, int h) {
  RgbImage img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) img.set(x, y, uint8_t(x), uint8_t(y), 7);
  return img;
}
}  // namespace

TEST_CASE("center_crop: a 40x40 sprite at size 20 keeps rows and columns 10..29", "[data][crop]") {
  const RgbImage out = center_crop(coordinate_image(40, 40), 20);
  REQUIRE(out.width == 20);
  REQUIRE(out.height == 20);
  CHECK(out.get(0, 0) == Rgb{10, 10, 7});
  CHECK(out.get(19, 19) == Rgb{29, 29, 7});
  CHECK(out.get(5, 12) == Rgb{15, 22, 7});
}

TEST_CASE("center_crop: odd margins and smaller sprites", "[data][crop]") {
  SECTION("41 wide: the extra column is cut on the right") {
    const RgbImage out = center_crop(coordinate_image(41, 40), 20);
    CHECK(out.get(0, 0) == Rgb{10, 10, 7});
    CHECK(out.get(19, 0) == Rgb{29, 10, 7});
  }
  SECTION("a 4x2 sprite lands in the middle of a white 8x8") {
    const RgbImage out = center_crop(coordinate_image(4, 2), 8);
    CHECK(out.get(2, 3) == Rgb{0, 0, 7});
    CHECK(out.get(5, 4) == Rgb{3, 1, 7});
    CHECK(out.get(1, 3) == io::WHITE);
    CHECK(out.get(2, 2) == io::WHITE);
    CHECK(out.get(2, 5) == io::WHITE);
  }
}

TEST_CASE("fit_crop: the bounding box, squared and area-scaled", "[data][crop]") {
  SECTION("a 4x2 black block at (10, 20) of a white 50x50 → centred 4x4, no scaling") {
    RgbImage img(50, 50);
    img.fill_rect(10, 20, 4, 2, io::BLACK);
    CHECK(content_box(img) == std::array<int, 4>{10, 20, 14, 22});
    const RgbImage out = fit_crop(img, 4);
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) CHECK(out.get(x, y) == (y == 1 || y == 2 ? io::BLACK : io::WHITE));
  }
  SECTION("an 8x8 checkerboard of 2x2 tiles → 4x4 tiles, and to 2x2 the average grey") {
    RgbImage img(8, 8);
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x)
        if (((x / 2) + (y / 2)) % 2 == 0) img.set(x, y, io::BLACK);
    const RgbImage four = fit_crop(img, 4);
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) CHECK(four.get(x, y) == ((x + y) % 2 == 0 ? io::BLACK : io::WHITE));
    const RgbImage two = fit_crop(img, 2);
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 2; ++x) {
        const Rgb c = two.get(x, y);  // half black, half white: 127 or 128
        CHECK(int(c[0]) >= 127);
        CHECK(int(c[0]) <= 128);
      }
  }
  SECTION("an all-white image gives an all-white square") {
    const RgbImage out = fit_crop(RgbImage(30, 10), 5);
    CHECK(out.width == 5);
    CHECK(out.rgb == RgbImage(5, 5).rgb);
  }
}

TEST_CASE("crop: target sizes out of range and unknown modes are refused", "[data][crop]") {
  const RgbImage img = coordinate_image(10, 10);
  REQUIRE_THROWS_WITH(center_crop(img, 0), Contains("target size 0") && Contains("between 1 and 4096"));
  REQUIRE_THROWS_WITH(fit_crop(img, -3), Contains("target size -3"));
  REQUIRE_THROWS_WITH(parse_crop("middle"), Contains("'middle'") && Contains("'center' or 'fit'"));
  CHECK(parse_crop("fit") == Crop::fit);
}
