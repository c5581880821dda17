// sentence_vae — the lecture's sentence VAE on WordNet's usage examples, and
// the plain LSTM language model it is compared with: train, evaluate,
// reconstruct, sample, and walk the straight line between two sentences.
//
//   sentence_vae train       --data DIR --out DIR [--model vae|lm] [--epochs N] [--minutes M] [--max-steps S]
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
//   epoch=<e> step=<n> minutes=<m> beta=<b> train_recon=<v> train_kl=<v> valid_nll=<v> valid_kl=<v> valid_ppl=<v>
//   nll_per_sentence=<v> kl=<v> ppl=<v> recon=<v> sentences=<n> tokens=<n>
//   wrote <path>
// NLL figures are nats per sentence: for the VAE the bound recon + KL, for
// the language model the exact NLL; ppl = exp(NLL per predicted token, <eos>
// included).
#include <deepgen/data/text.hpp>
#include <deepgen/deepgen.hpp>
#include <deepgen/io/checkpoint.hpp>
#include <deepgen/memory.hpp>
#include <deepgen/models/sentence_vae.hpp>

#include "progress.hpp"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

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
Loaded load(const std::string& weights, std::string vocab_path) {
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
  std::string data, out, model = "vae", anneal = "logistic";
  int epochs = 20;
  double minutes = 30;
  int64_t max_steps = 0;  // 0: no limit
  int batch = 32;
  double lr = 1e-3;
  int latent = 16, embedding = 128, hidden = 256;
  bool feed_code = false;
  int64_t min_count = 2;
  int64_t anneal_steps = 4000;
  double word_dropout = 0.3;
  double clip = 5.0;
  uint64_t seed = 1;
  bool resume = false;
};

/// A double as the shortest text that reads back to the same value ("0.3", not "0.29999999999999999").
std::string exact(double x) {
  char buf[32];
  for (int digits = 15;; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, x);
    if (digits == 17 || std::strtod(buf, nullptr) == x) return buf;
  }
}

/// metadata[key] of the checkpoint `path`, or a clear error.
const std::string& meta_value(const std::map<std::string, std::string>& meta, const std::string& key,
                              const std::string& path) {
  auto it = meta.find(key);
  DEEPGEN_CHECK(it != meta.end(), "--resume: ", path, " has no '", key, "' in its metadata; it was not written by "
                "sentence_vae train (or by an older version): train into another --out");
  return it->second;
}

/// The running averages a progress report needs, kept in the checkpoint so a
/// resumed epoch reports what an uninterrupted one would.
struct RunningSums {
  double recon = 0, kl = 0;  // this epoch, weighted by sentences
  int64_t sentences = 0;
  double window_recon = 0, window_kl = 0, window_loss = 0;  // the current 100-step window
  int64_t window_steps = 0;

  void save(std::map<std::string, std::string>& meta) const {
    meta["sum_recon"] = exact(recon);
    meta["sum_kl"] = exact(kl);
    meta["sum_sentences"] = std::to_string(sentences);
    meta["window_recon"] = exact(window_recon);
    meta["window_kl"] = exact(window_kl);
    meta["window_loss"] = exact(window_loss);
    meta["window_steps"] = std::to_string(window_steps);
  }
  void load(const std::map<std::string, std::string>& meta, const std::string& path) {
    recon = std::stod(meta_value(meta, "sum_recon", path));
    kl = std::stod(meta_value(meta, "sum_kl", path));
    sentences = std::stoll(meta_value(meta, "sum_sentences", path));
    window_recon = std::stod(meta_value(meta, "window_recon", path));
    window_kl = std::stod(meta_value(meta, "window_kl", path));
    window_loss = std::stod(meta_value(meta, "window_loss", path));
    window_steps = std::stoll(meta_value(meta, "window_steps", path));
  }
};

/// Rewrite the CSV log at `path` (if there is one) without the rows whose
/// `column` is above `last`, and without a torn last line.
void drop_rows_after(const std::string& path, const std::string& column, int64_t last) {
  std::ifstream f(path);
  std::string header;
  if (!f.good() || !std::getline(f, header)) return;
  const auto names = split(header);
  const size_t col = size_t(std::find(names.begin(), names.end(), column) - names.begin());
  if (col == names.size()) return;
  std::string kept = header + "\n";
  for (std::string line; std::getline(f, line);) {
    const auto cells = split(line);
    if (cells.size() == names.size() && std::atoll(cells[col].c_str()) <= last) kept += line + "\n";
  }
  f.close();
  io::write_text_atomically(path, kept, "train --resume");
}

/// KL weight β at a training step: logistic 1/(1 + exp(−10(step/S − ½)))
/// (Bowman et al.'s curve, ½ at S/2), linear min(1, step/S), or none (β = 1).
double kl_weight(const std::string& anneal, int64_t step, int64_t steps) {
  if (anneal == "none" || steps <= 0) return 1.0;
  const double x = double(step) / double(steps);
  if (anneal == "linear") return std::min(1.0, x);
  return 1.0 / (1.0 + std::exp(-10.0 * (x - 0.5)));
}

int train(const TrainOptions& o) {
  const auto t_load = std::chrono::steady_clock::now();
  const auto train_text = data::read_sentences((fs::path(o.data) / "train.txt").string());
  const auto valid_text = data::read_sentences((fs::path(o.data) / "valid.txt").string());
  fs::create_directories(o.out);
  const std::string model_path = (fs::path(o.out) / "model.safetensors").string();
  const std::string best_path = (fs::path(o.out) / "best.safetensors").string();
  const std::string vocab_path = (fs::path(o.out) / "vocab.txt").string();

  Vocabulary vocab;
  if (o.resume) {
    DEEPGEN_CHECK(fs::exists(model_path), "--resume: no checkpoint at ", model_path,
                  "; run without --resume to start training");
    vocab = Vocabulary::load(vocab_path);
  } else {
    vocab = Vocabulary::build(train_text, o.min_count);
    vocab.save(vocab_path);
  }
  const auto train_ids = encode_all(vocab, train_text);
  const auto valid_ids = encode_all(vocab, valid_text);
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
  Philox init(o.seed);
  Model model(config, init);
  const optim::AdamOptions adam_options{o.lr, 0.9, 0.999, 1e-8, 0.0};
  optim::Adam<float> adam(model.named_parameters(), adam_options);
  int64_t epoch = 0, next_batch = 0;
  double minutes_before = 0, best_nll = std::numeric_limits<double>::infinity();
  RunningSums sums;
  if (o.resume) {
    Loaded l = load(model_path, vocab_path);
    const SentenceVAEConfig& c = l.model.config();
    DEEPGEN_CHECK(c.latent == config.latent && c.embedding == config.embedding &&
                      c.decoder_hidden == config.decoder_hidden && c.feed_code == config.feed_code,
                  "--resume: ", model_path, " has --latent ", c.latent, " (0: --model lm) --embedding ", c.embedding,
                  " --hidden ", c.decoder_hidden, c.feed_code ? " --feed-code" : "", "; pass the same to continue it");
    // Everything that shapes the remaining steps must be what the checkpoint was trained with.
    const std::map<std::string, std::string> given{
        {"seed", std::to_string(o.seed)}, {"batch_size", std::to_string(o.batch)}, {"lr", exact(o.lr)},
        {"anneal", o.anneal}, {"anneal_steps", std::to_string(o.anneal_steps)},
        {"word_dropout", exact(o.word_dropout)}, {"clip", exact(o.clip)}};
    const std::map<std::string, const char*> option{{"seed", "--seed"}, {"batch_size", "--batch"}, {"lr", "--lr"},
                                                    {"anneal", "--anneal"}, {"anneal_steps", "--anneal-steps"},
                                                    {"word_dropout", "--word-dropout"}, {"clip", "--clip"}};
    for (const auto& [key, value] : given) {
      const std::string& saved = meta_value(l.meta, key, model_path);
      DEEPGEN_CHECK(saved == value, "--resume: the checkpoint was trained with ", option.at(key), " ", saved,
                    " but this run has ", value, "; pass the same value to continue it exactly");
    }
    model = std::move(l.model);
    adam = optim::Adam<float>(model.named_parameters(), adam_options);
    io::load_optimizer(model_path, l.meta, adam);
    epoch = std::stoll(meta_value(l.meta, "epoch", model_path));
    next_batch = std::stoll(meta_value(l.meta, "batch", model_path));
    minutes_before = std::stod(meta_value(l.meta, "minutes", model_path));
    best_nll = std::stod(meta_value(l.meta, "best_valid_nll", model_path));
    sums.load(l.meta, model_path);
    DEEPGEN_CHECK(epoch < o.epochs, "--resume: ", model_path, " has already trained ", epoch,
                  " epochs; pass --epochs above that to train further");
    DEEPGEN_CHECK(o.max_steps == 0 || adam.steps() < o.max_steps, "--resume: ", model_path, " has already taken ",
                  adam.steps(), " steps; pass --max-steps above that (or 0) to train further");
    DEEPGEN_CHECK(minutes_before < o.minutes, "--resume: ", model_path, " has already trained ", minutes_before,
                  " minutes; --minutes is the total, so pass more than that to train further");
    std::fprintf(stderr, "resuming %s at epoch %lld, batch %lld\n", model_path.c_str(), (long long)epoch,
                 (long long)next_batch);
  }
  std::fprintf(stderr,
               "%s: %lld parameters; vocabulary %lld words (min count %lld); %zu training sentences, %lld tokens, "
               "longest %lld; loaded in %.1f s\n",
               config.variational() ? "sentence VAE" : "language model", (long long)model.parameter_count(),
               (long long)vocab.size(), (long long)o.min_count, train_ids.size(), (long long)train_tokens,
               (long long)max_length,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count());

  const std::string log_path = (fs::path(o.out) / "train_log.csv").string();
  const std::string steps_path = (fs::path(o.out) / "steps.csv").string();
  if (o.resume) {  // a run killed after its last checkpoint logged steps that will now be taken again
    drop_rows_after(log_path, "step", adam.steps());
    drop_rows_after(steps_path, "step", adam.steps());
  }
  std::ofstream log(log_path, o.resume ? std::ios::app : std::ios::trunc);
  std::ofstream steps_log(steps_path, o.resume ? std::ios::app : std::ios::trunc);
  if (!o.resume) {
    log << "epoch,step,minutes,beta,train_recon,train_kl,valid_nll,valid_recon,valid_kl,valid_ppl\n";
    steps_log << "step,epoch,minutes,beta,train_recon,train_kl,train_loss\n";
  }
  const bool tty = isatty(fileno(stderr));
  const auto start = std::chrono::steady_clock::now();
  auto minutes_now = [&] {
    return minutes_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 60;
  };
  auto metadata = [&](const char* which) {
    std::map<std::string, std::string> meta{{"model", config.variational() ? "sentence_vae" : "language_model"}, {"which", which},
            {"epoch", std::to_string(epoch)}, {"batch", std::to_string(next_batch)},
            {"minutes", std::to_string(minutes_now())}, {"seed", std::to_string(o.seed)},
            {"batch_size", std::to_string(o.batch)}, {"lr", exact(o.lr)}, {"anneal", o.anneal},
            {"anneal_steps", std::to_string(o.anneal_steps)}, {"word_dropout", exact(o.word_dropout)},
            {"clip", exact(o.clip)}, {"max_length", std::to_string(max_length)},
            {"best_valid_nll", exact(best_nll)}};
    meta.merge(models::vocabulary_metadata(vocab));
    sums.save(meta);
    return meta;
  };

  bool out_of_time = false;
  for (; epoch < o.epochs && !out_of_time;) {
    // The batches of an epoch depend only on (seed, epoch): resume replays them.
    Philox shuffler(o.seed, 1000 + uint64_t(epoch));
    const auto batches = data::length_batches(train_ids, o.batch, shuffler);
    const int64_t nb = int64_t(batches.size());
    const int64_t count_before = sums.sentences;  // > 0 when resuming mid-epoch
    const auto epoch_start = std::chrono::steady_clock::now();
    auto last_print = epoch_start;
    double beta = kl_weight(o.anneal, adam.steps(), o.anneal_steps);
    for (; next_batch < nb; ++next_batch) {
      if (minutes_now() >= o.minutes || (o.max_steps > 0 && adam.steps() >= o.max_steps)) {
        out_of_time = true;
        break;
      }
      const data::SentenceBatch b = data::make_batch(train_ids, batches[size_t(next_batch)]);
      beta = config.variational() ? kl_weight(o.anneal, adam.steps(), o.anneal_steps) : 0.0;
      const models::SentenceValues v = model.train_step(b, adam, o.clip, beta, o.word_dropout, o.seed);
      sums.recon += v.recon * double(b.size());
      sums.kl += v.kl * double(b.size());
      sums.sentences += b.size();
      sums.window_recon += v.recon;
      sums.window_kl += v.kl;
      sums.window_loss += v.recon + beta * v.kl;
      if (++sums.window_steps == STEPS_PER_LOG_LINE) {
        const double n = double(sums.window_steps);
        steps_log << adam.steps() << ',' << double(epoch) + double(next_batch + 1) / double(nb) << ','
                  << minutes_now() << ',' << beta << ',' << sums.window_recon / n << ',' << sums.window_kl / n << ','
                  << sums.window_loss / n << '\n';
        steps_log.flush();
        sums.window_recon = sums.window_kl = sums.window_loss = 0;
        sums.window_steps = 0;
      }
      const auto now = std::chrono::steady_clock::now();
      const double secs = std::chrono::duration<double>(now - epoch_start).count();
      if (tty || std::chrono::duration<double>(now - last_print).count() > 30 || next_batch + 1 == nb) {
        const double eta = secs / double(next_batch + 1) * double(nb - next_batch - 1);
        std::fprintf(stderr, "%sepoch %lld  step %lld/%lld  recon %.2f  kl %.2f  beta %.3f  %.0f sent/s  ETA %s%s",
                     tty ? "\r" : "", (long long)epoch + 1, (long long)next_batch + 1, (long long)nb, v.recon, v.kl,
                     beta, double(sums.sentences - count_before) / secs, fmt_duration(eta).c_str(), tty ? "   " : "\n");
        last_print = now;
      }
    }
    if (tty) std::fprintf(stderr, "\n");
    if (!out_of_time) {
      ++epoch;
      next_batch = 0;
    }
    if (sums.sentences == count_before) break;  // out of time before a single step
    const double train_recon = sums.recon / double(sums.sentences), train_kl = sums.kl / double(sums.sentences);
    if (next_batch == 0) sums.recon = sums.kl = 0, sums.sentences = 0;  // the epoch is complete
    const models::SentenceValues valid = model.evaluate(valid_ids, EVAL_SAMPLES, EVAL_SEED);
    const double epochs_done = double(epoch) + double(next_batch) / double(nb);
    if (valid.nll() < best_nll) {
      best_nll = valid.nll();
      io::save_safetensors<float>(best_path, io::parameter_tensors(model), metadata("best"));
    }
    io::save_checkpoint(model_path, model, adam, metadata("last"));
    std::printf("epoch=%.2f step=%lld minutes=%.2f beta=%.4f train_recon=%.3f train_kl=%.3f valid_nll=%.3f "
                "valid_kl=%.3f valid_ppl=%.2f\n",
                epochs_done, (long long)adam.steps(), minutes_now(), beta, train_recon, train_kl, valid.nll(),
                valid.kl, valid.perplexity());
    std::fflush(stdout);
    log << epochs_done << ',' << adam.steps() << ',' << minutes_now() << ',' << beta << ','
        << train_recon << ',' << train_kl << ',' << valid.nll() << ',' << valid.recon
        << ',' << valid.kl << ',' << valid.perplexity() << '\n';
    log.flush();
  }
  std::printf("wrote %s\nwrote %s\n", model_path.c_str(), best_path.c_str());
  return 0;
}

// ---- the other commands ------------------------------------------------------------

int eval(const std::string& weights, const std::string& vocab_path, const std::string& data_dir,
         const std::string& sentences_path, int64_t samples) {
  DEEPGEN_CHECK(data_dir.empty() != sentences_path.empty(), "eval: pass --data DIR (its test.txt) or --sentences "
                "FILE, not both and not neither");
  const Loaded m = load(weights, vocab_path);
  const std::string path = sentences_path.empty() ? (fs::path(data_dir) / "test.txt").string() : sentences_path;
  const auto ids = encode_all(m.vocab, data::read_sentences(path));
  const models::SentenceValues v = m.model.evaluate(ids, samples, EVAL_SEED);
  std::printf("nll_per_sentence=%.3f kl=%.3f ppl=%.2f recon=%.3f sentences=%lld tokens=%lld\n", v.nll(), v.kl,
              v.perplexity(), v.recon, (long long)v.sentences, (long long)v.predicted);
  return 0;
}

int reconstruct(const std::string& weights, const std::string& vocab_path, const std::vector<std::string>& inputs,
                const Decoding& d) {
  const Loaded m = load(weights, vocab_path);
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
  const Loaded m = load(weights, vocab_path);
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
  const Loaded m = load(weights, vocab_path);
  DEEPGEN_CHECK(m.model.variational(), weights, " is a language model; it has no code to interpolate");
  const Tensor<float> ends = m.model.encode({encode_input(m, from), encode_input(m, to)});
  const int64_t D = m.model.latent();
  Tensor<float> codes(Shape{steps, D});
  for (int64_t k = 0; k < steps; ++k) {
    const float a = float(k) / float(steps - 1);
    for (int64_t d = 0; d < D; ++d) codes.at(k, d) = (1 - a) * ends.at(0, d) + a * ends.at(1, d);
  }
  const auto sentences = decode(m, codes, 0, d);
  for (int64_t k = 0; k < steps; ++k)
    std::printf("%.2f  %s\n", double(k) / double(steps - 1), sentences[size_t(k)].c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Keep freed memory in the process: a fresh multi-MiB buffer otherwise
  // costs page faults on every training step (DESIGN.md, "Where speed comes from").
  keep_freed_memory();

  CLI::App app{"Sentence VAE (and LSTM language model) on WordNet's usage examples"};
  app.require_subcommand(1);
  TrainOptions t;
  std::string weights, vocab_path, data_dir, sentences_path, from, to;
  std::vector<std::string> inputs;
  int64_t samples = EVAL_SAMPLES, count = 10, steps = 7;
  Decoding d;

  auto* train_cmd = app.add_subcommand("train", "train from scratch (or --resume) and checkpoint every epoch");
  train_cmd->add_option("--data", t.data, "folder with train.txt and valid.txt")->required();
  train_cmd->add_option("--out", t.out, "output folder")->required();
  train_cmd->add_option("--model", t.model, "vae, or lm: the plain language model (no code)")
      ->capture_default_str()->check(CLI::IsMember({"vae", "lm"}));
  train_cmd->add_option("--epochs", t.epochs, "stop after this many epochs")->capture_default_str()->check(CLI::PositiveNumber);
  train_cmd->add_option("--minutes", t.minutes, "stop after this much training time (in all, resumed runs included)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  train_cmd->add_option("--max-steps", t.max_steps, "stop after this many steps in all (0: no limit); checkpoints there")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--batch", t.batch, "sentences per step")->capture_default_str()->check(CLI::Range(1, 4096));
  train_cmd->add_option("--lr", t.lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
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
  train_cmd->add_option("--clip", t.clip, "gradient-norm clip (0: none)")->capture_default_str()->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--seed", t.seed, "random seed")->capture_default_str();
  train_cmd->add_flag("--resume", t.resume, "continue from OUT/model.safetensors");

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

  try {
    if (*train_cmd) return train(t);
    if (*eval_cmd) return eval(weights, vocab_path, data_dir, sentences_path, samples);
    if (*reconstruct_cmd) return reconstruct(weights, vocab_path, inputs, d);
    if (*sample_cmd) return sample(weights, vocab_path, count, d);
    if (*interpolate_cmd) return interpolate(weights, vocab_path, from, to, steps, d);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
