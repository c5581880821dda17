// sentence_vae — the lecture's sentence VAE on WordNet's usage examples, and
// the plain LSTM language model it is compared with: train, evaluate,
// reconstruct, sample, and walk the straight line between two sentences.
//
//   sentence_vae train       --data DIR --out DIR [--model vae|lm] [--epochs N] [--minutes M] [--max-steps S] [--patience N]
//                            [--batch B] [--lr LR] [--latent D] [--embedding E] [--hidden H]
//                            [--feed-code] [--min-count N] [--anneal logistic|linear|none]
//                            [--anneal-steps S] [--word-dropout P] [--clip C] [--seed S] [--resume]
//   sentence_vae eval        --weights FILE (--data DIR | --sentences FILE) [--samples S]
//   sentence_vae reconstruct --weights FILE [--beam W] [--no-unk] SENTENCE...
//   sentence_vae sample      --weights FILE [--count N] [--temperature T] [--beam W] [--no-unk] [--seed S]
//   sentence_vae interpolate --weights FILE --from SENTENCE --to SENTENCE [--steps N] [--beam W] [--no-unk]
//
// DIR holds train.txt, valid.txt, test.txt (make_sentence_corpus). Training
// writes OUT/vocab.txt, OUT/model.safetensors (+ .optim, every epoch, for
// --resume), OUT/best.safetensors (lowest validation NLL), OUT/train_log.csv
// (per epoch) and OUT/steps.csv (training averages every 100 steps). Every
// other command reads the vocabulary beside --weights (or --vocab FILE) and
// refuses one the checkpoint was not trained with.
//
// Lines on stdout are read by scripts; keep their form:
//   epoch=<e> step=<n> minutes=<m> beta=<b> train_recon=<v> train_kl=<v> valid_nll=<v> valid_recon=<v> valid_kl=<v>
//     valid_ppl=<v>
//   nll_per_sentence=<v> kl=<v> ppl=<v> recon=<v> sentences=<n> tokens=<n>
//   wrote <path>
// NLL figures are nats per sentence: for the VAE the bound recon + KL, for
// the language model the exact NLL; ppl = exp(NLL per predicted token, <eos>
// included). Training is train::run (deepgen/train.hpp): checkpoints every
// epoch and at the budget's end, exact --resume, early stopping (--patience).
#include <deepgen/data/text.hpp>
#include <deepgen/deepgen.hpp>
#include <deepgen/memory.hpp>
#include <deepgen/models/latent_paths.hpp>
#include <deepgen/models/sentence_vae.hpp>

#include "train_cli.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace fs = std::filesystem;
using namespace deepgen;
using models::SentenceVAEConfig;
using Model = models::SentenceVAE<float>;
using data::Vocabulary;

namespace {

// Validation and test figures: ε drawn this often per sentence from this seed,
// in train and in eval alike, so both print the same number for a checkpoint.
constexpr int64_t EVAL_SAMPLES = 4;
constexpr uint64_t EVAL_SEED = 0;
constexpr int64_t STEPS_PER_LOG_LINE = 100;

std::vector<data::TokenIds> encode_all(const Vocabulary& vocab, const std::vector<data::Sentence>& sentences) {
  std::vector<data::TokenIds> out;
  out.reserve(sentences.size());
  for (const auto& s : sentences) out.push_back(vocab.encode(s));
  return out;
}

std::string vocab_beside(const std::string& weights) {
  return (fs::path(weights).parent_path() / "vocab.txt").string();
}

struct Loaded {
  Model model;
  Vocabulary vocab;
  std::map<std::string, std::string> meta;
  int64_t max_length = 20;
};

/// The model of `weights` and its vocabulary (`vocab_path`, or vocab.txt
/// beside the weights), checked against each other.
Loaded load_checkpoint(const std::string& weights, std::string vocab_path) {
  if (vocab_path.empty()) vocab_path = vocab_beside(weights);
  std::map<std::string, std::string> meta;
  const auto tensors = io::load_safetensors<float>(weights, &meta);
  const SentenceVAEConfig c = SentenceVAEConfig::from_parameters(tensors, weights);
  Vocabulary vocab = Vocabulary::load(vocab_path);
  models::check_vocabulary(c, meta, vocab, weights, vocab_path);
  Philox unused(0);
  Loaded out{Model(c, unused), std::move(vocab), meta};
  out.model.load_parameters(tensors, weights);
  if (meta.count("max_length")) out.max_length = std::stoll(meta.at("max_length"));
  return out;
}

/// Ids of a sentence typed by the user; unknown words are named on stderr.
data::TokenIds encode_input(const Loaded& m, const std::string& text) {
  std::vector<std::string> unknown;
  data::TokenIds ids = data::encode_sentence(m.vocab, text, m.max_length, &unknown);
  if (!unknown.empty()) {
    std::string list;
    for (const auto& w : unknown) list += (list.empty() ? "" : ", ") + w;
    std::fprintf(stderr, "warning: not in the vocabulary, read as <unk>: %s\n", list.c_str());
  }
  return ids;
}

/// Decode codes (B, D) (or `count` sentences of a language model): greedy or
/// sampled word by word, or beam search when beam > 1.
struct Decoding {
  double temperature = 0;  ///< 0: the likeliest word at each step
  int64_t beam = 1;        ///< > 1: beam search
  bool allow_unk = true;
  uint64_t seed = 1;
};

std::vector<std::string> decode(const Loaded& m, const Tensor<float>& codes, int64_t count, const Decoding& d) {
  std::vector<std::string> out;
  if (d.beam > 1) {
    DEEPGEN_CHECK(m.model.variational() || count <= 1, "--beam on a language model finds its one likeliest "
                  "sentence; pass --count 1, or --temperature for different ones");
    DEEPGEN_CHECK(d.temperature == 0, "--beam searches for the likeliest sentence; it does not combine with "
                  "--temperature (drop one of the two)");
    const int64_t rows = m.model.variational() ? codes.dim(0) : 1;
    for (int64_t b = 0; b < rows; ++b) {
      Tensor<float> code;
      if (m.model.variational()) {
        code = Tensor<float>(Shape{1, codes.dim(1)});
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

// ---- train ---------------------------------------------------------------------

struct TrainOptions {
  TrainCli cli;
  std::string model = "vae", anneal = "logistic";
  int latent = 16, embedding = 128, hidden = 256;
  bool feed_code = false;
  int64_t min_count = 2;
  int64_t anneal_steps = 4000;
  double word_dropout = 0.3;
};

/// KL weight β at a training step: logistic 1/(1 + exp(−10(step/S − ½)))
/// (Bowman et al.'s curve, ½ at S/2), linear min(1, step/S), or none (β = 1).
double kl_weight(const std::string& anneal, int64_t step, int64_t steps) {
  if (anneal == "none" || steps <= 0) return 1.0;
  const double x = double(step) / double(steps);
  if (anneal == "linear") return std::min(1.0, x);
  return 1.0 / (1.0 + std::exp(-10.0 * (x - 0.5)));
}

/// The sentence VAE (or language model) as the training loop sees it:
/// length-sorted batches, a step with the annealed KL weight of its step
/// number and word dropout, the validation figures, and OUT/steps.csv: the
/// training averages of every 100 steps, its running window kept in the
/// checkpoint so that a resumed run writes the rows an uninterrupted one would.
class SentenceTask : public train::ModuleTask<float> {
 public:
  SentenceTask(const TrainOptions& o, Model& model, optim::Adam<float>& adam, const Vocabulary& vocab,
               std::vector<data::TokenIds> train, std::vector<data::TokenIds> valid, int64_t max_length)
      : ModuleTask(model, adam), m_o(o), m_model(model), m_vocab(vocab), m_train(std::move(train)),
        m_valid(std::move(valid)), m_max_length(max_length),
        m_steps_path((fs::path(o.cli.loop.out) / "steps.csv").string()) {}

  std::vector<std::vector<int64_t>> epoch_batches(Philox& shuffler) override {
    return data::length_batches(m_train, m_o.cli.batch, shuffler);
  }

  train::StepResult step(const std::vector<int64_t>& items, const train::Position& at) override {
    const data::SentenceBatch b = data::make_batch(m_train, items);
    m_beta = m_model.variational() ? kl_weight(m_o.anneal, at.step, m_o.anneal_steps) : 0.0;
    const models::SentenceValues v =
        m_model.train_step(b, m_adam, m_o.cli.clip, m_beta, m_o.word_dropout, m_o.cli.loop.seed);
    char detail[80];
    std::snprintf(detail, sizeof detail, "recon %.2f  kl %.2f  beta %.3f", v.recon, v.kl, m_beta);
    return {{v.recon + m_beta * v.kl, v.recon, v.kl}, b.size(), detail};
  }

  void after_step(const train::Position& at, const train::StepResult& r) override {
    for (size_t i = 0; i < 3; ++i) m_window[i] += r.values[i];
    if (++m_window_steps < STEPS_PER_LOG_LINE) return;
    if (!m_steps_log) m_steps_log = std::make_unique<train::CsvLog>(m_steps_path, m_o.cli.loop.resume);
    const double n = double(m_window_steps);
    m_steps_log->write({"step", "epoch", "minutes", "beta", "train_recon", "train_kl", "train_loss"},
                       detail::str(at.step + 1, ',', double(at.epoch) + double(at.batch + 1) / double(at.batches),
                                   ',', minutes(), ',', m_beta, ',', m_window[1] / n, ',', m_window[2] / n, ',',
                                   m_window[0] / n));
    m_window = {0, 0, 0};
    m_window_steps = 0;
  }

  std::vector<train::Column> report(const std::vector<double>& train, double) override {
    const models::SentenceValues valid = m_model.evaluate(m_valid, EVAL_SAMPLES, EVAL_SEED);
    return {{"beta", m_beta},           {"train_recon", train[1], 3}, {"train_kl", train[2], 3},
            {"valid_nll", valid.nll(), 3}, {"valid_recon", valid.recon, 3}, {"valid_kl", valid.kl, 3},
            {"valid_ppl", valid.perplexity(), 2}};
  }

  train::Metadata load(const std::string& path) override {
    const Loaded l = load_checkpoint(path, (fs::path(m_o.cli.loop.out) / "vocab.txt").string());
    const SentenceVAEConfig &c = l.model.config(), &want = m_model.config();
    DEEPGEN_CHECK(c.latent == want.latent && c.embedding == want.embedding &&
                      c.decoder_hidden == want.decoder_hidden && c.feed_code == want.feed_code,
                  "--resume: ", path, " has --latent ", c.latent, " (0: --model lm) --embedding ", c.embedding,
                  " --hidden ", c.decoder_hidden, c.feed_code ? " --feed-code" : "", "; pass the same to continue it");
    return ModuleTask::load(path);
  }

  void save_state(train::Metadata& meta) const override {
    meta.insert({{"model", m_model.variational() ? "sentence_vae" : "language_model"}, {"which", "last"},
                 {"max_length", std::to_string(m_max_length)}, {"window_steps", std::to_string(m_window_steps)},
                 {"window_loss", train::exact(m_window[0])}, {"window_recon", train::exact(m_window[1])},
                 {"window_kl", train::exact(m_window[2])}});
    meta.merge(models::vocabulary_metadata(m_vocab));
  }

  void load_state(const train::Metadata& meta, const std::string& path) override {
    const char* keys[] = {"window_loss", "window_recon", "window_kl", "window_steps", "step", "minutes"};
    for (const char* key : keys)
      DEEPGEN_CHECK(meta.count(key), "--resume: ", path, " has no '", key, "' in its metadata; it was not written "
                    "by this version of sentence_vae train: train into another --out");
    for (size_t i = 0; i < 3; ++i) m_window[i] = std::stod(meta.at(keys[i]));
    m_window_steps = std::stoll(meta.at("window_steps"));
    m_minutes_before = std::stod(meta.at("minutes"));
    // A run killed after its last checkpoint logged steps that will now be taken again.
    train::CsvLog::drop_rows_after(m_steps_path, "step", std::stoll(meta.at("step")));
  }

 private:
  double minutes() const {
    return m_minutes_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count() / 60;
  }

  const TrainOptions& m_o;
  Model& m_model;
  const Vocabulary& m_vocab;
  const std::vector<data::TokenIds> m_train, m_valid;
  const int64_t m_max_length;
  const std::string m_steps_path;
  std::unique_ptr<train::CsvLog> m_steps_log;  // opened at its first row, after a resume has trimmed it
  std::array<double, 3> m_window{0, 0, 0};     // the window's sums of StepResult::values: loss, recon, KL
  int64_t m_window_steps = 0;
  double m_beta = 0;  // the KL weight of the last step, for the report
  double m_minutes_before = 0;
  const std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
};

int train_model(const TrainOptions& o) {
  const auto t_load = std::chrono::steady_clock::now();
  const auto train_text = data::read_sentences((fs::path(o.cli.data) / "train.txt").string());
  const auto valid_text = data::read_sentences((fs::path(o.cli.data) / "valid.txt").string());
  fs::create_directories(o.cli.loop.out);
  const std::string vocab_path = (fs::path(o.cli.loop.out) / "vocab.txt").string();
  const std::string model_path = (fs::path(o.cli.loop.out) / "model.safetensors").string();
  DEEPGEN_CHECK(!o.cli.loop.resume || fs::exists(model_path), "--resume: no checkpoint at ", model_path,
                "; run without --resume to start training");
  const Vocabulary vocab = o.cli.loop.resume ? Vocabulary::load(vocab_path) : Vocabulary::build(train_text, o.min_count);
  if (!o.cli.loop.resume) vocab.save(vocab_path);
  auto train_ids = encode_all(vocab, train_text);
  int64_t max_length = 0, train_tokens = 0;
  for (const auto& s : train_ids) {
    max_length = std::max<int64_t>(max_length, int64_t(s.size()));
    train_tokens += int64_t(s.size()) + 1;
  }
  SentenceVAEConfig config;
  config.vocab_size = vocab.size();
  config.embedding = o.embedding;
  config.encoder_hidden = config.decoder_hidden = o.hidden;
  config.latent = o.model == "lm" ? 0 : o.latent;
  config.feed_code = o.feed_code;
  DEEPGEN_CHECK(!(o.feed_code && o.model == "lm"), "--feed-code needs a code; a language model (--model lm) has none");
  Philox init(o.cli.loop.seed);
  Model model(config, init);
  optim::Adam<float> adam(model.named_parameters(), {o.cli.lr});
  std::fprintf(stderr,
               "%s: %lld parameters; vocabulary %lld words (min count %lld); %zu training sentences, %lld tokens, "
               "longest %lld; loaded in %.1f s\n",
               config.variational() ? "sentence VAE" : "language model", (long long)model.parameter_count(),
               (long long)vocab.size(), (long long)o.min_count, train_ids.size(), (long long)train_tokens,
               (long long)max_length,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count());
  SentenceTask task(o, model, adam, vocab, std::move(train_ids), encode_all(vocab, valid_text), max_length);
  train::Options loop = o.cli.loop;
  loop.monitor = "valid_nll";
  // Everything that shapes the remaining steps must be what the checkpoint was trained with.
  loop.settings = {{"batch_size", std::to_string(o.cli.batch), "--batch"}, {"lr", train::exact(o.cli.lr), "--lr"},
                   {"anneal", o.anneal, "--anneal"}, {"anneal_steps", std::to_string(o.anneal_steps), "--anneal-steps"},
                   {"word_dropout", train::exact(o.word_dropout), "--word-dropout"},
                   {"clip", train::exact(o.cli.clip), "--clip"}};
  loop.unit = "sent";
  return report_trained(train::run(task, loop));
}

// ---- the other commands ------------------------------------------------------------

int eval(const std::string& weights, const std::string& vocab_path, const std::string& data_dir,
         const std::string& sentences_path, int64_t samples) {
  DEEPGEN_CHECK(data_dir.empty() != sentences_path.empty(), "eval: pass --data DIR (its test.txt) or --sentences "
                "FILE, not both and not neither");
  const Loaded m = load_checkpoint(weights, vocab_path);
  const std::string path = sentences_path.empty() ? (fs::path(data_dir) / "test.txt").string() : sentences_path;
  const auto ids = encode_all(m.vocab, data::read_sentences(path));
  const models::SentenceValues v = m.model.evaluate(ids, samples, EVAL_SEED);
  std::printf("nll_per_sentence=%.3f kl=%.3f ppl=%.2f recon=%.3f sentences=%lld tokens=%lld\n", v.nll(), v.kl,
              v.perplexity(), v.recon, (long long)v.sentences, (long long)v.predicted);
  return 0;
}

int reconstruct(const std::string& weights, const std::string& vocab_path, const std::vector<std::string>& inputs,
                const Decoding& d) {
  const Loaded m = load_checkpoint(weights, vocab_path);
  DEEPGEN_CHECK(m.model.variational(), weights, " is a language model; it has no code to reconstruct from");
  DEEPGEN_CHECK(!inputs.empty(), "reconstruct: give at least one sentence");
  for (const std::string& text : inputs) {
    const data::TokenIds ids = encode_input(m, text);
    const Tensor<float> code = m.model.encode({ids});
    std::printf("input: %s\nreconstruction: %s\n", m.vocab.decode(ids).c_str(), decode(m, code, 0, d)[0].c_str());
  }
  return 0;
}

int sample(const std::string& weights, const std::string& vocab_path, int64_t count, const Decoding& d) {
  const Loaded m = load_checkpoint(weights, vocab_path);
  Tensor<float> codes;
  if (m.model.variational()) {
    codes = Tensor<float>(Shape{count, m.model.latent()});
    Philox rng(d.seed, 7);
    fill_normal(codes, rng, 0.0f, 1.0f);
  } else if (d.temperature == 0 && d.beam <= 1) {
    std::fprintf(stderr, "note: a language model decoded greedily writes the same sentence every time; pass "
                 "--temperature 1 for different ones\n");
  }
  for (const std::string& s : decode(m, codes, count, d)) std::printf("%s\n", s.c_str());
  return 0;
}

int interpolate(const std::string& weights, const std::string& vocab_path, const std::string& from,
                const std::string& to, int64_t steps, const Decoding& d) {
  DEEPGEN_CHECK(steps >= 2, "interpolate: --steps ", steps, " must be >= 2 (the two ends)");
  const Loaded m = load_checkpoint(weights, vocab_path);
  DEEPGEN_CHECK(m.model.variational(), weights, " is a language model; it has no code to interpolate");
  const Tensor<float> codes =
      models::interpolate_codes(m.model.encode({encode_input(m, from)}), m.model.encode({encode_input(m, to)}), steps);
  const auto sentences = decode(m, codes, 0, d);
  for (int64_t k = 0; k < steps; ++k)
    std::printf("%.2f  %s\n", double(k) / double(steps - 1), sentences[size_t(k)].c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();  // a fresh multi-MiB buffer otherwise costs page faults every step (DESIGN.md)

  CLI::App app{"Sentence VAE (and LSTM language model) on WordNet's usage examples"};
  app.require_subcommand(1);
  TrainOptions t;
  std::string weights, vocab_path, data_dir, sentences_path, from, to;
  std::vector<std::string> inputs;
  int64_t samples = EVAL_SAMPLES, count = 10, steps = 7;
  Decoding d;

  auto* train_cmd = app.add_subcommand("train", "train from scratch (or --resume) and checkpoint every epoch");
  t.cli.loop.epochs = 20;
  t.cli.loop.minutes = 30;
  add_train_options(train_cmd, t.cli, "folder with train.txt and valid.txt", "sentences");
  train_cmd->add_option("--max-steps", t.cli.loop.max_steps, "stop after this many steps in all (0: no limit); "
                        "checkpoints there")->capture_default_str()->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--model", t.model, "vae, or lm: the plain language model (no code)")
      ->capture_default_str()->check(CLI::IsMember({"vae", "lm"}));
  train_cmd->add_option("--latent", t.latent, "code dimensions")->capture_default_str()->check(CLI::Range(1, 1024));
  train_cmd->add_option("--embedding", t.embedding, "word vector size")->capture_default_str()->check(CLI::Range(1, 4096));
  train_cmd->add_option("--hidden", t.hidden, "LSTM cells of encoder and decoder")->capture_default_str()->check(CLI::Range(1, 8192));
  train_cmd->add_flag("--feed-code", t.feed_code, "also feed the code to the decoder at every step");
  train_cmd->add_option("--min-count", t.min_count, "words seen fewer times in train.txt become <unk>")
      ->capture_default_str()->check(CLI::PositiveNumber);
  train_cmd->add_option("--anneal", t.anneal, "KL weight schedule: logistic, linear (0 → 1 over --anneal-steps) or none (1)")
      ->capture_default_str()->check(CLI::IsMember({"logistic", "linear", "none"}));
  train_cmd->add_option("--anneal-steps", t.anneal_steps, "steps over which the KL weight rises")->capture_default_str()
      ->check(CLI::PositiveNumber);
  train_cmd->add_option("--word-dropout", t.word_dropout, "fraction of decoder input words replaced by <unk>")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));

  auto* eval_cmd = app.add_subcommand("eval", "print the NLL (bound) per sentence, KL and perplexity");
  auto* reconstruct_cmd = app.add_subcommand("reconstruct", "encode sentences and decode their mean codes");
  auto* sample_cmd = app.add_subcommand("sample", "decode codes drawn from N(0, I)");
  auto* interpolate_cmd = app.add_subcommand("interpolate", "decode the straight line between two sentences' codes");
  for (auto* c : {eval_cmd, reconstruct_cmd, sample_cmd, interpolate_cmd}) {
    c->add_option("--weights", weights, "a model.safetensors or best.safetensors")->required();
    c->add_option("--vocab", vocab_path, "vocabulary (default: vocab.txt beside --weights)");
  }
  eval_cmd->add_option("--data", data_dir, "corpus folder: score its test.txt");
  eval_cmd->add_option("--sentences", sentences_path, "score this file (one sentence a line) instead");
  eval_cmd->add_option("--samples", samples, "draws of the code per sentence (VAE)")->capture_default_str()
      ->check(CLI::Range(1, 1000));
  reconstruct_cmd->add_option("sentences", inputs, "sentences to reconstruct")->required();
  sample_cmd->add_option("--count", count, "sentences to draw")->capture_default_str()->check(CLI::Range(1, 100000));
  sample_cmd->add_option("--temperature", d.temperature, "0: likeliest word at each step; 1: the model's distribution")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  sample_cmd->add_option("--seed", d.seed, "random seed (codes, draws)")->capture_default_str();
  interpolate_cmd->add_option("--from", from, "first sentence")->required();
  interpolate_cmd->add_option("--to", to, "last sentence")->required();
  interpolate_cmd->add_option("--steps", steps, "codes on the line, ends included")->capture_default_str()
      ->check(CLI::Range(2, 1000));
  for (auto* c : {reconstruct_cmd, sample_cmd, interpolate_cmd}) {
    c->add_option("--beam", d.beam, "beam width (1: greedy)")->capture_default_str()->check(CLI::Range(1, 1000));
    c->add_flag("!--no-unk", d.allow_unk, "never write <unk> (the rare words it stands for are left out)");
  }
  CLI11_PARSE(app, argc, argv);

  return run_reporting_errors([&] {
    if (*train_cmd) return train_model(t);
    if (*eval_cmd) return eval(weights, vocab_path, data_dir, sentences_path, samples);
    if (*reconstruct_cmd) return reconstruct(weights, vocab_path, inputs, d);
    if (*sample_cmd) return sample(weights, vocab_path, count, d);
    return interpolate(weights, vocab_path, from, to, steps, d);
  });
}
