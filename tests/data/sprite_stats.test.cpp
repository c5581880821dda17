// data/sprite_stats.hpp on hand-made images whose figures are counted by eye.
#include <deepgen/data/sprite_stats.hpp>

#include <catch2/catch.hpp>

using namespace deepgen;
using namespace deepgen::data;
using Catch::Contains;

namespace {
ImageSet set_of(int64_t side, std::vector<int32_t> pixels) {
  ImageSet s;
  s.side = side;
  s.count = int64_t(pixels.size()) / (side * side);
  s.pixels = std::move(pixels);
  return s;
}
}  // namespace

TEST_CASE("sprite_stats: background, 4-connected components and colours, counted by hand", "[data]") {
  // 0 is the background. Image 0: one creature (a plus sign of colours 1 and 2).
  // Image 1: two pieces touching only at a corner (diagonal: not 4-connected) and
  // a third in the far corner. Image 2: all background.
  const ImageSet set = set_of(3, {0, 1, 0,  //
                                  1, 2, 1,  //
                                  0, 1, 0,  //
                                  3, 0, 0,  //
                                  0, 3, 0,  //
                                  0, 0, 4,  //
                                  0, 0, 0,  //
                                  0, 0, 0,  //
                                  0, 0, 0});
  CHECK(background_colour(set) == 0);
  CHECK(foreground_components(set.image(0), 3, 0) == 1);
  CHECK(foreground_components(set.image(1), 3, 0) == 3);
  CHECK(foreground_components(set.image(2), 3, 0) == 0);
  CHECK(distinct_colours(set.image(0), 9) == 3);
  CHECK(distinct_colours(set.image(1), 9) == 3);
  CHECK(distinct_colours(set.image(2), 9) == 1);

  const SpriteStats s = sprite_stats(set, 0);
  CHECK(s.images == 3);
  CHECK(s.background_share == Approx((4.0 + 6.0 + 9.0) / 27.0));
  CHECK(s.components_median == 1);
  CHECK(s.components_mean == Approx(4.0 / 3.0));
  CHECK(s.colours_median == 3);
  CHECK(s.colours_mean == Approx(7.0 / 3.0));

  // A ring is one component; its hole of background is not counted.
  const ImageSet ring = set_of(3, {5, 5, 5, 5, 0, 5, 5, 5, 5});
  CHECK(foreground_components(ring.image(0), 3, 0) == 1);
  CHECK(sprite_stats(ring, 0).background_share == Approx(1.0 / 9.0));
  // Measured against another background, the "creature" is what was background.
  CHECK(foreground_components(ring.image(0), 3, 5) == 1);
}

TEST_CASE("sprite_stats: the background is the commonest pixel-0 colour; medians of even counts", "[data]") {
  const ImageSet set = set_of(2, {7, 1, 1, 1,  //
                                  7, 7, 7, 7,  //
                                  2, 0, 0, 2,  //
                                  7, 2, 2, 7});
  CHECK(background_colour(set) == 7);
  const SpriteStats s = sprite_stats(set, 7);
  // components: 1, 0, 1 (all four pixels are not 7: one region), 2 (the two 2s touch only diagonally)
  CHECK(s.components_median == 1);
  CHECK(s.components_mean == Approx(1.0));
  // colours: 2, 1, 2, 2
  CHECK(s.colours_median == 2);
  CHECK(s.background_share == Approx((1.0 + 4.0 + 0.0 + 2.0) / 16.0));
  CHECK_THROWS_WITH(sprite_stats(ImageSet{}, 0), Contains("no images"));
  CHECK_THROWS_WITH(background_colour(ImageSet{}), Contains("no images"));
}
