// models/sentence_vae.hpp — the lecture's sentence VAE (after Bowman et al.,
// "Generating Sentences from a Continuous Space") and, with the code removed,
// the plain LSTM language model it is measured against.
//
// For a sentence w_1 … w_n (ids from data::Vocabulary):
//   (1) e_t = E[w_t]                               shared word embedding (V, Ê)
//   (2) h^enc = LSTM_enc(e_1 … e_n) after word n   (B, H_enc)
//   (3) [m | s] = W_code·h^enc + b                 mean, log-variance (B, 2D)
//   (4) z = m + exp(s/2) ⊙ ε, ε ~ N(0, I)          (ops/gaussian.hpp)
//   (5) [h_0 | c_0] = W_init·z + b, h_0 ← tanh(h_0)  the decoder starts from z
//   (6) decoder input <bos> w_1 … w_n, targets w_1 … w_n <eos>:
//       a_t = W_ih·E[x_t] (+ W_z·z with feed_code) + … (ops/lstm.hpp)
//   (7) logits_t = W_fc·h^dec_t + b_fc, p(w_t | w_<t, z) = softmax(logits_t)
//   (8) recon = −Σ_t log p(target_t), nats per sentence (padding skipped)
//   (9) KL = ½ Σ_d (exp(s) + m² − 1 − s), nats per sentence
//  (10) loss = recon + β·KL; with β = 1 the negative ELBO, an upper bound on
//       −log p(sentence)
//  (11) free bits λ (Kingma et al. 2016): the KL of the loss is
//       Σ_d max(λ, KL_d), KL_d dimension d's KL averaged over the batch, so
//       no dimension is pushed below λ nats (the figures report the true KL)
//  (12) bag of words (Zhao et al. 2017): b = W_bow·z + b_bow (B, V), and the
//       loss adds w_bow · −Σ_t log softmax(b)[w_t] over the words of the
//       sentence: the code alone must predict which words occur
// latent = 0 is the language model: no encoder, no code, h_0 = c_0 = 0, KL = 0.
//
// What keeps the KL from collapsing (the decoder learning to ignore z, KL → 0,
// the VAE becoming a language model) are two training-time tricks, both in
// train_step's arguments: β rises from 0 to 1 (KL annealing, the caller's
// schedule), and word dropout replaces a fraction of the decoder's input
// words by <unk> (data::drop_words), so the previous words alone no longer
// predict the next and the code must carry the sentence.
//
// Parameter names follow PyTorch modules of the same shape (embedding.weight,
// encoder.lstm.weight_ih_l0, …, decoder.fc.bias), and the sizes are read back
// from the shapes (SentenceVAEConfig::from_parameters).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../data/text.hpp"
#include "../nn/embedding.hpp"
#include "../nn/linear.hpp"
#include "../nn/lstm.hpp"
#include "../ops/elementwise.hpp"
#include "../ops/gaussian.hpp"
#include "../ops/matmul.hpp"
#include "../ops/slice.hpp"
#include "../ops/softmax_cross_entropy.hpp"
#include "../optim/adam.hpp"
#include "../optim/step.hpp"
#include "../random.hpp"
#include "../sampling.hpp"

namespace deepgen::models {

/// Sizes of a SentenceVAE; latent = 0 gives the plain LSTM language model.
struct SentenceVAEConfig {
  int64_t vocab_size = 0;       ///< V, from the vocabulary
  int64_t embedding = 128;      ///< Ê, word vector size (shared by encoder and decoder)
  int64_t encoder_hidden = 256;  ///< H_enc, the encoder LSTM's hidden units
  int64_t decoder_hidden = 256;  ///< H_dec, the decoder LSTM's hidden units
  int64_t latent = 16;          ///< D; 0 is the plain language model (sentence_vae train's default is 32)
  bool feed_code = false;       ///< also add W_z·z to the decoder's input at every step
  bool bag_of_words = false;    ///< a Linear(D → V) predicting the sentence's words from z (training only)

  /// True for a VAE (latent > 0), false for the language model.
  bool variational() const { return latent > 0; }

  /// Throws deepgen::Error naming the setting that is out of range.
  void validate() const {
    DEEPGEN_CHECK(vocab_size > data::Vocabulary::SPECIALS, "SentenceVAEConfig: vocab_size = ", vocab_size,
                  "; set it from the vocabulary (Vocabulary::size()), which has at least one word besides the ",
                  data::Vocabulary::SPECIALS, " special tokens");
    DEEPGEN_CHECK(embedding > 0 && encoder_hidden > 0 && decoder_hidden > 0, "SentenceVAEConfig: sizes must be "
                  "positive, got embedding=", embedding, " encoder_hidden=", encoder_hidden, " decoder_hidden=",
                  decoder_hidden);
    DEEPGEN_CHECK(latent >= 0, "SentenceVAEConfig: latent = ", latent, "; use 0 (language model) or a code size");
    DEEPGEN_CHECK(!feed_code || latent > 0, "SentenceVAEConfig: feed_code needs a code (latent > 0)");
    DEEPGEN_CHECK(!bag_of_words || latent > 0, "SentenceVAEConfig: bag_of_words needs a code (latent > 0)");
  }

  /// The configuration of a saved model from its parameter shapes; `source`
  /// names the file in errors.
  template <typename T>
  static SentenceVAEConfig from_parameters(const std::map<std::string, Tensor<T>>& tensors,
                                           const std::string& source) {
    auto get = [&](const std::string& name) -> const Tensor<T>& {
      auto it = tensors.find(name);
      DEEPGEN_CHECK(it != tensors.end(), source, ": no tensor '", name,
                    "'; this is not a sentence VAE or language model checkpoint");
      return it->second;
    };
    auto rows_cols = [&](const std::string& name) {
      const Tensor<T>& t = get(name);
      DEEPGEN_CHECK(t.rank() == 2, source, ": '", name, "' has shape ", t.shape(), " but must be a matrix");
      return std::pair<int64_t, int64_t>{t.dim(0), t.dim(1)};
    };
    SentenceVAEConfig c;
    std::tie(c.vocab_size, c.embedding) = rows_cols("embedding.weight");
    c.decoder_hidden = rows_cols("decoder.lstm.weight_hh_l0").second;
    c.latent = 0;
    if (tensors.count("encoder.lstm.weight_hh_l0")) {
      c.encoder_hidden = rows_cols("encoder.lstm.weight_hh_l0").second;
      const int64_t out = rows_cols("encoder.to_code.weight").first;
      DEEPGEN_CHECK(out % 2 == 0, source, ": encoder.to_code.weight has ", out,
                    " outputs; a VAE's encoder gives 2 × D (mean and log-variance)");
      c.latent = out / 2;
    }
    c.feed_code = tensors.count("decoder.code_to_gates.weight") != 0;
    c.bag_of_words = tensors.count("bow.weight") != 0;
    c.validate();
    return c;
  }
};

/// Checkpoint metadata that ties a model to its vocabulary.
inline std::map<std::string, std::string> vocabulary_metadata(const data::Vocabulary& vocab) {
  return {{"vocab_fingerprint", std::to_string(vocab.fingerprint())}, {"vocab_size", std::to_string(vocab.size())}};
}

/// Throws unless `vocab` (read from `vocab_source`) is the vocabulary the
/// checkpoint `source` — its configuration and metadata — was trained with:
/// the same size, and the same fingerprint where the metadata has one (a
/// PyTorch-written file may not).
inline void check_vocabulary(const SentenceVAEConfig& config, const std::map<std::string, std::string>& metadata,
                             const data::Vocabulary& vocab, const std::string& source,
                             const std::string& vocab_source) {
  auto it = metadata.find("vocab_fingerprint");
  const std::string fingerprint = std::to_string(vocab.fingerprint());
  DEEPGEN_CHECK(config.vocab_size == vocab.size() && (it == metadata.end() || it->second == fingerprint), source,
                " was trained with another vocabulary: it has ", config.vocab_size, " words",
                it == metadata.end() ? std::string() : " (fingerprint " + it->second + ")", " but ", vocab_source,
                " has ", vocab.size(), " (fingerprint ", fingerprint,
                "); pass the vocab.txt written next to that checkpoint");
}

/// KL weight β at training step `step` of the schedule `anneal`: "logistic"
/// 1/(1 + exp(−10(step/S − ½))) (Bowman et al.'s curve, ½ at S/2), "linear"
/// min(1, step/S), "cyclical" (Fu et al. 2019: cycles of S steps, β rising
/// linearly from 0 to 1 over each cycle's first half, 1 over its second), or
/// "none" (β = 1, also when steps S <= 0). The first `ae_steps` steps have
/// β = 0 (the model trains as a plain autoencoder, Li et al. 2019) and the
/// schedule starts after them. A function of the step number only, so a
/// resumed run has the β of an uninterrupted one.
inline double kl_weight(const std::string& anneal, int64_t step, int64_t steps, int64_t ae_steps = 0) {
  if (step < ae_steps) return 0.0;
  step -= ae_steps;
  if (anneal == "none" || steps <= 0) return 1.0;
  const double x = double(step) / double(steps);
  if (anneal == "linear") return std::min(1.0, x);
  if (anneal == "cyclical") return std::min(1.0, 2.0 * (x - std::floor(x)));
  return 1.0 / (1.0 + std::exp(-10.0 * (x - 0.5)));
}

/// (11) Σ_d max(λ, KL_d), KL_d = the mean over rows of ½(exp(s) + m² − 1 − s)
/// in column d: the KL term with free bits. Dimensions below the floor λ
/// contribute λ and no gradient; λ = 0 is gaussian_kl.
template <typename T>
Var<T> free_bits_kl(const Var<T>& mean, const Var<T>& logvar, double lambda) {
  check_shape(logvar.shape(), mean.shape(), "free_bits_kl: logvar");
  DEEPGEN_CHECK(mean.shape().rank() == 2 && mean.shape()[0] > 0 && mean.shape()[1] > 0, "free_bits_kl: mean must be "
                "(B, D) with B, D >= 1 but has shape ", mean.shape());
  DEEPGEN_CHECK(lambda >= 0 && std::isfinite(lambda), "free_bits_kl: lambda = ", lambda, " must be finite and >= 0");
  const int64_t B = mean.shape()[0], D = mean.shape()[1];
  std::vector<char> above(size_t(D), 0);
  T total = T(0);
  for (int64_t d = 0; d < D; ++d) {
    T kl = T(0);
    for (int64_t b = 0; b < B; ++b) kl += detail::kl_term(mean.value()[b * D + d], logvar.value()[b * D + d]);
    kl /= T(B);
    above[size_t(d)] = double(kl) > lambda;
    total += above[size_t(d)] ? kl : T(lambda);
  }
  return Var<T>::make(Tensor<T>::scalar(total), {mean, logvar}, [B, D, above](Node<T>& self) {
    const T g = self.grad[0] / T(B);
    const auto& M = self.parents[0];
    const auto& S = self.parents[1];
    detail::accumulate_grad(M, [&](Tensor<T>& dm) {
      for (int64_t i = 0; i < B * D; ++i)
        if (above[size_t(i % D)]) dm[i] += g * M->value[i];
    });
    detail::accumulate_grad(S, [&](Tensor<T>& ds) {
      for (int64_t i = 0; i < B * D; ++i)
        if (above[size_t(i % D)]) ds[i] += g * detail::kl_dlogvar(S->value[i]);
    });
  }, "free_bits_kl");
}

/// (12) The bag-of-words loss: logits (B, V) from the code, targets (B, L)
/// as in SentenceBatch (the words, then `<eos>`, then IGNORE_INDEX; `<eos>`
/// is not a word and is skipped): −Σ_t log softmax(logits_b)[target_bt],
/// summed over each sentence's words and averaged over the B sentences.
template <typename T>
Var<T> bag_of_words_loss(const Var<T>& logits, const Tensor<int32_t>& targets) {
  const Shape& sh = logits.shape();
  DEEPGEN_CHECK(sh.rank() == 2 && targets.rank() == 2 && targets.dim(0) == sh[0], "bag_of_words_loss: logits (B, V) "
                "and targets (B, L) must have the same B, got ", sh, " and ", targets.shape());
  const int64_t B = sh[0], V = sh[1], L = targets.dim(1);
  Tensor<T> p(sh);  // softmax of each row
  std::vector<int64_t> words(size_t(B), 0);
  double total = 0;
  for (int64_t b = 0; b < B; ++b) {
    const T* z = logits.value().data() + b * V;
    T* pb = p.data() + b * V;
    const T mx = *std::max_element(z, z + V);
    double s = 0;
    for (int64_t k = 0; k < V; ++k) s += std::exp(double(z[k] - mx));
    const double lse = double(mx) + std::log(s);
    for (int64_t k = 0; k < V; ++k) pb[k] = T(std::exp(double(z[k]) - lse));
    for (int64_t t = 0; t < L; ++t) {
      const int32_t y = targets[b * L + t];
      if (y == IGNORE_INDEX || y == data::Vocabulary::EOS) continue;
      DEEPGEN_CHECK(y >= 0 && y < V, "bag_of_words_loss: target ", y, " is outside [0, ", V, ")");
      total += lse - double(z[y]);
      ++words[size_t(b)];
    }
  }
  return Var<T>::make(Tensor<T>::scalar(T(total / double(B))), {logits},
                      [B, V, L, p = std::move(p), words, targets](Node<T>& self) {
    // d/dz_b = (n_b · softmax(z_b) − counts_b) / B
    const T g = self.grad[0] / T(B);
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dz) {
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t k = 0; k < V; ++k) dz[b * V + k] += g * T(words[size_t(b)]) * p[b * V + k];
        for (int64_t t = 0; t < L; ++t) {
          const int32_t y = targets[b * L + t];
          if (y != IGNORE_INDEX && y != data::Vocabulary::EOS) dz[b * V + y] -= g;
        }
      }
    });
  }, "bag_of_words_loss");
}

/// What train_step adds to the reconstruction besides β·KL.
struct KLControl {
  double free_bits = 0;  ///< λ, nats per code dimension (11); 0: the plain KL
  double bow = 0;        ///< weight of the bag-of-words loss (12); needs config.bag_of_words
};

/// Throws unless the checkpoint `source`, of configuration `saved`, has the
/// sizes of `wanted` (latent, embedding, hidden, feed_code), so that training
/// can continue it; the message names them as sentence_vae train's options.
inline void check_same_sizes(const SentenceVAEConfig& saved, const SentenceVAEConfig& wanted,
                             const std::string& source) {
  const SentenceVAEConfig& c = saved;
  DEEPGEN_CHECK(c.latent == wanted.latent && c.embedding == wanted.embedding &&
                    c.decoder_hidden == wanted.decoder_hidden && c.feed_code == wanted.feed_code &&
                    c.bag_of_words == wanted.bag_of_words,
                "--resume: ", source, " has --latent ", c.latent, " (0: --model lm) --embedding ", c.embedding,
                " --hidden ", c.decoder_hidden, c.feed_code ? " --feed-code" : "",
                c.bag_of_words ? " and a bag-of-words layer (--bow > 0)" : " and no bag-of-words layer (--bow 0)",
                "; pass the same to continue it");
}

/// The loss of a batch as graph nodes, nats per sentence.
template <typename T>
struct SentenceLoss {
  Var<T> loss;   ///< (10) recon + β·KL (with free bits: β·(11)) + w_bow·bow
  Var<T> recon;  ///< (8)
  Var<T> kl;     ///< (9); undefined for the language model
  Var<T> bow;    ///< (12); undefined unless config.bag_of_words and w_bow > 0
};

/// Totals over a set of sentences (evaluate) or the terms of one batch.
struct SentenceValues {
  double recon = 0;        ///< nats per sentence
  double kl = 0;           ///< nats per sentence
  int64_t sentences = 0;  ///< sentences counted
  int64_t predicted = 0;   ///< tokens predicted (words + one `<eos>` each)
  /// The NLL bound recon + KL, nats per sentence (exact NLL for the language model).
  double nll() const { return recon + kl; }
  /// exp(NLL per predicted token).
  double perplexity() const { return std::exp(nll() * double(sentences) / double(predicted)); }
};

/// One hypothesis of beam search.
struct Beam {
  data::TokenIds ids;  ///< without `<bos>` or `<eos>`
  double log_prob = 0;  ///< summed log-probability of the tokens chosen so far
  bool finished = false;  ///< true once `<eos>` was chosen
  /// Mean log-probability per predicted token (the words and `<eos>`): the
  /// ranking that does not favour short sentences.
  double score() const { return log_prob / double(ids.size() + (finished ? 1 : 0)); }
};

/// The sentence VAE (Bowman et al.): an LSTM encoder to a code, an LSTM decoder from it; latent = 0 is
/// the LSTM language model (equations at the top of this header).
template <typename T>
class SentenceVAE : public nn::Module<T> {
 public:
  /// Weights from `rng` with PyTorch's init (embedding N(0, 1), LSTM and
  /// Linear uniform), in the order of the parameter list.
  SentenceVAE(const SentenceVAEConfig& config, Philox& rng)
      : m_config((config.validate(), config)),
        m_embedding(config.vocab_size, config.embedding, rng),
        m_decoder(config.embedding, config.decoder_hidden, rng),
        m_fc(config.decoder_hidden, config.vocab_size, rng) {
    if (variational()) {
      m_encoder.emplace(config.embedding, config.encoder_hidden, rng);
      m_to_code.emplace(config.encoder_hidden, 2 * config.latent, rng);
      m_init.emplace(config.latent, 2 * config.decoder_hidden, rng);
      if (config.feed_code) m_code_to_gates.emplace(config.latent, 4 * config.decoder_hidden, rng, false);
      if (config.bag_of_words) m_bow.emplace(config.latent, config.vocab_size, rng);
    }
  }

  /// The sizes it was built with.
  const SentenceVAEConfig& config() const { return m_config; }
  /// True for a VAE, false for the language model.
  bool variational() const { return m_config.variational(); }
  /// D, the code dimensions (0 for the language model).
  int64_t latent() const { return m_config.latent; }
  /// V, the vocabulary size.
  int64_t vocab_size() const { return m_config.vocab_size; }

  /// (1)–(3): the batch's sentences → [m | s] (B, 2D).
  Var<T> encoder_output(const data::SentenceBatch& batch) const {
    DEEPGEN_CHECK(variational(), "SentenceVAE::encoder_output: a language model (latent = 0) has no encoder");
    const LSTMOutput<T> enc = (*m_encoder)(m_embedding(batch.encoder));
    std::vector<int64_t> last(batch.lengths.size());
    for (size_t b = 0; b < last.size(); ++b) last[b] = batch.lengths[b] - 1;
    return (*m_to_code)(select_steps(enc.output, last));
  }

  /// (5)–(7): decoder input ids (B, L) and codes (B, D) (undefined for the
  /// language model) → logits (B, L, V).
  Var<T> decoder_logits(const Tensor<int32_t>& input, const Var<T>& codes) const {
    Var<T> xproj = linear(m_embedding(input), m_decoder.weight_ih());
    Var<T> h0, c0;
    if (variational()) {
      DEEPGEN_CHECK(codes.defined() && codes.shape() == Shape({input.dim(0), latent()}),
                    "SentenceVAE: codes must be (B, D) = (", input.dim(0), ", ", latent(), ")");
      const int64_t H = m_config.decoder_hidden;
      const Var<T> init = (*m_init)(codes);
      h0 = tanh(slice_columns(init, 0, H));
      c0 = slice_columns(init, H, 2 * H);
      if (m_code_to_gates) xproj = add_per_sequence(xproj, (*m_code_to_gates)(codes));
    }
    const LSTMOutput<T> dec = lstm_sequence(xproj, m_decoder.weight_hh(), m_decoder.bias_ih(),
                                            m_decoder.bias_hh(), h0, c0);
    return m_fc(dec.output);
  }

  /// (8)–(12) for a batch. decoder_input: batch.decoder, or a copy with words
  /// dropped; noise: ε (B, D) ~ N(0, I), ignored by the language model;
  /// control: free bits and the bag-of-words weight (training only).
  SentenceLoss<T> loss(const data::SentenceBatch& batch, const Tensor<int32_t>& decoder_input,
                       const Tensor<T>& noise, double beta = 1.0, const KLControl& control = {}) const {
    DEEPGEN_CHECK(beta >= 0 && std::isfinite(beta), "SentenceVAE::loss: beta = ", beta, " must be finite and >= 0");
    DEEPGEN_CHECK(control.free_bits >= 0 && std::isfinite(control.free_bits) && control.bow >= 0 &&
                      std::isfinite(control.bow), "SentenceVAE::loss: free bits ", control.free_bits,
                  " and bag-of-words weight ", control.bow, " must be finite and >= 0");
    DEEPGEN_CHECK(control.bow == 0 || m_bow, "SentenceVAE::loss: a bag-of-words weight needs a model built with "
                  "bag_of_words (sentence_vae train --bow W builds one)");
    check_shape(decoder_input.shape(), batch.decoder.shape(), "SentenceVAE::loss: decoder input");
    check_ids(batch.encoder);
    check_ids(decoder_input);
    const int64_t B = batch.size();
    SentenceLoss<T> t;
    Var<T> codes, kl_term;
    if (variational()) {
      check_shape(noise.shape(), Shape{B, latent()}, "SentenceVAE::loss: noise (one N(0, I) row per sentence)");
      const Var<T> enc = encoder_output(batch);
      const Var<T> m = slice_columns(enc, 0, latent()), s = slice_columns(enc, latent(), 2 * latent());
      codes = reparameterize(m, s, noise);
      t.kl = gaussian_kl(m, s);
      kl_term = control.free_bits > 0 ? free_bits_kl(m, s, control.free_bits) : t.kl;
      if (control.bow > 0) t.bow = bag_of_words_loss((*m_bow)(codes), batch.targets);
    }
    // The mean over the predicted tokens × tokens per sentence = nats per sentence.
    t.recon = scale(softmax_cross_entropy(decoder_logits(decoder_input, codes), batch.targets),
                    T(double(batch.predicted) / double(B)));
    t.loss = kl_term.defined() ? add(t.recon, scale(kl_term, T(beta))) : t.recon;
    if (t.bow.defined()) t.loss = add(t.loss, scale(t.bow, T(control.bow)));
    return t;
  }

  /// One optimisation step: ε from Philox(seed, 2⁴⁰ + step), word dropout
  /// from Philox(seed, 2⁴¹ + step) (so a resumed run draws the same), loss,
  /// backward, clipping (0: none), Adam. A non-finite loss or gradient throws
  /// before the weights change.
  SentenceValues train_step(const data::SentenceBatch& batch, optim::Adam<T>& adam, double max_grad_norm,
                            double beta, double word_dropout, uint64_t seed = 0,
                            const KLControl& control = {}) const {
    const auto params = this->named_parameters();
    adam.zero_grad();
    const uint64_t step = uint64_t(adam.steps());
    Tensor<int32_t> input = batch.decoder;
    Philox drop_rng(seed, (uint64_t(1) << 41) + step);
    data::drop_words(input, word_dropout, drop_rng);
    Tensor<T> noise;
    if (variational()) {
      noise = Tensor<T>(Shape{batch.size(), latent()});
      Philox rng(seed, (uint64_t(1) << 40) + step);
      fill_normal(noise, rng, T(0), T(1));
    }
    const SentenceLoss<T> t = loss(batch, input, noise, beta, control);
    optim::backward_and_step(t.loss, params, adam, max_grad_norm, "SentenceVAE::train_step");
    return values(t, batch);
  }

  /// recon and KL in nats per sentence over `sentences`, no graph, no word
  /// dropout. For the VAE, recon is a Monte-Carlo estimate over `samples`
  /// draws of ε; sentence i's draw j comes from Philox(seed, j·2³² + i), so
  /// the figure does not depend on the batch size.
  SentenceValues evaluate(const std::vector<data::TokenIds>& sentences, int64_t samples = 1, uint64_t seed = 0,
                          int64_t batch = 64) const {
    DEEPGEN_CHECK(!sentences.empty() && samples > 0 && batch > 0, "SentenceVAE::evaluate: need sentences, and "
                  "samples and batch >= 1, got ", sentences.size(), " sentences, ", samples, ", ", batch);
    NoGradGuard no_grad;
    // Sorted by length, so a batch holds little padding.
    std::vector<int64_t> order(sentences.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return sentences[size_t(a)].size() < sentences[size_t(b)].size(); });
    SentenceValues total;
    for (size_t first = 0; first < order.size(); first += size_t(batch)) {
      const std::vector<int64_t> rows(order.begin() + int64_t(first),
                                      order.begin() + int64_t(std::min(order.size(), first + size_t(batch))));
      const data::SentenceBatch b = data::make_batch(sentences, rows);
      const int64_t draws = variational() ? samples : 1;
      for (int64_t j = 0; j < draws; ++j) {
        Tensor<T> noise;
        if (variational()) {
          noise = Tensor<T>(Shape{b.size(), latent()});
          for (int64_t r = 0; r < b.size(); ++r) {
            Philox rng(seed, (uint64_t(j) << 32) + uint64_t(rows[size_t(r)]));
            for (int64_t d = 0; d < latent(); ++d) noise.at(r, d) = rng.normal<T>();
          }
        }
        const SentenceValues v = values(loss(b, b.decoder, noise), b);
        total.recon += v.recon * double(b.size()) / double(draws);
        total.kl += v.kl * double(b.size()) / double(draws);
      }
      total.sentences += b.size();
      total.predicted += b.predicted;
    }
    total.recon /= double(total.sentences);
    total.kl /= double(total.sentences);
    return total;
  }

  /// [m | s] (N, 2D), the posterior of each sentence, in batches of `batch`.
  Tensor<T> posterior(const std::vector<data::TokenIds>& sentences, int64_t batch = 256) const {
    DEEPGEN_CHECK(variational(), "SentenceVAE::posterior: a language model (latent = 0) has no code");
    DEEPGEN_CHECK(!sentences.empty() && batch > 0, "SentenceVAE::posterior: need sentences and batch >= 1");
    NoGradGuard no_grad;
    const int64_t N = int64_t(sentences.size()), D2 = 2 * latent();
    Tensor<T> out(Shape{N, D2});
    for (int64_t first = 0; first < N; first += batch) {
      std::vector<int64_t> rows;
      for (int64_t i = first; i < std::min(N, first + batch); ++i) rows.push_back(i);
      const data::SentenceBatch b = data::make_batch(sentences, rows);
      check_ids(b.encoder);
      const Tensor<T> e = encoder_output(b).value();
      std::copy_n(e.data(), e.numel(), out.data() + first * D2);
    }
    return out;
  }

  /// The mean code m of each sentence (B, D).
  Tensor<T> encode(const std::vector<data::TokenIds>& sentences) const {
    NoGradGuard no_grad;
    std::vector<int64_t> rows(sentences.size());
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = int64_t(i);
    const data::SentenceBatch b = data::make_batch(sentences, rows);
    check_ids(b.encoder);
    return slice_columns(encoder_output(b), 0, latent()).value();
  }

  /// Sentences from codes (B, D) (for the language model pass an empty
  /// tensor and `count`): word by word, at most `max_length` words. Row b
  /// draws from Philox(seed, b); temperature 0 is greedy decoding.
  /// allow_unk = false never writes `<unk>` (the rare words it stands for are
  /// then left out of the text, not guessed).
  std::vector<data::TokenIds> generate(const Tensor<T>& codes, const SamplingOptions& sampling, int64_t max_length,
                                       uint64_t seed = 0, int64_t count = 0, bool allow_unk = true) const {
    check_sampling(sampling);
    Stepper st(*this, codes, count);
    const int64_t B = st.rows(), V = vocab_size();
    std::vector<data::TokenIds> out(static_cast<size_t>(B));
    std::vector<char> done(static_cast<size_t>(B), 0);
    std::vector<int32_t> tokens(static_cast<size_t>(B), data::Vocabulary::BOS);
    std::vector<T> scratch;
    std::vector<Philox> rngs;
    for (int64_t b = 0; b < B; ++b) rngs.emplace_back(seed, uint64_t(b));
    for (int64_t t = 0; t <= max_length; ++t) {
      st.step(tokens);
      for (int64_t b = 0; b < B; ++b) {
        if (done[size_t(b)]) continue;
        T* logits = st.logits(b);
        logits[data::Vocabulary::PAD] = logits[data::Vocabulary::BOS] = std::numeric_limits<T>::lowest();
        if (!allow_unk) logits[data::Vocabulary::UNK] = std::numeric_limits<T>::lowest();
        if (t == max_length) logits[data::Vocabulary::EOS] = std::numeric_limits<T>::max();  // must end here
        const int32_t k = sample_logits(logits, V, sampling, rngs[size_t(b)], scratch);
        if (k == data::Vocabulary::EOS) {
          done[size_t(b)] = 1;
        } else {
          out[size_t(b)].push_back(k);
          tokens[size_t(b)] = k;
        }
      }
      if (std::all_of(done.begin(), done.end(), [](char d) { return d != 0; })) break;
    }
    return out;
  }

  /// Beam search from one code (a row of `codes`, or none for the language
  /// model): the `width` best finished hypotheses by score(), best first.
  /// Hypotheses are kept by summed log-probability; one that chooses `<eos>`
  /// leaves the beam finished and its place is not refilled, so the search
  /// ends when `width` have finished (or at max_length words).
  /// allow_unk as in generate().
  std::vector<Beam> beam_search(const Tensor<T>& code, int64_t width, int64_t max_length,
                                bool allow_unk = true) const {
    return beam_search_with(input_table(), code, width, max_length, allow_unk);
  }

  /// The best beam_search sentence of every row of `codes` (N, D), the
  /// decoder's input table computed once for all of them.
  std::vector<data::TokenIds> beam_search_rows(const Tensor<T>& codes, int64_t width, int64_t max_length,
                                               bool allow_unk = true) const {
    DEEPGEN_CHECK(variational() && codes.rank() == 2 && codes.dim(1) == latent(), "beam_search_rows: codes must be "
                  "(N, ", latent(), ") but have shape ", codes.shape());
    const MatrixRM<T> table = input_table();
    std::vector<data::TokenIds> out;
    Tensor<T> code(Shape{1, latent()});
    for (int64_t r = 0; r < codes.dim(0); ++r) {
      std::copy_n(codes.data() + r * latent(), latent(), code.data());
      out.push_back(beam_search_with(table, code, width, max_length, allow_unk).front().ids);
    }
    return out;
  }

 private:
  // The decoder's input projection of every word: E·W_ihᵀ + b_ih + b_hh (V, 4H).
  MatrixRM<T> input_table() const {
    MatrixRM<T> table = m_embedding.weight().value().matrix() * m_decoder.weight_ih().value().matrix().transpose();
    table.rowwise() += (m_decoder.bias_ih().value().vec() + m_decoder.bias_hh().value().vec()).transpose();
    return table;
  }

  std::vector<Beam> beam_search_with(const MatrixRM<T>& table, const Tensor<T>& code, int64_t width,
                                     int64_t max_length, bool allow_unk) const {
    DEEPGEN_CHECK(width >= 1, "beam_search: width ", width, " must be >= 1");
    DEEPGEN_CHECK(max_length >= 1, "beam_search: max_length ", max_length, " must be >= 1");
    const int64_t V = vocab_size();
    // One state row per hypothesis: the code repeated `width` times.
    Tensor<T> codes;
    if (variational()) {
      DEEPGEN_CHECK(code.rank() == 2 && code.dim(0) == 1 && code.dim(1) == latent(), "beam_search: give one code (1, ",
                    latent(), "), got ", code.shape());
      codes = Tensor<T>(Shape{width, latent()});
      for (int64_t r = 0; r < width; ++r) std::copy_n(code.data(), latent(), codes.data() + r * latent());
    }
    Stepper st(*this, codes, width, &table);
    std::vector<Beam> live{Beam{}}, finished;
    std::vector<int32_t> tokens{data::Vocabulary::BOS};
    std::vector<int64_t> parents;
    for (int64_t t = 0; t <= max_length && !live.empty(); ++t) {
      st.step(tokens);
      struct Candidate {
        double log_prob;
        int64_t parent;
        int32_t token;
      };
      std::vector<Candidate> candidates;
      for (size_t r = 0; r < live.size(); ++r) {
        const T* z = st.logits(int64_t(r));
        const T m = *std::max_element(z, z + V);
        double s = 0;
        for (int64_t k = 0; k < V; ++k) s += std::exp(double(z[k] - m));
        const double lse = double(m) + std::log(s);
        // The `width` best continuations of this hypothesis (never <pad> or <bos>).
        std::vector<int32_t> ks;
        for (int32_t k = 0; k < int32_t(V); ++k)
          if (k != data::Vocabulary::PAD && k != data::Vocabulary::BOS && (allow_unk || k != data::Vocabulary::UNK) &&
              (t < max_length || k == data::Vocabulary::EOS))
            ks.push_back(k);
        const size_t keep = std::min(ks.size(), size_t(width));
        std::partial_sort(ks.begin(), ks.begin() + int64_t(keep), ks.end(), [&](int32_t a, int32_t b) { return z[a] > z[b]; });
        for (size_t i = 0; i < keep; ++i)
          candidates.push_back({live[r].log_prob + double(z[ks[i]]) - lse, int64_t(r), ks[i]});
      }
      std::sort(candidates.begin(), candidates.end(),
                [](const Candidate& a, const Candidate& b) { return a.log_prob > b.log_prob; });
      std::vector<Beam> next;
      parents.clear();
      tokens.clear();
      for (const Candidate& c : candidates) {
        if (int64_t(next.size() + finished.size()) >= width) break;
        Beam beam = live[size_t(c.parent)];
        beam.log_prob = c.log_prob;
        if (c.token == data::Vocabulary::EOS) {
          beam.finished = true;
          finished.push_back(std::move(beam));
        } else {
          beam.ids.push_back(c.token);
          next.push_back(std::move(beam));
          parents.push_back(c.parent);
          tokens.push_back(c.token);
        }
      }
      live = std::move(next);
      if (!live.empty()) st.reorder(parents);
    }
    for (Beam& b : live) finished.push_back(std::move(b));  // cut at max_length
    std::stable_sort(finished.begin(), finished.end(), [](const Beam& a, const Beam& b) { return a.score() > b.score(); });
    if (int64_t(finished.size()) > width) finished.resize(size_t(width));
    return finished;
  }

 public:

  void collect_parameters(const std::string& prefix, nn::NamedParameters<T>& out) const override {
    m_embedding.collect_parameters(prefix + "embedding.", out);
    if (m_encoder) {
      m_encoder->collect_parameters(prefix + "encoder.lstm.", out);
      m_to_code->collect_parameters(prefix + "encoder.to_code.", out);
      m_init->collect_parameters(prefix + "decoder.init.", out);
    }
    if (m_code_to_gates) m_code_to_gates->collect_parameters(prefix + "decoder.code_to_gates.", out);
    if (m_bow) m_bow->collect_parameters(prefix + "bow.", out);
    m_decoder.collect_parameters(prefix + "decoder.lstm.", out);
    m_fc.collect_parameters(prefix + "decoder.fc.", out);
  }

 private:
  // The decoder one step at a time for B rows, without a graph: the word's
  // input projection is a row of the table E·W_ihᵀ + b_ih + b_hh (V, 4H),
  // computed once, so a step is one (B × H)·(H × 4H) product, the gate math
  // and the (B × H)·(H × V) output projection.
  class Stepper {
   public:
    /// shared: the model's input_table(), when the caller has it already.
    Stepper(const SentenceVAE& model, const Tensor<T>& codes, int64_t count, const MatrixRM<T>* shared = nullptr)
        : m(model) {
      NoGradGuard no_grad;
      const int64_t H = model.m_config.decoder_hidden, G = 4 * H;
      if (model.variational()) {
        DEEPGEN_CHECK(codes.rank() == 2 && codes.dim(1) == model.latent() && codes.dim(0) >= 1,
                      "SentenceVAE: codes must be (B, ", model.latent(), ") with B >= 1 but have shape ", codes.shape());
        B = codes.dim(0);
      } else {
        DEEPGEN_CHECK(count >= 1, "SentenceVAE: a language model generates `count` >= 1 sentences, got ", count);
        B = count;
      }
      if (!shared) own_table = model.input_table();
      table = shared ? shared : &own_table;
      h = MatrixRM<T>::Zero(B, H);
      c = MatrixRM<T>::Zero(B, H);
      code_gates = MatrixRM<T>::Zero(B, G);
      if (model.variational()) {
        const Var<T> z(codes);
        const Tensor<T> init = (*model.m_init)(z).value();
        h = init.matrix().leftCols(H).array().tanh().matrix();
        c = init.matrix().rightCols(H);
        if (model.m_code_to_gates) code_gates = (*model.m_code_to_gates)(z).value().matrix();
      }
      act.resize(B, G);
      c_next.resize(B, H);
      h_next.resize(B, H);
      out.resize(B, model.vocab_size());
    }
    int64_t rows() const { return B; }

    /// Feed tokens[b] to row b (rows() entries); logits(b) then holds row b's next-word logits.
    void step(const std::vector<int32_t>& tokens) {
      const int64_t n = int64_t(tokens.size()), H = h.cols();
      act.topRows(n).noalias() = h.topRows(n) * m.m_decoder.weight_hh().value().matrix().transpose();
      for (int64_t b = 0; b < n; ++b) act.row(b) += table->row(tokens[size_t(b)]) + code_gates.row(b);
      deepgen::detail::lstm_gates_forward<T>(act.data(), act.cols(), c.data(), c_next.data(), h_next.data(), H, n, H);
      c.topRows(n) = c_next.topRows(n);
      h.topRows(n) = h_next.topRows(n);
      out.topRows(n).noalias() = h.topRows(n) * m.m_fc.weight().value().matrix().transpose();
      out.topRows(n).rowwise() += m.m_fc.bias().value().vec().transpose();
    }
    T* logits(int64_t b) { return out.data() + b * out.cols(); }

    /// Row r takes the state of row parents[r] (beam search).
    void reorder(const std::vector<int64_t>& parents) {
      const MatrixRM<T> h0 = h, c0 = c, z0 = code_gates;
      for (size_t r = 0; r < parents.size(); ++r) {
        h.row(int64_t(r)) = h0.row(parents[r]);
        c.row(int64_t(r)) = c0.row(parents[r]);
        code_gates.row(int64_t(r)) = z0.row(parents[r]);
      }
    }

   private:
    const SentenceVAE& m;
    int64_t B = 0;
    MatrixRM<T> own_table;
    const MatrixRM<T>* table = nullptr;
    MatrixRM<T> h, c, code_gates, act, c_next, h_next, out;
  };

  void check_ids(const Tensor<int32_t>& ids) const {
    for (int64_t n = 0; n < ids.numel(); ++n)
      DEEPGEN_CHECK(ids[n] >= 0 && ids[n] < vocab_size(), "SentenceVAE: token id ", ids[n], " at position ", n,
                    " is outside the vocabulary [0, ", vocab_size(), "); was the model trained with another "
                    "vocabulary?");
  }

  static SentenceValues values(const SentenceLoss<T>& t, const data::SentenceBatch& b) {
    SentenceValues v;
    v.recon = double(t.recon.value()[0]);
    v.kl = t.kl.defined() ? double(t.kl.value()[0]) : 0.0;
    v.sentences = b.size();
    v.predicted = b.predicted;
    return v;
  }

  SentenceVAEConfig m_config;
  nn::Embedding<T> m_embedding;
  std::optional<nn::LSTM<T>> m_encoder;
  std::optional<nn::Linear<T>> m_to_code;
  std::optional<nn::Linear<T>> m_init;
  std::optional<nn::Linear<T>> m_code_to_gates;
  std::optional<nn::Linear<T>> m_bow;
  nn::LSTM<T> m_decoder;
  nn::Linear<T> m_fc;
};

}  // namespace deepgen::models
