// models/vae.hpp — the lecture's autoencoder and variational autoencoder on
// palette images: an MLP encoder turns an image into a D-dimensional code, an
// MLP decoder draws a colour distribution for every pixel back from it.
//
// For an image x of P pixels with colours in [0, K):
//   (1) [m | s] = encoder(x)               VAE: mean and log-variance, (B, 2D)
//       c = encoder(x)                     AE: the code itself, (B, D)
//   (2) c = m + exp(s/2) ⊙ e, e ~ N(0, I)  (reparameterisation, VAE only)
//   (3) logits = decoder(c), (B, P, K);    p(x | c) = Π_p softmax(logits[p])[x_p]
//       colour_dim E > 0: logits[p, k] = f_p(c)·C_k + b[p, k], the decoder's
//       last layer giving E features per pixel, C (K, E) a learned colour
//       embedding and b a (P, K) bias: P·E outputs instead of P·K
//   (4) recon = −log p(x | c) = Σ_p cross-entropy, nats per image
//   (5) KL = ½ Σ_d (exp(s) + m² − 1 − s), nats per image (0 for the AE)
//   (6) loss = recon + β·KL;  with β = 1 this is the negative ELBO, an upper
//       bound on −log p(x)
// A categorical likelihood per pixel (docs/vae.md) keeps colours crisp; RGB
// regression averages them into grey.
//
// The encoder's first layer reads the one-hot image (P·K inputs) as a sum of
// P gathered weight rows (nn/onehot_linear.hpp), never as a P·K-wide GEMM; it
// keeps that weight transposed in memory, PyTorch's layout in files.
// Both MLPs use ReLU between layers and are named like PyTorch's
// nn.Sequential(Linear, ReLU, Linear, …): encoder.0.weight (H₀, P·K),
// encoder.2.weight, …, decoder.0.weight (H, D), …, (with colour_dim E > 0 also
// decoder.colours.weight (K, E) and decoder.pixel_bias (P, K)), so checkpoints
// move both ways, and a model's configuration can be read back from the shapes
// alone (VAEConfig::from_parameters): the encoder's last layer has 2D outputs
// for a VAE and D for an AE.
//
// Randomness is explicit: the noise e is an argument of loss(), and
// train_step draws it from Philox(seed, 2⁴⁰ + step), so a run repeats exactly.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../detail/colours.hpp"
#include "../nn/linear.hpp"
#include "../nn/onehot_linear.hpp"
#include "../ops/elementwise.hpp"
#include "../ops/gaussian.hpp"
#include "../ops/matmul.hpp"
#include "../ops/reshape.hpp"
#include "../ops/slice.hpp"
#include "../ops/softmax_cross_entropy.hpp"
#include "../optim/adam.hpp"
#include "../optim/step.hpp"
#include "../random.hpp"

namespace deepgen::models {

/// vae: a stochastic code (2) with the KL term (5); ae: a deterministic code, no KL.
enum class VAEMode { vae, ae };

/// "vae" or "ae".
inline const char* to_string(VAEMode mode) { return mode == VAEMode::vae ? "vae" : "ae"; }

/// How decode() turns each pixel's colour distribution into one colour.
enum class PixelDecode {
  argmax,  ///< the likeliest colour: crisp, deterministic
  sample   ///< a draw per pixel: shows the model's uncertainty as speckle
};

/// Sizes and mode of a VAE. pixels and palette_size come from the data. The
/// defaults are the lecture's widths with a 16-d colour embedding in the
/// decoder (37.8M parameters on the Pokémon set). Measured there (seed 1,
/// batch 32, Adam 1e-3): its TEST negative ELBO reached 1240 nats per image
/// at epoch 26, below the per-position unigram floor of 1344, while the
/// lecture's own shape (lecture(), 68.7M parameters: P·K logits directly)
/// bottomed out at 1349 at epoch 8 and rose to 1411 by epoch 12 as its
/// training loss fell to 861: P·K free outputs memorise the 752 images.
struct VAEConfig {
  int64_t pixels = 0;                                ///< P, pixels per image
  int64_t palette_size = 0;                          ///< K, colours
  int64_t latent = 10;                               ///< D, code dimensions
  std::vector<int64_t> encoder_hidden{512, 256};     ///< widths after the one-hot layer
  std::vector<int64_t> decoder_hidden{256, 512};     ///< widths between the code and the logits
  /// 0: the decoder's last layer gives the P·K logits directly (the lecture);
  /// E > 0: it gives E features per pixel, times a (K, E) colour embedding.
  int64_t colour_dim = 16;
  VAEMode mode = VAEMode::vae;  ///< a VAE (stochastic code, KL term) or a plain autoencoder

  /// The lecture's model: one-hot P·K → 512 → 256 → 2×10 (AE: → 10);
  /// 10 → 256 → 512 → P·K. For 400 pixels and 167 colours, 68.7M parameters.
  static VAEConfig lecture(int64_t pixels, int64_t palette_size, VAEMode mode = VAEMode::vae) {
    VAEConfig c = standard(pixels, palette_size, mode);
    c.colour_dim = 0;
    return c;
  }

  /// The default model for images of `pixels` pixels in `palette_size` colours.
  static VAEConfig standard(int64_t pixels, int64_t palette_size, VAEMode mode = VAEMode::vae) {
    VAEConfig c;
    c.pixels = pixels;
    c.palette_size = palette_size;
    c.mode = mode;
    return c;
  }

  /// Outputs of the encoder's last layer: 2D = [m | s] for a VAE, D for an AE.
  int64_t encoder_outputs() const { return mode == VAEMode::vae ? 2 * latent : latent; }

  /// Throws deepgen::Error naming the size that cannot work.
  void validate() const {
    DEEPGEN_CHECK(pixels > 0 && palette_size > 0, "VAEConfig: pixels = ", pixels, " and palette_size = ",
                  palette_size, "; set both from the data (ImageSet::pixels_per_image(), Palette::size())");
    DEEPGEN_CHECK(latent > 0, "VAEConfig: latent = ", latent, "; the code needs at least one dimension");
    for (int64_t w : encoder_hidden)
      DEEPGEN_CHECK(w > 0, "VAEConfig: encoder width ", w, " is not positive; widths must be >= 1");
    for (int64_t w : decoder_hidden)
      DEEPGEN_CHECK(w > 0, "VAEConfig: decoder width ", w, " is not positive; widths must be >= 1");
    DEEPGEN_CHECK(colour_dim >= 0, "VAEConfig: colour_dim = ", colour_dim,
                  "; use 0 (P·K logits directly) or a positive embedding size");
  }

  /// Outputs of the decoder's last layer: P·K logits, or P·E features.
  int64_t decoder_outputs() const { return pixels * (colour_dim > 0 ? colour_dim : palette_size); }

  /// The configuration of a saved model, read from its parameter shapes
  /// (encoder.0.weight, encoder.2.weight, …, decoder.0.weight, …,
  /// decoder.colours.weight), so any checkpoint with these names loads,
  /// PyTorch's too. `source` names the file in errors.
  template <typename T>
  static VAEConfig from_parameters(const std::map<std::string, Tensor<T>>& tensors, int64_t palette_size,
                                   const std::string& source) {
    DEEPGEN_CHECK(palette_size > 0, "VAEConfig::from_parameters: palette_size is ", palette_size);
    // The weights of one MLP in order: prefix.0.weight, prefix.2.weight, …
    auto widths = [&](const std::string& prefix) {
      std::vector<Shape> shapes;
      for (size_t i = 0;; i += 2) {
        auto it = tensors.find(prefix + std::to_string(i) + ".weight");
        if (it == tensors.end()) break;
        DEEPGEN_CHECK(it->second.rank() == 2, source, ": '", it->first, "' has shape ", it->second.shape(),
                      "; a layer's weight must be (out, in)");
        shapes.push_back(it->second.shape());
      }
      DEEPGEN_CHECK(!shapes.empty(), source, ": no '", prefix, "0.weight'; this is not a VAE or AE checkpoint "
                    "(expected encoder.0.weight, …, decoder.0.weight, …)");
      return shapes;
    };
    const std::vector<Shape> enc = widths("encoder."), dec = widths("decoder.");
    VAEConfig c;
    c.palette_size = palette_size;
    DEEPGEN_CHECK(enc[0][1] % palette_size == 0, source, ": encoder.0.weight ", enc[0], " has ", enc[0][1],
                  " inputs, not a multiple of the ", palette_size,
                  " colours of this colormap; the model was trained with another palette");
    c.pixels = enc[0][1] / palette_size;
    c.latent = dec[0][1];
    c.encoder_hidden.clear();
    c.decoder_hidden.clear();
    for (size_t i = 0; i + 1 < enc.size(); ++i) c.encoder_hidden.push_back(enc[i][0]);
    for (size_t i = 0; i + 1 < dec.size(); ++i) c.decoder_hidden.push_back(dec[i][0]);
    const int64_t out = enc.back()[0];
    DEEPGEN_CHECK(out == 2 * c.latent || out == c.latent, source, ": the encoder has ", out,
                  " outputs but the decoder reads a code of ", c.latent,
                  " dimensions; a VAE's encoder gives 2 × that (mean and log-variance), an AE's exactly that");
    c.mode = out == 2 * c.latent ? VAEMode::vae : VAEMode::ae;
    c.colour_dim = 0;
    auto colours = tensors.find("decoder.colours.weight");
    if (colours != tensors.end()) {
      DEEPGEN_CHECK(colours->second.rank() == 2 && colours->second.dim(0) == palette_size, source,
                    ": decoder.colours.weight has shape ", colours->second.shape(), " but must be (", palette_size,
                    ", E): one embedding per colour of this colormap");
      c.colour_dim = colours->second.dim(1);
    }
    DEEPGEN_CHECK(dec.back()[0] == c.decoder_outputs(), source, ": the decoder's last layer has ", dec.back()[0],
                  " outputs but ", c.pixels, " pixels need ", c.decoder_outputs(),
                  c.colour_dim > 0 ? " features" : " logits", "; the file is damaged or not from one model");
    return c;
  }
};

/// The loss of a batch as graph nodes, each averaged over the batch (nats per image).
template <typename T>
struct ELBOTerms {
  Var<T> loss;   ///< (6) recon + β·KL: the training objective
  Var<T> recon;  ///< (4)
  Var<T> kl;     ///< (5); undefined for an AE
};

/// The loss terms as numbers, nats per image.
struct ELBOValues {
  double recon = 0;  ///< (4), −log p(x | c) summed over the pixels
  double kl = 0;     ///< (5); 0 for an AE
  /// The negative ELBO (β = 1); for an AE, the reconstruction term.
  double neg_elbo() const { return recon + kl; }
};

/// The lecture's autoencoder and VAE on palette images: an MLP encoder to a D-dimensional code, an MLP
/// decoder to a colour distribution per pixel (equations (1)–(6) at the top of this header).
template <typename T>
class VAE : public nn::Module<T> {
 public:
  /// Weights from `rng` with PyTorch's nn.Linear init, encoder first.
  VAE(const VAEConfig& config, Philox& rng) : m_config(config) {
    m_config.validate();
    std::vector<int64_t> enc{m_config.pixels * m_config.palette_size};
    enc.insert(enc.end(), m_config.encoder_hidden.begin(), m_config.encoder_hidden.end());
    enc.push_back(m_config.encoder_outputs());
    std::vector<int64_t> dec{m_config.latent};
    dec.insert(dec.end(), m_config.decoder_hidden.begin(), m_config.decoder_hidden.end());
    dec.push_back(m_config.decoder_outputs());
    m_input.emplace(m_config.pixels, m_config.palette_size, enc[1], rng);
    for (size_t i = 1; i + 1 < enc.size(); ++i) m_encoder.emplace_back(enc[i], enc[i + 1], rng);
    for (size_t i = 0; i + 1 < dec.size(); ++i) m_decoder.emplace_back(dec[i], dec[i + 1], rng);
    if (m_config.colour_dim > 0) {
      // C as nn.Linear(E, K, bias=False) would be; b starts at zero, so every
      // colour starts equally likely wherever the features give no preference.
      const int64_t E = m_config.colour_dim;
      Tensor<T> c(Shape{palette_size(), E});
      fill_uniform(c, rng, -T(1) / std::sqrt(T(E)), T(1) / std::sqrt(T(E)));
      m_colours = Var<T>(std::move(c), true);
      m_pixel_bias = Var<T>(Tensor<T>(Shape{pixels(), palette_size()}), true);
    }
  }

  /// The sizes and mode it was built with.
  const VAEConfig& config() const { return m_config; }
  /// True for a VAE, false for an autoencoder.
  bool variational() const { return m_config.mode == VAEMode::vae; }
  /// P, pixels per image.
  int64_t pixels() const { return m_config.pixels; }
  /// K, the number of colours.
  int64_t palette_size() const { return m_config.palette_size; }
  /// D, the code dimensions.
  int64_t latent() const { return m_config.latent; }

  /// (1): images (B, P) → (B, 2D) = [m | s] for a VAE, (B, D) codes for an AE.
  Var<T> encoder_output(const Tensor<int32_t>& images) const {
    check_images(images, "VAE::encoder_output");
    Var<T> h = (*m_input)(images);
    for (const nn::Linear<T>& layer : m_encoder) h = layer(relu(h));
    return h;
  }

  /// (3): codes (B, D) → logits (B, P, K) of every pixel's colour.
  Var<T> logits(const Var<T>& codes) const {
    DEEPGEN_CHECK(codes.shape().rank() == 2 && codes.shape()[1] == latent(), "VAE: codes must be (B, ", latent(),
                  ") but have shape ", codes.shape(), "; the model's code has ", latent(), " dimensions");
    const int64_t B = codes.shape()[0], P = pixels(), K = palette_size();
    Var<T> h = m_decoder.front()(codes);
    for (size_t i = 1; i < m_decoder.size(); ++i) h = m_decoder[i](relu(h));
    if (m_config.colour_dim == 0) return reshape(h, Shape{B, P, K});
    // (B, P, E) features · Cᵀ: one (B·P × E)·(E × K) GEMM, then the (P, K)
    // bias added to every image, seen as a row of P·K.
    const Var<T> z = linear(reshape(h, Shape{B, P, m_config.colour_dim}), m_colours);
    return reshape(add(reshape(z, Shape{B, P * K}), reshape(m_pixel_bias, Shape{P * K})), Shape{B, P, K});
  }

  /// The loss terms (4)–(6) of a batch, as a graph. `noise` is e in (2),
  /// (B, D) ~ N(0, I) (see draw_noise); an AE ignores it (pass Tensor<T>()).
  ELBOTerms<T> loss(const Tensor<int32_t>& images, const Tensor<T>& noise, double beta = 1.0) const {
    DEEPGEN_CHECK(beta >= 0 && std::isfinite(beta), "VAE::loss: beta = ", beta,
                  " must be finite and >= 0 (1 gives the ELBO)");
    const Var<T> enc = encoder_output(images);
    const int64_t B = images.dim(0), D = latent();
    ELBOTerms<T> t;
    Var<T> codes = enc;
    if (variational()) {
      check_shape(noise.shape(), Shape{B, D}, "VAE::loss: noise (one N(0, I) row per image)");
      const Var<T> m = slice_columns(enc, 0, D), s = slice_columns(enc, D, 2 * D);
      codes = reparameterize(m, s, noise);
      t.kl = gaussian_kl(m, s);
    }
    // softmax_cross_entropy averages over the B·P rows of the (B, P, K)
    // logits; × P gives nats per image.
    t.recon = scale(softmax_cross_entropy(logits(codes), images), T(pixels()));
    t.loss = t.kl.defined() ? add(t.recon, scale(t.kl, T(beta))) : t.recon;
    return t;
  }

  /// e for (2): B rows of D standard normals, the next B·D draws of `rng`.
  Tensor<T> draw_noise(int64_t B, Philox& rng) const {
    Tensor<T> e(Shape{B, latent()});
    fill_normal(e, rng, 0, 1);
    return e;
  }

  /// One optimisation step on a batch: loss (6) with noise from
  /// Philox(seed, 2⁴⁰ + step) (so a resumed run draws the same), backward,
  /// gradient clipping to max_grad_norm (0: none), Adam. Returns the batch's
  /// terms. A non-finite loss or gradient throws before the weights change.
  ELBOValues train_step(const Tensor<int32_t>& images, optim::Adam<T>& adam, double max_grad_norm,
                        double beta = 1.0, uint64_t seed = 0) const {
    const auto params = this->named_parameters();
    adam.zero_grad();
    Philox rng(seed, (uint64_t(1) << 40) + uint64_t(adam.steps()));
    const Tensor<T> noise = variational() ? draw_noise(images.dim(0), rng) : Tensor<T>();
    const ELBOTerms<T> t = loss(images, noise, beta);
    optim::backward_and_step(t.loss, params, adam, max_grad_norm, "VAE::train_step");
    return values(t);
  }

  /// The terms (4)–(5) in nats per image over `count` images stored back to
  /// back in `pixels` (count × P), without a graph. For a VAE, recon is a
  /// Monte-Carlo estimate over `samples` draws of e per image; image i's draw
  /// j comes from Philox(seed, j·2³² + i), so the figure does not depend on
  /// the batch size.
  ELBOValues evaluate(const int32_t* flat_images, int64_t count, int64_t samples = 1, uint64_t seed = 0,
                      int64_t batch = 64) const {
    DEEPGEN_CHECK(count > 0 && samples > 0 && batch > 0, "VAE::evaluate: need count, samples and batch >= 1, got ",
                  count, ", ", samples, ", ", batch);
    NoGradGuard no_grad;
    const int64_t P = pixels(), D = latent();
    ELBOValues sum;
    for (int64_t first = 0; first < count; first += batch) {
      const int64_t B = std::min(batch, count - first);
      Tensor<int32_t> images(Shape{B, P});
      std::copy_n(flat_images + first * P, B * P, images.data());
      const int64_t draws = variational() ? samples : 1;
      for (int64_t j = 0; j < draws; ++j) {
        Tensor<T> noise;
        if (variational()) {
          noise = Tensor<T>(Shape{B, D});
          for (int64_t b = 0; b < B; ++b) {
            Philox rng(seed, (uint64_t(j) << 32) + uint64_t(first + b));
            for (int64_t d = 0; d < D; ++d) noise.at(b, d) = rng.normal<T>();
          }
        }
        const ELBOValues v = values(loss(images, noise));
        sum.recon += v.recon * double(B) / double(draws);
        sum.kl += v.kl * double(B) / double(draws);
      }
    }
    return {sum.recon / double(count), sum.kl / double(count)};
  }

  /// The code of each image: the mean m for a VAE, the code for an AE. (B, D).
  Tensor<T> encode(const Tensor<int32_t>& images) const {
    NoGradGuard no_grad;
    const Var<T> enc = encoder_output(images);
    return variational() ? slice_columns(enc, 0, latent()).value() : enc.value();
  }

  /// Every pixel's colour distribution for codes (B, D): (B, P, K), rows sum to 1.
  Tensor<T> decode_probabilities(const Tensor<T>& codes) const {
    NoGradGuard no_grad;
    Tensor<T> p = logits(Var<T>(codes)).value();
    auto rows = p.matrix();  // (B·P, K)
    for (int64_t r = 0; r < rows.rows(); ++r) {
      auto row = rows.row(r);
      row.array() = (row.array() - row.maxCoeff()).exp();
      row /= row.sum();
    }
    return p;
  }

  /// Images (B, P) for codes (B, D). With PixelDecode::sample, image b draws
  /// its pixels in order from Philox(seed, b).
  Tensor<int32_t> decode(const Tensor<T>& codes, PixelDecode how = PixelDecode::argmax, uint64_t seed = 0) const {
    const Tensor<T> probs = decode_probabilities(codes);
    const int64_t B = codes.dim(0), P = pixels(), K = palette_size();
    Tensor<int32_t> images(Shape{B, P});
    for (int64_t b = 0; b < B; ++b) {
      Philox rng(seed, uint64_t(b));
      for (int64_t p = 0; p < P; ++p) {
        const T* row = probs.data() + (b * P + p) * K;
        images.at(b, p) = static_cast<int32_t>(how == PixelDecode::argmax ? std::max_element(row, row + K) - row
                                                                          : rng.categorical(row, K));
      }
    }
    return images;
  }

  void collect_parameters(const std::string& prefix, nn::NamedParameters<T>& out) const override {
    m_input->collect_parameters(prefix + "encoder.0.", out);
    for (size_t i = 0; i < m_encoder.size(); ++i)
      m_encoder[i].collect_parameters(prefix + "encoder." + std::to_string(2 * i + 2) + ".", out);
    for (size_t i = 0; i < m_decoder.size(); ++i)
      m_decoder[i].collect_parameters(prefix + "decoder." + std::to_string(2 * i) + ".", out);
    if (m_colours.defined()) {
      this->add(out, prefix, "decoder.colours.weight", m_colours);
      this->add(out, prefix, "decoder.pixel_bias", m_pixel_bias);
    }
  }

 private:
  void check_images(const Tensor<int32_t>& images, const char* where) const {
    DEEPGEN_CHECK(images.rank() == 2 && images.dim(1) == pixels(), where, ": images must be (B, ", pixels(),
                  ") colour indices but have shape ", images.shape(), "; the model was built for ", pixels(),
                  " pixels per image");
    detail::check_colours(images.data(), images.dim(0), pixels(), pixels(), palette_size(), where);
  }

  static ELBOValues values(const ELBOTerms<T>& t) {
    return {double(t.recon.value()[0]), t.kl.defined() ? double(t.kl.value()[0]) : 0.0};
  }

  VAEConfig m_config;
  std::optional<nn::OneHotLinear<T>> m_input;  // encoder.0, built once the sizes are checked
  std::vector<nn::Linear<T>> m_encoder;  // encoder.2, encoder.4, …
  std::vector<nn::Linear<T>> m_decoder;
  Var<T> m_colours;     // (K, E), colour_dim > 0 only
  Var<T> m_pixel_bias;  // (P, K), colour_dim > 0 only
};

}  // namespace deepgen::models
