// eval/features.hpp — the fixed feature space of the yardstick: the last
// hidden layer of a small VAE encoder trained on TRAIN.
//
// A Fréchet distance or a k-NN manifold needs a space in which "looks
// alike" is "is near". The library's own VAE reads the one-hot image
// (400·167 = 66,800 inputs), so even a tiny first layer is megabytes; this
// encoder reads each pixel's palette RGB instead (3·400 inputs scaled to
// [−1, 1]), which keeps the committed checkpoint a few hundred kB and puts
// similar colours near each other, which a one-hot input cannot.
//
// RGB alone is nearly blind to pixel-level speckle: a fully connected layer
// trained on smooth sprites averages independent per-pixel changes away
// (TEST with a quarter of its pixels set to random colours scores fd 11.7
// against TEST, below TEST's two halves against each other). The option
// "rgb+edges" adds, per pixel, the colour change to its right and to its
// lower neighbour, |ΔR|+|ΔG|+|ΔB| over 3 in [0, 2] (0 past the last column
// or row): 5·400 inputs. Being magnitudes, speckle adds up in them (the same
// probe: fd 24.8). It is not the default: it puts all-white images inside
// TEST's manifold (precision 1, where RGB gives 0), and the GAN's speckle
// still scores near TEST in it. docs/gan.md has the measurements.
//
//   encoder:  input (B, IP) → Linear → ReLU → Linear → ReLU = features (B, F)
//             → Linear → [m | s] (B, 2D)              (I = 3, or 5 with edges)
//   decoder:  c = m + exp(s/2)·e → Linear → ReLU → Linear → (B, P·E)
//             logits[p, k] = f_p·C_k + b[p, k]   (as models/vae.hpp's decoder)
//   loss:     cross-entropy of the image's colours + KL(N(m, exp s) ‖ N(0, I))
//
// Only the encoder is saved (names encoder.0/2/4.*, metadata input=rgb or
// rgb+edges; files without the key are rgb, as they were made before it):
// the yardstick reads the features, never decodes. Training is fully
// determined by its seed (one thread: OMP_NUM_THREADS=1), so
// `evaluate_samples make-features` remakes the file.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "../data/pokemon.hpp"
#include "../io/safetensors.hpp"
#include "../nn/linear.hpp"
#include "../ops/elementwise.hpp"
#include "../ops/gaussian.hpp"
#include "../ops/reshape.hpp"
#include "../ops/slice.hpp"
#include "../ops/softmax_cross_entropy.hpp"
#include "../optim/adam.hpp"
#include "../optim/step.hpp"
#include "../random.hpp"

namespace deepgen::eval {

/// The value of the metadata key "model" in a feature checkpoint.
inline constexpr const char* FEATURES_MODEL = "yardstick_features";

/// Images (count × P palette indices, back to back) as (count, 3P) palette
/// RGB in [−1, 1], pixel p's R, G, B at columns 3p, 3p+1, 3p+2.
inline Tensor<float> palette_rgb(const int32_t* pixels, int64_t count, int64_t P, const Palette& palette) {
  Tensor<float> out(Shape{count, 3 * P});
  for (int64_t i = 0; i < count * P; ++i) {
    const int32_t c = pixels[i];
    DEEPGEN_CHECK(c >= 0 && c < palette.size(), "palette_rgb: image ", i / P, " pixel ", i % P, " has colour ", c,
                  "; the palette has ", palette.size(), " colours (0 … ", palette.size() - 1, ")");
    for (int j = 0; j < 3; ++j) out[3 * i + j] = float(palette.rgb[size_t(c)][size_t(j)]) / 127.5f - 1.0f;
  }
  return out;
}

/// Images as palette RGB followed by their edge channels, (count, 5P): the
/// columns of palette_rgb, then P right-neighbour and P lower-neighbour colour
/// changes, (|ΔR| + |ΔG| + |ΔB|)/3 of the scaled colours, 0 at the last column
/// or row. Images are square (P = side²).
inline Tensor<float> palette_rgb_edges(const int32_t* pixels, int64_t count, int64_t P, const Palette& palette) {
  int64_t side = 0;
  while ((side + 1) * (side + 1) <= P) ++side;
  DEEPGEN_CHECK(side * side == P, "palette_rgb_edges: images of ", P, " pixels are not square");
  const Tensor<float> rgb = palette_rgb(pixels, count, P, palette);
  Tensor<float> out(Shape{count, 5 * P});
  for (int64_t i = 0; i < count; ++i) {
    const float* in = rgb.data() + i * 3 * P;
    float* o = out.data() + i * 5 * P;
    std::copy(in, in + 3 * P, o);
    auto change = [&](int64_t p, int64_t q) {
      return (std::abs(in[3 * p] - in[3 * q]) + std::abs(in[3 * p + 1] - in[3 * q + 1]) +
              std::abs(in[3 * p + 2] - in[3 * q + 2])) / 3.0f;
    };
    for (int64_t r = 0; r < side; ++r)
      for (int64_t c = 0; c < side; ++c) {
        const int64_t p = r * side + c;
        o[3 * P + p] = c + 1 < side ? change(p, p + 1) : 0.0f;
        o[4 * P + p] = r + 1 < side ? change(p, p + side) : 0.0f;
      }
  }
  return out;
}

/// What the feature encoder reads.
enum class FeatureInput {
  rgb,        ///< palette_rgb: 3P inputs, the default (and feature files made before the key existed)
  rgb_edges,  ///< palette_rgb_edges: 5P inputs
};

/// The metadata value of `input`.
inline const char* feature_input_name(FeatureInput input) { return input == FeatureInput::rgb ? "rgb" : "rgb+edges"; }

/// Sizes of the feature VAE.
struct FeatureConfig {
  FeatureInput input = FeatureInput::rgb;  ///< what the encoder reads
  int64_t pixels = 0;        ///< P
  int64_t palette_size = 0;  ///< K
  int64_t hidden = 128;      ///< the encoder's first layer
  int64_t features = 32;     ///< F, the encoder's second layer: the feature space
  int64_t latent = 8;        ///< D
  int64_t colour_dim = 8;    ///< E, the decoder's per-pixel features

  /// Inputs per image: 3P or 5P.
  int64_t input_width() const { return (input == FeatureInput::rgb ? 3 : 5) * pixels; }
};

/// The encoder's input for `count` images: palette_rgb or palette_rgb_edges.
inline Tensor<float> feature_input(const int32_t* pixels, int64_t count, const FeatureConfig& c,
                                   const Palette& palette) {
  return c.input == FeatureInput::rgb ? palette_rgb(pixels, count, c.pixels, palette)
                                      : palette_rgb_edges(pixels, count, c.pixels, palette);
}

/// The encoder half: input (B, 3P or 5P) → features (B, F) → [m | s].
class FeatureEncoder : public nn::Module<float> {
 public:
  /// Weights from `rng` (PyTorch's nn.Linear init).
  FeatureEncoder(const FeatureConfig& c, Philox& rng)
      : m_config(c), m_l0(c.input_width(), c.hidden, rng), m_l1(c.hidden, c.features, rng),
        m_l2(c.features, 2 * c.latent, rng) {
    DEEPGEN_CHECK(c.pixels > 0 && c.palette_size > 0 && c.hidden > 0 && c.features > 0 && c.latent > 0,
                  "FeatureEncoder: every size must be positive");
  }

  /// Its sizes.
  const FeatureConfig& config() const { return m_config; }

  /// The feature layer (after its ReLU), as a graph node.
  Var<float> features(const Var<float>& input) const { return relu(m_l1(relu(m_l0(input)))); }
  /// [m | s] from the features.
  Var<float> head(const Var<float>& features) const { return m_l2(features); }

  /// The features of `count` images (back to back in `pixels`), (count, F), without a graph.
  Tensor<float> embed(const int32_t* pixels, int64_t count, const Palette& palette) const {
    DEEPGEN_CHECK(count > 0, "FeatureEncoder::embed: no images");
    DEEPGEN_CHECK(palette.size() == m_config.palette_size, "the feature model was made for a palette of ",
                  m_config.palette_size, " colours but the data has ", palette.size(),
                  "; make it for this data (evaluate_samples make-features)");
    NoGradGuard no_grad;
    return features(Var<float>(feature_input(pixels, count, m_config, palette))).value();
  }

  /// The features of every image of `set`.
  Tensor<float> embed(const ImageSet& set, const Palette& palette) const {
    DEEPGEN_CHECK(set.pixels_per_image() == m_config.pixels, "the feature model reads images of ", m_config.pixels,
                  " pixels but these have ", set.pixels_per_image());
    return embed(set.pixels.data(), set.count, palette);
  }

  void collect_parameters(const std::string& prefix, nn::NamedParameters<float>& out) const override {
    m_l0.collect_parameters(prefix + "encoder.0.", out);
    m_l1.collect_parameters(prefix + "encoder.2.", out);
    m_l2.collect_parameters(prefix + "encoder.4.", out);
  }

 private:
  FeatureConfig m_config;
  nn::Linear<float> m_l0, m_l1, m_l2;
};

/// The whole feature VAE, for training only: the encoder above and a decoder.
class FeatureVAE : public nn::Module<float> {
 public:
  /// Encoder first, then the decoder, all from `rng`.
  FeatureVAE(const FeatureConfig& c, Philox& rng)
      : encoder(c, rng), m_d0(c.latent, 128, rng), m_d1(128, c.pixels * c.colour_dim, rng) {
    Tensor<float> colours(Shape{c.palette_size, c.colour_dim});
    fill_uniform(colours, rng, -1.0f / std::sqrt(float(c.colour_dim)), 1.0f / std::sqrt(float(c.colour_dim)));
    m_colours = Var<float>(std::move(colours), true);
    m_pixel_bias = Var<float>(Tensor<float>(Shape{c.pixels, c.palette_size}), true);
  }

  FeatureEncoder encoder;  ///< what the yardstick keeps

  /// Reconstruction + KL of a batch, nats per image, as a graph; `noise` (B, D).
  Var<float> loss(const Tensor<int32_t>& images, const Palette& palette, const Tensor<float>& noise) const {
    const FeatureConfig& c = encoder.config();
    const int64_t B = images.dim(0), D = c.latent, P = c.pixels, K = c.palette_size;
    const Var<float> enc = encoder.head(encoder.features(Var<float>(feature_input(images.data(), B, c, palette))));
    const Var<float> m = slice_columns(enc, 0, D), s = slice_columns(enc, D, 2 * D);
    const Var<float> h = m_d1(relu(m_d0(reparameterize(m, s, noise))));
    const Var<float> z = linear(reshape(h, Shape{B, P, c.colour_dim}), m_colours);
    const Var<float> logits =
        reshape(deepgen::add(reshape(z, Shape{B, P * K}), reshape(m_pixel_bias, Shape{P * K})), Shape{B, P, K});
    return deepgen::add(scale(softmax_cross_entropy(logits, images), float(P)), gaussian_kl(m, s));
  }

  void collect_parameters(const std::string& prefix, nn::NamedParameters<float>& out) const override {
    encoder.collect_parameters(prefix, out);
    m_d0.collect_parameters(prefix + "decoder.0.", out);
    m_d1.collect_parameters(prefix + "decoder.2.", out);
    this->add(out, prefix, "decoder.colours.weight", m_colours);
    this->add(out, prefix, "decoder.pixel_bias", m_pixel_bias);
  }

 private:
  nn::Linear<float> m_d0, m_d1;
  Var<float> m_colours, m_pixel_bias;
};

/// How make_feature_model trains.
struct FeatureTraining {
  int64_t epochs = 60;  ///< passes over TRAIN
  int64_t batch = 32;   ///< images per step
  double lr = 1e-3;     ///< Adam
  uint64_t seed = 1;    ///< init, order and noise
  FeatureInput input = FeatureInput::rgb;  ///< what the encoder reads
};

/// Trains the feature VAE on `train` and returns its encoder. `progress`
/// (may be null) gets each epoch's mean loss.
template <typename Progress>
FeatureEncoder make_feature_model(const ImageSet& train, const Palette& palette, const FeatureTraining& t,
                                  Progress progress) {
  DEEPGEN_CHECK(train.count > 1, "make_feature_model: need TRAIN images, got ", train.count);
  DEEPGEN_CHECK(t.epochs >= 1 && t.batch >= 1 && t.lr > 0, "make_feature_model: epochs, batch and lr must be positive");
  FeatureConfig c;
  c.input = t.input;
  c.pixels = train.pixels_per_image();
  c.palette_size = palette.size();
  Philox init(t.seed);
  FeatureVAE vae(c, init);
  optim::Adam<float> adam(vae.named_parameters(), {t.lr});
  const auto params = vae.named_parameters();
  std::vector<int64_t> order(size_t(train.count));
  for (int64_t i = 0; i < train.count; ++i) order[size_t(i)] = i;
  for (int64_t epoch = 0; epoch < t.epochs; ++epoch) {
    Philox shuffler(t.seed, 1000 + uint64_t(epoch));
    shuffle(order, shuffler);
    double total = 0;
    int64_t n = 0;
    for (int64_t first = 0; first < train.count; first += t.batch) {
      const std::vector<int64_t> items(order.begin() + first, order.begin() + std::min(train.count, first + t.batch));
      const Tensor<int32_t> images = train.batch(items);
      Philox noise_rng(t.seed, (uint64_t(1) << 40) + uint64_t(adam.steps()));
      Tensor<float> noise(Shape{images.dim(0), c.latent});
      fill_normal(noise, noise_rng, 0, 1);
      adam.zero_grad();
      const Var<float> l = vae.loss(images, palette, noise);
      optim::backward_and_step(l, params, adam, 5.0, "make_feature_model");
      total += double(l.value()[0]) * double(items.size());
      n += int64_t(items.size());
    }
    progress(epoch + 1, total / double(n));
  }
  return vae.encoder;
}

/// Writes the encoder to `path` (atomically) with its sizes in the metadata.
inline void save_feature_model(const std::string& path, const FeatureEncoder& enc,
                               std::map<std::string, std::string> meta = {}) {
  const FeatureConfig& c = enc.config();
  meta["model"] = FEATURES_MODEL;
  meta["input"] = feature_input_name(c.input);
  meta["pixels"] = std::to_string(c.pixels);
  meta["palette_size"] = std::to_string(c.palette_size);
  meta["hidden"] = std::to_string(c.hidden);
  meta["features"] = std::to_string(c.features);
  meta["latent"] = std::to_string(c.latent);
  std::map<std::string, Tensor<float>> tensors;
  for (const auto& [name, p] : enc.named_parameters()) tensors[name] = p.value();
  io::save_safetensors<float>(path, tensors, meta);
}

/// The encoder in `path`; throws unless it is a feature checkpoint for
/// images of `pixels` pixels in `palette_size` colours.
inline FeatureEncoder load_feature_model(const std::string& path, int64_t pixels, int64_t palette_size) {
  std::map<std::string, std::string> meta;
  const auto tensors = io::load_safetensors<float>(path, &meta);
  auto it = meta.find("model");
  DEEPGEN_CHECK(it != meta.end() && it->second == FEATURES_MODEL, path, ": not a yardstick feature model (its ",
                "metadata has model=", it == meta.end() ? std::string("(none)") : it->second,
                "); pass the file `evaluate_samples make-features` writes");
  auto number = [&](const char* key) {
    auto k = meta.find(key);
    DEEPGEN_CHECK(k != meta.end(), path, ": metadata '", key, "' is missing; the file is damaged");
    try {
      size_t used = 0;
      const long long v = std::stoll(k->second, &used);
      DEEPGEN_CHECK(used == k->second.size() && v > 0, "");
      return int64_t(v);
    } catch (const std::exception&) {
      DEEPGEN_CHECK(false, path, ": metadata '", key, "' = '", k->second, "' is not a positive count; the file is "
                    "damaged");
    }
    return int64_t(0);
  };
  FeatureConfig c;
  const auto input = meta.find("input");
  if (input == meta.end() || input->second == "rgb") {
    c.input = FeatureInput::rgb;
  } else {
    DEEPGEN_CHECK(input->second == "rgb+edges", path, ": metadata input='", input->second,
                  "' is not a feature input this deepgen knows (rgb, rgb+edges); the file is damaged or newer");
    c.input = FeatureInput::rgb_edges;
  }
  c.pixels = number("pixels");
  c.palette_size = number("palette_size");
  c.hidden = number("hidden");
  c.features = number("features");
  c.latent = number("latent");
  DEEPGEN_CHECK(c.pixels == pixels && c.palette_size == palette_size, path, ": the feature model reads images of ",
                c.pixels, " pixels in ", c.palette_size, " colours, but the data has ", pixels, " pixels in ",
                palette_size, "; make one for this data (evaluate_samples make-features)");
  Philox unused(0);
  FeatureEncoder enc(c, unused);
  enc.load_parameters(tensors, path);
  return enc;
}

}  // namespace deepgen::eval
