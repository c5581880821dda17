// models/vae_sprites.hpp — a VAE (or AE) of palette images as the picture
// commands use it: loaded from a checkpoint whose shapes give its sizes, and
// codes decoded into sprites, each drawn in one of three looks.
//
// The mean look draws each pixel as the probability-weighted mean of the
// palette's RGB colours: the lecture's soft pictures, which show where the
// model hesitates between colours; argmax keeps them crisp.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "../data/pokemon.hpp"
#include "../io/figures.hpp"
#include "../io/safetensors.hpp"
#include "latent_paths.hpp"
#include "option_text.hpp"
#include "vae.hpp"

namespace deepgen::models {

/// How a decoded code becomes a sprite.
enum class SpriteLook {
  argmax,  ///< the likeliest colour of every pixel
  mean,    ///< the probability-weighted mean RGB of every pixel
  sample   ///< a colour drawn for every pixel
};

/// The look named `name`: argmax, mean or sample; throws on anything else.
inline SpriteLook sprite_look(const std::string& name) {
  DEEPGEN_CHECK(name == "argmax" || name == "mean" || name == "sample", "decode '", name,
                "': expected argmax, mean or sample");
  return name == "mean" ? SpriteLook::mean : name == "sample" ? SpriteLook::sample : SpriteLook::argmax;
}

/// Throws, saying what to pass, unless checkpoint `path`'s model (`saved`) has
/// the mode and sizes of `wanted`, the model the command line asks to resume.
inline void check_resumable(const VAEConfig& saved, const VAEConfig& wanted, const std::string& path) {
  DEEPGEN_CHECK(saved.mode == wanted.mode, "--resume: ", path, " holds a model of mode ", to_string(saved.mode),
                " but --mode is ", to_string(wanted.mode), "; pass --mode ", to_string(saved.mode),
                " or train into another --out");
  DEEPGEN_CHECK(saved.latent == wanted.latent, "--resume: ", path, " has a ", saved.latent,
                "-dimensional code but --latent is ", wanted.latent, "; pass --latent ", saved.latent);
  DEEPGEN_CHECK(saved.encoder_hidden == wanted.encoder_hidden && saved.decoder_hidden == wanted.decoder_hidden &&
                    saved.colour_dim == wanted.colour_dim,
                "--resume: ", path, " has --encoder ", join_widths(saved.encoder_hidden), " --decoder ",
                join_widths(saved.decoder_hidden), " --colour-dim ", saved.colour_dim,
                "; pass the same sizes to continue it");
}

/// The VAE in checkpoint `path`, its mode and sizes read from the tensor
/// shapes; throws unless it reads images of `pixels` pixels in `palette_size` colours.
inline VAE<float> load_vae(const std::string& path, int64_t pixels, int palette_size) {
  const auto tensors = io::load_safetensors<float>(path);
  const VAEConfig c = VAEConfig::from_parameters(tensors, palette_size, path);
  DEEPGEN_CHECK(c.pixels == pixels, path, ": the model reads images of ", c.pixels, " pixels but the data has ",
                pixels, "; use the data it was trained on");
  Philox unused(0);
  VAE<float> model(c, unused);
  model.load_parameters(tensors, path);
  return model;
}

/// The VAE in checkpoint `path`, checked against `data`: its images' pixels and its palette.
inline VAE<float> load_vae(const std::string& path, const data::PokemonData& data) {
  return load_vae(path, data.all.pixels_per_image(), data.palette.size());
}

/// One side × side sprite per code of `codes` (B, D), in `look`, each pixel
/// a scale × scale block; `seed` keys the draws of SpriteLook::sample.
inline std::vector<io::RgbImage> render_codes(const VAE<float>& model, const Tensor<float>& codes, SpriteLook look,
                                              const data::Palette& palette, int side, int scale, uint64_t seed = 0) {
  DEEPGEN_CHECK(int64_t(side) * side == model.pixels(), "render_codes: side ", side, " does not fit the model's ",
                model.pixels(), " pixels");
  const int64_t P = model.pixels(), K = model.palette_size();
  std::vector<io::RgbImage> cells;
  if (look != SpriteLook::mean) {
    const Tensor<int32_t> images =
        model.decode(codes, look == SpriteLook::sample ? PixelDecode::sample : PixelDecode::argmax, seed);
    for (int64_t b = 0; b < codes.dim(0); ++b)
      cells.push_back(io::render_palette_image(images.data() + b * P, side, palette, scale));
    return cells;
  }
  const Tensor<float> probs = model.decode_probabilities(codes);  // (B, P, K)
  for (int64_t b = 0; b < codes.dim(0); ++b) {
    io::RgbImage img(side * scale, side * scale);
    for (int64_t p = 0; p < P; ++p) {
      float rgb[3] = {0, 0, 0};
      for (int64_t k = 0; k < K; ++k)
        for (int c = 0; c < 3; ++c) rgb[c] += probs.at(b, p, k) * float(palette[int(k)][c]);
      io::Rgb colour;
      for (int c = 0; c < 3; ++c) colour[c] = uint8_t(std::lround(std::clamp(rgb[c], 0.0f, 255.0f)));
      img.fill_rect(int(p % side) * scale, int(p / side) * scale, scale, scale, colour);
    }
    cells.push_back(std::move(img));
  }
  return cells;
}

/// The first `count` images of `set` (the top row) above `model`'s
/// reconstructions of them, their codes (the means) decoded in `look` (the
/// bottom row): 2·count cells for io::grid with `count` columns.
inline std::vector<io::RgbImage> reconstruction_cells(const VAE<float>& model, const ImageSet& set, int64_t count,
                                                      SpriteLook look, const data::Palette& palette, int scale,
                                                      uint64_t seed = 0) {
  std::vector<int64_t> items(size_t(std::max<int64_t>(count, 0)));
  std::iota(items.begin(), items.end(), int64_t(0));
  std::vector<io::RgbImage> cells;
  for (int64_t i : items) cells.push_back(io::render_image(set, i, palette, scale));
  const Tensor<float> codes = model.encode(set.batch(items));
  for (auto& c : render_codes(model, codes, look, palette, int(set.side), scale, seed)) cells.push_back(std::move(c));
  return cells;
}

/// One line about `model`: its mode, parameter count, layer widths, colour dimension and code size.
inline std::string summary(const VAE<float>& model) {
  const VAEConfig& c = model.config();
  return std::string(to_string(c.mode)) + ": " + std::to_string(model.parameter_count()) + " parameters, encoder " +
         join_widths(c.encoder_hidden) + ", decoder " + join_widths(c.decoder_hidden) + ", colour dim " +
         std::to_string(c.colour_dim) + ", " + std::to_string(c.latent) + "-d code";
}

/// A checkpoint's model with the data it was trained on, as the picture
/// commands draw them: decoded codes in one look, and the TEST images.
struct VAESprites {
  data::PokemonSplit s;  ///< the data, with the fixed split
  VAE<float> model;      ///< the checkpoint's model, checked against the data
  SpriteLook look;       ///< how codes are drawn
  int scale;             ///< each pixel a scale × scale block
  uint64_t seed;         ///< keys SpriteLook::sample's draws

  /// Loads the data in folder `data_dir` and the model in checkpoint `weights`.
  VAESprites(const std::string& data_dir, const std::string& weights, SpriteLook look_ = SpriteLook::argmax,
             int scale_ = 4, uint64_t seed_ = 0)
      : s(data::load_pokemon_split(data_dir)), model(load_vae(weights, s.data)), look(look_), scale(scale_),
        seed(seed_) {}

  /// One sprite per code of `codes` (B, D).
  std::vector<io::RgbImage> codes(const Tensor<float>& codes) const {
    return render_codes(model, codes, look, s.data.palette, int(s.data.all.side), scale, seed);
  }
  /// TEST image `i`, drawn as the codes are.
  io::RgbImage test(int64_t i) const { return io::render_image(s.test, i, s.data.palette, scale); }

  /// The code (the mean) of TEST image `i`, (1, D); throws, naming `option`, unless there is one.
  Tensor<float> test_code(long long i, const char* option) const {
    DEEPGEN_CHECK(i >= 0 && i < s.test.count, option, " ", i, " is not a TEST image; use 0 … ", s.test.count - 1);
    return model.encode(s.test.batch({i}));
  }

  /// The first `count` TEST images above their reconstructions: 2·count cells (reconstruction_cells).
  std::vector<io::RgbImage> reconstructions(int64_t count) const {
    return reconstruction_cells(model, s.test, count, look, s.data.palette, scale, seed);
  }

  /// TEST images `from` and `to` framing `steps` decoded codes on the straight
  /// line between their codes (interpolate_codes): steps + 2 cells. The
  /// options named in the errors are `from_option` and `to_option`.
  std::vector<io::RgbImage> interpolation(long long from, long long to, int64_t steps,
                                          const char* from_option = "--from", const char* to_option = "--to") const {
    std::vector<io::RgbImage> cells =
        codes(interpolate_codes(test_code(from, from_option), test_code(to, to_option), steps));
    cells.insert(cells.begin(), test(from));
    cells.push_back(test(to));
    return cells;
  }
};

}  // namespace deepgen::models
