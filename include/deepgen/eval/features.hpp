// eval/features.hpp — the fixed feature space of the yardstick: the last
// hidden layer of a small VAE encoder trained on TRAIN.
//
// A Fréchet distance or a k-NN manifold needs a space in which "looks
// alike" is "is near". The library's own VAE reads the one-hot image
// (400·167 = 66,800 inputs), so even a tiny first layer is megabytes; this
// encoder reads each pixel's palette RGB instead (3·400 = 1,200 inputs scaled
// to [−1, 1]), which makes the committed checkpoint a few hundred kB and puts
// similar colours near each other, which a one-hot input cannot.
//
//   encoder:  rgb (B, 3P) → Linear → ReLU → Linear → ReLU = features (B, F)
//             → Linear → [m | s] (B, 2D)
//   decoder:  c = m + exp(s/2)·e → Linear → ReLU → Linear → (B, P·E)
//             logits[p, k] = f_p·C_k + b[p, k]   (as models/vae.hpp's decoder)
//   loss:     cross-entropy of the image's colours + KL(N(m, exp s) ‖ N(0, I))
//
// Only the encoder is saved (names encoder.0/2/4.*): the yardstick reads the
// features, never decodes. Training is fully determined by its seed (one
// thread: OMP_NUM_THREADS=1), so `evaluate_samples make-features` remakes the
// file.
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

/// Sizes of the feature VAE.
struct FeatureConfig {
  int64_t pixels = 0;        ///< P
  int64_t palette_size = 0;  ///< K
  int64_t hidden = 128;      ///< the encoder's first layer
  int64_t features = 32;     ///< F, the encoder's second layer: the feature space
  int64_t latent = 8;        ///< D
  int64_t colour_dim = 8;    ///< E, the decoder's per-pixel features
};

/// The encoder half: rgb (B, 3P) → features (B, F) → [m | s].
class FeatureEncoder : public nn::Module<float> {
 public:
  /// Weights from `rng` (PyTorch's nn.Linear init).
  FeatureEncoder(const FeatureConfig& c, Philox& rng)
      : m_config(c), m_l0(3 * c.pixels, c.hidden, rng), m_l1(c.hidden, c.features, rng),
        m_l2(c.features, 2 * c.latent, rng) {
    DEEPGEN_CHECK(c.pixels > 0 && c.palette_size > 0 && c.hidden > 0 && c.features > 0 && c.latent > 0,
                  "FeatureEncoder: every size must be positive");
  }

  /// Its sizes.
  const FeatureConfig& config() const { return m_config; }

  /// The feature layer (after its ReLU), as a graph node.
  Var<float> features(const Var<float>& rgb) const { return relu(m_l1(relu(m_l0(rgb)))); }
  /// [m | s] from the features.
  Var<float> head(const Var<float>& features) const { return m_l2(features); }

  /// The features of `count` images (back to back in `pixels`), (count, F), without a graph.
  Tensor<float> embed(const int32_t* pixels, int64_t count, const Palette& palette) const {
    DEEPGEN_CHECK(count > 0, "FeatureEncoder::embed: no images");
    DEEPGEN_CHECK(palette.size() == m_config.palette_size, "the feature model was made for a palette of ",
                  m_config.palette_size, " colours but the data has ", palette.size(),
                  "; make it for this data (evaluate_samples make-features)");
    NoGradGuard no_grad;
    return features(Var<float>(palette_rgb(pixels, count, m_config.pixels, palette))).value();
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
    const Var<float> enc = encoder.head(encoder.features(Var<float>(palette_rgb(images.data(), B, P, palette))));
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
};

/// Trains the feature VAE on `train` and returns its encoder. `progress`
/// (may be null) gets each epoch's mean loss.
template <typename Progress>
FeatureEncoder make_feature_model(const ImageSet& train, const Palette& palette, const FeatureTraining& t,
                                  Progress progress) {
  DEEPGEN_CHECK(train.count > 1, "make_feature_model: need TRAIN images, got ", train.count);
  DEEPGEN_CHECK(t.epochs >= 1 && t.batch >= 1 && t.lr > 0, "make_feature_model: epochs, batch and lr must be positive");
  FeatureConfig c;
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
