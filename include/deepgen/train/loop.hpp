// train/loop.hpp — one training loop for every model: the budget, the
// shuffled epochs, the progress line, the per-epoch report and CSV log,
// checkpoints, exact resume, the best checkpoint and early stopping, the NaN
// guard, and SIGINT/SIGTERM.
//
// A model comes to the loop as a train::Task: it takes one step on a batch of
// item indices, reports its figures after an epoch, and saves and loads
// itself. Everything else is the loop's, written once and tested once
// (tests/train/loop.test.cpp), so a program is its model, its data and one
// call to train::run.
//
// Exact resume: everything a step depends on is a function of the run's seed
// and its position (epoch, batch, step): the batches of epoch e come from a
// shuffler seeded by (seed, 1000 + e), and a schedule (learning rate, KL
// weight) is computed from the Position handed to each step. A checkpoint
// stores that position, the epoch's running sums and whatever state the task
// adds, so a resumed run repeats what an uninterrupted one would have done,
// bit for bit on the same machine and thread count.
//
// Order of writes after an epoch: best.safetensors (if the monitored figure
// improved), then the checkpoint (which carries the epoch's log row), then the
// line on stdout and the log row. A run killed anywhere leaves a checkpoint
// whose every report was either printed or is replayed into the log on resume.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../random.hpp"
#include "csv_log.hpp"
#include "progress.hpp"
#include "stop_signal.hpp"

namespace deepgen::train {

/// Checkpoint metadata: string keys and values, as safetensors stores them.
using Metadata = std::map<std::string, std::string>;

/// A double as the shortest text that reads back to the same value ("0.3", not "0.29999999999999999").
inline std::string exact(double x) {
  char buf[32];
  for (int digits = 15;; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, x);
    if (digits == 17 || std::strtod(buf, nullptr) == x) return buf;
  }
}

/// One figure of the per-epoch report: a column of the CSV log and `name=value` on stdout.
struct Column {
  std::string name;   ///< e.g. "valid_nll_nats_per_pixel"
  double value = 0;   ///< the figure
  int precision = 4;  ///< digits after the point on stdout (the log keeps 6 significant digits)
};

/// Where the loop stands: handed to every step, so that a schedule is a
/// function of it and a resumed run computes the same values.
struct Position {
  int64_t epoch = 0;    ///< the epoch under way, from 0
  int64_t batch = 0;    ///< the batch under way in it, from 0
  int64_t batches = 0;  ///< batches in this epoch
  int64_t step = 0;     ///< steps taken before this one, in the whole run
  /// Epochs done before this step, fractional: epoch + batch / batches.
  double epochs() const { return double(epoch) + (batches > 0 ? double(batch) / double(batches) : 0.0); }
};

/// What one training step reports.
struct StepResult {
  /// Figures averaged over the epoch (weighted by `items`) and handed to
  /// Task::report; values[0] is the loss the progress line shows. All must be finite.
  std::vector<double> values;
  int64_t items = 1;   ///< the step's weight in those averages, and what items/s counts
  std::string detail;  ///< extra text for the progress line, e.g. "recon 140.2  kl 9.1"
};

/// An option that shapes the remaining steps (batch size, learning rate…):
/// stored in every checkpoint, and --resume refuses a run that changes it.
struct Setting {
  std::string key;     ///< metadata key, e.g. "batch_size"
  std::string value;   ///< this run's value as text (use exact() for doubles)
  std::string option;  ///< the option a user passes, named in the error, e.g. "--batch"
};

/// How to train: the budget, the files, resume, early stopping.
struct Options {
  std::string out;               ///< folder for the checkpoint, best.safetensors and the log
  int64_t epochs = 1;            ///< stop after this many epochs in all
  double minutes = std::numeric_limits<double>::infinity();  ///< ... or this much training time in all
  int64_t max_steps = 0;         ///< ... or this many steps in all (0: no limit)
  uint64_t seed = 1;             ///< the shuffles' seed (the task seeds its own draws)
  bool resume = false;           ///< continue from `out`/model.safetensors
  std::string monitor;           ///< a report column to minimise: best.safetensors and early stopping ("" : none)
  int64_t patience = 0;          ///< stop after this many epochs without a new best `monitor` (0: never)
  std::vector<Setting> settings; ///< checked on resume (the seed always is)
  const char* unit = "items";    ///< what StepResult::items counts, for the progress line
  std::FILE* report = stdout;    ///< where the per-epoch `name=value` lines go
  std::FILE* progress = stderr;  ///< where the progress line goes
  double plain_every_seconds = 30;  ///< progress line interval when `progress` is not a terminal
};

/// Why the loop ended.
enum class Outcome {
  epochs_done,    ///< the --epochs budget is spent
  out_of_budget,  ///< --minutes or --max-steps ran out (the checkpoint is mid-epoch)
  early_stopped,  ///< `monitor` did not improve for `patience` epochs
  interrupted,    ///< SIGINT or SIGTERM: the step finished, the checkpoint saved
};

/// What run() did.
struct Result {
  Outcome outcome = Outcome::epochs_done;  ///< why it ended
  int signal = 0;                          ///< the signal, when interrupted
  int64_t epoch = 0;                       ///< complete epochs
  int64_t step = 0;                        ///< steps in all
  double best = std::numeric_limits<double>::infinity();  ///< best `monitor` value
  double best_epoch = -1;                  ///< epochs done when it was reached
  std::string checkpoint;                  ///< model.safetensors, the latest state (for --resume)
  std::string best_checkpoint;             ///< best.safetensors (empty without a monitor)

  /// The process exit status a program should return: 0, or 128 + the signal when interrupted.
  int exit_code() const { return outcome == Outcome::interrupted ? 128 + signal : 0; }
};

/// A model as the loop sees it. Implement the pure virtual functions; the
/// others are hooks with empty defaults.
class Task {
 public:
  virtual ~Task() = default;

  /// The batches of one epoch as lists of training-item indices, in the
  /// order to take them. `shuffler` is seeded by (seed, epoch): draw the
  /// order from it alone so that a resumed epoch gets the same batches
  /// (shuffled_batches() does this for fixed-size batches).
  virtual std::vector<std::vector<int64_t>> epoch_batches(Philox& shuffler) = 0;

  /// One optimizer step on the items of one batch.
  virtual StepResult step(const std::vector<int64_t>& items, const Position& at) = 0;

  /// The report after an epoch (or part of one, when the budget cut it
  /// short): `train` holds the epoch's means of StepResult::values; add the
  /// validation and test figures. `epochs_done` is fractional when cut short.
  virtual std::vector<Column> report(const std::vector<double>& train, double epochs_done) = 0;

  /// Write the model (and, `with_optimizer`, its optimizer state) to `path`
  /// atomically, with `meta` stored in the file.
  virtual void save(const std::string& path, const Metadata& meta, bool with_optimizer) = 0;

  /// Load model and optimizer from the checkpoint `path` (throwing, with a
  /// remedy, where it does not fit this run); return its metadata.
  virtual Metadata load(const std::string& path) = 0;

  /// Hook: after every step (a per-step log, say).
  virtual void after_step(const Position& /*at*/, const StepResult& /*result*/) {}
  /// Hook: add what the task itself must carry across a resume.
  virtual void save_state(Metadata& /*meta*/) const {}
  /// Hook: read back what save_state wrote (`path` names the file in errors).
  /// Throw deepgen::Error on a bad value; a std::logic_error that escapes
  /// (std::stoll's, map::at's) is turned into one naming the file.
  virtual void load_state(const Metadata& /*meta*/, const std::string& /*path*/) {}
};

/// Indices 0 … count−1 shuffled by `shuffler`, cut into batches of `batch_size` (the last may be smaller).
inline std::vector<std::vector<int64_t>> shuffled_batches(int64_t count, int64_t batch_size, Philox& shuffler) {
  DEEPGEN_CHECK(batch_size >= 1, "batch size ", batch_size, " must be at least 1");
  std::vector<int64_t> order(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) order[size_t(i)] = i;
  shuffle(order, shuffler);
  std::vector<std::vector<int64_t>> out;
  for (int64_t first = 0; first < count; first += batch_size)
    out.emplace_back(order.begin() + first, order.begin() + std::min(count, first + batch_size));
  return out;
}

namespace detail {

/// metadata[key] of the checkpoint `path`, or an error that says what to do.
inline const std::string& required(const Metadata& meta, const std::string& key, const std::string& path) {
  auto it = meta.find(key);
  DEEPGEN_CHECK(it != meta.end(), "--resume: ", path, " has no '", key, "' in its metadata; it was not written by ",
                "this version's training loop: train into another --out");
  return it->second;
}

/// Parse a number from checkpoint metadata, naming the key on failure.
template <typename Parse>
auto parse(const Metadata& meta, const std::string& key, const std::string& path, Parse p) {
  const std::string& text = required(meta, key, path);
  try {
    return p(text);
  } catch (const std::exception&) {
    DEEPGEN_CHECK(false, "--resume: ", path, ": metadata '", key, "' = '", text,
                  "' is not a number in range; the file is damaged: train into another --out");
  }
  return p("0");
}

inline std::string join_exact(const std::vector<double>& v) {
  std::string out;
  for (double x : v) out += (out.empty() ? "" : ";") + exact(x);
  return out;
}

inline std::vector<double> split_doubles(const std::string& text) {
  std::vector<double> out;
  for (const std::string& cell : split_cells(text, ';'))
    if (!cell.empty()) {
      size_t used = 0;
      out.push_back(std::stod(cell, &used));
      if (used != cell.size() || !std::isfinite(out.back())) throw std::invalid_argument(cell);
    }
  return out;
}

inline std::string format_fixed(double v, int precision) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
}

inline std::string format_log(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace detail

/// Train `task` as `o` says. Returns why it stopped; throws deepgen::Error
/// on bad options, a checkpoint that does not fit, or a diverged step, in
/// which case nothing already saved has been touched.
inline Result run(Task& task, const Options& o) {
  namespace fs = std::filesystem;
  DEEPGEN_CHECK(!o.out.empty(), "train: no output folder given");
  DEEPGEN_CHECK(o.epochs >= 1, "--epochs ", o.epochs, " must be at least 1");
  DEEPGEN_CHECK(o.minutes > 0, "--minutes ", o.minutes, " must be positive");
  DEEPGEN_CHECK(o.max_steps >= 0, "--max-steps ", o.max_steps, " must be 0 (no limit) or positive");
  DEEPGEN_CHECK(o.patience >= 0, "--patience ", o.patience, " must be 0 (no early stopping) or positive");
  DEEPGEN_CHECK(o.patience == 0 || !o.monitor.empty(), "train: early stopping (patience ", o.patience,
                ") needs a report column to monitor");
  fs::create_directories(o.out);
  Result result;
  result.checkpoint = (fs::path(o.out) / "model.safetensors").string();
  if (!o.monitor.empty()) result.best_checkpoint = (fs::path(o.out) / "best.safetensors").string();
  const std::string& model_path = result.checkpoint;
  const std::string log_path = (fs::path(o.out) / "train_log.csv").string();
  std::vector<Setting> settings = o.settings;
  settings.push_back({"seed", std::to_string(o.seed), "--seed"});

  // ---- the loop's state: all of it goes into every checkpoint ----
  int64_t epoch = 0, batch = 0, step = 0, since_best = 0;
  double minutes_before = 0, items = 0;  // items: the epoch's weight so far
  std::vector<double> sums;              // the epoch's weighted sums of StepResult::values
  std::vector<std::string> pending_log;  // {header, row} a checkpoint holds but the log may lack

  if (o.resume) {
    DEEPGEN_CHECK(fs::exists(model_path), "--resume: no checkpoint at ", model_path,
                  "; run without --resume to start training");
    const Metadata meta = task.load(model_path);
    for (const Setting& s : settings) {
      const std::string& saved = detail::required(meta, s.key, model_path);
      DEEPGEN_CHECK(saved == s.value, "--resume: the checkpoint was trained with ", s.option, " ", saved,
                    " but this run has ", s.value, "; pass the same value to continue it exactly");
    }
    // Counts and times are whole (or finite) and never negative: a hand-edited
    // "batch" of -1 would index before the epoch's first batch.
    auto to_i = [](const std::string& t) {
      size_t used = 0;
      const long long v = std::stoll(t, &used);
      if (used != t.size() || v < 0) throw std::invalid_argument(t);
      return int64_t(v);
    };
    auto to_d = [](const std::string& t) {
      size_t used = 0;
      const double v = std::stod(t, &used);
      if (used != t.size() || std::isnan(v)) throw std::invalid_argument(t);
      return v;
    };
    auto to_time = [&](const std::string& t) {
      const double v = to_d(t);
      if (!(v >= 0 && v < std::numeric_limits<double>::infinity())) throw std::invalid_argument(t);
      return v;
    };
    epoch = detail::parse(meta, "epoch", model_path, to_i);
    batch = detail::parse(meta, "batch", model_path, to_i);
    step = detail::parse(meta, "step", model_path, to_i);
    minutes_before = detail::parse(meta, "minutes", model_path, to_time);
    items = detail::parse(meta, "train_items", model_path, to_time);
    sums = detail::parse(meta, "train_sums", model_path, detail::split_doubles);
    result.best = detail::parse(meta, "best", model_path, to_d);
    result.best_epoch = detail::parse(meta, "best_epoch", model_path, to_d);
    since_best = detail::parse(meta, "since_best", model_path, to_i);
    try {
      task.load_state(meta, model_path);
    } catch (const std::logic_error& e) {  // a task's own std::stoll or map::at on a hand-edited file
      DEEPGEN_CHECK(false, "--resume: ", model_path, ": its metadata could not be read (", e.what(),
                    "); the file was edited or damaged: train into another --out");
    }
    DEEPGEN_CHECK(epoch < o.epochs, "--resume: ", model_path, " has already trained ", epoch,
                  " epochs; --epochs is the total, so pass more than that to train further");
    DEEPGEN_CHECK(o.max_steps == 0 || step < o.max_steps, "--resume: ", model_path, " has already taken ", step,
                  " steps; pass --max-steps above that (or 0) to train further");
    DEEPGEN_CHECK(minutes_before < o.minutes, "--resume: ", model_path, " has already trained ",
                  detail::format_fixed(minutes_before, 2),
                  " minutes; --minutes is the total, so pass more than that to train further");
    DEEPGEN_CHECK(o.patience == 0 || since_best < o.patience, "--resume: ", model_path, " stopped early: ",
                  o.monitor, " has not improved for ", since_best, " epochs (best ", result.best, " at epoch ",
                  result.best_epoch, "); pass a --patience above ", since_best, " to train further");
    // A run killed after its checkpoint may have logged rows past it (they
    // will be reported again), or not yet logged the checkpoint's own row.
    const bool has_row = CsvLog::drop_rows_after(log_path, "step", step);
    if (!has_row && meta.count("log_row") && meta.count("log_header"))
      pending_log = {meta.at("log_header"), meta.at("log_row")};
    std::fprintf(o.progress, "resuming %s at epoch %lld, batch %lld\n", model_path.c_str(), (long long)epoch + 1,
                 (long long)batch + 1);
  }

  // The log opens at its first row: a fresh run that reports nothing (it
  // diverges in its first epoch, or is refused below) leaves an earlier log as it was.
  std::optional<CsvLog> log;
  auto log_row = [&](const std::vector<std::string>& header, const std::string& row) {
    if (!log) log.emplace(log_path, o.resume);
    log->write(header, row);
  };
  if (!pending_log.empty()) log_row(split_cells(pending_log[0]), pending_log[1]);
  const int64_t first_step = step;
  StopSignalGuard stop;
  ProgressLine progress(o.progress, o.plain_every_seconds);
  const auto start = std::chrono::steady_clock::now();
  auto minutes_now = [&] {
    return minutes_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 60;
  };
  auto metadata = [&] {
    Metadata m;
    for (const Setting& s : settings) m[s.key] = s.value;
    m["epoch"] = std::to_string(epoch);
    m["batch"] = std::to_string(batch);
    m["step"] = std::to_string(step);
    m["minutes"] = exact(minutes_now());
    m["train_items"] = exact(items);
    m["train_sums"] = detail::join_exact(sums);
    m["best"] = exact(result.best);
    m["best_epoch"] = exact(result.best_epoch);
    m["since_best"] = std::to_string(since_best);
    task.save_state(m);
    return m;
  };
  auto where = [&] {
    return deepgen::detail::str("; ", model_path, " is left as it was (its last save: step ", step, ")");
  };

  while (epoch < o.epochs) {
    Philox shuffler(o.seed, 1000 + uint64_t(epoch));
    const auto batches = task.epoch_batches(shuffler);
    const int64_t nb = int64_t(batches.size());
    DEEPGEN_CHECK(nb > 0, "train: epoch ", epoch + 1, " has no batches; is the training set empty?");
    DEEPGEN_CHECK(batch < nb, "--resume: ", model_path, " stopped at batch ", batch, " of an epoch that has ", nb,
                  " batches; was the training data or --batch changed?");
    const auto epoch_start = std::chrono::steady_clock::now();
    const int64_t first_batch = batch;
    double items_here = 0;  // this run's share of the epoch, for items/s
    bool cut = false;
    while (batch < nb) {
      if (minutes_now() >= o.minutes || (o.max_steps > 0 && step >= o.max_steps)) {
        cut = true;
        break;
      }
      const Position at{epoch, batch, nb, step};
      StepResult r;
      try {
        r = task.step(batches[size_t(batch)], at);
      } catch (const Error& e) {
        progress.break_line();
        throw Error(deepgen::detail::str(e.what(), where()));
      }
      DEEPGEN_CHECK(!r.values.empty(), "train: the step returned no values; values[0] must be the loss");
      for (size_t i = 0; i < r.values.size(); ++i)
        if (!std::isfinite(r.values[i])) {
          progress.break_line();
          DEEPGEN_CHECK(false, "step ", step + 1, " (epoch ", epoch + 1, ", batch ", batch + 1, "): value ", i,
                        i == 0 ? " (the loss)" : "", " is ", r.values[i],
                        ": training diverged; lower the learning rate or clip the gradients", where());
        }
      if (sums.empty()) sums.assign(r.values.size(), 0.0);
      DEEPGEN_CHECK(sums.size() == r.values.size(), "train: the step returned ", r.values.size(),
                    " values but earlier steps ", sums.size());
      for (size_t i = 0; i < sums.size(); ++i) sums[i] += r.values[i] * double(r.items);
      items += double(r.items);
      items_here += double(r.items);
      ++step;
      ++batch;
      task.after_step(at, r);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
      ProgressState p;
      p.epoch = epoch + 1;
      p.batch = batch;
      p.batches = nb;
      p.loss = r.values[0];
      p.detail = r.detail;
      p.items_per_second = secs > 0 ? items_here / secs : 0;
      p.unit = o.unit;
      p.eta_seconds = secs / double(batch - first_batch) * double(nb - batch);
      progress.update(p, batch == nb);
      if (stop.received()) break;
    }
    progress.break_line();
    if (const int sig = stop.received()) {
      task.save(model_path, metadata(), true);
      result.outcome = Outcome::interrupted;
      result.signal = sig;
      std::fprintf(o.progress, "interrupted by %s: the step finished and %s is saved at epoch %lld, batch %lld; "
                   "continue with --resume\n", sig == SIGINT ? "SIGINT" : "SIGTERM", model_path.c_str(),
                   (long long)epoch + 1, (long long)batch);
      break;
    }
    if (batch == first_batch) break;  // out of budget before a step of this epoch: nothing new to report
    const bool complete = batch == nb;
    const double epochs_done = double(epoch) + double(batch) / double(nb);
    std::vector<double> means(sums.size());
    for (size_t i = 0; i < sums.size(); ++i) means[i] = sums[i] / items;
    const std::vector<Column> columns = task.report(means, epochs_done);
    double monitored = std::numeric_limits<double>::quiet_NaN();
    for (const Column& c : columns) {
      DEEPGEN_CHECK(std::isfinite(c.value), "epoch ", epochs_done, ": ", c.name, " is ", c.value,
                    ": training diverged; lower the learning rate or clip the gradients", where());
      if (c.name == o.monitor) monitored = c.value;
    }
    DEEPGEN_CHECK(o.monitor.empty() || !std::isnan(monitored), "train: --monitor ", o.monitor,
                  " is not a column of the report");
    if (complete) {
      ++epoch;
      batch = 0;
      sums.assign(sums.size(), 0.0);
      items = 0;
    }
    if (!o.monitor.empty() && monitored < result.best) {
      result.best = monitored;
      result.best_epoch = epochs_done;
      since_best = 0;
      Metadata m = metadata();
      m["which"] = "best";
      task.save(result.best_checkpoint, m, false);
    } else if (complete) {
      ++since_best;
    }
    std::vector<std::string> header{"epoch", "step", "minutes"};
    const double minutes = minutes_now();
    std::string line = deepgen::detail::str("epoch=", detail::format_fixed(epochs_done, 2), " step=", step,
                                   " minutes=", detail::format_fixed(minutes, 2));
    std::string row = deepgen::detail::str(detail::format_log(epochs_done), ',', step, ',', detail::format_log(minutes));
    for (const Column& c : columns) {
      header.push_back(c.name);
      line += " " + c.name + "=" + detail::format_fixed(c.value, c.precision);
      row += "," + detail::format_log(c.value);
    }
    Metadata m = metadata();
    std::string header_text;
    for (const std::string& h : header) header_text += (header_text.empty() ? "" : ",") + h;
    m["log_header"] = header_text;
    m["log_row"] = row;
    task.save(model_path, m, true);  // first: every reported epoch has its checkpoint
    std::fprintf(o.report, "%s\n", line.c_str());
    std::fflush(o.report);
    log_row(header, row);
    if (o.patience > 0 && since_best >= o.patience) {
      result.outcome = Outcome::early_stopped;
      std::fprintf(o.progress, "early stopping: %s has not improved for %lld epochs; the best, %g at epoch %.2f, "
                   "is kept in %s\n", o.monitor.c_str(), (long long)since_best, result.best, result.best_epoch,
                   result.best_checkpoint.c_str());
      break;
    }
    if (cut) break;
  }
  // A budget spent before the first step (a --minutes so small that the clock
  // passes it while the data loads) trained and saved nothing: say so, rather
  // than report a checkpoint that was never written.
  DEEPGEN_CHECK(step > first_step || result.outcome == Outcome::interrupted, "train: the budget (--minutes ",
                o.minutes, o.max_steps > 0 ? deepgen::detail::str(", --max-steps ", o.max_steps) : std::string(),
                ") ran out before the first step; nothing was trained and nothing in ", o.out,
                " was written. Give a larger budget");
  if (result.outcome == Outcome::epochs_done && epoch < o.epochs) result.outcome = Outcome::out_of_budget;
  result.epoch = epoch;
  result.step = step;
  return result;
}

}  // namespace deepgen::train
