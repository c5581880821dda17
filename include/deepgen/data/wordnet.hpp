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
#include <fstream>
#include <set>
#include <string>
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

/// Every distinct tokenised example of 5-20 tokens in the given data files,
/// sorted, so the corpus does not depend on file order.
inline std::vector<Sentence> wordnet_sentences(const std::vector<std::string>& files,
                                               const CorpusOptions& options = {}) {
  DEEPGEN_CHECK(options.min_words >= 1 && options.max_words >= options.min_words, "wordnet_sentences: need 1 <= ",
                "min_words <= max_words, got ", options.min_words, " and ", options.max_words);
  std::set<std::string> seen;
  for (const std::string& path : files) {
    std::ifstream f(path);
    DEEPGEN_CHECK(f.good(), "cannot open WordNet file '", path,
                  "'; install Debian's wordnet-base (scripts/setup.sh does) or pass --wordnet DIR");
    for (std::string line; std::getline(f, line);)
      for (const std::string& example : wordnet_examples(line)) {
        const Sentence s = tokenize(example);
        if (int64_t(s.size()) >= options.min_words && int64_t(s.size()) <= options.max_words) seen.insert(join(s));
      }
  }
  std::vector<Sentence> out;
  for (const std::string& s : seen) out.push_back(tokenize(s));
  return out;
}

}  // namespace deepgen::data
