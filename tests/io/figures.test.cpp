// Tests for io/figures.hpp: palette rendering (with hidden pixels), grid
// geometry and labels, text and line plots, on the canvas in memory.
#include <catch2/catch.hpp>

#include <deepgen/io/figures.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace deepgen::io;
using deepgen::Palette;
using Catch::Contains;

namespace {

Palette test_palette() {
  Palette p;
  p.rgb = {{255, 255, 255}, {10, 20, 30}, {200, 0, 0}, {0, 150, 0}};
  return p;
}

// Pixels in the rectangle [x0, x1) × [y0, y1) that are darker than mid grey.
int dark_pixels(const RgbImage& img, int x0, int y0, int x1, int y1) {
  int n = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) n += img.get(x, y)[0] < 128;
  return n;
}

int count_colour(const RgbImage& img, Rgb c) {
  int n = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) n += img.get(x, y) == c;
  return n;
}

}  // namespace

TEST_CASE("figures: render_palette_image upscales by nearest neighbour", "[figures]") {
  const Palette pal = test_palette();
  const int32_t idx[4] = {0, 1, 2, 3};  // 2x2: white, dark, red / green
  SECTION("scale 3") {
    const RgbImage img = render_palette_image(idx, 2, pal, 3);
    REQUIRE(img.width == 6);
    REQUIRE(img.height == 6);
    CHECK(img.get(0, 0) == Rgb{255, 255, 255});
    CHECK(img.get(2, 2) == Rgb{255, 255, 255});
    CHECK(img.get(3, 0) == Rgb{10, 20, 30});
    CHECK(img.get(5, 2) == Rgb{10, 20, 30});
    CHECK(img.get(0, 3) == Rgb{200, 0, 0});
    CHECK(img.get(5, 5) == Rgb{0, 150, 0});
  }
  SECTION("scale 1 is the image itself") {
    const RgbImage img = render_palette_image(idx, 2, pal);
    REQUIRE(img.width == 2);
    CHECK(img.get(1, 1) == Rgb{0, 150, 0});
  }
  SECTION("hidden pixels") {
    const int32_t part[4] = {0, 1, -1, -1};
    REQUIRE_THROWS_WITH(render_palette_image(part, 2, pal, 2),
                        Contains("pixel (0, 1) has index -1") && Contains("Hidden::grey"));
    const RgbImage img = render_palette_image(part, 2, pal, 2, Hidden::grey);
    CHECK(img.get(0, 0) == WHITE);
    CHECK(img.get(3, 1) == Rgb{10, 20, 30});
    CHECK(img.get(0, 2) == HIDDEN_GREY);
    CHECK(img.get(3, 3) == HIDDEN_GREY);
  }
  SECTION("index past the palette") {
    const int32_t bad[4] = {0, 1, 2, 4};
    REQUIRE_THROWS_WITH(render_palette_image(bad, 2, pal, 1, Hidden::grey),
                        Contains("pixel (1, 1) has index 4 but the palette has 4 colours (0..3)"));
  }
  SECTION("bad scale") {
    REQUIRE_THROWS_WITH(render_palette_image(idx, 2, pal, 0), Contains("scale is 0"));
  }
  SECTION("from an ImageSet") {
    deepgen::ImageSet set;
    set.count = 2;
    set.side = 2;
    set.pixels = {0, 0, 0, 0, 3, 2, 1, 0};
    const RgbImage img = render_image(set, 1, pal, 2);
    REQUIRE(img.width == 4);
    CHECK(img.get(0, 0) == Rgb{0, 150, 0});
    CHECK(img.get(3, 3) == WHITE);
    REQUIRE_THROWS_WITH(render_image(set, 2, pal), Contains("image 2 does not exist"));
  }
}

TEST_CASE("figures: grid geometry", "[figures]") {
  // Five 4x3 cells, cell i filled with grey (i+1)*30.
  std::vector<RgbImage> cells;
  for (int i = 0; i < 5; ++i) {
    const uint8_t v = uint8_t((i + 1) * 30);
    cells.emplace_back(4, 3, Rgb{v, v, v});
  }
  auto cell_colour = [](int i) {
    const uint8_t v = uint8_t((i + 1) * 30);
    return Rgb{v, v, v};
  };

  SECTION("3 columns, 1 px separators") {
    const RgbImage g = grid(cells, 3);
    REQUIRE(g.width == 1 + 3 * (4 + 1));  // 16
    REQUIRE(g.height == 1 + 2 * (3 + 1));  // 9
    for (int i = 0; i < 5; ++i) {
      const int x = 1 + (i % 3) * 5, y = 1 + (i / 3) * 4;
      CHECK(g.get(x, y) == cell_colour(i));
      CHECK(g.get(x + 3, y + 2) == cell_colour(i));
    }
    CHECK(g.get(0, 0) == LIGHT_GREY);     // border
    CHECK(g.get(5, 1) == LIGHT_GREY);     // between cells 0 and 1
    CHECK(g.get(2, 4) == LIGHT_GREY);     // between the rows
    CHECK(g.get(15, 8) == LIGHT_GREY);    // border
    CHECK(g.get(12, 6) == LIGHT_GREY);    // the unused sixth slot
    CHECK(count_colour(g, LIGHT_GREY) == 16 * 9 - 5 * 12);
  }
  SECTION("wider separators in a chosen colour") {
    const RgbImage g = grid(cells, 5, 2, Rgb{255, 0, 255});
    REQUIRE(g.width == 2 + 5 * (4 + 2));
    REQUIRE(g.height == 2 + 1 * (3 + 2));
    CHECK(g.get(2 + 4 * 6, 2) == cell_colour(4));
    CHECK(g.get(1, 1) == Rgb{255, 0, 255});
  }
  SECTION("no separators, fewer cells than columns") {
    const RgbImage g = grid(cells, 8, 0);
    REQUIRE(g.width == 5 * 4);
    REQUIRE(g.height == 3);
    CHECK(g.get(19, 2) == cell_colour(4));
  }
  SECTION("bad arguments") {
    REQUIRE_THROWS_WITH(grid({}, 3), Contains("no cells"));
    REQUIRE_THROWS_WITH(grid(cells, 0), Contains("columns is 0"));
    REQUIRE_THROWS_WITH(grid(cells, 2, -1), Contains("separator_px is -1"));
    auto mixed = cells;
    mixed.emplace_back(5, 3);
    REQUIRE_THROWS_WITH(grid(mixed, 3), Contains("cell 5 is 5x3 but cell 0 is 4x3"));
    REQUIRE_THROWS_WITH(grid(cells, 3, 1, LIGHT_GREY, {"a"}),
                        Contains("1 row labels for 2 rows") && Contains("one label per row"));
  }
}

TEST_CASE("figures: grid row labels are drawn in a margin on the left", "[figures]") {
  std::vector<RgbImage> cells(4, RgbImage(40, 40, Rgb{0, 0, 255}));
  const RgbImage plain = grid(cells, 2);
  const RgbImage labelled = grid(cells, 2, 1, LIGHT_GREY, {"T=0.5", "keep 50%"});
  const int margin = labelled.width - plain.width;
  REQUIRE(margin >= text_width("keep 50%"));
  REQUIRE(labelled.height == plain.height);
  // The grid itself is shifted right by the margin, unchanged.
  int moved = 0;
  for (int y = 0; y < plain.height; ++y)
    for (int x = 0; x < plain.width; ++x) moved += labelled.get(margin + x, y) == plain.get(x, y);
  CHECK(moved == plain.width * plain.height);
  // Each row's band of the margin has ink; its text fits inside the band.
  const int row0 = dark_pixels(labelled, 0, 1, margin, 41);
  const int row1 = dark_pixels(labelled, 0, 42, margin, 82);
  CHECK(row0 > 10);
  CHECK(row1 > row0);  // "keep 50%" has more strokes than "T=0.5"
  CHECK(dark_pixels(labelled, 0, 0, margin, labelled.height) == row0 + row1);
  // Different labels, different pixels.
  const RgbImage other = grid(cells, 2, 1, LIGHT_GREY, {"T=1.0", "keep 50%"});
  CHECK(other.rgb != labelled.rgb);
}

TEST_CASE("figures: text", "[figures]") {
  CHECK(text_width("") == 0);
  CHECK(text_width("A") > 0);
  CHECK(text_width("AB", 3) == 3 * text_width("AB"));
  RgbImage img(60, 14, WHITE);
  draw_text(img, 2, 2, " ");
  CHECK(count_colour(img, WHITE) == 60 * 14);
  draw_text(img, 2, 2, "Hi");
  const int ink = dark_pixels(img, 0, 0, 60, 14);
  CHECK(ink > 5);
  CHECK(dark_pixels(img, 2, 2, 2 + text_width("Hi"), 2 + text_height()) == ink);
  draw_text(img, 40, 2, "\xc3\xa9\t", Rgb{255, 0, 0});  // non-ASCII is drawn as '?', no crash
  CHECK(count_colour(img, Rgb{255, 0, 0}) > 0);
  draw_text(img, -100, -100, "off the canvas");  // clipped, no throw
}

TEST_CASE("figures: plot_curves", "[figures]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<Series> series = {
      {"train", {{0, 3.5}, {1, 3.0}, {2, 2.6}, {5, 2.2}, {10, 2.0}}},
      {"test", {{0, 3.6}, {1, 3.2}, {2, nan}, {5, 2.5}, {10, 2.4}}},
  };
  const RgbImage img = plot_curves(series, 480, 300, "TEST NLL vs minutes", "minutes", "nats/pixel");
  REQUIRE(img.width == 480);
  REQUIRE(img.height == 300);
  CHECK(count_colour(img, Rgb{31, 119, 180}) > 100);   // first series colour
  CHECK(count_colour(img, Rgb{255, 127, 14}) > 100);   // second series colour
  CHECK(dark_pixels(img, 0, 0, img.width, 14) > 20);   // the title
  SECTION("edge cases draw axes without throwing") {
    CHECK(plot_curves({}, 200, 150, "empty").width == 200);
    CHECK(plot_curves({{"one point", {{1, 1}}}}, 200, 150, "").height == 150);
    CHECK(plot_curves({{"flat", {{0, 2}, {1, 2}}}}, 200, 150, "flat").width == 200);
    CHECK(plot_curves({{"nan", {{nan, nan}}}}, 200, 150, "nan").width == 200);
  }
  SECTION("too small") {
    REQUIRE_THROWS_WITH(plot_curves(series, 100, 50, "x"), Contains("100x50") && Contains("too small"));
  }
}
