// A folder of sprites: natural order, stray files skipped with the reason,
// an empty folder refused.
#include <deepgen/data/pokemon.hpp>
#include <deepgen/data/sprites.hpp>
#include <deepgen/io/png.hpp>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using namespace deepgen;
using namespace deepgen::data;
using io::Rgb;
using io::RgbImage;
using Catch::Matchers::Contains;

TEST_CASE("natural_less: numbers compare as numbers", "[data][sprites]") {
  std::vector<std::string> names = {"10.gif", "2.gif", "1.gif", "100.gif", "2a.gif", "b.png", "02.gif"};
  std::sort(names.begin(), names.end(), natural_less);
  CHECK(names == std::vector<std::string>{"1.gif", "02.gif", "2.gif", "2a.gif", "10.gif", "100.gif", "b.png"});
}

TEST_CASE("load_sprites: images in natural order, bad files skipped and named", "[data][sprites]") {
  test::TempDir dir;
  for (int n : {10, 2, 1}) io::write_png((dir.path / (std::to_string(n) + ".png")).string(),
                                         RgbImage(6, 6, Rgb{uint8_t(n), 0, 0}));
  dir.write("notes.txt", "not a picture");
  const std::vector<uint8_t> png = io::encode_png(RgbImage(6, 6, Rgb{1, 2, 3}));
  dir.write("broken.png", std::string(png.begin(), png.begin() + 20));
  std::filesystem::create_directories(dir.path / "back");  // subfolders are not entered
  io::write_png((dir.path / "back" / "0.png").string(), RgbImage(6, 6));

  const SpriteSet s = load_sprites(dir.path.string(), Crop::center, 4);
  REQUIRE(s.images.size() == 3);
  CHECK(s.images[0].get(0, 0) == Rgb{1, 0, 0});
  CHECK(s.images[1].get(0, 0) == Rgb{2, 0, 0});
  CHECK(s.images[2].get(0, 0) == Rgb{10, 0, 0});
  CHECK(s.images[0].width == 4);
  REQUIRE(s.skipped.size() == 2);
  CHECK_THAT(s.skipped[0], Contains("broken.png") && Contains("truncated or corrupt"));
  CHECK_THAT(s.skipped[1], Contains("notes.txt") && Contains("not a PNG or GIF"));
}

TEST_CASE("load_sprites: a folder with nothing usable is an error that says why", "[data][sprites]") {
  test::TempDir dir;
  REQUIRE_THROWS_WITH(load_sprites(dir.path.string(), Crop::fit, 20),
                      Contains("holds no PNG or GIF image") && Contains("0 files"));
  dir.write("readme.md", "# sprites");
  REQUIRE_THROWS_WITH(load_sprites(dir.path.string(), Crop::fit, 20),
                      Contains("none readable") && Contains("readme.md"));
  REQUIRE_THROWS_WITH(load_sprites((dir.path / "missing").string(), Crop::fit, 20),
                      Contains("is not a folder"));
  REQUIRE_THROWS_WITH(load_sprites(dir.path.string(), Crop::fit, 0), Contains("target size 0"));
}

TEST_CASE("save_pixel_colors / save_colormap: the lecture's format, read back unchanged", "[data][sprites]") {
  test::TempDir dir;
  Palette p;
  p.rgb = {io::WHITE, Rgb{0, 10, 200}, Rgb{7, 8, 9}};
  ImageSet set;
  set.count = 2;
  set.side = 2;
  set.pixels = {0, 1, 2, 0, 2, 2, 1, 0};
  save_colormap((dir.path / "colormap.txt").string(), p);
  save_pixel_colors((dir.path / "pixel_color.txt").string(), set);
  const PokemonData back = load_pokemon(dir.path.string());
  CHECK(back.palette.rgb == p.rgb);
  CHECK(back.all.side == 2);
  CHECK(back.all.pixels == set.pixels);
  set.pixels[3] = -1;
  REQUIRE_THROWS_WITH(save_pixel_colors((dir.path / "pixel_color.txt").string(), set),
                      Contains("image 0 pixel 3 has index -1"));
  CHECK(load_pokemon(dir.path.string()).all.pixels == back.all.pixels);  // the saved file is untouched
}
