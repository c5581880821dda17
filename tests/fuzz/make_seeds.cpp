// tests/fuzz/make_seeds.cpp — writes the generated seeds of tests/fuzz/corpus/
// (the model checkpoints and images; the text seeds are written by hand).
// Not part of the build; scripts/fuzz.sh does not need it. To regenerate:
//   g++ -std=c++17 -Iinclude -I/usr/include/eigen3 tests/fuzz/make_seeds.cpp -o /tmp/make_seeds
//   /tmp/make_seeds tests/fuzz/corpus
#include <deepgen/io/png.hpp>
#include <deepgen/models/pixelrnn_sprites.hpp>
#include <deepgen/models/vae_sprites.hpp>
#include <deepgen/train/checkpoint.hpp>

#include <cstdio>
#include <string>

using namespace deepgen;

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  Philox rng(1);
  // safetensors_model: a lecture PixelRNN (no metadata), a 2-D context one
  // (metadata), a VAE and an AE, all for 4 colours and 2 x 2 images.
  models::PixelRNNConfig lecture;
  lecture.palette_size = 4;
  lecture.hidden_size = 2;
  models::PixelRNN<float> a(lecture, rng);
  io::save_safetensors<float>(dir + "/safetensors_model/pixelrnn_lecture.safetensors", io::parameter_tensors(a));
  models::PixelRNNConfig above = lecture;
  above.context = models::PixelContext::above;
  above.width = above.height = 2;
  models::PixelRNN<float> b(above, rng);
  io::save_safetensors<float>(dir + "/safetensors_model/pixelrnn_above.safetensors", io::parameter_tensors(b),
                              models::pixelrnn_metadata(above));
  for (auto mode : {models::VAEMode::vae, models::VAEMode::ae}) {
    models::VAEConfig c = models::VAEConfig::standard(4, 4, mode);
    c.latent = 2;
    c.encoder_hidden = {3};
    c.decoder_hidden = {3};
    c.colour_dim = mode == models::VAEMode::vae ? 2 : 0;
    models::VAE<float> v(c, rng);
    io::save_safetensors<float>(dir + "/safetensors_model/" + to_string(mode) + ".safetensors",
                                io::parameter_tensors(v));
  }
  // safetensors: F32 and F64 files with metadata, an empty tensor and a scalar.
  Tensor<float> m({2, 3}), s = Tensor<float>::scalar(1.5f), e({0, 4});
  for (int64_t i = 0; i < m.numel(); ++i) m[i] = float(i) - 2.5f;
  io::save_safetensors<float>(dir + "/safetensors/f32.safetensors", {{"w", &m}, {"s", &s}, {"e", &e}},
                              {{"epoch", "3"}});
  Tensor<double> d({3}, {1.0, -2.0, 1e300});
  io::save_safetensors<double>(dir + "/safetensors/f64.safetensors", {{"fc.weight", &d}});
  // image: an opaque RGB PNG (the RGBA PNG and GIF seeds are the test fixtures).
  io::RgbImage img(3, 2);
  img.set(0, 0, 255, 0, 0);
  img.set(2, 1, 0, 0, 255);
  io::write_png(dir + "/image/rgb.png", img);
  std::printf("seeds written under %s\n", dir.c_str());
  return 0;
}
