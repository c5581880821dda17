// walk_latent — what a VAE's code means: hold every code dimension at the
// prior's centre (zero) but two, sweep those two over a grid, and decode every
// point. Smooth changes across the picture show a code the decoder can read.
//
// Train a VAE first, then walk dimensions 0 and 1 (or any two of its ten):
//   vae_pokemon train --data DIR --out RUN
//   walk_latent DIR RUN/model.safetensors walk.png [DIM_I DIM_J]
// Row r of walk.png sets DIM_I to one value from −3 to 3, column c sets DIM_J.
#include <deepgen/data/pokemon.hpp>
#include <deepgen/io/figures.hpp>
#include <deepgen/io/png.hpp>
#include <deepgen/models/latent_paths.hpp>
#include <deepgen/models/vae_sprites.hpp>

#include "cli_checks.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

int main(int argc, char** argv) {
  using namespace deepgen;
  if (argc != 4 && argc != 6) {
    std::fprintf(stderr, "usage: walk_latent DATA_DIR MODEL.safetensors OUT.png [DIM_I DIM_J]\n");
    return 1;
  }
  const std::string data_dir = argv[1], weights = argv[2], out = argv[3];
  // The arguments are checked before anything is read and before OUT.png is touched.
  const CLI::Validator dimension_check = cli_checks::whole(0, cli_checks::MAX_LATENT - 1);
  for (const std::string& why : {cli_checks::check_argument("OUT.png", out, cli_checks::output_file()),
                                 argc == 6 ? cli_checks::check_argument("DIM_I", argv[4], dimension_check) : "",
                                 argc == 6 ? cli_checks::check_argument("DIM_J", argv[5], dimension_check) : ""})
    if (!why.empty()) {
      std::fprintf(stderr, "error: %s\n", why.c_str());
      return 1;
    }
  try {
    // The two dimensions to sweep: whole numbers here, and sweep_two_dimensions
    // checks that the model's code has them.
    auto dimension = [&](int arg, int64_t fallback) -> int64_t {
      if (argc != 6) return fallback;
      char* end = nullptr;
      const long long d = std::strtoll(argv[arg], &end, 10);
      DEEPGEN_CHECK(end != argv[arg] && *end == '\0', "'", argv[arg], "' is not a dimension; give two such as 0 1");
      return d;
    };
    const int64_t dim_i = dimension(4, 0), dim_j = dimension(5, 1);
    // The data gives the palette and the sprite size the model was trained on.
    const data::PokemonData pokemon = data::load_pokemon(data_dir);
    const int side = int(pokemon.all.side);
    const models::VAE<float> model = models::load_vae(weights, pokemon.all.pixels_per_image(), pokemon.palette.size());

    // The prior is a standard normal, so ±3 covers almost every code the
    // encoder gives; 7 points a side puts the centre (0, 0) in the middle.
    const int64_t grid = 7;
    const double range = 3.0;
    const Tensor<float> centre(Shape{1, model.latent()});  // zeros: the prior's mean
    const Tensor<float> codes = models::sweep_two_dimensions(centre, dim_i, dim_j, grid, range);  // (grid², D)

    // Argmax draws each pixel in its likeliest colour: crisp sprites that
    // change only where the decoder's mind changes.
    const int scale = 4;  // 20×20 sprites drawn 80×80
    const auto cells = models::render_codes(model, codes, models::SpriteLook::argmax, pokemon.palette, side, scale);
    io::write_png(out, io::grid(cells, int(grid), /*separator_px=*/2));
    std::printf("wrote %s\n", out.c_str());
    return 0;
  } catch (const std::exception& e) {  // deepgen::Error says what went wrong and how to fix it
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
