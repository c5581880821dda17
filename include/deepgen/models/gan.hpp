// models/gan.hpp — the lecture's third family: a generative adversarial
// network (Goodfellow et al. 2014) that draws 20×20 palette images.
//
// A generator G turns noise z ~ N(0, I) into an image; a discriminator D
// scores how real an image looks (a logit). D learns to tell TRAIN images
// from G's, G learns to make D call its images real. The non-saturating
// losses, each a binary cross-entropy on D's logits:
//
//   D: BCE(D(x), s) + BCE(D(G(z)), 0)      s = 0.9: one-sided label smoothing
//   G: BCE(D(G(z)), 1)                      (−log D(G(z)), not log(1 − D(G(z))),
//                                            which gives G no gradient early on)
//
// How G emits a palette image is the design question (docs/gan.md); two
// outputs are built, chosen by GANConfig::output:
//
//   rgb     G ends in 3P tanh values: each pixel's RGB in [−1, 1]. D reads RGB,
//           real images as their palette colours (eval::palette_rgb's scaling):
//           1,200 inputs. An image is shown (and scored) as each pixel's palette
//           colour by a MAP rule: argmin_k ‖o − c_k‖² / (2s²) − log π_k, with π
//           the colours' frequencies in TRAIN (set_colour_frequencies) and
//           s = RGB_SNAP_LEVELS: the nearest colour, except that among colours a
//           few levels apart the common one wins. Plain nearest colour turns an
//           output of 252 into one of the palette's rare near-whites (251…254)
//           instead of the background's 255.
//   gumbel  G ends in P·E pixel features; pixel p's colour logits are
//           f_p·C_k + b[p, k] (C a (K, E) colour embedding, b a (P, K) bias, as
//           the VAE's decoder), and D reads the relaxed one-hot
//           gumbel_softmax(logits, g, τ) with τ annealed from tau_start to tau_end;
//           real images are exact one-hots. D's first step embeds each pixel's
//           (soft) one-hot with its own (K, E) colour table, so it reads P·E
//           numbers instead of P·K = 66,800. An image is the argmax colour.
//
// Stabilisers (each a TrainSettings knob): label smoothing; instance noise
// (Gaussian noise of standard deviation σ, annealed linearly to 0, added to
// everything D reads, real and fake); two learning rates (TTUR, Heusel et al.
// 2017); an exponential moving average of G's weights (the EMA generator is
// what samples are drawn from).
//
// Parameters: generator.* and discriminator.* (PyTorch-style nn.Sequential
// names: generator.net.0.weight, …), generator_ema.* (the same shapes); the
// configuration is in the checkpoint's metadata (gan_metadata), so a file says
// what it holds and another model's file is refused by name.
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
#include "../ops/binary_cross_entropy.hpp"
#include "../ops/elementwise.hpp"
#include "../ops/gumbel_softmax.hpp"
#include "../ops/reduce.hpp"
#include "../ops/reshape.hpp"
#include "../optim/adam.hpp"
#include "../optim/step.hpp"
#include "../random.hpp"
#include "option_text.hpp"

namespace deepgen::models {

/// How the generator emits an image (see the top of this header).
enum class GANOutput { rgb, gumbel };

/// "rgb" or "gumbel".
inline const char* to_string(GANOutput o) { return o == GANOutput::rgb ? "rgb" : "gumbel"; }

/// The output named `name`; throws on anything but rgb or gumbel.
inline GANOutput gan_output(const std::string& name) {
  DEEPGEN_CHECK(name == "rgb" || name == "gumbel", "GAN output '", name, "': expected rgb or gumbel");
  return name == "rgb" ? GANOutput::rgb : GANOutput::gumbel;
}

/// s of the rgb output's MAP colour rule, in RGB levels (see the top of this header).
inline constexpr double RGB_SNAP_LEVELS = 4.0;

/// Sizes of a GAN. pixels and palette_size come from the data.
struct GANConfig {
  int64_t pixels = 0;                                  ///< P
  int64_t palette_size = 0;                            ///< K
  GANOutput output = GANOutput::rgb;                   ///< what G emits and D reads
  int64_t noise = 32;                                  ///< dimensions of z
  std::vector<int64_t> generator_hidden{256, 512};     ///< G's widths between z and its output
  std::vector<int64_t> discriminator_hidden{256, 128}; ///< D's widths between its input and the logit
  int64_t colour_dim = 8;                              ///< E (gumbel only): colour features per pixel

  /// Throws deepgen::Error naming the size that cannot work.
  void validate() const {
    DEEPGEN_CHECK(pixels > 0 && palette_size > 1, "GANConfig: pixels = ", pixels, " and palette_size = ",
                  palette_size, "; set both from the data");
    DEEPGEN_CHECK(noise > 0, "GANConfig: noise = ", noise, "; z needs at least one dimension");
    DEEPGEN_CHECK(!generator_hidden.empty() && !discriminator_hidden.empty(),
                  "GANConfig: the generator and the discriminator need at least one hidden layer each");
    for (int64_t w : generator_hidden) DEEPGEN_CHECK(w > 0, "GANConfig: generator width ", w, " is not positive");
    for (int64_t w : discriminator_hidden)
      DEEPGEN_CHECK(w > 0, "GANConfig: discriminator width ", w, " is not positive");
    DEEPGEN_CHECK(colour_dim > 0, "GANConfig: colour_dim = ", colour_dim, " must be positive");
  }

  /// Numbers D reads per image: 3P (rgb) or P·E (gumbel).
  int64_t discriminator_inputs() const { return output == GANOutput::rgb ? 3 * pixels : pixels * colour_dim; }
};

/// The configuration as checkpoint metadata (model=gan, gan.*).
inline std::map<std::string, std::string> gan_metadata(const GANConfig& c) {
  return {{"model", "gan"},
          {"gan.output", to_string(c.output)},
          {"gan.pixels", std::to_string(c.pixels)},
          {"gan.palette_size", std::to_string(c.palette_size)},
          {"gan.noise", std::to_string(c.noise)},
          {"gan.generator", join_widths(c.generator_hidden)},
          {"gan.discriminator", join_widths(c.discriminator_hidden)},
          {"gan.colour_dim", std::to_string(c.colour_dim)}};
}

/// The configuration in checkpoint metadata `meta` of file `path`; throws,
/// naming the key, on a file of another model or damaged metadata.
inline GANConfig gan_config_from(const std::map<std::string, std::string>& meta, const std::string& path) {
  auto model = meta.find("model");
  DEEPGEN_CHECK(model != meta.end() && model->second == "gan", path, ": not a GAN checkpoint (its metadata says ",
                "model=", model == meta.end() ? std::string("(none)") : model->second,
                "); pass a file gan_pokemon train wrote");
  auto get = [&](const std::string& key) -> const std::string& {
    auto it = meta.find(key);
    DEEPGEN_CHECK(it != meta.end(), path, ": metadata '", key, "' is missing; the file is damaged");
    return it->second;
  };
  auto count = [&](const std::string& key) {
    const std::string& text = get(key);
    try {
      size_t used = 0;
      const long long v = std::stoll(text, &used);
      if (used == text.size() && v > 0) return int64_t(v);
    } catch (const std::exception&) {
    }
    DEEPGEN_CHECK(false, path, ": metadata '", key, "' = '", text, "' is not a positive count; the file is damaged");
    return int64_t(0);
  };
  GANConfig c;
  try {
    c.output = gan_output(get("gan.output"));
    c.generator_hidden = parse_widths(get("gan.generator"), "gan.generator");
    c.discriminator_hidden = parse_widths(get("gan.discriminator"), "gan.discriminator");
  } catch (const Error& e) {
    DEEPGEN_CHECK(false, path, ": ", e.what(), "; the file's metadata is damaged");
  }
  c.pixels = count("gan.pixels");
  c.palette_size = count("gan.palette_size");
  c.noise = count("gan.noise");
  c.colour_dim = count("gan.colour_dim");
  c.validate();
  return c;
}

/// The generator: z (B, noise) → rgb (B, 3P) in [−1, 1], or colour logits (B, P, K).
template <typename T>
class Generator : public nn::Module<T> {
 public:
  /// Weights from `rng` (PyTorch's nn.Linear init; the colour table as the VAE's).
  Generator(const GANConfig& c, Philox& rng) : m_config(c) {
    std::vector<int64_t> w{c.noise};
    w.insert(w.end(), c.generator_hidden.begin(), c.generator_hidden.end());
    w.push_back(c.output == GANOutput::rgb ? 3 * c.pixels : c.pixels * c.colour_dim);
    for (size_t i = 0; i + 1 < w.size(); ++i) m_layers.emplace_back(w[i], w[i + 1], rng);
    if (c.output == GANOutput::gumbel) {
      Tensor<T> colours(Shape{c.palette_size, c.colour_dim});
      fill_uniform(colours, rng, -T(1) / std::sqrt(T(c.colour_dim)), T(1) / std::sqrt(T(c.colour_dim)));
      m_colours = Var<T>(std::move(colours), true);
      m_pixel_bias = Var<T>(Tensor<T>(Shape{c.pixels, c.palette_size}), true);
    }
  }

  /// rgb: (B, 3P) tanh values; gumbel: (B, P, K) colour logits.
  Var<T> operator()(const Var<T>& z) const {
    Var<T> h = z;
    for (size_t i = 0; i < m_layers.size(); ++i) {
      h = m_layers[i](h);
      if (i + 1 < m_layers.size()) h = relu(h);
    }
    if (m_config.output == GANOutput::rgb) return deepgen::tanh(h);
    const int64_t B = z.shape()[0], P = m_config.pixels, K = m_config.palette_size;
    const Var<T> logits = linear(reshape(h, Shape{B, P, m_config.colour_dim}), m_colours);
    return reshape(deepgen::add(reshape(logits, Shape{B, P * K}), reshape(m_pixel_bias, Shape{P * K})),
                   Shape{B, P, K});
  }

  void collect_parameters(const std::string& prefix, nn::NamedParameters<T>& out) const override {
    for (size_t i = 0; i < m_layers.size(); ++i)
      m_layers[i].collect_parameters(prefix + "net." + std::to_string(2 * i) + ".", out);
    if (m_colours.defined()) {
      this->add(out, prefix, "colours.weight", m_colours);
      this->add(out, prefix, "pixel_bias", m_pixel_bias);
    }
  }

 private:
  GANConfig m_config;
  std::vector<nn::Linear<T>> m_layers;
  Var<T> m_colours, m_pixel_bias;  // gumbel only
};

/// The discriminator: its input (B, 3P) rgb or (B, P, K) one-hots → a logit per image (B, 1).
template <typename T>
class Discriminator : public nn::Module<T> {
 public:
  /// Weights from `rng`.
  Discriminator(const GANConfig& c, Philox& rng) : m_config(c) {
    if (c.output == GANOutput::gumbel) {
      Tensor<T> colours(Shape{c.colour_dim, c.palette_size});  // nn.Linear(K, E, bias=False)
      fill_uniform(colours, rng, -T(1) / std::sqrt(T(c.palette_size)), T(1) / std::sqrt(T(c.palette_size)));
      m_colours = Var<T>(std::move(colours), true);
    }
    std::vector<int64_t> w{c.discriminator_inputs()};
    w.insert(w.end(), c.discriminator_hidden.begin(), c.discriminator_hidden.end());
    w.push_back(1);
    for (size_t i = 0; i + 1 < w.size(); ++i) m_layers.emplace_back(w[i], w[i + 1], rng);
  }

  /// What the MLP reads: rgb as is; (soft) one-hots (B, P, K) embedded to (B, P·E).
  Var<T> embed(const Var<T>& images) const {
    if (m_config.output == GANOutput::rgb) return images;
    const int64_t B = images.shape()[0];
    return reshape(linear(images, m_colours), Shape{B, m_config.pixels * m_config.colour_dim});
  }

  /// Logits (B, 1) for embedded inputs (B, discriminator_inputs()), leaky ReLU between layers.
  Var<T> score(Var<T> h) const {
    for (size_t i = 0; i < m_layers.size(); ++i) {
      h = m_layers[i](h);
      if (i + 1 < m_layers.size()) h = leaky_relu(h, 0.2);
    }
    return h;
  }

  void collect_parameters(const std::string& prefix, nn::NamedParameters<T>& out) const override {
    if (m_colours.defined()) this->add(out, prefix, "colours.weight", m_colours);
    for (size_t i = 0; i < m_layers.size(); ++i)
      m_layers[i].collect_parameters(prefix + "net." + std::to_string(2 * i) + ".", out);
  }

 private:
  GANConfig m_config;
  Var<T> m_colours;  // gumbel only: (E, K)
  std::vector<nn::Linear<T>> m_layers;
};

/// The knobs of a training step (the stabilisers at the top of this header).
struct GANStepSettings {
  double label_smoothing = 0.9;  ///< D's target for real images (1: none)
  double instance_noise = 0;     ///< σ of the noise added to D's inputs at this step
  double tau = 1.0;              ///< Gumbel-softmax temperature at this step (gumbel only)
  double ema = 0.999;            ///< decay of the generator's moving average (0: the EMA is the generator)
  double clip = 0;               ///< gradient-norm clip of each network (0: none)
};

/// What one step reports.
struct GANStepValues {
  double d_loss = 0;  ///< D's loss (real + fake terms)
  double g_loss = 0;  ///< G's non-saturating loss
  double d_real = 0;  ///< mean σ(D(x)) over the real batch
  double d_fake = 0;  ///< mean σ(D(G(z))) over the fake batch (before D's update)
};

/// Generator, discriminator and the generator's moving average, as one
/// module (so one file holds all three).
template <typename T>
class GAN : public nn::Module<T> {
  GANConfig m_config;  // first: the three networks are built from it

 public:
  /// G, D and the EMA (a copy of G) from `rng`.
  GAN(const GANConfig& config, Philox& rng)
      : m_config((config.validate(), config)), generator(m_config, rng), discriminator(m_config, rng),
        generator_ema(m_config, rng) {
    copy_into_ema(0.0);
  }

  /// Its sizes.
  const GANConfig& config() const { return m_config; }
  Generator<T> generator;          ///< trained by the G optimizer
  Discriminator<T> discriminator;  ///< trained by the D optimizer
  Generator<T> generator_ema;      ///< the moving average of generator's weights

  /// z ~ N(0, I) for `B` images: the next B·noise normals of `rng`.
  Tensor<T> draw_noise(int64_t B, Philox& rng) const {
    Tensor<T> z(Shape{B, m_config.noise});
    fill_normal(z, rng, 0, 1);
    return z;
  }

  /// Real images (B, P) as D reads them: palette RGB in [−1, 1] (rgb) or one-hots (B, P, K) (gumbel).
  Tensor<T> real_input(const Tensor<int32_t>& images, const Palette& palette) const {
    const int64_t B = images.dim(0), P = m_config.pixels, K = m_config.palette_size;
    DEEPGEN_CHECK(images.rank() == 2 && images.dim(1) == P, "GAN: images must be (B, ", P, ") but have shape ",
                  images.shape());
    DEEPGEN_CHECK(palette.size() == K, "GAN: the model was built for ", K, " colours but the palette has ",
                  palette.size());
    if (m_config.output == GANOutput::rgb) {
      Tensor<T> x(Shape{B, 3 * P});
      for (int64_t i = 0; i < B * P; ++i)
        for (int c = 0; c < 3; ++c) x[3 * i + c] = T(palette[images[i]][size_t(c)]) / T(127.5) - T(1);
      return x;
    }
    Tensor<T> x(Shape{B, P, K});
    for (int64_t i = 0; i < B * P; ++i) {
      DEEPGEN_CHECK(images[i] >= 0 && images[i] < K, "GAN: pixel ", i % P, " of image ", i / P, " has colour ",
                    images[i], "; the palette has ", K);
      x[i * K + images[i]] = T(1);
    }
    return x;
  }

  /// One training step on a batch of real images: D's update, then G's, then the EMA.
  /// All noise comes from Philox(seed, 2⁴⁰ + step) (step = the D optimizer's), so a resumed run repeats.
  GANStepValues train_step(const Tensor<int32_t>& images, const Palette& palette, optim::Adam<T>& adam_g,
                           optim::Adam<T>& adam_d, const GANStepSettings& s, uint64_t seed) {
    DEEPGEN_CHECK(s.label_smoothing > 0 && s.label_smoothing <= 1, "GAN: label smoothing ", s.label_smoothing,
                  " must be in (0, 1]");
    const int64_t B = images.dim(0);
    Philox rng(seed, (uint64_t(1) << 40) + uint64_t(adam_d.steps()));
    const auto params_g = generator.named_parameters(), params_d = discriminator.named_parameters();
    GANStepValues v;
    // ---- D: real images towards label_smoothing, G's (held fixed) towards 0
    Tensor<T> fake;
    {
      NoGradGuard no_grad;
      fake = relax(generator(Var<T>(draw_noise(B, rng))), s.tau, rng).value();
    }
    const Var<T> real_logit = discriminator.score(noisy(discriminator.embed(Var<T>(real_input(images, palette))),
                                                        s.instance_noise, rng));
    const Var<T> fake_logit = discriminator.score(noisy(discriminator.embed(Var<T>(fake)), s.instance_noise, rng));
    const Var<T> d_loss = deepgen::add(binary_cross_entropy_with_logits(real_logit, s.label_smoothing),
                                       binary_cross_entropy_with_logits(fake_logit, 0.0));
    v.d_real = mean_sigmoid(real_logit);
    v.d_fake = mean_sigmoid(fake_logit);
    v.d_loss = d_loss.value()[0];
    adam_d.zero_grad();
    optim::backward_and_step(d_loss, params_d, adam_d, s.clip, "GAN discriminator step");
    // ---- G: the non-saturating loss through the updated D
    const Var<T> g_out = relax(generator(Var<T>(draw_noise(B, rng))), s.tau, rng);
    const Var<T> g_logit = discriminator.score(noisy(discriminator.embed(g_out), s.instance_noise, rng));
    const Var<T> g_loss = binary_cross_entropy_with_logits(g_logit, 1.0);
    v.g_loss = g_loss.value()[0];
    adam_g.zero_grad();
    optim::backward_and_step(g_loss, params_g, adam_g, s.clip, "GAN generator step");
    adam_d.zero_grad();  // G's backward also reached D's weights; those gradients are not D's to use
    copy_into_ema(s.ema);
    return v;
  }

  /// π for the rgb output's colour rule: each colour's share of the pixels of `train` (+1 each, so
  /// every colour stays possible). Without it, generate() takes the nearest colour.
  void set_colour_frequencies(const ImageSet& train) {
    std::vector<double> counts(size_t(m_config.palette_size), 1.0);
    for (int32_t c : train.pixels)
      if (c >= 0 && c < m_config.palette_size) counts[size_t(c)] += 1;
    double total = 0;
    for (double c : counts) total += c;
    m_log_prior.clear();
    for (double c : counts) m_log_prior.push_back(std::log(c / total));
  }

  /// Images (B, P) from noise `z` (B, noise) by the EMA generator (`use_ema`) or the generator itself:
  /// rgb: each pixel's colour by the MAP rule at the top of this header; gumbel: its likeliest colour.
  Tensor<int32_t> generate(const Tensor<T>& z, const Palette& palette, bool use_ema = true) const {
    DEEPGEN_CHECK(z.rank() == 2 && z.dim(1) == m_config.noise, "GAN::generate: noise must be (B, ",
                  m_config.noise, ") but has shape ", z.shape());
    DEEPGEN_CHECK(palette.size() == m_config.palette_size, "GAN: the model was built for ", m_config.palette_size,
                  " colours but the palette has ", palette.size(), "; use the data it was trained on");
    NoGradGuard no_grad;
    const Tensor<T> out = (use_ema ? generator_ema : generator)(Var<T>(z)).value();
    const int64_t B = z.dim(0), P = m_config.pixels, K = m_config.palette_size;
    Tensor<int32_t> images(Shape{B, P});
    for (int64_t i = 0; i < B * P; ++i) {
      int64_t best = 0;
      if (m_config.output == GANOutput::rgb) {
        double best_d = 1e300;
        const double inv = 1 / (2 * RGB_SNAP_LEVELS * RGB_SNAP_LEVELS);
        for (int64_t k = 0; k < K; ++k) {
          double d = 0;
          for (int c = 0; c < 3; ++c) {
            const double want = (double(out[3 * i + c]) + 1.0) * 127.5 - double(palette[int(k)][size_t(c)]);
            d += want * want;
          }
          if (!m_log_prior.empty()) d = d * inv - m_log_prior[size_t(k)];
          if (d < best_d) best_d = d, best = k;
        }
      } else {
        const T* row = out.data() + i * K;
        best = std::max_element(row, row + K) - row;
      }
      images[i] = int32_t(best);
    }
    return images;
  }

  void collect_parameters(const std::string& prefix, nn::NamedParameters<T>& out) const override {
    generator.collect_parameters(prefix + "generator.", out);
    discriminator.collect_parameters(prefix + "discriminator.", out);
    generator_ema.collect_parameters(prefix + "generator_ema.", out);
  }

 private:
  // gumbel: G's logits relaxed to soft one-hots with fresh Gumbel noise; rgb: as is.
  Var<T> relax(const Var<T>& g_out, double tau, Philox& rng) const {
    if (m_config.output == GANOutput::rgb) return g_out;
    return gumbel_softmax(g_out, gumbel_noise<T>(g_out.shape(), rng), tau);
  }

  // x + σ·N(0, I): instance noise (Sønderby et al. 2017), nothing when σ = 0.
  static Var<T> noisy(const Var<T>& x, double sigma, Philox& rng) {
    if (sigma <= 0) return x;
    Tensor<T> n(x.shape());
    fill_normal(n, rng, 0, T(sigma));
    return deepgen::add(x, Var<T>(std::move(n)));
  }

  static double mean_sigmoid(const Var<T>& logits) {
    double total = 0;
    for (int64_t i = 0; i < logits.value().numel(); ++i) total += 1 / (1 + std::exp(-double(logits.value()[i])));
    return total / double(logits.value().numel());
  }

  // ema ← decay·ema + (1 − decay)·generator, parameter by parameter (decay 0: a copy).
  void copy_into_ema(double decay) {
    const auto g = generator.named_parameters();
    auto e = generator_ema.named_parameters();  // handles: writing their values writes the EMA's weights
    for (size_t i = 0; i < g.size(); ++i) {
      Tensor<T>& dst = e[i].second.value();
      const Tensor<T>& src = g[i].second.value();
      dst.vec() = T(decay) * dst.vec() + T(1 - decay) * src.vec();
    }
  }

  std::vector<double> m_log_prior;  // log π of set_colour_frequencies; empty: nearest colour
};

/// The GAN in checkpoint `path` (configuration from its metadata), checked
/// against data of `pixels` pixels in `palette_size` colours. `meta` gets the file's metadata.
inline GAN<float> load_gan(const std::string& path, int64_t pixels, int64_t palette_size,
                           std::map<std::string, std::string>* meta = nullptr) {
  std::map<std::string, std::string> file_meta;
  const auto tensors = io::load_safetensors<float>(path, &file_meta);
  const GANConfig c = gan_config_from(file_meta, path);
  DEEPGEN_CHECK(c.pixels == pixels && c.palette_size == palette_size, path, ": the GAN draws images of ", c.pixels,
                " pixels in ", c.palette_size, " colours but the data has ", pixels, " pixels in ", palette_size,
                "; use the data it was trained on");
  Philox unused(0);
  GAN<float> gan(c, unused);
  gan.load_parameters(tensors, path);
  if (meta) *meta = std::move(file_meta);
  return gan;
}

}  // namespace deepgen::models
