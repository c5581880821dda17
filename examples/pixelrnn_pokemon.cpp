// pixelrnn_pokemon — the lecture's PixelRNN on the Pokémon sprites:
// train, evaluate, complete unseen Pokémon, draw new ones.
//
//   pixelrnn_pokemon train    --data DIR --out DIR [--epochs N] [--minutes M] [--batch B]
//                             [--lr LR] [--schedule cosine|constant] [--hidden H] [--dropout P]
//                             [--no-flip] [--clip C] [--seed S] [--resume] [--device cpu|cuda]
//   pixelrnn_pokemon eval     --data DIR --weights FILE [--images FILE] [--device cpu|cuda]
//   pixelrnn_pokemon complete --data DIR --weights FILE --keep FRACTION [--count N]
//                             [--samples S] [--temperature T] [--seed S] [--device …] --out PNG
//   pixelrnn_pokemon sample   --data DIR --weights FILE [--count N] [--temperature T]
//                             [--seed S] [--device …] --out PNG
//
// --device cuda runs the work on the GPU (cuda::PixelRNN, built when the
// CUDA toolkit was found at configure time); checkpoints are the same files
// either way, so a run can be resumed or sampled on the other device.
//
// Lines on stdout are read by scripts; keep their form:
//   epoch=<e> step=<n> minutes=<m> train_loss=<v> test_nll_nats_per_pixel=<v>
//   nll_nats_per_pixel=<v>
//   wrote <path>
// Training checkpoints (model.safetensors + model.optim.safetensors) are
// written atomically after every epoch and when --minutes runs out, with the
// position in the epoch, so a killed run loses at most the epoch under way and
// --resume continues exactly where the last checkpoint was taken.
#include <deepgen/data/pokemon.hpp>
#include <deepgen/deepgen.hpp>
#include <deepgen/memory.hpp>
#include <deepgen/io/checkpoint.hpp>
#include <deepgen/io/png.hpp>

#if defined(DEEPGEN_WITH_CUDA)
#include <deepgen/models/pixelrnn_cuda.hpp>
#endif

#include "device.hpp"
#include "progress.hpp"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

namespace fs = std::filesystem;
using namespace deepgen;
using Model = models::PixelRNN<float>;

namespace {

using Split = data::PokemonSplit;

/// A model shaped like the checkpoint: K and H come from the file's shapes.
Model load_model(const std::string& path, int64_t palette_size, std::map<std::string, std::string>* meta = nullptr) {
  const auto tensors = io::load_safetensors<float>(path, meta);
  auto it = tensors.find("lstm.weight_hh_l0");
  DEEPGEN_CHECK(it != tensors.end() && it->second.rank() == 2, path,
                ": no 'lstm.weight_hh_l0' of rank 2; is this a PixelRNN checkpoint?");
  const int64_t H = it->second.dim(1);
  Philox unused(0);
  Model model(palette_size, H, unused);
  model.load_parameters(tensors, path);
  return model;
}

/// Images order[first … first+B) of `set`. With `flip_stream`, each is
/// mirrored left-right with probability ½, decided statelessly by (seed,
/// stream, image index), so a resumed epoch flips the same images.
Tensor<int32_t> batch_of(const data::ImageSet& set, const std::vector<int64_t>& order, int64_t first, int64_t B,
                         bool flip, uint64_t seed, uint64_t flip_stream) {
  const int64_t P = set.pixels_per_image();
  Tensor<int32_t> out(Shape{B, P});
  for (int64_t b = 0; b < B; ++b) {
    const int64_t i = order[first + b];
    std::copy_n(set.image(i), P, out.data() + b * P);
    if (flip && (philox_u32_at(seed, flip_stream, uint64_t(i)) & 1u)) data::flip_horizontal(out.data() + b * P, set.side);
  }
  return out;
}

// ---- where the work runs -------------------------------------------------------------

/// The model on --device cpu or cuda (DeviceModel, device.hpp): it trains, scores and samples
/// on whichever the run asked for.
class Engine : public DeviceModel<Model> {
 public:
  using DeviceModel::DeviceModel;

  double train_step(const Tensor<int32_t>& images, optim::Adam<float>& adam, double clip, double dropout,
                    uint64_t seed) {
#if defined(DEEPGEN_WITH_CUDA)
    if (m_gpu) {
      cuda::PixelRNNStepOptions step;
      step.lr = adam.lr();  // the schedule sets it on the CPU optimizer; the other options are its defaults
      step.max_grad_norm = clip;
      step.dropout = dropout;
      step.seed = seed;
      return m_gpu->train_step(images.data(), images.dim(0), images.dim(1), step);
    }
#endif
    return m_model.train_step(images, adam, clip, dropout, seed);
  }

  double nll(const data::ImageSet& set) {
#if defined(DEEPGEN_WITH_CUDA)
    if (m_gpu) return m_gpu->nll(set.pixels.data(), set.count, set.pixels_per_image());
#endif
    return m_model.nll(set.pixels.data(), set.count, set.pixels_per_image());
  }

  Tensor<int32_t> complete(const Tensor<int32_t>& images, int64_t keep, double temperature, uint64_t seed) {
#if defined(DEEPGEN_WITH_CUDA)
    if (m_gpu) {
      Tensor<int32_t> out = images;
      m_gpu->complete(out.data(), out.dim(0), out.dim(1), keep, temperature, seed);
      return out;
    }
#endif
    return m_model.complete(images, keep, {temperature, 0}, seed);
  }
};

// ---- train ---------------------------------------------------------------------

struct TrainOptions {
  std::string data, out;
  int epochs = 1000;  // --minutes (20) is the usual limit
  double minutes = 20;
  int batch = 32;
  double lr = 2e-3;
  std::string schedule = "constant";
  double clip = 1.0;
  double dropout = 0.5;
  bool flip = true;
  int hidden = 512;
  uint64_t seed = 1;
  bool resume = false;
  std::string device = "cpu";
};

int train(const TrainOptions& o) {
  const Split s = data::load_pokemon_split(o.data);
  const int64_t K = s.data.palette.size(), P = s.train.pixels_per_image();
  fs::create_directories(o.out);
  const std::string model_path = (fs::path(o.out) / "model.safetensors").string();
  const std::string log_path = (fs::path(o.out) / "train_log.csv").string();

  Philox init(o.seed);
  Model model(K, o.hidden, init);
  optim::Adam<float> adam(model.named_parameters(), {o.lr});
  int64_t epoch = 0, next_batch = 0;
  double minutes_before = 0;  // training time of earlier runs (resume)
  if (o.resume) {
    DEEPGEN_CHECK(fs::exists(model_path), "--resume: no checkpoint at ", model_path,
                  "; run without --resume to start training");
    std::map<std::string, std::string> meta;
    model = load_model(model_path, K, &meta);
    DEEPGEN_CHECK(model.hidden_size() == o.hidden, "--resume: ", model_path, " has hidden size ",
                  model.hidden_size(), " but --hidden is ", o.hidden, "; pass --hidden ", model.hidden_size());
    adam = optim::Adam<float>(model.named_parameters(), {o.lr});
    io::load_optimizer(model_path, meta, adam);
    epoch = std::stoll(meta.at("epoch"));
    next_batch = std::stoll(meta.at("batch"));
    minutes_before = std::stod(meta.at("minutes"));
    DEEPGEN_CHECK(std::stoull(meta.at("seed")) == o.seed && std::stoll(meta.at("batch_size")) == o.batch,
                  "--resume: the checkpoint was trained with --seed ", meta.at("seed"), " --batch ",
                  meta.at("batch_size"), "; pass the same values to continue it exactly");
    std::fprintf(stderr, "resuming %s at epoch %lld, batch %lld\n", model_path.c_str(), (long long)epoch,
                 (long long)next_batch);
  }
  Engine engine(o.device, model, &adam);
  std::ofstream log(log_path, o.resume ? std::ios::app : std::ios::trunc);
  if (!o.resume) log << "epoch,step,minutes,train_loss,test_nll_nats_per_pixel\n";

  const bool tty = isatty(fileno(stderr));
  const auto start = std::chrono::steady_clock::now();
  auto minutes_now = [&] {
    return minutes_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 60;
  };
  const int64_t batches = (s.train.count + o.batch - 1) / o.batch;
  auto save = [&](double train_loss) {
    engine.to_host(adam);
    io::save_checkpoint(model_path, model, adam,
                        {{"epoch", std::to_string(epoch)}, {"batch", std::to_string(next_batch)},
                         {"minutes", std::to_string(minutes_now())}, {"seed", std::to_string(o.seed)},
                         {"batch_size", std::to_string(o.batch)}, {"hidden", std::to_string(o.hidden)},
                         {"dropout", std::to_string(o.dropout)}, {"flip", o.flip ? "1" : "0"}, {"lr", std::to_string(o.lr)}, {"schedule", o.schedule},
                         {"train_loss", std::to_string(train_loss)}});
  };
  bool out_of_time = false;
  for (; epoch < o.epochs && !out_of_time;) {
    // The order of an epoch depends only on (seed, epoch): resume replays it.
    std::vector<int64_t> order(static_cast<size_t>(s.train.count));
    for (int64_t i = 0; i < s.train.count; ++i) order[i] = i;
    Philox shuffler(o.seed, 1000 + uint64_t(epoch));
    shuffle(order, shuffler);
    double loss_sum = 0;
    int64_t loss_count = 0;
    const auto epoch_start = std::chrono::steady_clock::now();
    auto last_print = epoch_start;
    for (; next_batch < batches; ++next_batch) {
      if (minutes_now() >= o.minutes) {
        out_of_time = true;
        break;
      }
      const int64_t first = next_batch * o.batch;
      const int64_t B = std::min<int64_t>(o.batch, s.train.count - first);
      if (o.schedule == "cosine") {
        // Cosine decay over the planned epochs, to 5% of lr: a function of the
        // position in training only, so a resumed run gets the same rates.
        const double progress = (double(epoch) + double(next_batch) / double(batches)) / double(o.epochs);
        adam.set_lr(o.lr * (0.05 + 0.95 * 0.5 * (1 + std::cos(3.141592653589793 * progress))));
      }
      const Tensor<int32_t> images = batch_of(s.train, order, first, B, o.flip, o.seed, (uint64_t(1) << 41) + uint64_t(epoch));
      const double loss = engine.train_step(images, adam, o.clip, o.dropout, o.seed);
      loss_sum += loss;
      ++loss_count;
      const auto now = std::chrono::steady_clock::now();
      const double secs = std::chrono::duration<double>(now - epoch_start).count();
      const double px_per_s = double(first + B) * double(P) / secs;
      const double eta = secs / double(next_batch + 1) * double(batches - next_batch - 1);
      if (tty || std::chrono::duration<double>(now - last_print).count() > 30 || next_batch + 1 == batches) {
        std::fprintf(stderr, "%sepoch %lld  step %lld/%lld  loss %.4f  %.0f px/s  ETA %s%s", tty ? "\r" : "",
                     (long long)epoch + 1, (long long)next_batch + 1, (long long)batches, loss, px_per_s,
                     fmt_duration(eta).c_str(), tty ? "   " : "\n");
        last_print = now;
      }
    }
    if (tty) std::fprintf(stderr, "\n");
    if (!out_of_time) {
      ++epoch;
      next_batch = 0;
    }
    if (loss_count == 0) break;
    const double train_loss = loss_sum / double(loss_count);
    const double test_nll = engine.nll(s.test);
    const double minutes = minutes_now();
    const double epochs_done = double(epoch) + double(next_batch) / double(batches);  // fractional if cut short
    save(train_loss);  // first: every reported epoch has its checkpoint
    std::printf("epoch=%.2f step=%lld minutes=%.2f train_loss=%.4f test_nll_nats_per_pixel=%.4f\n", epochs_done,
                (long long)engine.steps(adam), minutes, train_loss, test_nll);
    std::fflush(stdout);
    log << epochs_done << ',' << engine.steps(adam) << ',' << minutes << ',' << train_loss << ',' << test_nll << '\n';
    log.flush();
  }
  std::printf("wrote %s\n", model_path.c_str());
  return 0;
}

// ---- eval, complete, sample ----------------------------------------------------------

int eval(const std::string& dir, const std::string& weights, const std::string& images_path,
         const std::string& device) {
  const Split s = data::load_pokemon_split(dir);
  Model model = load_model(weights, s.data.palette.size());
  const data::ImageSet set =
      images_path.empty() ? s.test : data::load_pixel_colors(images_path, s.data.palette.size());
  Engine engine(device, model, nullptr);
  std::printf("nll_nats_per_pixel=%.6f\n", engine.nll(set));
  return 0;
}

constexpr int SCALE = 4;  // 20×20 sprites drawn 80×80

int complete(const std::string& dir, const std::string& weights, double keep_fraction, int count, int samples,
             double temperature, uint64_t seed, const std::string& out, const std::string& device) {
  DEEPGEN_CHECK(keep_fraction > 0 && keep_fraction < 1, "--keep ", keep_fraction,
                " must be a fraction between 0 and 1, e.g. 0.5 (top half) or 0.25 (top quarter)");
  const Split s = data::load_pokemon_split(dir);
  Model model = load_model(weights, s.data.palette.size());
  DEEPGEN_CHECK(count >= 1 && count <= s.test.count, "--count ", count, " must be between 1 and ", s.test.count,
                " (the TEST images)");
  DEEPGEN_CHECK(samples >= 1, "--samples must be at least 1");
  const int64_t P = s.test.pixels_per_image(), side = s.test.side;
  const int64_t keep = static_cast<int64_t>(std::lround(keep_fraction * double(side))) * side;  // whole rows
  // Every (image, sample) pair is one row of the batch, completed together.
  Tensor<int32_t> batch(Shape{int64_t(count) * samples, P});
  for (int i = 0; i < count; ++i)
    for (int k = 0; k < samples; ++k) std::copy_n(s.test.image(i), P, batch.data() + (i * samples + k) * P);
  Engine engine(device, model, nullptr);
  const Tensor<int32_t> done = engine.complete(batch, keep, temperature, seed);
  std::vector<io::RgbImage> cells;
  std::vector<int32_t> visible(static_cast<size_t>(P));
  for (int i = 0; i < count; ++i) {
    for (int64_t p = 0; p < P; ++p) visible[p] = p < keep ? s.test.image(i)[p] : -1;
    cells.push_back(io::render_palette_image(visible.data(), int(side), s.data.palette, SCALE, io::Hidden::grey));
    for (int k = 0; k < samples; ++k)
      cells.push_back(io::render_palette_image(done.data() + (i * samples + k) * P, int(side), s.data.palette, SCALE));
    cells.push_back(io::render_image(s.test, i, s.data.palette, SCALE));
  }
  io::write_png(out, io::grid(cells, samples + 2, 2));
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

int sample(const std::string& dir, const std::string& weights, int count, double temperature, uint64_t seed,
           const std::string& out, const std::string& device) {
  const Split s = data::load_pokemon_split(dir);
  Model model = load_model(weights, s.data.palette.size());
  DEEPGEN_CHECK(count >= 1, "--count must be at least 1");
  const int64_t side = s.test.side;
  Engine engine(device, model, nullptr);
  const Tensor<int32_t> drawn = engine.complete(Tensor<int32_t>(Shape{count, side * side}), 0, temperature, seed);
  std::vector<io::RgbImage> cells;
  for (int i = 0; i < count; ++i)
    cells.push_back(io::render_palette_image(drawn.data() + i * side * side, int(side), s.data.palette, SCALE));
  io::write_png(out, io::grid(cells, std::min(count, 8), 2));
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Keep freed memory in the process: a fresh multi-MiB buffer otherwise
  // costs page faults on every training step (DESIGN.md, "Where speed comes from").
  keep_freed_memory();

  CLI::App app{"PixelRNN on the Pokémon sprites: train, eval, complete, sample"};
  app.require_subcommand(1);
  std::string data_dir, weights, out, images, device = "cpu";
  TrainOptions t;
  double keep = 0.5, temperature = 1.0;
  int count = 8, samples = 4;
  uint64_t seed = 1;

  auto* train_cmd = app.add_subcommand("train", "train from scratch (or --resume) and checkpoint every epoch");
  train_cmd->add_option("--data", t.data, "folder with pixel_color.txt and colormap.txt")->required();
  train_cmd->add_option("--out", t.out, "output folder (model.safetensors, train_log.csv)")->required();
  train_cmd->add_option("--epochs", t.epochs, "stop after this many epochs")->capture_default_str();
  train_cmd->add_option("--minutes", t.minutes, "stop after this much training time")->capture_default_str();
  train_cmd->add_option("--batch", t.batch, "images per step")->capture_default_str()->check(CLI::Range(1, 4096));
  train_cmd->add_option("--lr", t.lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  train_cmd->add_option("--schedule", t.schedule, "learning rate: cosine (decay over --epochs) or constant")
      ->capture_default_str()->check(CLI::IsMember({"cosine", "constant"}));
  train_cmd->add_option("--clip", t.clip, "gradient-norm clip (0: none)")->capture_default_str()->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--dropout", t.dropout, "dropout on the LSTM outputs (0: none)")->capture_default_str()->check(CLI::Range(0.0, 0.95));
  train_cmd->add_flag("--flip,!--no-flip", t.flip, "mirror training images left-right at random")->capture_default_str();
  train_cmd->add_option("--hidden", t.hidden, "LSTM cells")->capture_default_str()->check(CLI::Range(1, 8192));
  train_cmd->add_option("--seed", t.seed, "random seed")->capture_default_str();
  train_cmd->add_flag("--resume", t.resume, "continue from OUT/model.safetensors");

  auto* eval_cmd = app.add_subcommand("eval", "print the NLL in nats per pixel");
  auto* complete_cmd = app.add_subcommand("complete", "complete TEST images from their top rows");
  auto* sample_cmd = app.add_subcommand("sample", "draw new images from scratch");
  for (auto* c : {eval_cmd, complete_cmd, sample_cmd}) {
    c->add_option("--data", data_dir, "folder with pixel_color.txt and colormap.txt")->required();
    c->add_option("--weights", weights, "a model.safetensors")->required();
  }
  eval_cmd->add_option("--images", images, "score these images (pixel_color format) instead of TEST");
  complete_cmd->add_option("--keep", keep, "fraction of rows shown, e.g. 0.5 or 0.25")->required();
  complete_cmd->add_option("--count", count, "TEST images")->capture_default_str();
  complete_cmd->add_option("--samples", samples, "completions per image")->capture_default_str();
  sample_cmd->add_option("--count", count, "images to draw")->capture_default_str();
  for (auto* c : {train_cmd, eval_cmd, complete_cmd, sample_cmd}) add_device_option(c, c == train_cmd ? t.device : device);
  for (auto* c : {complete_cmd, sample_cmd}) {
    c->add_option("--temperature", temperature, "0: likeliest colour; 1: the model's distribution")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    c->add_option("--seed", seed, "random seed")->capture_default_str();
    c->add_option("--out", out, "PNG to write")->required();
  }
  CLI11_PARSE(app, argc, argv);

  try {
    if (*train_cmd) return train(t);
    if (*eval_cmd) return eval(data_dir, weights, images, device);
    if (*complete_cmd) return complete(data_dir, weights, keep, count, samples, temperature, seed, out, device);
    if (*sample_cmd) return sample(data_dir, weights, count, temperature, seed, out, device);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
