// pixelrnn_pokemon — the lecture's PixelRNN on the Pokémon sprites:
// train, evaluate, complete unseen Pokémon, draw new ones.
//
//   pixelrnn_pokemon train    --data DIR --out DIR [--epochs N] [--minutes M] [--batch B]
//                             [--lr LR] [--schedule cosine|constant] [--hidden H] [--dropout P]
//                             [--context previous|above|above+position]
//                             [--no-flip] [--clip C] [--patience N] [--seed S] [--resume] [--device cpu|cuda]
//   pixelrnn_pokemon eval     --data DIR --weights FILE [--images FILE] [--device cpu|cuda] [--bf16]
//   pixelrnn_pokemon complete --data DIR --weights FILE --keep FRACTION [--count N]
//                             [--samples S] [--temperature T] [--seed S] [--device …] --out PNG
//                             [--out-indices FILE] [--bf16]
//   pixelrnn_pokemon sample   --data DIR --weights FILE [--count N] [--temperature T]
//                             [--seed S] [--device …] --out PNG [--out-indices FILE] [--bf16]
//   pixelrnn_pokemon stats    --data DIR --images FILE
//
// The model's context and sizes come from the checkpoint (pixel_context.hpp);
// --out-indices writes the drawn images in the pixel_color format, which
// `stats` (and `eval --images`) read.
//
// --bf16 keeps lstm.weight_hh_l0 and fc.weight in bfloat16 while the CPU
// sampler steps (SamplingOptions::bf16_weights): faster, not exact float32;
// `eval --bf16` prints the NLL of that arithmetic (docs/performance.md).
//
// --device cuda runs the work on the GPU (cuda::PixelRNN, built when the
// CUDA toolkit was found at configure time); checkpoints are the same files
// either way, so a run can be resumed or sampled on the other device.
//
// Lines on stdout are read by scripts; keep their form:
//   epoch=<e> step=<n> minutes=<m> train_loss=<v> valid_nll_nats_per_pixel=<v> test_nll_nats_per_pixel=<v>
//   nll_nats_per_pixel=<v>
//   set=<images|test> images=<n> background_share=<v> components_median=<v> components_mean=<v>
//     colours_median=<v> colours_mean=<v>
//   wrote <path>
// Training is train::run (deepgen/train.hpp): checkpoints (model.safetensors +
// model.optim.safetensors) after every epoch, when the budget runs out and on
// Ctrl-C, so --resume continues exactly; best.safetensors holds the weights
// of the lowest validation NLL, the model to sample from.
#include <deepgen/data/pokemon.hpp>
#include <deepgen/data/sprite_stats.hpp>
#include <deepgen/deepgen.hpp>
#include <deepgen/allocator.hpp>
#include <deepgen/io/figures.hpp>
#include <deepgen/io/png.hpp>
#include <deepgen/models/pixelrnn_sprites.hpp>
#include <deepgen/train.hpp>

#if defined(DEEPGEN_WITH_CUDA)
#include <deepgen/models/pixelrnn_cuda.hpp>
#endif

#include "cli_checks.hpp"
#include "device.hpp"
#include "train_cli.hpp"

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <memory>

using namespace deepgen;
using Model = models::PixelRNN<float>;
using Split = data::PokemonSplit;

namespace {

/// The images `items` of `set` as a batch. With `flip`, each is mirrored
/// left-right with probability ½, decided statelessly by (seed, stream,
/// image index), so a resumed epoch flips the same images.
Tensor<int32_t> batch_of(const data::ImageSet& set, const std::vector<int64_t>& items, bool flip, uint64_t seed,
                         uint64_t flip_stream) {
  Tensor<int32_t> out = set.batch(items);
  const int64_t P = set.pixels_per_image();
  for (size_t b = 0; b < items.size(); ++b)
    if (flip && (philox_u32_at(seed, flip_stream, uint64_t(items[b])) & 1u))
      data::flip_horizontal(out.data() + int64_t(b) * P, set.side);
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

  /// The NLL through the sampler's step with bfloat16 weights (CPU only; --bf16).
  double nll_bf16(const data::ImageSet& set) {
    return m_model.stepwise_nll(set.pixels.data(), set.count, set.pixels_per_image(), true);
  }

  Tensor<int32_t> complete(const Tensor<int32_t>& images, int64_t keep, double temperature, uint64_t seed,
                           bool bf16) {
#if defined(DEEPGEN_WITH_CUDA)
    if (m_gpu) {
      Tensor<int32_t> out = images;
      m_gpu->complete(out.data(), out.dim(0), out.dim(1), keep, temperature, seed);
      return out;
    }
#endif
    SamplingOptions options{temperature, 0};
    options.bf16_weights = bf16;
    return m_model.complete(images, keep, options, seed);
  }
};

// ---- train ---------------------------------------------------------------------

struct TrainOptions {
  TrainCli cli;  // data, out, budget, patience, batch, lr, clip, seed, resume (train_cli.hpp)
  std::string schedule = "constant";
  double dropout = 0.5;
  bool flip = true;
  int hidden = 256;  // chosen on validation with the default context (docs/pixelrnn.md); the lecture used 512
  std::string context = "above+position";
  std::string device = "cpu";
};

/// The PixelRNN as the training loop sees it (train::run does the rest):
/// batches of TRAIN images, one step on the chosen device, and the report
/// of validation and TEST NLL after each epoch.
class PixelRNNTask : public DeviceTask<Engine, Model> {
 public:
  PixelRNNTask(const Split& s, const TrainOptions& o, Model& model, optim::Adam<float>& adam)
      : DeviceTask(o.device, model, adam), m_s(s), m_o(o) {}

  std::vector<std::vector<int64_t>> epoch_batches(Philox& shuffler) override {
    return train::shuffled_batches(m_s.train.count, m_o.cli.batch, shuffler);
  }

  train::StepResult step(const std::vector<int64_t>& items, const train::Position& at) override {
    const double lr = m_o.cli.lr, progress = at.epochs() / double(m_o.cli.loop.epochs);
    if (m_o.schedule == "cosine")  // decay over the planned epochs to 5% of lr, a function of the position only
      m_adam.set_lr(lr * (0.05 + 0.95 * 0.5 * (1 + std::cos(3.141592653589793 * progress))));
    const uint64_t seed = m_o.cli.loop.seed;
    const Tensor<int32_t> images = batch_of(m_s.train, items, m_o.flip, seed, (uint64_t(1) << 41) + uint64_t(at.epoch));
    return {{engine().train_step(images, m_adam, m_o.cli.clip, m_o.dropout, seed)}, images.numel(), ""};
  }

  std::vector<train::Column> report(const std::vector<double>& train, double) override {
    return {{"train_loss", train[0]},
            {"valid_nll_nats_per_pixel", engine().nll(m_s.valid)},
            {"test_nll_nats_per_pixel", engine().nll(m_s.test)}};
  }

  train::Metadata load(const std::string& path) override {
    const models::PixelRNNConfig saved = models::load_pixelrnn(path, m_model.palette_size()).config();
    DEEPGEN_CHECK(saved.hidden_size == m_o.hidden, "--resume: ", path, " has hidden size ", saved.hidden_size,
                  " but --hidden is ", m_o.hidden, "; pass --hidden ", saved.hidden_size);
    DEEPGEN_CHECK(saved.context == m_model.config().context, "--resume: ", path, " has context '",
                  models::context_name(saved.context), "' but --context is '", m_o.context, "'; pass --context ",
                  models::context_name(saved.context));
    return DeviceTask::load(path);
  }

  void save_state(train::Metadata& meta) const override {  // the model's configuration, then the recipe
    meta.merge(models::pixelrnn_metadata(m_model.config()));
    meta.insert({{"hidden", std::to_string(m_o.hidden)}, {"dropout", train::exact(m_o.dropout)},
                 {"flip", m_o.flip ? "1" : "0"}, {"lr", train::exact(m_o.cli.lr)}, {"schedule", m_o.schedule}});
  }

 private:
  const Split& m_s;
  const TrainOptions& m_o;
};

int train_model(TrainOptions o) {
  const Split s = data::load_pokemon_split(o.cli.data);
  Philox init(o.cli.loop.seed);
  const models::PixelContext context = models::parse_context(o.context, "--context");
  Model model({s.data.palette.size(), o.hidden, context, s.train.side, s.train.side}, init);
  optim::Adam<float> adam(model.named_parameters(), {o.cli.lr});
  PixelRNNTask task(s, o, model, adam);
  o.cli.loop.monitor = "valid_nll_nats_per_pixel";
  o.cli.loop.settings = {{"batch_size", std::to_string(o.cli.batch), "--batch"}};
  o.cli.loop.unit = "px";
  return report_trained(train::run(task, o.cli.loop));
}

// ---- eval, complete, sample ----------------------------------------------------------

struct UseOptions {
  std::string data, weights, images, out, out_indices, device = "cpu";
  double keep = 0.5, temperature = 1.0;
  int count = 8, samples = 4;
  uint64_t seed = 1;
  bool bf16 = false;  // weight_hh and fc.weight in bfloat16 (CPU sampling option)
};

/// --bf16 is the CPU sampler's option; refused with --device cuda.
void check_bf16(const UseOptions& u) {
  DEEPGEN_CHECK(!u.bf16 || u.device == "cpu", "--bf16 is an option of the CPU sampler; drop it or use --device cpu");
}

constexpr int SCALE = 4;  // 20×20 sprites drawn 80×80

int eval(const UseOptions& u) {
  const Split s = data::load_pokemon_split(u.data);
  Model model = models::load_pixelrnn(u.weights, s.data.palette.size());
  const data::ImageSet set = u.images.empty() ? s.test : data::load_pixel_colors(u.images, s.data.palette.size());
  check_bf16(u);
  Engine engine(u.device, model, nullptr);
  std::printf("nll_nats_per_pixel=%.6f\n", u.bf16 ? engine.nll_bf16(set) : engine.nll(set));
  return 0;
}

/// With --out-indices, `images` (B, side²) as a pixel_color file.
void write_indices(const std::string& path, const Tensor<int32_t>& images, int64_t side) {
  if (path.empty()) return;
  data::ImageSet set;
  set.count = images.dim(0);
  set.side = side;
  set.pixels.assign(images.begin(), images.end());
  data::save_pixel_colors(path, set);
  std::printf("wrote %s\n", path.c_str());
}

int complete(const UseOptions& u) {  // --keep, --count and --samples are in range (cli_checks.hpp)
  const Split s = data::load_pokemon_split(u.data);
  const int64_t keep = models::kept_pixels(u.keep, s.test.side);  // refuses a --keep that rounds to 0 or all rows
  DEEPGEN_CHECK(u.count <= s.test.count, "--count ", u.count, " must be between 1 and ", s.test.count,
                " (the TEST images)");
  check_bf16(u);
  Model model = models::load_pixelrnn(u.weights, s.data.palette.size());
  // Every (image, sample) pair is one row of the batch, completed together.
  const Tensor<int32_t> batch = models::repeat_images(s.test, u.count, u.samples);
  const Tensor<int32_t> done = Engine(u.device, model, nullptr).complete(batch, keep, u.temperature, u.seed, u.bf16);
  io::write_png(u.out, io::grid(models::completion_cells(s.test, done, keep, u.samples, s.data.palette, SCALE),
                                u.samples + 2, 2));
  std::printf("wrote %s\n", u.out.c_str());
  write_indices(u.out_indices, done, s.test.side);
  return 0;
}

int sample(const UseOptions& u) {
  const Split s = data::load_pokemon_split(u.data);
  check_bf16(u);
  Model model = models::load_pixelrnn(u.weights, s.data.palette.size());
  const int64_t side = s.test.side;
  const Tensor<int32_t> drawn = Engine(u.device, model, nullptr)
                                    .complete(Tensor<int32_t>(Shape{u.count, side * side}), 0, u.temperature, u.seed,
                                              u.bf16);
  std::vector<io::RgbImage> cells;
  for (int i = 0; i < u.count; ++i)
    cells.push_back(io::render_palette_image(drawn.data() + i * side * side, int(side), s.data.palette, SCALE));
  io::write_png(u.out, io::grid(cells, std::min(u.count, 8), 2));
  std::printf("wrote %s\n", u.out.c_str());
  write_indices(u.out_indices, drawn, side);
  return 0;
}

void print_stats(const char* name, const data::SpriteStats& st) {
  std::printf("set=%s images=%lld background_share=%.4f components_median=%.1f components_mean=%.2f "
              "colours_median=%.1f colours_mean=%.2f\n",
              name, static_cast<long long>(st.images), st.background_share, st.components_median,
              st.components_mean, st.colours_median, st.colours_mean);
}

// The sprite figures (data/sprite_stats.hpp) of --images beside TEST's, the
// background being the colour of pixel 0 in most TRAIN images.
int stats(const UseOptions& u) {
  const Split s = data::load_pokemon_split(u.data);
  const data::ImageSet set = data::load_pixel_colors(u.images, s.data.palette.size());
  DEEPGEN_CHECK(set.side == s.test.side, u.images, ": images are ", set.side, " × ", set.side, " but the data's are ",
                s.test.side, " × ", s.test.side);
  const int32_t background = data::background_colour(s.train);
  print_stats("images", data::sprite_stats(set, background));
  print_stats("test", data::sprite_stats(s.test, background));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();  // a fresh multi-MiB buffer otherwise costs page faults every step (docs/architecture.md)
  CLI::App app{"PixelRNN on the Pokémon sprites: train, eval, complete, sample"};
  app.require_subcommand(1);
  TrainOptions t;
  t.cli.loop.epochs = 1000;  // --minutes is the usual limit
  t.cli.loop.minutes = 20;
  t.cli.lr = 2e-3;
  t.cli.clip = 1.0;
  UseOptions u;

  auto* train_cmd = app.add_subcommand("train", "train from scratch (or --resume) and checkpoint every epoch");
  add_train_options(train_cmd, t.cli, "folder with pixel_color.txt and colormap.txt", "images");
  add_defaulted(train_cmd, "--schedule", t.schedule, "learning rate: cosine (decay over --epochs) or constant")
      ->check(CLI::IsMember({"cosine", "constant"}));
  add_defaulted(train_cmd, "--dropout", t.dropout, "dropout on the LSTM outputs (0: none)")
      ->check(cli_checks::real(0, 0.95));
  train_cmd->add_flag("--flip,!--no-flip", t.flip, "mirror training images left-right at random")
      ->capture_default_str();
  add_defaulted(train_cmd, "--hidden", t.hidden, "LSTM cells")->check(cli_checks::whole(1, cli_checks::MAX_HIDDEN));
  add_defaulted(train_cmd, "--context", t.context,
                "what a step sees: previous (the lecture's model), above (also the 3 pixels above), "
                "above+position (also the pixel's row and column)")
      ->check(CLI::IsMember({"previous", "above", "above+position"}));

  auto* eval_cmd = app.add_subcommand("eval", "print the NLL in nats per pixel");
  auto* complete_cmd = app.add_subcommand("complete", "complete TEST images from their top rows");
  auto* sample_cmd = app.add_subcommand("sample", "draw new images from scratch");
  auto* stats_cmd = app.add_subcommand("stats", "background share, components and colours of images, beside TEST's");
  stats_cmd->add_option("--data", u.data, "folder with pixel_color.txt and colormap.txt")->required();
  stats_cmd->add_option("--images", u.images, "images in the pixel_color format (e.g. from sample --out-indices)")
      ->required();
  for (auto* c : {eval_cmd, complete_cmd, sample_cmd}) {
    c->add_option("--data", u.data, "folder with pixel_color.txt and colormap.txt")->required();
    c->add_option("--weights", u.weights, "a model.safetensors or best.safetensors")->required();
  }
  eval_cmd->add_option("--images", u.images, "score these images (pixel_color format) instead of TEST");
  complete_cmd->add_option("--keep", u.keep, "fraction of rows shown, e.g. 0.5 or 0.25")->required()
      ->check(cli_checks::open_fraction());
  add_defaulted(complete_cmd, "--count", u.count, "TEST images")->check(cli_checks::whole(1, cli_checks::MAX_IMAGES));
  add_defaulted(complete_cmd, "--samples", u.samples, "completions per image")
      ->check(cli_checks::whole(1, cli_checks::MAX_SAMPLES));
  add_defaulted(sample_cmd, "--count", u.count, "images to draw")->check(cli_checks::whole(1, cli_checks::MAX_IMAGES));
  for (auto* c : {train_cmd, eval_cmd, complete_cmd, sample_cmd})
    add_device_option(c, c == train_cmd ? t.device : u.device);
  for (auto* c : {eval_cmd, complete_cmd, sample_cmd})
    c->add_flag("--bf16", u.bf16,
                "CPU: keep lstm.weight_hh_l0 and fc.weight in bfloat16 while stepping (half the bytes per pixel; "
                "not exact float32; eval gives the NLL this sampler draws from)");
  for (auto* c : {complete_cmd, sample_cmd}) {
    c->add_option("--out", u.out, "PNG to write")->required()->check(cli_checks::output_file());
    c->add_option("--out-indices", u.out_indices, "also write the drawn images in the pixel_color format")
        ->check(cli_checks::output_file());
    add_defaulted(c, "--temperature", u.temperature, "0: likeliest colour; 1: the model's distribution")
        ->check(cli_checks::real(0, cli_checks::MAX_TEMPERATURE));
    add_defaulted(c, "--seed", u.seed, "random seed")->check(cli_checks::seed());
  }
  DEEPGEN_CLI_PARSE(app, argc, argv);
  return run_reporting_errors([&] {
    if (*train_cmd) return train_model(t);
    if (*eval_cmd) return eval(u);
    if (*stats_cmd) return stats(u);
    return *complete_cmd ? complete(u) : sample(u);
  });
}
