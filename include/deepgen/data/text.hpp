// data/text.hpp — sentences as token ids: tokenisation, a vocabulary, the
// fixed corpus split and padded batches with masks, for the sentence VAE.
//
// Tokenisation is deliberately simple and the same everywhere (the corpus
// builder, training, and a sentence typed on the command line): lower-case;
// a word is a run of letters and digits, with an apostrophe inside it kept
// ("don't", "o'clock"); every other non-space character is a token of its own
// ("it, she said" → it | , | she | said). Bytes ≥ 0x80 (the odd Latin-1
// letter) count as letters.
//
// A vocabulary has four special tokens at fixed ids — <pad> 0, <unk> 1,
// <bos> 2, <eos> 3 — then the words of TRAIN by falling count (ties
// alphabetical), so the same corpus always gives the same ids.
//
// A batch of B sentences (SentenceBatch) holds three (B, ·) id tensors:
//   encoder   w_1 … w_n <pad> …              (B, L), L the longest n
//   decoder   <bos> w_1 … w_n <pad> …        (B, L + 1)
//   targets   w_1 … w_n <eos> IGNORE …       (B, L + 1)
// Padding only ever follows a sentence, so a left-to-right LSTM never reads
// it before the real words; the loss skips it through IGNORE_INDEX targets,
// and the encoder's summary is its state after word n (lengths).
#pragma once

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../config.hpp"  // IGNORE_INDEX
#include "../error.hpp"
#include "../io/atomic_file.hpp"
#include "../io/read_file.hpp"
#include "../random.hpp"
#include "../tensor.hpp"

namespace deepgen::data {

/// A sentence as tokens.
using Sentence = std::vector<std::string>;
/// A sentence as vocabulary ids.
using TokenIds = std::vector<int32_t>;

namespace detail {
inline bool word_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }
}  // namespace detail

/// Lower-cased tokens of `text` (see the top of this header).
inline Sentence tokenize(std::string_view text) {
  Sentence out;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
    } else if (detail::word_char(c)) {
      std::string word;
      while (i < n) {
        const unsigned char d = static_cast<unsigned char>(text[i]);
        if (detail::word_char(d)) {
          word += detail::lower(char(d));
          ++i;
        } else if (d == '\'' && i + 1 < n && detail::word_char(static_cast<unsigned char>(text[i + 1]))) {
          word += '\'';  // an apostrophe between letters belongs to the word
          ++i;
        } else {
          break;
        }
      }
      out.push_back(std::move(word));
    } else {
      out.push_back(std::string(1, char(c)));
      ++i;
    }
  }
  return out;
}

/// The tokens joined by single spaces.
inline std::string join(const Sentence& tokens) {
  std::string out;
  for (const std::string& t : tokens) out += (out.empty() ? "" : " ") + t;
  return out;
}

/// 64-bit FNV-1a: a stable hash for the corpus split and vocabulary checks.
inline uint64_t fnv1a(std::string_view s, uint64_t h = 14695981039346656037ull) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

/// The fixed 90/5/5 split: by a hash of the sentence's text, so a sentence
/// stays in its part however the corpus grows or is ordered.
enum class Part { train, valid, test };
/// The part of the fixed split that `sentence_text` belongs to (5% test, 5% valid).
inline Part corpus_part(const std::string& sentence_text) {
  const uint64_t h = fnv1a(sentence_text) % 20;
  return h == 0 ? Part::test : h == 1 ? Part::valid : Part::train;
}

namespace detail {
// Calls f(line, line_number) for each line of `text` (1-based; a final line
// without its newline counts; a '\r' before the newline is dropped).
template <typename F>
void for_each_line(std::string_view text, F f) {
  int64_t number = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(line, ++number);
  }
}

// The first byte of `line` that no text file holds (a control character other
// than tab, form feed or vertical tab), or npos: binary junk, or a file in an
// encoding with NUL bytes (UTF-16), is refused instead of tokenised.
inline size_t control_byte(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    if ((c < 0x20 && c != '\t' && c != '\f' && c != '\v') || c == 0x7f) return i;
  }
  return std::string_view::npos;
}

inline bool has_word(const Sentence& s) {
  for (const std::string& t : s)
    if (word_char(static_cast<unsigned char>(t[0]))) return true;
  return false;
}
}  // namespace detail

/// What a sentence file must hold, for error messages.
inline constexpr const char* SENTENCE_FILE = "one sentence a line, plain text (make_sentence_corpus writes such files)";

/// The sentences of a corpus file's text `text` (one a line, tokenised; blank
/// lines skipped); `path` names it in errors. Throws deepgen::Error naming
/// path:line for a line with a control byte (binary data) or without a word,
/// and for a text without any sentence.
inline std::vector<Sentence> parse_sentences(std::string_view text, const std::string& path) {
  std::vector<Sentence> out;
  detail::for_each_line(text, [&](std::string_view line, int64_t number) {
    const size_t bad = detail::control_byte(line);
    DEEPGEN_CHECK(bad == std::string_view::npos, path, ":", number, ":", bad + 1, ": byte ",
                  int(static_cast<unsigned char>(line[bad])), " is a control character, not text; expected ",
                  SENTENCE_FILE, " (is this a binary file?)");
    Sentence s = tokenize(line);
    if (s.empty()) return;
    DEEPGEN_CHECK(detail::has_word(s), path, ":", number, ": the line holds no word, only punctuation; expected ",
                  SENTENCE_FILE);
    out.push_back(std::move(s));
  });
  DEEPGEN_CHECK(!out.empty(), "sentence file '", path, "' holds no sentence; expected ", SENTENCE_FILE);
  return out;
}

/// Sentences of a corpus file: one a line, tokenised; blank lines skipped
/// (see parse_sentences). The file is read whole, at most io::MAX_TEXT_FILE_BYTES.
inline std::vector<Sentence> read_sentences(const std::string& path) {
  return parse_sentences(
      io::read_file_limited(path, io::MAX_TEXT_FILE_BYTES,
                            "a sentence file, one sentence a line; build the corpus with make_sentence_corpus "
                            "or pass the right path"),
      path);
}

/// Write sentences one a line, tokens joined by spaces, atomically.
inline void save_sentences(const std::string& path, const std::vector<Sentence>& sentences) {
  std::string text;
  for (const Sentence& s : sentences) text += join(s) + "\n";
  io::write_text_atomically(path, text, "save_sentences");
}

/// Words ↔ ids, with the special tokens `<pad>`, `<unk>`, `<bos>`, `<eos>` at fixed ids 0–3.
class Vocabulary {
 public:
  ///@{
  /// The ids of `<pad>`, `<unk>`, `<bos>` and `<eos>`.
  static constexpr int32_t PAD = 0, UNK = 1, BOS = 2, EOS = 3;
  ///@}
  /// The number of special tokens; words start at this id.
  static constexpr int32_t SPECIALS = 4;

  /// The special tokens only.
  Vocabulary() : m_words{"<pad>", "<unk>", "<bos>", "<eos>"} { index(); }

  /// The words of `sentences` seen at least `min_count` times, by falling
  /// count then alphabetically, at most `max_words` of them (0: no limit).
  static Vocabulary build(const std::vector<Sentence>& sentences, int64_t min_count = 1, int64_t max_words = 0) {
    DEEPGEN_CHECK(min_count >= 1 && max_words >= 0, "Vocabulary::build: min_count = ", min_count,
                  " and max_words = ", max_words, "; need min_count >= 1 and max_words >= 0 (0: no limit)");
    std::unordered_map<std::string, int64_t> counts;
    for (const Sentence& s : sentences)
      for (const std::string& w : s) ++counts[w];
    std::vector<std::pair<std::string, int64_t>> words;
    Vocabulary special;
    for (auto& [w, n] : counts)
      if (n >= min_count && special.m_ids.count(w) == 0) words.emplace_back(w, n);
    std::sort(words.begin(), words.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (max_words > 0 && int64_t(words.size()) > max_words) words.resize(size_t(max_words));
    Vocabulary v;
    for (auto& [w, n] : words) v.m_words.push_back(w);
    v.index();
    return v;
  }

  /// One word a line, ids in line order; the first four must be the specials.
  /// The file is read whole, at most io::MAX_TEXT_FILE_BYTES (see parse).
  static Vocabulary load(const std::string& path) {
    return parse(io::read_file_limited(path, io::MAX_TEXT_FILE_BYTES,
                                       "a vocabulary, one word a line; use the vocab.txt that training wrote "
                                       "next to the checkpoint"),
                 path);
  }

  /// The vocabulary in the text of a vocabulary file (`path` names it in
  /// errors): the four specials on lines 1-4, then at least one word, each
  /// line one token exactly as tokenize() makes it (lower case, no spaces or
  /// control bytes), none twice. Throws deepgen::Error naming path:line.
  static Vocabulary parse(std::string_view text, const std::string& path) {
    Vocabulary v;
    v.m_words.clear();
    v.m_ids.clear();
    const Vocabulary specials;
    detail::for_each_line(text, [&](std::string_view line, int64_t number) {
      const bool special = number <= SPECIALS;
      if (special)
        DEEPGEN_CHECK(line == specials.m_words[size_t(number - 1)], path, ":", number, ": expected '",
                      specials.m_words[size_t(number - 1)], "'; a vocabulary starts with <pad>, <unk>, <bos>, <eos> "
                      "on lines 1-4 (is it a vocabulary written by sentence_vae train?)");
      const Sentence tokens = special ? Sentence{std::string(line)} : tokenize(line);
      if (tokens.size() != 1 || tokens[0] != line) {
        std::string shown(line.substr(0, 40));
        for (char& c : shown)
          if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
        DEEPGEN_CHECK(false, path, ":", number, ": a vocabulary line must hold exactly one word as the tokenizer "
                      "writes it (lower case, no spaces, no control bytes), got '", shown,
                      line.size() > 40 ? "...'" : "'", "; is this a vocabulary written by sentence_vae train?");
      }
      v.m_words.emplace_back(line);
      DEEPGEN_CHECK(v.m_ids.emplace(v.m_words.back(), int32_t(v.m_words.size() - 1)).second, path, ":", number,
                    ": the word '", v.m_words.back(), "' appears twice; the file is damaged");
    });
    DEEPGEN_CHECK(v.m_words.size() >= size_t(SPECIALS), path, ": a vocabulary starts with <pad>, <unk>, <bos>, "
                  "<eos> on lines 1-4; this file has ", v.m_words.size(), " lines (is it a vocabulary written by "
                  "sentence_vae train?)");
    DEEPGEN_CHECK(v.m_words.size() > size_t(SPECIALS), path, ": the vocabulary holds no word after the four "
                  "special tokens; a model needs at least one");
    return v;
  }

  /// Writes the words one a line in id order, atomically.
  void save(const std::string& path) const {
    std::string text;
    for (const std::string& w : m_words) text += w + "\n";
    io::write_text_atomically(path, text, "Vocabulary::save");
  }

  /// The number of ids, special tokens included.
  int64_t size() const { return int64_t(m_words.size()); }
  /// The word with id `id`, bounds-checked.
  const std::string& word(int32_t id) const {
    DEEPGEN_CHECK(id >= 0 && id < size(), "Vocabulary: id ", id, " is outside [0, ", size(), ")");
    return m_words[size_t(id)];
  }
  /// The id of `w`, or UNK.
  int32_t id(const std::string& w) const {
    auto it = m_ids.find(w);
    return it == m_ids.end() ? UNK : it->second;
  }
  /// True when `w` has its own id.
  bool contains(const std::string& w) const { return m_ids.count(w) != 0; }

  /// A fingerprint of the words in order: checkpoints store it, so a model is
  /// never read with ids it was not trained on.
  uint64_t fingerprint() const {
    uint64_t h = fnv1a("vocabulary");
    for (const std::string& w : m_words) h = fnv1a(w + "\n", h);
    return h;
  }

  /// The ids of the tokens of `s` (UNK for unknown words).
  TokenIds encode(const Sentence& s) const {
    TokenIds out;
    out.reserve(s.size());
    for (const std::string& w : s) out.push_back(id(w));
    return out;
  }
  /// Words of `ids` up to the first `<eos>`, joined by spaces; `<pad>` and `<bos>` skipped.
  std::string decode(const TokenIds& ids) const {
    Sentence words;
    for (int32_t k : ids) {
      if (k == EOS) break;
      if (k == PAD || k == BOS) continue;
      words.push_back(word(k));
    }
    return join(words);
  }

 private:
  void index() {
    m_ids.clear();
    for (size_t i = 0; i < m_words.size(); ++i) m_ids.emplace(m_words[i], int32_t(i));
  }
  std::vector<std::string> m_words;
  std::unordered_map<std::string, int32_t> m_ids;
};

/// Every sentence as ids (Vocabulary::encode), in order.
inline std::vector<TokenIds> encode_all(const Vocabulary& vocab, const std::vector<Sentence>& sentences) {
  std::vector<TokenIds> out;
  out.reserve(sentences.size());
  for (const auto& s : sentences) out.push_back(vocab.encode(s));
  return out;
}

/// The number of words of the longest of `sentences` (0 for none).
inline int64_t longest_sentence(const std::vector<TokenIds>& sentences) {
  int64_t n = 0;
  for (const auto& s : sentences) n = std::max(n, int64_t(s.size()));
  return n;
}

/// The tokens a model predicts for `sentences`: their words and one `<eos>` each.
inline int64_t predicted_tokens(const std::vector<TokenIds>& sentences) {
  int64_t n = 0;
  for (const auto& s : sentences) n += int64_t(s.size()) + 1;
  return n;
}

/// A sentence typed by a user, as ids, with the errors a user can make:
/// empty, too long for the model, or made only of words it does not know.
/// `unknown` (optional) receives the words that became `<unk>`.
inline TokenIds encode_sentence(const Vocabulary& vocab, const std::string& text, int64_t max_length,
                                std::vector<std::string>* unknown = nullptr) {
  const Sentence tokens = tokenize(text);
  DEEPGEN_CHECK(!tokens.empty(), "the sentence '", text, "' is empty; give at least one word");
  DEEPGEN_CHECK(int64_t(tokens.size()) <= max_length, "the sentence '", text, "' has ", tokens.size(),
                " tokens but the model reads at most ", max_length, " (the longest training sentence); shorten it");
  TokenIds ids = vocab.encode(tokens);
  std::vector<std::string> missing;
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == Vocabulary::UNK) missing.push_back(tokens[i]);
  DEEPGEN_CHECK(missing.size() < tokens.size(), "every word of '", text, "' is outside the model's ", vocab.size(),
                "-word vocabulary, so there is nothing to encode; use words from the training corpus");
  if (unknown) *unknown = std::move(missing);
  return ids;
}

/// B sentences as padded id tensors for the encoder, the decoder's input and the targets.
struct SentenceBatch {
  Tensor<int32_t> encoder;   ///< (B, L): w_1 … w_n then `<pad>`
  Tensor<int32_t> decoder;   ///< (B, L + 1): `<bos>` w_1 … w_n then `<pad>`
  Tensor<int32_t> targets;   ///< (B, L + 1): w_1 … w_n `<eos>` then IGNORE_INDEX
  std::vector<int64_t> lengths;  ///< n of each sentence (≥ 1)
  int64_t predicted = 0;     ///< Σ (n + 1): the targets the loss counts
  /// B, the number of sentences.
  int64_t size() const { return int64_t(lengths.size()); }
};

/// The batch of sentences[rows[0]], sentences[rows[1]], …
inline SentenceBatch make_batch(const std::vector<TokenIds>& sentences, const std::vector<int64_t>& rows) {
  DEEPGEN_CHECK(!rows.empty(), "make_batch: no rows given");
  int64_t L = 0;
  for (int64_t r : rows) {
    DEEPGEN_CHECK(r >= 0 && r < int64_t(sentences.size()), "make_batch: row ", r, " is outside the ",
                  sentences.size(), " sentences");
    DEEPGEN_CHECK(!sentences[size_t(r)].empty(), "make_batch: sentence ", r, " is empty");
    L = std::max<int64_t>(L, int64_t(sentences[size_t(r)].size()));
  }
  const int64_t B = int64_t(rows.size());
  SentenceBatch b;
  b.encoder = Tensor<int32_t>(Shape{B, L});
  b.decoder = Tensor<int32_t>(Shape{B, L + 1});
  b.targets = Tensor<int32_t>(Shape{B, L + 1});
  b.encoder.fill(Vocabulary::PAD);
  b.decoder.fill(Vocabulary::PAD);
  b.targets.fill(IGNORE_INDEX);
  for (int64_t i = 0; i < B; ++i) {
    const TokenIds& s = sentences[size_t(rows[size_t(i)])];
    const int64_t n = int64_t(s.size());
    b.decoder.at(i, 0) = Vocabulary::BOS;
    for (int64_t t = 0; t < n; ++t) {
      b.encoder.at(i, t) = s[size_t(t)];
      b.decoder.at(i, t + 1) = s[size_t(t)];
      b.targets.at(i, t) = s[size_t(t)];
    }
    b.targets.at(i, n) = Vocabulary::EOS;
    b.lengths.push_back(n);
    b.predicted += n + 1;
  }
  return b;
}

/// Word dropout (Bowman et al.): each word of the decoder's input (never
/// `<bos>` or padding) becomes `<unk>` with probability `rate`, so the decoder
/// cannot lean on the previous words alone and must read the code.
inline void drop_words(Tensor<int32_t>& decoder_input, double rate, Philox& rng) {
  DEEPGEN_CHECK(rate >= 0 && rate <= 1, "word dropout rate ", rate, " must be in [0, 1]");
  if (rate == 0) return;
  for (int64_t n = 0; n < decoder_input.numel(); ++n) {
    int32_t& k = decoder_input[n];
    if (k >= Vocabulary::SPECIALS || k == Vocabulary::UNK)
      if (rng.uniform<double>() < rate) k = Vocabulary::UNK;
  }
}

/// Batches for one epoch: sentences sorted by length within shuffled pools of
/// 50 batches, cut into batches, the batches shuffled. Similar lengths share
/// a batch (little padding) while the order still changes every epoch.
inline std::vector<std::vector<int64_t>> length_batches(const std::vector<TokenIds>& sentences, int64_t batch,
                                                        Philox& rng) {
  DEEPGEN_CHECK(batch > 0, "length_batches: batch size ", batch, " must be positive");
  std::vector<int64_t> order(sentences.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
  shuffle(order, rng);
  const size_t pool = size_t(batch) * 50;
  for (size_t p = 0; p < order.size(); p += pool) {
    const auto end = order.begin() + int64_t(std::min(order.size(), p + pool));
    std::stable_sort(order.begin() + int64_t(p), end, [&](int64_t a, int64_t b) {
      return sentences[size_t(a)].size() < sentences[size_t(b)].size();
    });
  }
  std::vector<std::vector<int64_t>> batches;
  for (size_t i = 0; i < order.size(); i += size_t(batch))
    batches.emplace_back(order.begin() + int64_t(i), order.begin() + int64_t(std::min(order.size(), i + size_t(batch))));
  shuffle(batches, rng);
  return batches;
}

}  // namespace deepgen::data
