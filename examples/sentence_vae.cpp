// sentence_vae — the lecture's sentence VAE on WordNet's usage examples, and
// the plain LSTM language model it is compared with: train, evaluate,
// reconstruct, sample, and walk the straight line between two sentences.
//
//   sentence_vae train       --data DIR --out DIR [--model vae|lm] [--epochs N] [--minutes M] [--max-steps S]
//                            [--patience N] [--batch B] [--lr LR] [--latent D] [--embedding E] [--hidden H]
//                            [--feed-code] [--min-count N] [--anneal logistic|linear|cyclical|none]
//                            [--anneal-steps S] [--ae-steps S] [--free-bits L] [--bow W] [--word-dropout P]
//                            [--clip C] [--seed S] [--resume]
//   sentence_vae eval        --weights FILE (--data DIR | --sentences FILE) [--samples S] [--beam W]
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
//   mi=<v> active_units=<n>/<D> token_accuracy_greedy=<v> bleu_greedy=<v> token_accuracy=<v> bleu=<v>  (VAE only)
//   wrote <path>
// NLL figures are nats per sentence: for the VAE the bound recon + KL, for
// the language model the exact NLL; ppl = exp(NLL per predicted token, <eos>
// included). Training is train::run (deepgen/train.hpp): checkpoints every
// epoch and at the budget's end, exact --resume, early stopping (--patience).
#include <deepgen/deepgen.hpp>
#include <deepgen/allocator.hpp>
#include <deepgen/models/latent_paths.hpp>
#include <deepgen/models/sentence_io.hpp>
#include <deepgen/models/sentence_measures.hpp>
#include <deepgen/models/sentence_training.hpp>

#include "cli_checks.hpp"
#include "train_cli.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>

namespace fs = std::filesystem;
using namespace deepgen;
using models::SentenceVAEConfig;
using Model = models::SentenceVAE<float>;
using data::Vocabulary;
using models::Decoding;

namespace {

// Bounds of this program's own options (cli_checks.hpp has the shared ones).
constexpr int64_t MAX_TRAIN_STEPS = 1000000000;///< --max-steps, --anneal-steps, --ae-steps
constexpr double MAX_FREE_BITS = 100;      ///< --free-bits, nats per code dimension
constexpr double MAX_BOW = 1000;           ///< --bow, the bag-of-words loss weight
constexpr int64_t MAX_BEAM = 100;          ///< --beam: hypotheses kept per step (decode_text bounds the total work)
constexpr int64_t MAX_COUNT = 1000;        ///< sample --count (greedy decodes them at once: V logits each)

// ---- train ---------------------------------------------------------------------

struct TrainOptions {
  TrainCli cli;
  // anneal, anneal_steps, ae_steps, free bits, bag of words, word_dropout; the rest is copied from cli.
  // The defaults are the setting chosen on the validation split (docs/sentence_vae.md): one epoch of
  // autoencoder (857 steps of 32 of the 27,421 training sentences), then β rising linearly over another
  // epoch, free bits of 1 nat per dimension, the bag-of-words loss, no word dropout.
  models::SentenceTraining s = [] {
    models::SentenceTraining d;
    d.anneal = "linear", d.anneal_steps = 857, d.ae_steps = 857, d.control = {1.0, 1.0}, d.word_dropout = 0.0;
    return d;
  }();
  std::string model = "vae";
  int latent = 32, embedding = 128, hidden = 256;
  bool feed_code = true;
  int64_t min_count = 2;
  bool feed_code_given = false, remedy_given = false;  // set on the command line, not defaulted
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
  const Vocabulary vocab =
      o.cli.loop.resume ? Vocabulary::load(vocab_path) : Vocabulary::build(train_text, o.min_count);
  if (!o.cli.loop.resume) vocab.save(vocab_path);
  auto train_ids = data::encode_all(vocab, train_text);
  const int64_t max_length = data::longest_sentence(train_ids), train_tokens = data::predicted_tokens(train_ids);
  const bool lm = o.model == "lm";
  DEEPGEN_CHECK(!(o.feed_code_given && o.feed_code && lm),
                "--feed-code needs a code; a language model (--model lm) has none");
  DEEPGEN_CHECK(!lm || !o.remedy_given, "--bow, --free-bits and --ae-steps shape the code's training; a language "
                "model (--model lm) has no code: drop them");
  // A language model has no code: the code's defaults (free bits, bag of words, autoencoder steps) do not apply.
  models::SentenceTraining s = o.s;
  if (lm) s.control = {}, s.ae_steps = 0;
  const SentenceVAEConfig config{vocab.size(), o.embedding, o.hidden, o.hidden, lm ? 0 : o.latent,
                                 o.feed_code && !lm, s.control.bow > 0};
  Philox init(o.cli.loop.seed);
  Model model(config, init);
  optim::Adam<float> adam(model.named_parameters(), {o.cli.lr});
  std::fprintf(stderr, "%s: %lld parameters; vocabulary %lld words (min count %lld); %zu training sentences, "
               "%lld tokens, longest %lld; loaded in %.1f s\n",
               config.variational() ? "sentence VAE" : "language model",
               (long long)model.parameter_count(), (long long)vocab.size(), (long long)o.min_count, train_ids.size(),
               (long long)train_tokens, (long long)max_length,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count());
  s.batch = o.cli.batch, s.clip = o.cli.clip, s.seed = o.cli.loop.seed, s.out = o.cli.loop.out;
  s.resume = o.cli.loop.resume;
  models::SentenceTask<float> task(s, model, adam, vocab, std::move(train_ids), data::encode_all(vocab, valid_text),
                                   max_length);
  train::Options loop = o.cli.loop;
  loop.monitor = "valid_nll";
  // Everything that shapes the remaining steps must be what the checkpoint was trained with.
  loop.settings = {{"batch_size", std::to_string(o.cli.batch), "--batch"}, {"lr", train::exact(o.cli.lr), "--lr"},
                   {"anneal", s.anneal, "--anneal"},
                   {"anneal_steps", std::to_string(s.anneal_steps), "--anneal-steps"},
                   {"word_dropout", train::exact(s.word_dropout), "--word-dropout"},
                   {"ae_steps", std::to_string(s.ae_steps), "--ae-steps"},
                   {"free_bits", train::exact(s.control.free_bits), "--free-bits"},
                   {"bow", train::exact(s.control.bow), "--bow"},
                   {"clip", train::exact(o.cli.clip), "--clip"}};
  loop.unit = "sent";
  return report_trained(train::run(task, loop));
}

// ---- the other commands ------------------------------------------------------------

/// The options of eval, reconstruct, sample and interpolate.
struct UseOptions {
  std::string weights, vocab_path, data_dir, sentences_path, from, to;
  std::vector<std::string> inputs;
  int64_t samples = models::SENTENCE_EVAL_SAMPLES, count = 10, steps = 7, eval_beam = 5;
  Decoding d;
};

int eval(const UseOptions& o) {
  DEEPGEN_CHECK(o.data_dir.empty() != o.sentences_path.empty(), "eval: pass --data DIR (its test.txt) or "
                "--sentences FILE, not both and not neither");
  const auto m = models::load_sentence_checkpoint(o.weights, o.vocab_path);
  const std::string path = o.sentences_path.empty() ? (fs::path(o.data_dir) / "test.txt").string() : o.sentences_path;
  const auto ids = data::encode_all(m.vocab, data::read_sentences(path));
  const models::SentenceValues v = m.model.evaluate(ids, o.samples, models::SENTENCE_EVAL_SEED);
  std::printf("nll_per_sentence=%.3f kl=%.3f ppl=%.2f recon=%.3f sentences=%lld tokens=%lld\n", v.nll(), v.kl,
              v.perplexity(), v.recon, (long long)v.sentences, (long long)v.predicted);
  std::fflush(stdout);
  if (m.model.variational()) {
    models::check_decode_work(m, int64_t(ids.size()), o.eval_beam, 10 * models::MAX_DECODE_WORK,
                              "use a smaller --beam, or fewer --sentences");
    // How much of each sentence its code carries: reconstructions from the posterior mean (greedy, and beam
    // search of width --beam), MI between sentence and code, active units (models/sentence_measures.hpp).
    const models::CodeReport r = models::measure_code(m.model, ids, o.eval_beam, m.max_length, 1,
                                                      models::SENTENCE_EVAL_SEED);
    std::printf("mi=%.3f active_units=%lld/%lld token_accuracy_greedy=%.4f bleu_greedy=%.4f token_accuracy=%.4f "
                "bleu=%.4f\n", r.mi, (long long)r.active, (long long)m.model.latent(), r.greedy.accuracy(),
                r.bleu_greedy, r.beam.accuracy(), r.bleu_beam);
  }
  return 0;
}

int reconstruct(const UseOptions& o) {
  const auto m = models::load_sentence_checkpoint(o.weights, o.vocab_path);
  DEEPGEN_CHECK(m.model.variational(), o.weights, " is a language model; it has no code to reconstruct from");
  for (const std::string& text : o.inputs) {
    const data::TokenIds ids = models::encode_input(m, text);
    std::printf("input: %s\nreconstruction: %s\n", m.vocab.decode(ids).c_str(),
                models::decode_text(m, m.model.encode({ids}), 0, o.d)[0].c_str());
  }
  return 0;
}

int sample(const UseOptions& o) {
  const auto m = models::load_sentence_checkpoint(o.weights, o.vocab_path);
  Tensor<float> codes;
  if (m.model.variational())
    codes = models::prior_codes(o.count, m.model.latent(), o.d.seed);
  else if (o.d.temperature == 0 && o.d.beam <= 1)
    std::fprintf(stderr, "note: a language model decoded greedily writes the same sentence every time; pass "
                 "--temperature 1 for different ones\n");
  for (const std::string& s : models::decode_text(m, codes, o.count, o.d)) std::printf("%s\n", s.c_str());
  return 0;
}

int interpolate(const UseOptions& o) {
  const auto m = models::load_sentence_checkpoint(o.weights, o.vocab_path);
  DEEPGEN_CHECK(m.model.variational(), o.weights, " is a language model; it has no code to interpolate");
  const Tensor<float> codes = models::interpolate_codes(m.model.encode({models::encode_input(m, o.from)}),
                                                        m.model.encode({models::encode_input(m, o.to)}), o.steps);
  const auto sentences = models::decode_text(m, codes, 0, o.d);
  for (int64_t k = 0; k < o.steps; ++k)
    std::printf("%.2f  %s\n", double(k) / double(o.steps - 1), sentences[size_t(k)].c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();  // a fresh multi-MiB buffer otherwise costs page faults every step (docs/architecture.md)

  CLI::App app{"Sentence VAE (and LSTM language model) on WordNet's usage examples"};
  app.require_subcommand(1);
  TrainOptions t;
  UseOptions u;

  auto* train_cmd = app.add_subcommand("train", "train from scratch (or --resume) and checkpoint every epoch");
  t.cli.loop.epochs = 20, t.cli.loop.minutes = 30;
  add_train_options(train_cmd, t.cli, "folder with train.txt and valid.txt", "sentences");
  add_defaulted(train_cmd, "--max-steps", t.cli.loop.max_steps, "stop after this many steps in all (0: no limit); "
      "checkpoints there")->check(cli_checks::whole(0, MAX_TRAIN_STEPS));
  add_defaulted(train_cmd, "--model", t.model, "vae, or lm: the plain language model (no code)")
      ->check(CLI::IsMember({"vae", "lm"}));
  add_defaulted(train_cmd, "--latent", t.latent, "code dimensions")->check(cli_checks::whole(1, cli_checks::MAX_LATENT));
  add_defaulted(train_cmd, "--embedding", t.embedding, "word vector size")
      ->check(cli_checks::whole(1, cli_checks::MAX_WIDTH));
  add_defaulted(train_cmd, "--hidden", t.hidden, "LSTM cells of encoder and decoder")
      ->check(cli_checks::whole(1, cli_checks::MAX_HIDDEN));
  auto* feed = train_cmd->add_flag("--feed-code,!--no-feed-code", t.feed_code,
                                   "feed the code to the decoder at every step (the default), or not");
  add_defaulted(train_cmd, "--min-count", t.min_count, "words seen fewer times in train.txt become <unk>")
      ->check(cli_checks::whole(1, cli_checks::MAX_MIN_COUNT));
  add_defaulted(train_cmd, "--anneal", t.s.anneal,
      "KL weight schedule: logistic, linear (0 → 1 over --anneal-steps), cyclical (cycles of --anneal-steps: "
      "0 → 1 over the first half, 1 over the second) or none (1)")
      ->check(CLI::IsMember({"logistic", "linear", "cyclical", "none"}));
  add_defaulted(train_cmd, "--anneal-steps", t.s.anneal_steps, "steps over which the KL weight rises")
      ->check(cli_checks::whole(1, MAX_TRAIN_STEPS));
  auto* ae = add_defaulted(train_cmd, "--ae-steps", t.s.ae_steps, "first steps with KL weight 0 (autoencoder pretraining); "
      "the --anneal schedule starts after them")->check(cli_checks::whole(0, MAX_TRAIN_STEPS));
  auto* free_bits = add_defaulted(train_cmd, "--free-bits", t.s.control.free_bits, "free bits: nats per code dimension below which "
      "the KL is not penalised (0: off)")->check(cli_checks::real(0, MAX_FREE_BITS));
  auto* bow = add_defaulted(train_cmd, "--bow", t.s.control.bow, "weight of the bag-of-words loss from the code (0: off)")
      ->check(cli_checks::real(0, MAX_BOW));
  add_defaulted(train_cmd, "--word-dropout", t.s.word_dropout, "fraction of decoder input words replaced by <unk>")
      ->check(cli_checks::real(0, 1));

  auto* eval_cmd = app.add_subcommand("eval", "print the NLL (bound) per sentence, KL and perplexity");
  auto* reconstruct_cmd = app.add_subcommand("reconstruct", "encode sentences and decode their mean codes");
  auto* sample_cmd = app.add_subcommand("sample", "decode codes drawn from N(0, I)");
  auto* interpolate_cmd = app.add_subcommand("interpolate", "decode the straight line between two sentences' codes");
  for (auto* c : {eval_cmd, reconstruct_cmd, sample_cmd, interpolate_cmd}) {
    c->add_option("--weights", u.weights, "a model.safetensors or best.safetensors")->required();
    c->add_option("--vocab", u.vocab_path, "vocabulary (default: vocab.txt beside --weights)");
  }
  eval_cmd->add_option("--data", u.data_dir, "corpus folder: score its test.txt");
  eval_cmd->add_option("--sentences", u.sentences_path, "score this file (one sentence a line) instead");
  add_defaulted(eval_cmd, "--samples", u.samples, "draws of the code per sentence (VAE)")
      ->check(cli_checks::whole(1, cli_checks::MAX_EVAL_SAMPLES));
  add_defaulted(eval_cmd, "--beam", u.eval_beam, "beam width of the reconstruction figures token_accuracy= and bleu=")
      ->check(cli_checks::whole(1, MAX_BEAM));
  reconstruct_cmd->add_option("sentences", u.inputs, "sentences to reconstruct")->required();
  add_defaulted(sample_cmd, "--count", u.count, "sentences to draw")->check(cli_checks::whole(1, MAX_COUNT));
  add_defaulted(sample_cmd, "--temperature", u.d.temperature,
                "0: likeliest word at each step; 1: the model's distribution")
      ->check(cli_checks::real(0, cli_checks::MAX_TEMPERATURE));
  add_defaulted(sample_cmd, "--seed", u.d.seed, "random seed (codes, draws)")->check(cli_checks::seed());
  interpolate_cmd->add_option("--from", u.from, "first sentence")->required();
  interpolate_cmd->add_option("--to", u.to, "last sentence")->required();
  add_defaulted(interpolate_cmd, "--steps", u.steps, "codes on the line, ends included")->check(cli_checks::whole(2, cli_checks::MAX_STEPS));
  for (auto* c : {reconstruct_cmd, sample_cmd, interpolate_cmd}) {
    add_defaulted(c, "--beam", u.d.beam, "beam width (1: greedy)")->check(cli_checks::whole(1, MAX_BEAM));
    c->add_flag("!--no-unk", u.d.allow_unk, "never write <unk> (the rare words it stands for are left out)");
  }
  DEEPGEN_CLI_PARSE(app, argc, argv);
  t.feed_code_given = feed->count() > 0;
  t.remedy_given = ae->count() + free_bits->count() + bow->count() > 0;

  return run_reporting_errors([&] {
    if (*train_cmd) return train_model(t);
    if (*eval_cmd) return eval(u);
    if (*reconstruct_cmd) return reconstruct(u);
    if (*sample_cmd) return sample(u);
    return interpolate(u);
  });
}
