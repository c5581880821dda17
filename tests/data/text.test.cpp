// Tokeniser, vocabulary, corpus split, padded batches, word dropout, length
// batching, and the WordNet example extractor.
#include <deepgen/data/text.hpp>
#include <deepgen/data/wordnet.hpp>

#include <catch2/catch.hpp>

#include <set>

#include "support/temp_dir.hpp"

using namespace deepgen;
using namespace deepgen::data;
using Catch::Contains;

namespace {
// A string literal with its NUL bytes kept (all but the terminator).
template <size_t N>
std::string bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}
}  // namespace

TEST_CASE("tokenize: lower-cases, splits punctuation, keeps apostrophes inside words", "[text]") {
  CHECK(tokenize("Don't worry about it, she said.") ==
        Sentence{"don't", "worry", "about", "it", ",", "she", "said", "."});
  CHECK(tokenize("  I went\tto the STORE  ") == Sentence{"i", "went", "to", "the", "store"});
  CHECK(tokenize("at 5 o'clock; 'tis rock-n-roll") ==
        Sentence{"at", "5", "o'clock", ";", "'", "tis", "rock", "-", "n", "-", "roll"});
  CHECK(tokenize("the dogs' bones!?") == Sentence{"the", "dogs", "'", "bones", "!", "?"});
  CHECK(tokenize("").empty());
  CHECK(tokenize(" \t\n").empty());
  // Tokenising tokenised text changes nothing: corpus files are read back as written.
  const Sentence s = tokenize("\"Well,\" he said, \"it's 3:30 -- isn't it?\"");
  CHECK(tokenize(join(s)) == s);
}

TEST_CASE("corpus_part: a fixed 90/5/5 split by hash", "[text]") {
  int64_t counts[3] = {0, 0, 0};
  const int64_t n = 40000;
  for (int64_t i = 0; i < n; ++i) ++counts[int(corpus_part("sentence number " + std::to_string(i)))];
  CHECK(double(counts[int(Part::train)]) / n == Approx(0.90).margin(0.01));
  CHECK(double(counts[int(Part::valid)]) / n == Approx(0.05).margin(0.006));
  CHECK(double(counts[int(Part::test)]) / n == Approx(0.05).margin(0.006));
  // FNV-1a, not std::hash: the same on every platform and run.
  CHECK(fnv1a("") == 14695981039346656037ull);
  CHECK(fnv1a("a") == 0xaf63dc4c8601ec8cull);  // FNV-1a 64 reference value
}

TEST_CASE("Vocabulary: specials first, words by count then alphabetically, min count, round trip", "[text]") {
  const std::vector<Sentence> train{{"the", "cat", "sat"}, {"the", "dog", "sat"}, {"the", "cat", "ran"}, {"a", "b"}};
  const Vocabulary v = Vocabulary::build(train, 1);
  REQUIRE(v.size() == 4 + 7);
  CHECK(v.word(Vocabulary::PAD) == "<pad>");
  CHECK(v.word(Vocabulary::UNK) == "<unk>");
  CHECK(v.word(Vocabulary::BOS) == "<bos>");
  CHECK(v.word(Vocabulary::EOS) == "<eos>");
  CHECK(v.word(4) == "the");  // 3 times
  CHECK(v.word(5) == "cat");  // 2 times, before "sat" alphabetically
  CHECK(v.word(6) == "sat");
  CHECK(v.word(7) == "a");    // once each, alphabetical
  CHECK(v.id("zebra") == Vocabulary::UNK);
  CHECK(v.encode({"the", "zebra", "ran"}) == TokenIds{4, Vocabulary::UNK, v.id("ran")});
  CHECK(v.decode({Vocabulary::BOS, 4, 5, Vocabulary::EOS, 6}) == "the cat");

  const Vocabulary frequent = Vocabulary::build(train, 2);
  CHECK(frequent.size() == 4 + 3);
  CHECK(!frequent.contains("dog"));
  CHECK(Vocabulary::build(train, 1, 2).size() == 4 + 2);
  CHECK(frequent.fingerprint() != v.fingerprint());

  test::TempDir dir;
  const std::string path = (dir.path / "vocab.txt").string();
  v.save(path);
  const Vocabulary back = Vocabulary::load(path);
  CHECK(back.size() == v.size());
  CHECK(back.fingerprint() == v.fingerprint());
  for (int32_t k = 0; k < v.size(); ++k) CHECK(back.word(k) == v.word(k));

  REQUIRE_THROWS_WITH(Vocabulary::load(dir.write("bad.txt", "the\ncat\n")), Contains("<pad>, <unk>, <bos>, <eos>"));
  REQUIRE_THROWS_WITH(Vocabulary::load(dir.write("two.txt", "<pad>\n<unk>\n<bos>\n<eos>\nthe cat\n")),
                      Contains("exactly one word"));
  REQUIRE_THROWS_WITH(Vocabulary::load((dir.path / "missing.txt").string()), Contains("cannot open '") && Contains("a vocabulary"));
  REQUIRE_THROWS_WITH(v.word(99), Contains("outside"));
}

TEST_CASE("encode_sentence: empty, too long and all-unknown sentences are clear errors", "[text][errors]") {
  const Vocabulary v = Vocabulary::build({{"i", "went", "to", "the", "store"}}, 1);
  std::vector<std::string> unknown;
  CHECK(encode_sentence(v, "I went to the shop", 20, &unknown) ==
        TokenIds{v.id("i"), v.id("went"), v.id("to"), v.id("the"), Vocabulary::UNK});
  CHECK(unknown == std::vector<std::string>{"shop"});
  REQUIRE_THROWS_WITH(encode_sentence(v, "", 20), Contains("is empty"));
  REQUIRE_THROWS_WITH(encode_sentence(v, "  \t ", 20), Contains("is empty"));
  REQUIRE_THROWS_WITH(encode_sentence(v, "i went to the store", 4),
                      Contains("has 5 tokens") && Contains("at most 4") && Contains("shorten"));
  REQUIRE_THROWS_WITH(encode_sentence(v, "zebras graze quietly", 20),
                      Contains("every word") && Contains("outside the model's 9-word vocabulary"));
}

TEST_CASE("make_batch: padding after each sentence, IGNORE targets, counts", "[text]") {
  const std::vector<TokenIds> s{{7, 8, 9}, {5}, {6, 6}};
  const SentenceBatch b = make_batch(s, {0, 1, 2});
  REQUIRE(b.encoder.shape() == Shape({3, 3}));
  REQUIRE(b.decoder.shape() == Shape({3, 4}));
  REQUIRE(b.targets.shape() == Shape({3, 4}));
  CHECK(b.lengths == std::vector<int64_t>{3, 1, 2});
  CHECK(b.predicted == 4 + 2 + 3);
  const int32_t P = Vocabulary::PAD, S = Vocabulary::BOS, E = Vocabulary::EOS, I = IGNORE_INDEX;
  const std::vector<int32_t> enc{7, 8, 9, 5, P, P, 6, 6, P};
  const std::vector<int32_t> dec{S, 7, 8, 9, S, 5, P, P, S, 6, 6, P};
  const std::vector<int32_t> tgt{7, 8, 9, E, 5, E, I, I, 6, 6, E, I};
  CHECK(std::vector<int32_t>(b.encoder.begin(), b.encoder.end()) == enc);
  CHECK(std::vector<int32_t>(b.decoder.begin(), b.decoder.end()) == dec);
  CHECK(std::vector<int32_t>(b.targets.begin(), b.targets.end()) == tgt);
  REQUIRE_THROWS_WITH(make_batch(s, {}), Contains("no rows"));
  REQUIRE_THROWS_WITH(make_batch(s, {3}), Contains("row 3 is outside"));
  REQUIRE_THROWS_WITH(make_batch({{}}, {0}), Contains("empty"));
}

TEST_CASE("drop_words: only words become <unk>, at about the given rate", "[text]") {
  std::vector<TokenIds> s;
  for (int i = 0; i < 400; ++i) s.push_back(TokenIds(size_t(1 + i % 20), int32_t(4 + i % 50)));
  std::vector<int64_t> rows(s.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = int64_t(i);
  const SentenceBatch b = make_batch(s, rows);
  Philox rng(3);
  Tensor<int32_t> none = b.decoder;
  drop_words(none, 0.0, rng);
  CHECK(std::equal(none.begin(), none.end(), b.decoder.begin()));
  Tensor<int32_t> all = b.decoder;
  drop_words(all, 1.0, rng);
  Tensor<int32_t> some = b.decoder;
  drop_words(some, 0.3, rng);
  int64_t words = 0, dropped = 0;
  for (int64_t n = 0; n < b.decoder.numel(); ++n) {
    const int32_t k = b.decoder[n];
    if (k < Vocabulary::SPECIALS) {  // <bos> and <pad> never change
      CHECK(all[n] == k);
      CHECK(some[n] == k);
      continue;
    }
    ++words;
    CHECK(all[n] == Vocabulary::UNK);
    CHECK((some[n] == k || some[n] == Vocabulary::UNK));
    dropped += some[n] == Vocabulary::UNK;
  }
  CHECK(double(dropped) / double(words) == Approx(0.3).margin(0.02));
  REQUIRE_THROWS_WITH(drop_words(some, 1.5, rng), Contains("[0, 1]"));
}

TEST_CASE("length_batches: every sentence once, similar lengths together, repeatable", "[text]") {
  std::vector<TokenIds> s;
  for (int i = 0; i < 1000; ++i) s.push_back(TokenIds(size_t(1 + (i * 7919) % 20), 4));
  Philox a(5, 1), b(5, 1), c(6, 1);
  const auto batches = length_batches(s, 16, a);
  CHECK(batches == length_batches(s, 16, b));
  CHECK(batches != length_batches(s, 16, c));
  std::vector<int> seen(s.size(), 0);
  int64_t padded = 0, real = 0;
  for (const auto& batch : batches) {
    CHECK(batch.size() <= 16);
    size_t longest = 0;
    for (int64_t r : batch) longest = std::max(longest, s[size_t(r)].size());
    for (int64_t r : batch) {
      ++seen[size_t(r)];
      real += int64_t(s[size_t(r)].size());
      padded += int64_t(longest);
    }
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  // Sorting within pools leaves little padding (random batches waste ~40%).
  CHECK(double(padded - real) / double(real) < 0.05);
}

TEST_CASE("wordnet_examples and wordnet_sentences: quoted glosses, length filter, dedup, sorted", "[text]") {
  CHECK(wordnet_examples("00002724 29 v 01 choke 0 002 @ 00001740 v 0000 01 + 02 00 | breathe with difficulty; "
                         "\"She choked with emotion\"; \"He choked\"  ") ==
        std::vector<std::string>{"She choked with emotion", "He choked"});
  CHECK(wordnet_examples("  16 THIS SOFTWARE IS PROVIDED \"AS IS\" | \"x\"").empty());  // license header
  CHECK(wordnet_examples("00001 no gloss \"quoted\"").empty());                          // no '|'
  CHECK(wordnet_examples("00001 | gloss; \"unmatched").empty());

  test::TempDir dir;
  const std::string noun = dir.write("data.noun",
                                     "  1 license line \"Not An Example At All Here\"\n"
                                     "00000001 03 n 01 thing 0 000 | a thing; \"The cat sat on the mat\"; \"too short\"\n"
                                     "00000002 03 n 01 other 0 000 | another; \"the cat sat on the mat\"; \"A dog, a bone, and a ball\"\n");
  const std::string verb = dir.write("data.verb", "00000003 38 v 01 run 0 000 | to run; \"we ran all the way to the old house\"; "
                                                  "\"; % % % % %\"\n");  // punctuation only: skipped
  const auto sentences = wordnet_sentences({noun, verb});
  REQUIRE(sentences.size() == 3);  // the two cat sentences are one after lower-casing
  CHECK(join(sentences[0]) == "a dog , a bone , and a ball");
  CHECK(join(sentences[1]) == "the cat sat on the mat");
  CHECK(join(sentences[2]) == "we ran all the way to the old house");
  CorpusOptions shortest;
  shortest.max_words = 6;
  CHECK(wordnet_sentences({noun, verb}, shortest).size() == 1);
  REQUIRE_THROWS_WITH(wordnet_sentences({(dir.path / "data.adj").string()}), Contains("wordnet-base"));
}

TEST_CASE("wordnet_sentences: junk, a file without synsets and a folder without a sentence are refused",
          "[text][errors]") {
  test::TempDir dir;
  const std::string junk = dir.write("data.noun", bytes("  1 license\n\x7f\x45LF\x02\x01\x00\x00 | \"x\"\n"));
  REQUIRE_THROWS_WITH(wordnet_sentences({junk}), Contains(junk + ":2: not a WordNet synset line"));
  const std::string bad_line = dir.write("data.verb", "00000003 38 v 01 run 0 000 | to run\nhello world\n");
  REQUIRE_THROWS_WITH(wordnet_sentences({bad_line}), Contains(bad_line + ":2: not a WordNet synset line"));
  const std::string license_only = dir.write("data.adj", "  1 license line\n  2 another\n");
  REQUIRE_THROWS_WITH(wordnet_sentences({license_only}), Contains(license_only + ": holds no synset line"));
  const std::string short_only = dir.write("data.adv", "00001740 02 r 01 a_cappella 0 000 | alone; \"they sang\"\n");
  REQUIRE_THROWS_WITH(wordnet_sentences({short_only}), Contains("no usage example of 5-20 tokens") &&
                                                           Contains(short_only) && Contains("dict folder"));
  REQUIRE_THROWS_WITH(wordnet_sentences({"/dev/zero"}), Contains("/dev/zero") && Contains("longer than"));
}

TEST_CASE("read_sentences and Vocabulary::load refuse binary junk and endless files, naming file and line",
          "[text][errors]") {
  test::TempDir dir;
  const std::string junk = dir.write("junk.txt", bytes("the cat sat\nab\x00\x01" "cd\n"));
  REQUIRE_THROWS_WITH(read_sentences(junk), Contains(junk + ":2:3: byte 0 is a control character"));
  const std::string punct = dir.write("punct.txt", "the cat sat\n?! ,\n");
  REQUIRE_THROWS_WITH(read_sentences(punct), Contains(punct + ":2: the line holds no word"));
  REQUIRE_THROWS_WITH(read_sentences("/dev/zero"), Contains("/dev/zero") && Contains("longer than"));
  const std::string crlf = dir.write("crlf.txt", "The cat sat.\r\nA dog ran\r\n");
  CHECK(read_sentences(crlf).size() == 2);

  const std::string head = "<pad>\n<unk>\n<bos>\n<eos>\n";
  REQUIRE_THROWS_WITH(Vocabulary::load(dir.write("v1.txt", head + "the\nc\x01t\n")),
                      Contains("v1.txt:6: a vocabulary line must hold exactly one word") && Contains("c?t"));
  REQUIRE_THROWS_WITH(Vocabulary::load(dir.write("v2.txt", head + "The\n")), Contains("v2.txt:5:"));
  REQUIRE_THROWS_WITH(Vocabulary::load(dir.write("v3.txt", head + "a,b\n")), Contains("v3.txt:5:"));
  REQUIRE_THROWS_WITH(Vocabulary::load(dir.write("v4.txt", head + "the\nthe\n")),
                      Contains("v4.txt:6: the word 'the' appears twice"));
  REQUIRE_THROWS_WITH(Vocabulary::load(dir.write("v5.txt", head)), Contains("holds no word after the four special"));
  REQUIRE_THROWS_WITH(Vocabulary::load(dir.write("v6.txt", "<pad>\n<unk>\n<eos>\n")),
                      Contains("v6.txt:3: expected '<bos>'"));
  REQUIRE_THROWS_WITH(Vocabulary::load("/dev/zero"), Contains("/dev/zero") && Contains("longer than"));
  const Vocabulary ok = Vocabulary::load(dir.write("v7.txt", "<pad>\r\n<unk>\r\n<bos>\r\n<eos>\r\ndon't\r\n,\r\n"));
  CHECK(ok.size() == 6);
  CHECK(ok.id("don't") == 4);
}

TEST_CASE("read_sentences and save_sentences round trip; missing and empty files are errors", "[text][errors]") {
  test::TempDir dir;
  const std::string path = (dir.path / "s.txt").string();
  save_sentences(path, {{"the", "cat", "sat"}, {"don't", "go", ","}});
  const auto back = read_sentences(path);
  REQUIRE(back.size() == 2);
  CHECK(join(back[1]) == "don't go ,");
  REQUIRE_THROWS_WITH(read_sentences((dir.path / "nope.txt").string()), Contains("cannot open '") && Contains("a sentence file"));
  REQUIRE_THROWS_WITH(read_sentences(dir.write("blank.txt", "\n  \n")), Contains("holds no sentence"));
}
