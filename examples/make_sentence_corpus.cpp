// make_sentence_corpus — the sentence VAE's corpus from WordNet's usage
// examples: tokenised, lower-cased, deduplicated, split 90/5/5 by a hash of
// each sentence (data::corpus_part), so the split never changes.
//
//   make_sentence_corpus --out DIR [--wordnet /usr/share/wordnet] [--min-words 5] [--max-words 20]
//
// Writes OUT/train.txt, OUT/valid.txt, OUT/test.txt: one sentence a line,
// tokens separated by spaces. The line on stdout is read by scripts:
//   sentences=<n> train=<n> valid=<n> test=<n> tokens=<n> distinct_words=<n>
#include <deepgen/data/text.hpp>
#include <deepgen/data/wordnet.hpp>

#include "cli_checks.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <set>

using namespace deepgen;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  CLI::App app{"WordNet's usage examples → train/valid/test sentence files"};
  std::string out, wordnet = "/usr/share/wordnet";
  data::CorpusOptions options;
  app.add_option("--out", out, "folder for train.txt, valid.txt, test.txt")->required()
      ->check(cli_checks::output_folder());
  app.add_option("--wordnet", wordnet, "folder with data.noun, data.verb, data.adj, data.adv")
      ->capture_default_str();  // a missing folder: wordnet_sentences says which package installs it
  app.add_option("--min-words", options.min_words, "shortest sentence kept, in tokens")
      ->capture_default_str()->check(cli_checks::whole(1, cli_checks::MAX_WORDS));
  app.add_option("--max-words", options.max_words, "longest sentence kept, in tokens")
      ->capture_default_str()->check(cli_checks::whole(1, cli_checks::MAX_WORDS));
  DEEPGEN_CLI_PARSE(app, argc, argv);
  if (options.min_words > options.max_words) {  // refused before WordNet is read and before --out is made
    std::fprintf(stderr, "error: --min-words %lld is more than --max-words %lld; no sentence could be kept\n",
                 (long long)options.min_words, (long long)options.max_words);
    return 1;
  }
  try {
    std::vector<std::string> files;
    for (const char* pos : {"noun", "verb", "adj", "adv"}) files.push_back((fs::path(wordnet) / ("data." + std::string(pos))).string());
    const std::vector<data::Sentence> all = data::wordnet_sentences(files, options);
    DEEPGEN_CHECK(!all.empty(), "no usage example of ", options.min_words, "-", options.max_words, " tokens in ",
                  wordnet, "; is it WordNet's dict folder?");
    std::vector<data::Sentence> parts[3];
    int64_t tokens = 0;
    std::set<std::string> words;
    for (const data::Sentence& s : all) {
      parts[int(data::corpus_part(data::join(s)))].push_back(s);
      tokens += int64_t(s.size());
      words.insert(s.begin(), s.end());
    }
    fs::create_directories(out);
    const char* names[3] = {"train.txt", "valid.txt", "test.txt"};
    for (int p = 0; p < 3; ++p) data::save_sentences((fs::path(out) / names[p]).string(), parts[p]);
    std::printf("sentences=%zu train=%zu valid=%zu test=%zu tokens=%lld distinct_words=%zu\n", all.size(),
                parts[0].size(), parts[1].size(), parts[2].size(), (long long)tokens, words.size());
    for (const char* n : names) std::printf("wrote %s\n", (fs::path(out) / n).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
