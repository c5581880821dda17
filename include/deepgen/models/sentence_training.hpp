// models/sentence_training.hpp — the sentence VAE (or language model) as
// train::run (deepgen/train.hpp) trains it: a train::Task with length-sorted
// batches, the annealed KL weight and word dropout, the validation figures,
// checkpoints tied to their vocabulary, and OUT/steps.csv, the training
// averages of every STEPS_PER_LOG_LINE steps.
//
// Error messages name sentence_vae train's options (--resume, --out), since
// those are how a user gets there.
#pragma once

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../train.hpp"
#include "sentence_io.hpp"

namespace deepgen::models {

// Validation and test figures: ε drawn this often per sentence from this seed,
// in train and in eval alike, so both print the same number for a checkpoint.
inline constexpr int64_t SENTENCE_EVAL_SAMPLES = 4;  ///< draws of ε per sentence for validation and test figures
inline constexpr uint64_t SENTENCE_EVAL_SEED = 0;    ///< their seed
inline constexpr int64_t STEPS_PER_LOG_LINE = 100;   ///< steps averaged in one row of steps.csv

/// How SentenceTask trains: what shapes the steps, and where it writes.
struct SentenceTraining {
  int64_t batch = 32;                ///< sentences per step
  double clip = 5.0;                 ///< gradient-norm clip (0: none)
  // Bowman et al.'s tricks only, as SentenceVAEConfig's defaults build no bag-of-words layer;
  // sentence_vae train's defaults (examples/sentence_vae.cpp, chosen on the validation split) differ.
  std::string anneal = "logistic";   ///< KL weight schedule (kl_weight)
  int64_t anneal_steps = 4000;       ///< steps over which the KL weight rises
  int64_t ae_steps = 0;              ///< first steps with β = 0 (autoencoder pretraining); the schedule follows
  KLControl control;                 ///< free bits per code dimension, bag-of-words weight
  double word_dropout = 0.3;         ///< fraction of decoder input words replaced by `<unk>`
  uint64_t seed = 1;                 ///< the draws of ε and of word dropout
  std::string out;                   ///< the output folder (steps.csv)
  bool resume = false;               ///< continue steps.csv rather than start it
};

/// The sentence VAE (or language model) as the training loop sees it:
/// length-sorted batches, a step with the annealed KL weight of its step
/// number and word dropout, the validation figures, and OUT/steps.csv: the
/// training averages of every 100 steps, its running window kept in the
/// checkpoint so that a resumed run writes the rows an uninterrupted one would.
template <typename T>
class SentenceTask : public train::ModuleTask<T> {
 public:
  /// `model`, `adam`, `vocab` and `o` must outlive the task; `train` and
  /// `valid` are the corpus as ids, max_length its longest sentence (saved).
  SentenceTask(const SentenceTraining& o, SentenceVAE<T>& model, optim::Adam<T>& adam, const data::Vocabulary& vocab,
               std::vector<data::TokenIds> train, std::vector<data::TokenIds> valid, int64_t max_length)
      : train::ModuleTask<T>(model, adam), m_o(o), m_model(model), m_vocab(vocab), m_train(std::move(train)),
        m_valid(std::move(valid)), m_max_length(max_length),
        m_steps_path((std::filesystem::path(o.out) / "steps.csv").string()) {}

  /// Length-sorted batches (data::length_batches).
  std::vector<std::vector<int64_t>> epoch_batches(Philox& shuffler) override {
    return data::length_batches(m_train, m_o.batch, shuffler);
  }

  /// One train_step with the KL weight of this step number and word dropout.
  train::StepResult step(const std::vector<int64_t>& items, const train::Position& at) override {
    const data::SentenceBatch b = data::make_batch(m_train, items);
    m_beta = m_model.variational() ? kl_weight(m_o.anneal, at.step, m_o.anneal_steps, m_o.ae_steps) : 0.0;
    const SentenceValues v =
        m_model.train_step(b, this->m_adam, m_o.clip, m_beta, m_o.word_dropout, m_o.seed, m_o.control);
    char detail[80];
    std::snprintf(detail, sizeof detail, "recon %.2f  kl %.2f  beta %.3f", v.recon, v.kl, m_beta);
    return {{v.recon + m_beta * v.kl, v.recon, v.kl}, b.size(), detail};
  }

  /// Adds the step to the window; every STEPS_PER_LOG_LINE steps, its averages to steps.csv.
  void after_step(const train::Position& at, const train::StepResult& r) override {
    for (size_t i = 0; i < 3; ++i) m_window[i] += r.values[i];
    if (++m_window_steps < STEPS_PER_LOG_LINE) return;
    if (!m_steps_log) m_steps_log = std::make_unique<train::CsvLog>(m_steps_path, m_o.resume);
    const double n = double(m_window_steps);
    m_steps_log->write({"step", "epoch", "minutes", "beta", "train_recon", "train_kl", "train_loss"},
                       deepgen::detail::str(at.step + 1, ',',
                                            double(at.epoch) + double(at.batch + 1) / double(at.batches), ',',
                                            minutes(), ',', m_beta, ',', m_window[1] / n, ',', m_window[2] / n, ',',
                                            m_window[0] / n));
    m_window = {0, 0, 0};
    m_window_steps = 0;
  }

  /// β, the epoch's training figures and the validation NLL (bound), its terms and perplexity.
  std::vector<train::Column> report(const std::vector<double>& train, double) override {
    const SentenceValues valid = m_model.evaluate(m_valid, SENTENCE_EVAL_SAMPLES, SENTENCE_EVAL_SEED);
    return {{"beta", m_beta},           {"train_recon", train[1], 3}, {"train_kl", train[2], 3},
            {"valid_nll", valid.nll(), 3}, {"valid_recon", valid.recon, 3}, {"valid_kl", valid.kl, 3},
            {"valid_ppl", valid.perplexity(), 2}};
  }

  /// The checkpoint `path`, refused with another vocabulary or other sizes.
  train::Metadata load(const std::string& path) override {
    const auto saved = load_sentence_checkpoint<T>(path, vocabulary_beside(path));
    check_same_sizes(saved.model.config(), m_model.config(), path);
    return train::ModuleTask<T>::load(path);
  }

  /// The model kind, max_length, the vocabulary's fingerprint and the steps.csv window.
  void save_state(train::Metadata& meta) const override {
    meta.insert({{"model", m_model.variational() ? "sentence_vae" : "language_model"}, {"which", "last"},
                 {"max_length", std::to_string(m_max_length)}, {"window_steps", std::to_string(m_window_steps)},
                 {"window_loss", train::exact(m_window[0])}, {"window_recon", train::exact(m_window[1])},
                 {"window_kl", train::exact(m_window[2])}});
    meta.merge(vocabulary_metadata(m_vocab));
  }

  /// The steps.csv window and minutes of a resumed run; steps.csv rows past its step dropped.
  void load_state(const train::Metadata& meta, const std::string& path) override {
    const char* keys[] = {"window_loss", "window_recon", "window_kl", "window_steps", "step", "minutes"};
    for (const char* key : keys)
      DEEPGEN_CHECK(meta.count(key), "--resume: ", path, " has no '", key, "' in its metadata; it was not written "
                    "by this version of sentence_vae train: train into another --out");
    // Whole text, finite, counts >= 0: a hand-edited or damaged value is an error naming the key, not
    // std::invalid_argument.
    auto finite = [](const std::string& t) {
      size_t used = 0;
      const double v = std::stod(t, &used);
      if (used != t.size() || !std::isfinite(v)) throw std::invalid_argument(t);
      return v;
    };
    auto count = [](const std::string& t) {
      size_t used = 0;
      const long long v = std::stoll(t, &used);
      if (used != t.size() || v < 0) throw std::invalid_argument(t);
      return int64_t(v);
    };
    for (size_t i = 0; i < 3; ++i) m_window[i] = train::detail::parse(meta, keys[i], path, finite);
    m_window_steps = train::detail::parse(meta, "window_steps", path, count);
    m_minutes_before = train::detail::parse(meta, "minutes", path, finite);
    // A run killed after its last checkpoint logged steps that will now be taken again.
    train::CsvLog::drop_rows_after(m_steps_path, "step", train::detail::parse(meta, "step", path, count));
  }

 private:
  double minutes() const {
    return m_minutes_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count() / 60;
  }

  const SentenceTraining& m_o;
  SentenceVAE<T>& m_model;
  const data::Vocabulary& m_vocab;
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


}  // namespace deepgen::models
