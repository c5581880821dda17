// complete_pokemon — the PixelRNN's party trick in a few lines: show a trained
// model the top half of Pokémon it never saw, and let it draw the bottom half.
//
// Train a model first, then complete the first TEST images:
//   pixelrnn_pokemon train --data DIR --out RUN
//   complete_pokemon DIR RUN/model.safetensors completions.png
// Each row of completions.png: what the model saw (the hidden half in grey),
// three completions, and the real Pokémon.
#include <deepgen/data/pokemon.hpp>
#include <deepgen/io/figures.hpp>
#include <deepgen/io/png.hpp>
#include <deepgen/models/pixelrnn_sprites.hpp>

#include "cli_checks.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) {
  using namespace deepgen;
  if (argc != 4) {
    std::fprintf(stderr, "usage: complete_pokemon DATA_DIR MODEL.safetensors OUT.png\n");
    return 1;
  }
  const std::string data_dir = argv[1], weights = argv[2], out = argv[3];
  // Refused before the model is read, and before an earlier OUT.png is touched.
  if (const std::string why = cli_checks::check_argument("OUT.png", out, cli_checks::output_file()); !why.empty()) {
    std::fprintf(stderr, "error: %s\n", why.c_str());
    return 1;
  }
  try {
    // pixel_color.txt and colormap.txt, split as in training: TEST holds the
    // images the model never learned from.
    const data::PokemonSplit split = data::load_pokemon_split(data_dir);
    const data::Palette& palette = split.data.palette;
    const models::PixelRNN<float> model = models::load_pixelrnn(weights, palette.size());

    // The model reads pixels row by row, so the top half is the first half of
    // the sequence; the rest it draws one pixel at a time.
    const int64_t keep = models::kept_pixels(0.5, split.test.side);
    const int64_t count = std::min<int64_t>(4, split.test.count), samples = 3;
    // One batch row per (image, completion): every completion runs at once.
    const Tensor<int32_t> batch = models::repeat_images(split.test, count, samples);
    // Temperature 1 draws from the model's own distribution (0 would always
    // take the likeliest colour and give three identical completions); the
    // seed makes the picture repeat from run to run.
    const Tensor<int32_t> completed = model.complete(batch, keep, {/*temperature=*/1.0, /*top_k=*/0}, /*seed=*/1);

    const int scale = 4;  // 20×20 sprites drawn 80×80
    const auto cells = models::completion_cells(split.test, completed, keep, samples, palette, scale);
    io::write_png(out, io::grid(cells, int(samples) + 2, /*separator_px=*/2));
    std::printf("wrote %s\n", out.c_str());
    return 0;
  } catch (const std::exception& e) {  // deepgen::Error says what went wrong and how to fix it
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
