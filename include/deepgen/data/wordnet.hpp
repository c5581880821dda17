// data/wordnet.hpp — the sentence VAE's corpus: the usage examples quoted in
// WordNet's glosses (Debian's wordnet-base, /usr/share/wordnet/data.*).
//
// A synset line of data.noun, data.verb, data.adj or data.adv ends in
// "| gloss", and the gloss quotes its examples:
//   00002724 29 v 01 choke 0 … | breathe with great difficulty, …; "She choked with emotion when …"
// Each quoted string is one example. The license header lines start with two
// spaces and are skipped.
#pragma once

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "text.hpp"

namespace deepgen::data {

/// The quoted examples in the gloss of one line of a WordNet data file.
inline std::vector<std::string> wordnet_examples(const std::string& line) {
  std::vector<std::string> out;
  if (line.rfind("  ", 0) == 0) return out;  // license header
  const size_t bar = line.find('|');
  if (bar == std::string::npos) return out;
  size_t open = line.find('"', bar);
  while (open != std::string::npos) {
    const size_t close = line.find('"', open + 1);
    if (close == std::string::npos) break;  // an unmatched quote: not an example
    out.push_back(line.substr(open + 1, close - open - 1));
    open = line.find('"', close + 1);
  }
  return out;
}

/// Which of WordNet's usage examples become corpus sentences.
struct CorpusOptions {
  int64_t min_words = 5;   ///< shorter examples ("a fatal attack") are phrases, not sentences
  int64_t max_words = 20;  ///< longer examples are left out
};

namespace detail {
// A synset line starts "OFFSET LEX_FILENUM SS_TYPE " (e.g. "00001740 02 r "):
// eight digits, two digits, one of n v a s r.
inline bool synset_line(std::string_view line) {
  if (line.size() < 14) return false;
  for (size_t i : {0, 1, 2, 3, 4, 5, 6, 7, 9, 10})
    if (line[i] < '0' || line[i] > '9') return false;
  return line[8] == ' ' && line[11] == ' ' && std::string_view("nvasr").find(line[12]) != std::string_view::npos &&
         line[13] == ' ';
}
}  // namespace detail

/// Every distinct tokenised example of 5-20 tokens, at least one of them a
/// word (not punctuation only), in the given data files,
/// sorted, so the corpus does not depend on file order. Each file is read
/// whole (at most io::MAX_TEXT_FILE_BYTES) and must be a WordNet data file:
/// license lines starting with two spaces, then synset lines; anything else
/// (binary junk, another file) is refused naming file:line, as is a file
/// without a synset or files that give no sentence at all.
inline std::vector<Sentence> wordnet_sentences(const std::vector<std::string>& files,
                                               const CorpusOptions& options = {}) {
  DEEPGEN_CHECK(options.min_words >= 1 && options.max_words >= options.min_words, "wordnet_sentences: need 1 <= ",
                "min_words <= max_words, got ", options.min_words, " and ", options.max_words);
  const char* expected = "a WordNet data file (data.noun, data.verb, data.adj or data.adv); install Debian's "
                         "wordnet-base (scripts/setup.sh does) or pass --wordnet DIR";
  std::set<std::string> seen;
  for (const std::string& path : files) {
    const std::string text = io::read_file_limited(path, io::MAX_TEXT_FILE_BYTES, expected);
    int64_t synsets = 0;
    detail::for_each_line(text, [&](std::string_view line, int64_t number) {
      if (line.substr(0, 2) == "  " || line.empty()) return;  // license header
      DEEPGEN_CHECK(detail::synset_line(line) && detail::control_byte(line) == std::string_view::npos, path, ":",
                    number, ": not a WordNet synset line (expected 'OFFSET LEX_FILENUM SS_TYPE ... | gloss', e.g. "
                    "'00001740 02 r 01 a_cappella ...'); expected ", expected);
      ++synsets;
      for (const std::string& example : wordnet_examples(std::string(line))) {
        const Sentence s = tokenize(example);
        // Only punctuation ("; % % % % %", found by fuzzing) is no sentence to learn.
        if (int64_t(s.size()) >= options.min_words && int64_t(s.size()) <= options.max_words && detail::has_word(s))
          seen.insert(join(s));
      }
    });
    DEEPGEN_CHECK(synsets > 0, path, ": holds no synset line; expected ", expected);
  }
  std::string names;
  for (const std::string& path : files) names += (names.empty() ? "" : ", ") + path;
  DEEPGEN_CHECK(!seen.empty() || files.empty(), "no usage example of ", options.min_words, "-", options.max_words,
                " tokens in ", names, "; is this WordNet's dict folder?");
  std::vector<Sentence> out;
  for (const std::string& s : seen) out.push_back(tokenize(s));
  return out;
}

}  // namespace deepgen::data
