// Fuzz target: data::Vocabulary::parse (vocab.txt). An accepted vocabulary
// starts with the four special tokens, holds at least one word, every word
// one token as tokenize() writes it, each word's id its line.
#include <deepgen/data/text.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using deepgen::data::Vocabulary;
  const std::string text(reinterpret_cast<const char*>(data), size);
  Vocabulary v;
  if (!fuzz::accepted([&] { v = Vocabulary::parse(text, "vocab.txt"); })) return 0;
  FUZZ_REQUIRE(v.size() > Vocabulary::SPECIALS, "size ", v.size());
  FUZZ_REQUIRE(v.word(Vocabulary::PAD) == "<pad>" && v.word(Vocabulary::UNK) == "<unk>" &&
                   v.word(Vocabulary::BOS) == "<bos>" && v.word(Vocabulary::EOS) == "<eos>",
               "special tokens");
  for (int32_t k = 0; k < v.size(); ++k) {
    const std::string& w = v.word(k);
    FUZZ_REQUIRE(v.id(w) == k, "word '", w, "' has id ", v.id(w), " but is on line ", k + 1);
    if (k >= Vocabulary::SPECIALS) {
      const auto tokens = deepgen::data::tokenize(w);
      FUZZ_REQUIRE(tokens.size() == 1 && tokens[0] == w, "word '", w, "' is not one token");
    }
  }
  // What was accepted is what save() would write back.
  std::string back;
  for (int32_t k = 0; k < v.size(); ++k) back += v.word(k) + "\n";
  FUZZ_REQUIRE(Vocabulary::parse(back, "again").fingerprint() == v.fingerprint(), "round trip");
  return 0;
}
