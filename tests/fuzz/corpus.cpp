// Fuzz target: the sentence VAE's corpus readers: data::parse_sentences (a
// train.txt / valid.txt / test.txt) and data::wordnet_sentences (a WordNet
// data file). An accepted sentence is non-empty, holds a word, and its tokens
// hold no whitespace or control byte; WordNet's are 5-20 tokens, sorted, unique.
#include <deepgen/data/text.hpp>
#include <deepgen/data/wordnet.hpp>

#include "fuzz_support.hpp"

namespace {
void require_clean(const deepgen::data::Sentence& s) {
  FUZZ_REQUIRE(!s.empty(), "empty sentence");
  bool word = false;
  for (const std::string& t : s) {
    FUZZ_REQUIRE(!t.empty(), "empty token");
    for (char c : t) {
      const unsigned char u = static_cast<unsigned char>(c);
      FUZZ_REQUIRE(u > 0x20 && u != 0x7f, "token '", t, "' holds byte ", int(u));
    }
    word = word || deepgen::data::detail::word_char(static_cast<unsigned char>(t[0]));
  }
  FUZZ_REQUIRE(word, "a sentence without a word: ", deepgen::data::join(s));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<deepgen::data::Sentence> sentences;
  if (fuzz::accepted([&] { sentences = deepgen::data::parse_sentences(text, "train.txt"); })) {
    FUZZ_REQUIRE(!sentences.empty(), "accepted without a sentence");
    for (const auto& s : sentences) require_clean(s);
  }
  static fuzz::MemFile file("data.noun");
  const std::string& path = file.write(data, size);
  std::vector<deepgen::data::Sentence> wordnet;
  if (fuzz::accepted([&] { wordnet = deepgen::data::wordnet_sentences({path}); })) {
    FUZZ_REQUIRE(!wordnet.empty(), "accepted without a sentence");
    for (size_t i = 0; i < wordnet.size(); ++i) {
      require_clean(wordnet[i]);
      FUZZ_REQUIRE(wordnet[i].size() >= 5 && wordnet[i].size() <= 20, wordnet[i].size(), " tokens");
      if (i > 0)
        FUZZ_REQUIRE(deepgen::data::join(wordnet[i - 1]) < deepgen::data::join(wordnet[i]), "not sorted or unique");
    }
  }
  return 0;
}
