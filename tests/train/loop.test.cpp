// The training loop, tested once with a small model (a linear classifier):
// exact resume after a cut budget, a crash and a signal; early stopping at
// the epoch the validation curve says, with that epoch's weights kept; the
// NaN guard leaving the last checkpoint byte-identical; the CSV log.
#include <deepgen/deepgen.hpp>
#include <deepgen/train.hpp>

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "support/temp_dir.hpp"

using namespace deepgen;

namespace {

constexpr int64_t FEATURES = 4, CLASSES = 3, ITEMS = 37, BATCH = 8;  // 5 batches an epoch, the last of 5 items

/// A linear classifier on fixed random data, trained by the loop. The test
/// switches its failure modes on: a crash, a NaN, a signal at a given step.
class ToyTask : public train::ModuleTask<float> {
 public:
  nn::Linear<float> model;
  optim::Adam<float> adam;
  Tensor<float> x{Shape{ITEMS, FEATURES}};
  Tensor<int32_t> y{Shape{ITEMS}};
  std::vector<double> scripted_valid;  ///< when set, the validation figure of epoch e is scripted_valid[e]
  std::vector<Tensor<float>> weights_after_report;  ///< the weight after each report
  int64_t crash_at = -1, nan_at = -1, signal_at = -1;  ///< a step (Position::step) at which to misbehave
  int64_t items_seen = 0;                               ///< task state that must survive a resume

  ToyTask(Philox init = Philox(3))
      : train::ModuleTask<float>(model, adam), model(FEATURES, CLASSES, init), adam(model.named_parameters(), {0.05}) {
    Philox data(11);
    fill_normal(x, data, 0.0f, 1.0f);
    for (int64_t i = 0; i < ITEMS; ++i) y[i] = int32_t(data.uniform_int(CLASSES));
  }

  std::vector<std::vector<int64_t>> epoch_batches(Philox& shuffler) override {
    return train::shuffled_batches(ITEMS, BATCH, shuffler);
  }

  train::StepResult step(const std::vector<int64_t>& items, const train::Position& at) override {
    if (at.step == crash_at) throw std::runtime_error("simulated crash");
    const int64_t B = int64_t(items.size());
    Tensor<float> xb(Shape{B, FEATURES});
    Tensor<int32_t> yb(Shape{B});
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t f = 0; f < FEATURES; ++f) xb.at(b, f) = x.at(items[size_t(b)], f);
      yb[b] = y[items[size_t(b)]];
    }
    if (at.step == nan_at) xb.at(0, 0) = std::numeric_limits<float>::quiet_NaN();
    adam.zero_grad();
    // A schedule that depends on the position only, as a real one would.
    adam.set_lr(0.05 / (1.0 + at.epochs()));
    const Var<float> loss = softmax_cross_entropy(model(Var<float>(xb)), yb);
    optim::backward_and_step(loss, model.named_parameters(), adam, 1.0, "ToyTask");
    items_seen += B;
    if (at.step == signal_at) std::raise(SIGINT);
    return {{loss.value()[0], double(B)}, B, ""};
  }

  std::vector<train::Column> report(const std::vector<double>& train, double epochs_done) override {
    weights_after_report.push_back(model.weight().value());
    const double valid = scripted_valid.empty() ? train[0] : scripted_valid.at(size_t(epochs_done + 0.5) - 1);
    return {{"train_loss", train[0], 6}, {"batch_mean", train[1], 6}, {"valid_loss", valid, 6},
            {"items_seen", double(items_seen), 0}};
  }

  void save_state(train::Metadata& meta) const override { meta["items_seen"] = std::to_string(items_seen); }
  void load_state(const train::Metadata& meta, const std::string&) override {
    items_seen = std::stoll(meta.at("items_seen"));
  }
};

/// Reads everything written to a tmpfile().
std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  for (int c; (c = std::fgetc(f)) != EOF;) out += char(c);
  return out;
}

std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

/// Report lines without their minutes= field (the one figure that differs between runs).
std::vector<std::string> report_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t a = line.find(" minutes="), b = line.find(' ', a + 1);
    out.push_back(line.substr(0, a) + line.substr(b));
  }
  return out;
}

struct Run {
  std::FILE* report = std::tmpfile();
  std::FILE* progress = std::tmpfile();
  ~Run() {
    std::fclose(report);
    std::fclose(progress);
  }
  train::Options options(const std::string& out, int64_t epochs) const {
    train::Options o;
    o.out = out;
    o.epochs = epochs;
    o.seed = 5;
    o.report = report;
    o.progress = progress;
    o.settings = {{"batch_size", std::to_string(BATCH), "--batch"}};
    return o;
  }
};

/// The report lines of an uninterrupted run of `epochs` epochs into `out`.
std::vector<std::string> uninterrupted(const std::string& out, int64_t epochs) {
  Run run;
  ToyTask task;
  train::run(task, run.options(out, epochs));
  return report_lines(contents(run.report));
}

}  // namespace

TEST_CASE("train::run: a run cut short by its budget and resumed matches an uninterrupted one", "[train]") {
  test::TempDir dir;
  Run straight_run;
  ToyTask straight;
  const train::Result r0 = train::run(straight, straight_run.options((dir.path / "a").string(), 4));
  CHECK(r0.outcome == train::Outcome::epochs_done);
  CHECK(r0.step == 20);
  const auto expected = report_lines(contents(straight_run.report));
  REQUIRE(expected.size() == 4);

  // 12 steps: two epochs and two batches of the third; the report of that
  // partial epoch is the third line, then the resumed run finishes epochs 3 and 4.
  Run first;
  ToyTask cut;
  train::Options o = first.options((dir.path / "b").string(), 4);
  o.max_steps = 12;
  CHECK(train::run(cut, o).outcome == train::Outcome::out_of_budget);
  const auto before = report_lines(contents(first.report));
  REQUIRE(before.size() == 3);
  CHECK(before[0] == expected[0]);
  CHECK(before[1] == expected[1]);
  CHECK(before[2].rfind("epoch=2.40 step=12 ", 0) == 0);

  Run second;
  ToyTask resumed(Philox(99));  // different initial weights: the checkpoint must replace them
  o = second.options((dir.path / "b").string(), 4);
  o.resume = true;
  const train::Result r1 = train::run(resumed, o);
  CHECK(r1.outcome == train::Outcome::epochs_done);
  const auto after = report_lines(contents(second.report));
  REQUIRE(after.size() == 2);
  CHECK(after[0] == expected[2]);
  CHECK(after[1] == expected[3]);
  CHECK(resumed.items_seen == straight.items_seen);
  const Tensor<float>& w0 = straight.model.weight().value();
  const Tensor<float>& w1 = resumed.model.weight().value();
  CHECK(std::equal(w0.data(), w0.data() + w0.numel(), w1.data()));  // bit for bit

  // The log of the interrupted run reads like the uninterrupted one (minutes aside).
  const auto log_a = train::read_csv((dir.path / "a" / "train_log.csv").string());
  const auto log_b = train::read_csv((dir.path / "b" / "train_log.csv").string());
  CHECK(log_a.header == log_b.header);
  REQUIRE(log_b.rows.size() == 5);  // four epochs and the cut one
  CHECK(log_b.rows[4][log_b.column("valid_loss")] == log_a.rows[3][log_a.column("valid_loss")]);

  SECTION("resume refuses a spent budget and a changed setting, and keeps the checkpoint") {
    const std::string model = (dir.path / "b" / "model.safetensors").string();
    const std::string bytes = file_bytes(model);
    ToyTask again;
    Run third;
    o = third.options((dir.path / "b").string(), 4);
    o.resume = true;
    CHECK_THROWS_WITH(train::run(again, o), Catch::Contains("has already trained 4 epochs"));
    o.epochs = 6;
    o.settings[0].value = "16";
    CHECK_THROWS_WITH(train::run(again, o), Catch::Contains("trained with --batch 8 but this run has 16"));
    CHECK(file_bytes(model) == bytes);
  }
}

TEST_CASE("train::run: a run that crashed mid-epoch resumes from its last checkpoint exactly", "[train]") {
  test::TempDir dir;
  const auto expected = uninterrupted((dir.path / "a").string(), 3);

  Run crashed_run;
  ToyTask crashed;
  crashed.crash_at = 7;  // inside the second epoch: the first epoch's checkpoint is the last
  CHECK_THROWS_WITH(train::run(crashed, crashed_run.options((dir.path / "b").string(), 3)),
                    Catch::Contains("simulated crash"));
  Run resumed_run;
  ToyTask resumed;
  train::Options o = resumed_run.options((dir.path / "b").string(), 3);
  o.resume = true;
  train::run(resumed, o);
  const auto after = report_lines(contents(resumed_run.report));
  REQUIRE(after.size() == 2);
  CHECK(after[0] == expected[1]);
  CHECK(after[1] == expected[2]);
}

TEST_CASE("train::run: early stopping stops where the validation curve says and keeps that epoch's weights",
          "[train]") {
  test::TempDir dir;
  Run run;
  ToyTask task;
  // Best at epoch 3; epochs 4, 5 and 6 do not beat it, so patience 3 stops after epoch 6.
  task.scripted_valid = {3.0, 2.0, 1.5, 1.7, 1.6, 1.8, 1.4, 1.3};
  train::Options o = run.options(dir.path.string(), 8);
  o.monitor = "valid_loss";
  o.patience = 3;
  const train::Result r = train::run(task, o);
  CHECK(r.outcome == train::Outcome::early_stopped);
  CHECK(r.epoch == 6);
  CHECK(r.best == 1.5);
  CHECK(r.best_epoch == 3.0);
  CHECK(train::read_csv((dir.path / "train_log.csv").string()).rows.size() == 6);
  CHECK_THAT(contents(run.progress), Catch::Contains("early stopping: valid_loss has not improved for 3 epochs"));

  std::map<std::string, std::string> meta;
  const auto best = io::load_safetensors<float>(r.best_checkpoint, &meta);
  const Tensor<float>& kept = best.at("weight");
  const Tensor<float>& epoch3 = task.weights_after_report.at(2);
  CHECK(std::equal(kept.data(), kept.data() + kept.numel(), epoch3.data()));
  const Tensor<float>& last = task.weights_after_report.back();
  CHECK_FALSE(std::equal(kept.data(), kept.data() + kept.numel(), last.data()));
  CHECK(meta.at("which") == "best");

  // Resuming a run that stopped early needs more patience.
  ToyTask again;
  Run second;
  o = second.options(dir.path.string(), 8);
  o.monitor = "valid_loss";
  o.patience = 3;
  o.resume = true;
  CHECK_THROWS_WITH(train::run(again, o), Catch::Contains("pass a --patience above 3"));
  again.scripted_valid = task.scripted_valid;
  o.patience = 5;
  const train::Result r2 = train::run(again, o);
  CHECK(r2.best == 1.3);  // epochs 7 and 8 improve on it
  CHECK(r2.best_epoch == 8.0);
}

TEST_CASE("train::run: NaN stops training with a message and leaves the last checkpoint byte-identical",
          "[train]") {
  test::TempDir dir;
  Run first;
  ToyTask task;
  train::run(task, first.options(dir.path.string(), 1));
  const std::string model = (dir.path / "model.safetensors").string();
  const std::string bytes = file_bytes(model), optim_bytes = file_bytes(io::optimizer_path(model));
  const std::string log = file_bytes((dir.path / "train_log.csv").string());

  Run second;
  ToyTask diverging;
  diverging.nan_at = 7;
  train::Options o = second.options(dir.path.string(), 3);
  o.resume = true;
  CHECK_THROWS_WITH(train::run(diverging, o), Catch::Contains("diverged") && Catch::Contains("is left as it was"));
  CHECK(file_bytes(model) == bytes);
  CHECK(file_bytes(io::optimizer_path(model)) == optim_bytes);
  CHECK(file_bytes((dir.path / "train_log.csv").string()) == log);
  CHECK(contents(second.report).empty());
}

TEST_CASE("train::run: SIGINT finishes the step, saves, and the run resumes exactly", "[train]") {
  test::TempDir dir;
  const auto expected = uninterrupted((dir.path / "a").string(), 3);

  Run run;
  ToyTask task;
  task.signal_at = 7;  // the eighth step, third batch of the second epoch
  const train::Result r = train::run(task, run.options((dir.path / "b").string(), 3));
  CHECK(r.outcome == train::Outcome::interrupted);
  CHECK(r.signal == SIGINT);
  CHECK(r.exit_code() == 130);
  CHECK_THAT(contents(run.progress), Catch::Contains("interrupted by SIGINT") && Catch::Contains("--resume"));
  std::map<std::string, std::string> meta;
  io::load_safetensors<float>((dir.path / "b" / "model.safetensors").string(), &meta);
  CHECK(meta.at("step") == "8");   // the step under way finished and is in the checkpoint
  CHECK(meta.at("batch") == "3");

  Run resumed_run;
  ToyTask resumed;
  train::Options o = resumed_run.options((dir.path / "b").string(), 3);
  o.resume = true;
  CHECK(train::run(resumed, o).outcome == train::Outcome::epochs_done);
  const auto after = report_lines(contents(resumed_run.report));
  REQUIRE(after.size() == 2);
  CHECK(after[0] == expected[1]);
  CHECK(after[1] == expected[2]);
}

TEST_CASE("train::shuffled_batches and the CSV reader", "[train]") {
  Philox a(1, 1000), b(1, 1000);
  const auto x = train::shuffled_batches(10, 4, a);
  CHECK(x == train::shuffled_batches(10, 4, b));
  REQUIRE(x.size() == 3);
  CHECK(x[2].size() == 2);
  std::vector<int64_t> all;
  for (const auto& batch : x) all.insert(all.end(), batch.begin(), batch.end());
  std::sort(all.begin(), all.end());
  for (int64_t i = 0; i < 10; ++i) CHECK(all[size_t(i)] == i);
  CHECK_THROWS_WITH(train::shuffled_batches(10, 0, a), Catch::Contains("must be at least 1"));

  test::TempDir dir;
  const std::string path = dir.write("log.csv", "epoch,step,loss\n1,5,2.5\n2,10\n");
  CHECK_THROWS_WITH(train::read_csv(path), Catch::Contains("log.csv:3: 2 cells but the header has 3"));
  CHECK(train::CsvLog::drop_rows_after(dir.write("l2.csv", "epoch,step\n1,5\n2,10\n3,15\n"), "step", 10));
  CHECK(train::read_csv((dir.path / "l2.csv").string()).rows.size() == 2);
  CHECK(train::format_duration(3725) == "1:02:05");
  CHECK(train::exact(0.3) == "0.3");
}

TEST_CASE("train::run: a budget spent before the first step is refused and leaves the earlier run's files as they were",
          "[train]") {
  test::TempDir dir;
  const std::string out = (dir.path / "a").string();
  uninterrupted(out, 2);
  const std::string model = (dir.path / "a" / "model.safetensors").string();
  const std::string log = (dir.path / "a" / "train_log.csv").string();
  const std::string model_bytes = file_bytes(model), log_bytes = file_bytes(log);
  REQUIRE(train::read_csv(log).rows.size() == 2);

  SECTION("a fresh run over the same folder with a budget of a nanosecond") {
    Run run;
    ToyTask task;
    train::Options o = run.options(out, 3);
    o.minutes = 1e-9 / 60;
    CHECK_THROWS_WITH(train::run(task, o), Catch::Contains("ran out before the first step") &&
                                               Catch::Contains("nothing was trained"));
  }
  SECTION("a fresh run that diverges at its first step") {
    Run run;
    ToyTask task;
    task.nan_at = 0;
    CHECK_THROWS_WITH(train::run(task, run.options(out, 3)), Catch::Contains("training diverged"));
  }
  CHECK(file_bytes(model) == model_bytes);
  CHECK(file_bytes(log) == log_bytes);  // not cut to its header
}

TEST_CASE("train::run: --resume from hand-edited metadata names the file and the key, never indexes with it",
          "[train]") {
  test::TempDir dir;
  const std::string out = (dir.path / "a").string();
  uninterrupted(out, 1);
  const std::string model = (dir.path / "a" / "model.safetensors").string();
  std::map<std::string, std::string> meta;
  const auto tensors = io::load_safetensors<float>(model, &meta);
  // The loop's own keys: whole, non-negative counts and finite times, nothing after the number.
  const std::vector<std::pair<std::string, std::string>> edits{
      {"batch", "-1"}, {"epoch", "1x"}, {"step", ""}, {"minutes", "nan"}, {"minutes", "-2"},
      {"train_items", "inf"}, {"train_sums", "1;x"}, {"since_best", "99999999999999999999"}};
  for (const auto& [key, value] : edits) {
    auto edited = meta;
    edited[key] = value;
    io::save_safetensors<float>(model, tensors, edited);
    Run run;
    ToyTask task;
    train::Options o = run.options(out, 3);
    o.resume = true;
    CHECK_THROWS_WITH(train::run(task, o), Catch::Contains(model) &&
                                               Catch::Contains("metadata '" + key + "' = '" + value + "'"));
  }
  // The task's own key, read with std::stoll(meta.at(...)) as a task might: a deepgen::Error naming the file.
  for (const std::string value : {"x", "99999999999999999999"}) {
    auto edited = meta;
    edited["items_seen"] = value;
    io::save_safetensors<float>(model, tensors, edited);
    Run run;
    ToyTask task;
    train::Options o = run.options(out, 3);
    o.resume = true;
    CHECK_THROWS_AS(train::run(task, o), Error);
    CHECK_THROWS_WITH(train::run(task, o), Catch::Contains(model) && Catch::Contains("metadata could not be read"));
  }
  auto edited = meta;
  edited.erase("items_seen");
  io::save_safetensors<float>(model, tensors, edited);
  Run run;
  ToyTask task;
  train::Options o = run.options(out, 3);
  o.resume = true;
  CHECK_THROWS_WITH(train::run(task, o), Catch::Contains("metadata could not be read"));
}
