// examples/train_cli.hpp — the command line the example programs' `train`
// subcommands share: the data, the output folder, the budget, the optimizer
// basics, resume and early stopping, all of it handed to train::run
// (deepgen/train.hpp); and the error wrapper every subcommand runs in.
//
// A program sets its own defaults in TrainCli before add_train_options, so
// that --help shows them, and adds its model's options beside these.
#pragma once

#include <deepgen/train.hpp>

#include "cli_checks.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>

/// Add option `name` to `cmd` with --help showing its default (the value `value` holds now).
template <typename T>
CLI::Option* add_defaulted(CLI::App* cmd, const std::string& name, T& value, const std::string& help) {
  return cmd->add_option(name, value, help)->capture_default_str();
}

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
  using cli_checks::real;
  using cli_checks::whole;
  cmd->add_option("--data", t.data, data)->required();
  cmd->add_option("--out", t.loop.out, "output folder (model.safetensors, best.safetensors, train_log.csv)")
      ->required()->check(cli_checks::output_folder());
  add_defaulted(cmd, "--epochs", t.loop.epochs, "stop after this many epochs in all")
      ->check(whole(1, cli_checks::MAX_EPOCHS));
  add_defaulted(cmd, "--minutes", t.loop.minutes, "stop after this much training time in all (resumed runs included)")
      ->check(real(0, cli_checks::MAX_MINUTES, cli_checks::Low::open));
  add_defaulted(cmd, "--patience", t.loop.patience, "stop after this many epochs without a better validation "
                "figure (0: never)")->check(whole(0, cli_checks::MAX_EPOCHS));
  add_defaulted(cmd, "--batch", t.batch, std::string(items) + " per step")->check(whole(1, cli_checks::MAX_BATCH));
  add_defaulted(cmd, "--lr", t.lr, "Adam learning rate")->check(real(0, cli_checks::MAX_LR, cli_checks::Low::open));
  add_defaulted(cmd, "--clip", t.clip, "gradient-norm clip (0: none)")->check(real(0, cli_checks::MAX_CLIP));
  add_defaulted(cmd, "--seed", t.loop.seed, "random seed")->check(cli_checks::seed());
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
