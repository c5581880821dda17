// A trained sentence model as the commands use it (models/sentence_io.hpp):
// loaded with the vocabulary beside it and checked against it, a user's
// sentence encoded with its unknown words named, codes decoded greedily,
// sampled or by beam search; and the helpers training uses (the KL schedule,
// the size check of --resume, corpus figures) and SentenceTask through train::run.
#include <deepgen/train/checkpoint.hpp>
#include <deepgen/models/sentence_io.hpp>
#include <deepgen/models/sentence_training.hpp>

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>

using namespace deepgen;
using models::SentenceVAEConfig;
using data::Vocabulary;
using Catch::Contains;

namespace {

const std::vector<data::Sentence> CORPUS{{"the", "cat", "saw", "the", "dog"}, {"a", "dog", "ran"}, {"we", "saw", "it"}};

/// A tiny untrained model saved with its vocabulary into `dir`; returns the weights' path.
std::string save_model(const test::TempDir& dir, int64_t latent, const Vocabulary& v,
                       const std::string& max_length = "6") {
  SentenceVAEConfig c;
  c.vocab_size = v.size();
  c.embedding = 3;
  c.encoder_hidden = c.decoder_hidden = 4;
  c.latent = latent;
  Philox init(5);
  const models::SentenceVAE<float> m(c, init);
  auto meta = models::vocabulary_metadata(v);
  meta["max_length"] = max_length;
  const std::string path = (dir.path / "model.safetensors").string();
  io::save_safetensors<float>(path, io::parameter_tensors(m), meta);
  v.save((dir.path / "vocab.txt").string());
  return path;
}

std::string read_all(std::FILE* f) {
  std::rewind(f);
  std::string s;
  for (int c; (c = std::fgetc(f)) != EOF;) s += char(c);
  return s;
}

}  // namespace

TEST_CASE("load_sentence_checkpoint: a hand-edited max_length is refused naming the file and the key",
          "[models][sentence_io]") {
  const test::TempDir dir;
  const Vocabulary v = Vocabulary::build(CORPUS);
  for (const std::string bad : {"", "x", "12x", "-3", "0", "1e3", "99999999999999999999", "10001"})
    REQUIRE_THROWS_WITH(models::load_sentence_checkpoint(save_model(dir, 2, v, bad)),
                        Contains("model.safetensors: metadata 'max_length' is '" + bad + "'") &&
                            Contains("from 1 to 10000"));
  CHECK(models::load_sentence_checkpoint(save_model(dir, 2, v, "10000")).max_length == 10000);
}

TEST_CASE("load_sentence_checkpoint: the model with the vocabulary beside it, or refused with another one",
          "[models][sentence_io]") {
  const test::TempDir dir;
  const Vocabulary v = Vocabulary::build(CORPUS);
  const std::string weights = save_model(dir, 2, v);
  REQUIRE(models::vocabulary_beside(weights) == (dir.path / "vocab.txt").string());
  const auto m = models::load_sentence_checkpoint(weights);
  CHECK(m.model.variational());
  CHECK(m.model.latent() == 2);
  CHECK(m.vocab.size() == v.size());
  CHECK(m.vocab.fingerprint() == v.fingerprint());
  CHECK(m.max_length == 6);
  CHECK(m.meta.at("vocab_size") == std::to_string(v.size()));

  // Two words swapped: same size, another fingerprint.
  std::vector<data::Sentence> other = CORPUS;
  other[2] = {"we", "ate", "it"};
  const std::string other_path = (dir.path / "other.txt").string();
  Vocabulary::build(other).save(other_path);
  REQUIRE_THROWS_WITH(models::load_sentence_checkpoint(weights, other_path),
                      Contains("was trained with another vocabulary") && Contains("other.txt"));
  REQUIRE_THROWS_WITH(models::load_sentence_checkpoint((dir.path / "none.safetensors").string()),
                      Contains("none.safetensors"));
}

TEST_CASE("encode_input names the unknown words; decode_text decodes greedily, sampled and by beam search",
          "[models][sentence_io]") {
  const test::TempDir dir;
  const auto m = models::load_sentence_checkpoint(save_model(dir, 2, Vocabulary::build(CORPUS)));

  std::FILE* warnings = std::tmpfile();
  REQUIRE(warnings);
  const data::TokenIds ids = models::encode_input(m, "The zebra saw the DOG", warnings);
  CHECK(m.vocab.decode(ids) == "the <unk> saw the dog");
  CHECK(read_all(warnings) == "warning: not in the vocabulary, read as <unk>: zebra\n");
  std::fclose(warnings);
  CHECK(models::encode_input(m, "the cat", nullptr).size() == 2);
  REQUIRE_THROWS_WITH(models::encode_input(m, "the cat saw the dog and the bird", nullptr),
                      Contains("the model reads at most 6"));

  const Tensor<float> codes = models::prior_codes(3, 2, 4);
  REQUIRE(codes.shape() == Shape({3, 2}));
  CHECK(models::prior_codes(3, 2, 4).vec().isApprox(codes.vec()));

  models::Decoding greedy;
  const auto texts = models::decode_text(m, codes, 0, greedy);
  REQUIRE(texts.size() == 3);
  SamplingOptions argmax;
  argmax.temperature = 0;
  const auto generated = m.model.generate(codes, argmax, m.max_length, greedy.seed);
  for (size_t b = 0; b < 3; ++b) CHECK(texts[b] == m.vocab.decode(generated[b]));

  models::Decoding beam;
  beam.beam = 3;
  beam.allow_unk = false;
  const auto beamed = models::decode_text(m, codes, 0, beam);
  REQUIRE(beamed.size() == 3);
  for (const auto& s : beamed) CHECK(s.find("<unk>") == std::string::npos);

  models::Decoding both = beam;
  both.temperature = 1;
  REQUIRE_THROWS_WITH(models::decode_text(m, codes, 0, both), Contains("does not combine"));

  models::Decoding sampled;
  sampled.temperature = 1;
  sampled.seed = 9;
  CHECK(models::decode_text(m, codes, 0, sampled) == models::decode_text(m, codes, 0, sampled));
}

TEST_CASE("decode_text on a language model: count sentences, one by beam search", "[models][sentence_io]") {
  const test::TempDir dir;
  const auto lm = models::load_sentence_checkpoint(save_model(dir, 0, Vocabulary::build(CORPUS)));
  REQUIRE_FALSE(lm.model.variational());
  models::Decoding sampled;
  sampled.temperature = 1;
  CHECK(models::decode_text(lm, Tensor<float>(), 4, sampled).size() == 4);
  models::Decoding beam;
  beam.beam = 2;
  CHECK(models::decode_text(lm, Tensor<float>(), 1, beam).size() == 1);
  REQUIRE_THROWS_WITH(models::decode_text(lm, Tensor<float>(), 2, beam), Contains("pass --count 1"));
}

TEST_CASE("kl_weight, check_same_sizes and the corpus figures", "[models][sentence_io]") {
  CHECK(models::kl_weight("none", 5, 100) == 1.0);
  CHECK(models::kl_weight("logistic", 3, 0) == 1.0);
  CHECK(models::kl_weight("linear", 25, 100) == Approx(0.25));
  CHECK(models::kl_weight("linear", 300, 100) == 1.0);
  CHECK(models::kl_weight("logistic", 50, 100) == Approx(0.5));
  CHECK(models::kl_weight("logistic", 0, 100) < 0.01);

  SentenceVAEConfig a;
  a.vocab_size = 10;
  SentenceVAEConfig b = a;
  models::check_same_sizes(a, b, "m.safetensors");
  b.latent = 8;
  REQUIRE_THROWS_WITH(models::check_same_sizes(a, b, "m.safetensors"),
                      Contains("m.safetensors has --latent 16") && Contains("pass the same"));

  const Vocabulary v = Vocabulary::build(CORPUS);
  const auto ids = data::encode_all(v, CORPUS);
  REQUIRE(ids.size() == 3);
  CHECK(ids[1] == v.encode(CORPUS[1]));
  CHECK(data::longest_sentence(ids) == 5);
  CHECK(data::predicted_tokens(ids) == 5 + 3 + 3 + 3);
  CHECK(data::longest_sentence({}) == 0);
}

TEST_CASE("SentenceTask: train::run trains it, writes steps.csv every 100 steps and resumes it",
          "[models][sentence_io][train]") {
  const test::TempDir dir;
  std::vector<data::Sentence> corpus;
  for (int i = 0; i < 60; ++i) corpus.push_back(CORPUS[size_t(i) % CORPUS.size()]);
  const Vocabulary v = Vocabulary::build(corpus);
  const auto ids = data::encode_all(v, corpus);
  SentenceVAEConfig c;
  c.vocab_size = v.size();
  c.embedding = 3;
  c.encoder_hidden = c.decoder_hidden = 4;
  c.latent = 2;
  models::SentenceTraining s;
  s.batch = 1;
  s.anneal_steps = 50;
  s.out = (dir.path / "run").string();
  std::filesystem::create_directories(s.out);
  v.save((dir.path / "run" / "vocab.txt").string());
  train::Options loop;
  loop.out = s.out;
  loop.monitor = "valid_nll";
  auto run = [&](int64_t epochs, bool resume) {
    Philox init(1);
    models::SentenceVAE<float> model(c, init);
    optim::Adam<float> adam(model.named_parameters(), {1e-2});
    s.resume = loop.resume = resume;
    loop.epochs = epochs;
    models::SentenceTask<float> task(s, model, adam, v, ids, ids, data::longest_sentence(ids));
    return train::run(task, loop);
  };
  const train::Result first = run(1, false);
  CHECK(first.step == 60);
  CHECK(std::isfinite(first.best));
  const auto m = models::load_sentence_checkpoint(first.checkpoint);
  CHECK(m.max_length == 5);
  CHECK(m.meta.at("model") == "sentence_vae");
  CHECK_FALSE(std::filesystem::exists(dir.path / "run" / "steps.csv"));  // the window holds 60 steps

  const train::Result second = run(2, true);  // the window reaches 100 steps at step 100
  CHECK(second.step == 120);
  std::ifstream f(dir.path / "run" / "steps.csv");
  std::string header, row, rest;
  std::getline(f, header);
  std::getline(f, row);
  CHECK(header == "step,epoch,minutes,beta,train_recon,train_kl,train_loss");
  CHECK(row.rfind("100,1.66", 0) == 0);
  CHECK_FALSE(std::getline(f, rest));

  c.latent = 3;  // another size than the checkpoint's
  REQUIRE_THROWS_WITH(run(3, true), Contains("--resume") && Contains("has --latent 2"));
}
