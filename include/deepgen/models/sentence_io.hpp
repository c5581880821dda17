// models/sentence_io.hpp — a trained sentence VAE (or language model) as the
// commands that use one see it: loaded with its vocabulary and checked
// against it, a user's sentence read as ids with its unknown words named,
// codes drawn from the prior, and codes decoded into text greedily, by
// sampling, or by beam search.
//
// Error messages name the sentence_vae options (--beam, --count,
// --temperature) that lead to them, since those are how a user gets there.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../io/safetensors.hpp"
#include "option_text.hpp"
#include "sentence_vae.hpp"

namespace deepgen::models {

/// The longest max_length a checkpoint's metadata may give: it bounds every
/// decode (greedy, sampled, beam), so a hand-edited value cannot make one run for hours.
constexpr int64_t MAX_SENTENCE_LENGTH = 10000;

/// The most decoder work one decode_text may do, in multiply-adds of the
/// decoder step (hidden·(4H + V) per hypothesis and word): about 10–20 s on
/// one core of this project's machine. Beam search of width W over N codes
/// does N·W·(max_length + 1) hypothesis steps, so an absurd --beam, --count
/// or --steps is refused up front instead of running for minutes.
constexpr double MAX_DECODE_WORK = 1e12;

/// A trained sentence model with the vocabulary it was trained with.
template <typename T>
struct SentenceCheckpoint {
  SentenceVAE<T> model;                     ///< the VAE, or the language model (latent = 0)
  data::Vocabulary vocab;                   ///< checked against the checkpoint (check_vocabulary)
  std::map<std::string, std::string> meta;  ///< the checkpoint's metadata
  int64_t max_length = 20;                  ///< the longest sentence it reads and writes (metadata max_length)
};

/// The vocab.txt in the folder of the checkpoint `weights`.
inline std::string vocabulary_beside(const std::string& weights) {
  return (std::filesystem::path(weights).parent_path() / "vocab.txt").string();
}

/// The model of checkpoint `weights` and its vocabulary (`vocab_path`, or
/// vocab.txt beside the weights when empty), checked against each other.
/// Throws deepgen::Error on a missing or foreign file or another vocabulary.
template <typename T = float>
SentenceCheckpoint<T> load_sentence_checkpoint(const std::string& weights, std::string vocab_path = "") {
  if (vocab_path.empty()) vocab_path = vocabulary_beside(weights);
  std::map<std::string, std::string> meta;
  const auto tensors = io::load_safetensors<T>(weights, &meta);
  const SentenceVAEConfig c = SentenceVAEConfig::from_parameters(tensors, weights);
  data::Vocabulary vocab = data::Vocabulary::load(vocab_path);
  check_vocabulary(c, meta, vocab, weights, vocab_path);
  Philox unused(0);  // the weights are replaced by the file's
  SentenceCheckpoint<T> out{SentenceVAE<T>(c, unused), std::move(vocab), meta};
  out.model.load_parameters(tensors, weights);
  if (const auto it = meta.find("max_length"); it != meta.end()) {  // a hand-edited file may say anything
    long long n = 0;
    DEEPGEN_CHECK(parse_integer(it->second, n) && n >= 1 && n <= MAX_SENTENCE_LENGTH, weights,
                  ": metadata 'max_length' is '", it->second, "' but must be a whole number from 1 to ",
                  MAX_SENTENCE_LENGTH, "; the file was edited or damaged, save it again");
    out.max_length = n;
  }
  return out;
}

/// Ids of a sentence typed by a user (data::encode_sentence with the model's
/// max_length); its unknown words are named on `warnings` (none: silent).
template <typename T>
data::TokenIds encode_input(const SentenceCheckpoint<T>& m, const std::string& text, std::FILE* warnings = stderr) {
  std::vector<std::string> unknown;
  data::TokenIds ids = data::encode_sentence(m.vocab, text, m.max_length, &unknown);
  if (!unknown.empty() && warnings) {
    std::string list;
    for (const auto& w : unknown) list += (list.empty() ? "" : ", ") + w;
    std::fprintf(warnings, "warning: not in the vocabulary, read as <unk>: %s\n", list.c_str());
  }
  return ids;
}

/// `count` codes (count, D) drawn from the prior N(0, I) with Philox(seed, 7).
template <typename T = float>
Tensor<T> prior_codes(int64_t count, int64_t latent, uint64_t seed) {
  Tensor<T> codes(Shape{count, latent});
  Philox rng(seed, 7);
  fill_normal(codes, rng, T(0), T(1));
  return codes;
}

/// How decode_text turns codes into words.
struct Decoding {
  double temperature = 0;  ///< 0: the likeliest word at each step
  int64_t beam = 1;        ///< > 1: beam search
  bool allow_unk = true;   ///< false: never write `<unk>`
  uint64_t seed = 1;       ///< draws with temperature > 0
};

/// Throws unless decoding `rows` sentences of `m` with beam width `beam` (1:
/// greedy) stays within `limit` multiply-adds (see MAX_DECODE_WORK); `fix`
/// tells the user which options lower it.
template <typename T>
void check_decode_work(const SentenceCheckpoint<T>& m, int64_t rows, int64_t beam, double limit, const char* fix) {
  const SentenceVAEConfig& c = m.model.config();
  const double work = double(rows) * double(std::max<int64_t>(beam, 1)) * double(m.max_length + 1) *
                      double(c.decoder_hidden) * double(4 * c.decoder_hidden + c.vocab_size);
  DEEPGEN_CHECK(work <= limit, "decoding ", rows, " sentence(s) with beam width ", beam, " up to ", m.max_length + 1,
                " words each is ", work / 1e9, " G multiply-adds of the decoder, more than the ", limit / 1e9,
                " G one command may take (minutes of work); ", fix);
}

/// The sentences of codes (B, D), or of `count` sentences of a language
/// model (codes empty): greedy or sampled word by word
/// (SentenceVAE::generate), or the likeliest by beam search when beam > 1,
/// one per code (one in all for a language model).
template <typename T>
std::vector<std::string> decode_text(const SentenceCheckpoint<T>& m, const Tensor<T>& codes, int64_t count,
                                     const Decoding& d) {
  std::vector<std::string> out;
  check_decode_work(m, m.model.variational() ? codes.dim(0) : count, d.beam, MAX_DECODE_WORK,
                    "use a smaller --beam, --count or --steps");
  if (d.beam > 1) {
    DEEPGEN_CHECK(m.model.variational() || count <= 1, "--beam on a language model finds its one likeliest "
                  "sentence; pass --count 1, or --temperature for different ones");
    DEEPGEN_CHECK(d.temperature == 0, "--beam searches for the likeliest sentence; it does not combine with "
                  "--temperature (drop one of the two)");
    const int64_t rows = m.model.variational() ? codes.dim(0) : 1;
    for (int64_t b = 0; b < rows; ++b) {
      Tensor<T> code;
      if (m.model.variational()) {
        code = Tensor<T>(Shape{1, codes.dim(1)});
        std::copy_n(codes.data() + b * codes.dim(1), codes.dim(1), code.data());
      }
      out.push_back(m.vocab.decode(m.model.beam_search(code, d.beam, m.max_length, d.allow_unk).front().ids));
    }
    return out;
  }
  SamplingOptions s;
  s.temperature = d.temperature;
  for (const auto& ids : m.model.generate(codes, s, m.max_length, d.seed, count, d.allow_unk))
    out.push_back(m.vocab.decode(ids));
  return out;
}

}  // namespace deepgen::models
