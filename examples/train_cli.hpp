// examples/train_cli.hpp — the command line the example programs' `train`
// subcommands share: the data, the output folder, the budget, the optimizer
// basics, resume and early stopping, all of it handed to train::run
// (deepgen/train.hpp); and the error wrapper every subcommand runs in.
//
// A program sets its own defaults in TrainCli before add_train_options, so
// that --help shows them, and adds its model's options beside these.
#pragma once

#include <deepgen/train.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>

/// The options of a `train` subcommand that are not the model's.
struct TrainCli {
  deepgen::train::Options loop;  ///< out, epochs, minutes, patience, seed, resume
  std::string data;              ///< the data folder
  int batch = 32;                ///< items per step
  double lr = 1e-3;              ///< Adam learning rate
  double clip = 5.0;             ///< gradient-norm clip (0: none)
};

/// Add --data, --out, --epochs, --minutes, --patience, --batch, --lr, --clip,
/// --seed and --resume to `cmd`, with `t`'s values as the defaults. `data`
/// and `items` describe the data folder and what a batch holds.
inline void add_train_options(CLI::App* cmd, TrainCli& t, const char* data, const char* items) {
  cmd->add_option("--data", t.data, data)->required();
  cmd->add_option("--out", t.loop.out, "output folder (model.safetensors, best.safetensors, train_log.csv)")
      ->required();
  cmd->add_option("--epochs", t.loop.epochs, "stop after this many epochs in all")->capture_default_str();
  cmd->add_option("--minutes", t.loop.minutes, "stop after this much training time in all (resumed runs included)")
      ->capture_default_str();
  cmd->add_option("--patience", t.loop.patience, "stop after this many epochs without a better validation "
                  "figure (0: never)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch", t.batch, std::string(items) + " per step")->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--lr", t.lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--clip", t.clip, "gradient-norm clip (0: none)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", t.loop.seed, "random seed")->capture_default_str();
  cmd->add_flag("--resume", t.loop.resume, "continue from OUT/model.safetensors");
}

/// After train::run: name the files it wrote and return the exit status
/// (non-zero when a signal stopped it).
inline int report_trained(const deepgen::train::Result& r) {
  std::printf("wrote %s\n", r.checkpoint.c_str());
  if (!r.best_checkpoint.empty()) std::printf("wrote %s\n", r.best_checkpoint.c_str());
  return r.exit_code();
}

/// Run a subcommand: an exception becomes "error: …" on stderr and exit status 1.
template <typename Command>
int run_reporting_errors(Command&& command) {
  try {
    return command();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
