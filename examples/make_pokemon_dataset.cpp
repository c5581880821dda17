// make_pokemon_dataset — a folder of sprites (PNG, or GIF's first frame) to
// the lecture's palette dataset: pixel_color.txt and colormap.txt, which every
// other program reads unchanged, plus two pictures to look at.
//
//   make_pokemon_dataset --images DIR --out DIR [--colors K] [--min-count N]
//                        [--crop center|fit] [--size S] [--seed S]
//
// Writes OUT/pixel_color.txt, OUT/colormap.txt, OUT/contact_sheet.png (the
// first 64 images, quantised) and OUT/palette.png. Lines on stdout are read by
// scripts; keep their form:
//   images=<n> skipped=<n> size=<s> crop=<mode> K=<k> mean_rgb_error=<v>
//   wrote <path>
// Warnings (skipped files, fewer colours than asked for) go to stderr.
#include <deepgen/data/crop.hpp>
#include <deepgen/data/pokemon.hpp>
#include <deepgen/data/quantize.hpp>
#include <deepgen/data/sprites.hpp>
#include <deepgen/io/figures.hpp>
#include <deepgen/io/png.hpp>

#include "cli_checks.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>

using namespace deepgen;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The palette as swatches, 16 to a row, in index order.
io::RgbImage palette_picture(const data::Palette& palette) {
  std::vector<io::RgbImage> swatches;
  for (const auto& c : palette.rgb) swatches.emplace_back(16, 16, c);
  return io::grid(swatches, 16, 1, io::LIGHT_GREY);
}

struct Options {
  std::string images, out, crop = "center";
  int colors = 167, size = 20;
  int64_t min_count = 20;
  uint64_t seed = 0;
};

int run(const Options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const data::Crop mode = data::parse_crop(o.crop);
  const data::SpriteSet sprites = data::load_sprites(o.images, mode, o.size);
  for (const auto& why : sprites.skipped) std::fprintf(stderr, "warning: skipped %s\n", why.c_str());
  std::fprintf(stderr, "loaded %zu images from %s in %.2f s\n", sprites.images.size(), o.images.c_str(),
               seconds_since(t0));

  const auto t1 = std::chrono::steady_clock::now();
  const data::ColorCounts counts = data::count_colors(sprites.images);
  if (counts.size() < size_t(o.colors))
    std::fprintf(stderr,
                 "warning: --colors %d is more than the %zu distinct colours of the images; "
                 "the palette keeps every one of them\n",
                 o.colors, counts.size());
  data::QuantizeOptions q;
  q.colors = o.colors;
  q.min_count = o.min_count;
  q.seed = o.seed;
  data::Palette palette = data::build_palette(counts, q);
  data::ImageSet set = data::quantize(sprites.images, palette);
  data::order_by_first_appearance(palette, set);
  const double error = data::mean_rgb_error(sprites.images, set, palette);
  std::fprintf(stderr, "palette of %d colours from %zu distinct in %.2f s\n", palette.size(), counts.size(),
               seconds_since(t1));

  std::filesystem::create_directories(o.out);
  const std::string base = (std::filesystem::path(o.out) / "").string();
  data::save_pixel_colors(base + "pixel_color.txt", set);
  data::save_colormap(base + "colormap.txt", palette);
  std::vector<io::RgbImage> cells;
  for (int64_t i = 0; i < std::min<int64_t>(set.count, 64); ++i)
    cells.push_back(io::render_image(set, i, palette, 4));
  io::write_png(base + "contact_sheet.png", io::grid(cells, 8));
  io::write_png(base + "palette.png", palette_picture(palette));
  for (const char* f : {"pixel_color.txt", "colormap.txt", "contact_sheet.png", "palette.png"})
    std::printf("wrote %s%s\n", base.c_str(), f);
  std::printf("images=%lld skipped=%zu size=%d crop=%s K=%d mean_rgb_error=%.4f\n",
              static_cast<long long>(set.count), sprites.skipped.size(), o.size, o.crop.c_str(),
              palette.size(), error);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Sprites (PNG/GIF) to the lecture's palette dataset: pixel_color.txt and colormap.txt"};
  Options o;
  using cli_checks::whole;
  app.add_option("--images", o.images, "folder of sprite files (PNG, GIF; subfolders are not read)")->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--out", o.out, "output folder (created if missing)")->required()->check(cli_checks::output_folder());
  app.add_option("--colors", o.colors, "K: palette colours from k-means, white included")
      ->capture_default_str()->check(whole(1, cli_checks::MAX_COLORS));
  app.add_option("--min-count", o.min_count, "merge colours used by fewer pixels into their nearest kept colour")
      ->capture_default_str()->check(whole(0, cli_checks::MAX_MIN_COUNT));
  app.add_option("--crop", o.crop, "center: the centre SxS at native size (the lecture's); fit: the "
                                   "sprite's bounding box scaled to SxS")
      ->capture_default_str()->check(CLI::IsMember({"center", "fit"}));
  app.add_option("--size", o.size, "S: images are S x S pixels")->capture_default_str()
      ->check(whole(1, cli_checks::MAX_SPRITE_SIZE));
  app.add_option("--seed", o.seed, "k-means++ seed; the same seed gives the same palette")->capture_default_str()
      ->check(cli_checks::seed());
  DEEPGEN_CLI_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
