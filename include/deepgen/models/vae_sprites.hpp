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
#include <string>
#include <vector>

#include "../data/pokemon.hpp"
#include "../io/png.hpp"
#include "../io/safetensors.hpp"
#include "vae.hpp"

namespace deepgen::models {

/// How a decoded code becomes a sprite.
enum class SpriteLook {
  argmax,  ///< the likeliest colour of every pixel
  mean,    ///< the probability-weighted mean RGB of every pixel
  sample   ///< a colour drawn for every pixel
};

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

}  // namespace deepgen::models
