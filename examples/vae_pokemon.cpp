// vae_pokemon — the lecture's autoencoder and VAE on the Pokémon sprites:
// train, evaluate, decode random codes, walk the code space, reconstruct,
// interpolate.
//
//   vae_pokemon train       --data DIR --out DIR [--mode vae|ae] [--epochs N] [--minutes M] [--patience N]
//                           [--batch B] [--lr LR] [--latent D] [--beta B] [--warmup E]
//                           [--encoder W,W…] [--decoder W,W…] [--colour-dim E] [--weight-decay L] [--clip C]
//                           [--seed S] [--resume] [--device cpu|cuda]
//   vae_pokemon eval        --data DIR --weights FILE [--images FILE] [--samples S] [--seed S] [--device …]
//   vae_pokemon sample      --data DIR --weights FILE [--count N] [--seed S] [--decode …] --out PNG
//   vae_pokemon walk        --data DIR --weights FILE (--dims I,J | --all) [--grid N] [--range R]
//                           [--base zero|test:K] [--decode …] --out PNG
//   vae_pokemon reconstruct --data DIR --weights FILE [--count N] [--decode …] --out PNG
//   vae_pokemon interpolate --data DIR --weights FILE --from A --to B [--steps N] [--decode …] --out PNG
//
// --device cuda trains and evaluates on the GPU (cuda::VAE); checkpoints are
// the same files either way, and the pictures are drawn on the CPU.
// --decode argmax|mean|sample: the likeliest colour of every pixel, the
// probability-weighted mean RGB (the lecture's soft look), or a draw per pixel.
//
// Lines on stdout are read by scripts; keep their form:
//   epoch=<e> step=<n> minutes=<m> beta=<b> train_loss=<v> valid_neg_elbo_nats_per_image=<v> valid_recon=<v>
//     valid_kl=<v> test_neg_elbo_nats_per_image=<v> test_recon=<v> test_kl=<v>
//   neg_elbo_nats_per_image=<v> recon=<v> kl=<v>
//   wrote <path>
// All figures are nats per image; VALIDATION and TEST are the fixed splits of
// docs/data.md. Training is train::run: checkpoints every epoch, exact --resume,
// best.safetensors at the lowest validation negative ELBO, and early stopping
// on it (--patience), which sets how long the default run trains (docs/vae.md).
// The model's sizes and mode are read back from the checkpoint's tensor shapes.
#include <deepgen/deepgen.hpp>
#include <deepgen/allocator.hpp>
#include <deepgen/io/png.hpp>
#include <deepgen/models/vae_sprites.hpp>  // with data/pokemon.hpp, io/figures.hpp and models/latent_paths.hpp
#if defined(DEEPGEN_WITH_CUDA)
#include <deepgen/models/vae_cuda.hpp>
#endif

#include "cli_checks.hpp"
#include "device.hpp"
#include "train_cli.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

using namespace deepgen;
using models::VAEConfig;
using Model = models::VAE<float>;
using Split = data::PokemonSplit;

namespace {

// Validation and TEST figures, in train and in eval: e drawn 4 times per
// image from seed 0, so both print the same number for the same checkpoint.
constexpr int64_t EVAL_SAMPLES = 4;
constexpr uint64_t EVAL_SEED = 0;
constexpr int SCALE = 4;  // 20×20 sprites drawn 80×80

/// The model on --device cpu or cuda (DeviceModel, device.hpp).
class Engine : public DeviceModel<Model> {
 public:
  using DeviceModel::DeviceModel;

  models::ELBOValues train_step(const Tensor<int32_t>& images, optim::Adam<float>& adam,
                                [[maybe_unused]] const optim::AdamOptions& o, double clip, double beta, uint64_t seed) {
#if defined(DEEPGEN_WITH_CUDA)
    if (m_gpu)  // the GPU's own Adam, with the CPU optimizer's learning rate and o's other settings
      return values(m_gpu->train_step(images.data(), images.dim(0),
                                      {adam.lr(), o.beta1, o.beta2, o.eps, o.weight_decay, clip, beta, seed}));
#endif
    return m_model.train_step(images, adam, clip, beta, seed);
  }

  models::ELBOValues evaluate(const data::ImageSet& set, int64_t samples = EVAL_SAMPLES, uint64_t seed = EVAL_SEED) {
#if defined(DEEPGEN_WITH_CUDA)
    if (m_gpu) return values(m_gpu->evaluate(set.pixels.data(), set.count, samples, seed));
#endif
    return m_model.evaluate(set.pixels.data(), set.count, samples, seed);
  }

#if defined(DEEPGEN_WITH_CUDA)
  static models::ELBOValues values(const cuda::VAETerms& t) { return {t.recon, t.kl}; }
#endif
};

// ---- train ---------------------------------------------------------------------

struct TrainOptions {
  TrainCli cli;
  VAEConfig model;  // --latent and --colour-dim (0: the lecture's P·K-wide last layer, VAEConfig::lecture)
  std::string mode = "vae", device = "cpu", encoder = "512,256", decoder = "256,512";
  double beta = 1.0, warmup = 0, weight_decay = 0;  // warmup: epochs over which β rises linearly from 0
  optim::AdamOptions adam() const { return {cli.lr, 0.9, 0.999, 1e-8, weight_decay}; }
};

/// The VAE as the training loop sees it: batches of TRAIN images, a step
/// with the KL weight of its position, the validation and TEST figures.
class VAETask : public DeviceTask<Engine, Model> {
 public:
  VAETask(const Split& s, const TrainOptions& o, Model& model, optim::Adam<float>& adam)
      : DeviceTask(o.device, model, adam), m_s(s), m_o(o) {}

  train::StepResult step(const std::vector<int64_t>& items, const train::Position& at) override {
    // KL warm-up: β rises linearly over the first --warmup epochs.
    m_beta = m_o.warmup > 0 ? m_o.beta * std::min(1.0, at.epochs() / m_o.warmup) : m_o.beta;
    const models::ELBOValues v = engine().train_step(m_s.train.batch(items), m_adam, m_o.adam(),
                                                     m_o.cli.clip, m_beta, m_o.cli.loop.seed);
    char detail[64];
    std::snprintf(detail, sizeof detail, "recon %.1f  kl %.2f", v.recon, v.kl);
    return {{v.recon + m_beta * v.kl}, int64_t(items.size()), detail};
  }

  std::vector<std::vector<int64_t>> epoch_batches(Philox& shuffler) override {
    return train::shuffled_batches(m_s.train.count, m_o.cli.batch, shuffler);
  }

  std::vector<train::Column> report(const std::vector<double>& train, double) override {
    const models::ELBOValues valid = engine().evaluate(m_s.valid), test = engine().evaluate(m_s.test);
    return {{"beta", m_beta}, {"train_loss", train[0], 2},
            {"valid_neg_elbo_nats_per_image", valid.neg_elbo(), 2}, {"valid_recon", valid.recon, 2},
            {"valid_kl", valid.kl, 2}, {"test_neg_elbo_nats_per_image", test.neg_elbo(), 2},
            {"test_recon", test.recon, 2}, {"test_kl", test.kl, 2}};
  }

  train::Metadata load(const std::string& path) override {
    models::check_resumable(models::load_vae(path, m_s.data).config(), m_model.config(), path);
    return DeviceTask::load(path);
  }

  void save_state(train::Metadata& meta) const override {  // for the record; not needed to resume
    meta.insert({{"model", "vae"}, {"mode", m_o.mode}, {"lr", train::exact(m_o.cli.lr)},
                 {"beta", train::exact(m_o.beta)}, {"warmup", train::exact(m_o.warmup)},
                 {"weight_decay", train::exact(m_o.weight_decay)}});
  }

 private:
  const Split& m_s;
  const TrainOptions& m_o;
  double m_beta = 0;  // the KL weight of the last step, for the report
};

int train_model(const TrainOptions& o) {
  const Split s = data::load_pokemon_split(o.cli.data);
  VAEConfig config = o.model;
  config.pixels = s.train.pixels_per_image();
  config.palette_size = s.data.palette.size();
  config.mode = o.mode == "vae" ? models::VAEMode::vae : models::VAEMode::ae;
  config.encoder_hidden = models::parse_widths(o.encoder, "--encoder");
  config.decoder_hidden = models::parse_widths(o.decoder, "--decoder");
  Philox init(o.cli.loop.seed);
  Model model(config, init);
  optim::Adam<float> adam(model.named_parameters(), o.adam());
  std::fprintf(stderr, "%s\n", models::summary(model).c_str());
  VAETask task(s, o, model, adam);
  train::Options loop = o.cli.loop;
  loop.monitor = "valid_neg_elbo_nats_per_image";
  loop.settings = {{"batch_size", std::to_string(o.cli.batch), "--batch"}};
  loop.unit = "img";
  return report_trained(train::run(task, loop));
}

/// --encoder and --decoder: comma-separated widths (models::parse_widths), each at most cli_checks::MAX_WIDTH.
CLI::Validator widths(const char* option) {
  return CLI::Validator(
      [option](std::string& text) -> std::string {
        try {
          for (int64_t w : models::parse_widths(text, option))
            if (w > cli_checks::MAX_WIDTH)
              return "width " + std::to_string(w) + " is above " + std::to_string(cli_checks::MAX_WIDTH);
        } catch (const Error& e) {
          return e.what();
        }
        return {};
      },
      "WIDTHS");
}

// ---- eval and pictures ---------------------------------------------------------------

/// The options of every command but train: the data, the model, what to score or draw, where to write.
struct UseOptions {
  std::string data, weights, images, dims, base = "zero", decode = "argmax", out, device = "cpu";
  int count = 32, recon_count = 10, grid = 7, steps = 8;
  int64_t samples = EVAL_SAMPLES, from = 0, to = 1;
  uint64_t seed = 1, eval_seed = EVAL_SEED;
  double range = 3;
  bool all = false;

  /// The data and the model of a picture command, drawn in the --decode look with the --seed draws.
  models::VAESprites sprites() const { return {data, weights, models::sprite_look(decode), SCALE, seed}; }
};

/// Writes `cells` as a grid of `columns` (rows labelled `labels`) to --out, and says so.
int write(const UseOptions& u, const std::vector<io::RgbImage>& cells, int columns,
          const std::vector<std::string>& labels = {}) {
  io::write_png(u.out, io::grid(cells, columns, 2, io::LIGHT_GREY, labels));
  std::printf("wrote %s\n", u.out.c_str());
  return 0;
}

int eval(const UseOptions& u) {
  models::VAESprites p(u.data, u.weights);  // the data and the model; eval draws nothing
  const data::ImageSet set = u.images.empty() ? p.s.test : data::load_pixel_colors(u.images, p.s.data.palette.size());
  DEEPGEN_CHECK(set.pixels_per_image() == p.model.pixels(), u.images, ": images of ", set.pixels_per_image(),
                " pixels, but the model reads ", p.model.pixels());
  const models::ELBOValues v = Engine(u.device, p.model, nullptr).evaluate(set, u.samples, u.eval_seed);
  std::printf("neg_elbo_nats_per_image=%.4f recon=%.4f kl=%.4f\n", v.neg_elbo(), v.recon, v.kl);
  return 0;
}

int sample(const UseOptions& u) {
  const models::VAESprites p = u.sprites();
  Philox rng(u.seed, uint64_t(1) << 50);  // streams 0, 1, … are decode's per-image pixel draws
  return write(u, p.codes(p.model.draw_noise(u.count, rng)), std::min(u.count, 8));
}

int walk(const UseOptions& u) {
  const models::VAESprites p = u.sprites();
  DEEPGEN_CHECK(u.all != !u.dims.empty(), "walk: give either --dims I,J or --all");
  // The fixed point: zero (the prior's centre) or the code of a TEST image.
  Tensor<float> centre(Shape{1, p.model.latent()});
  if (const auto k = models::parse_base(u.base)) centre = p.test_code(*k, "--base test:");
  DEEPGEN_CHECK(!u.all || p.model.latent() * u.grid <= cli_checks::MAX_CELLS, "walk --all: ", p.model.latent(),
                " dimensions × --grid ", u.grid, " is more than ", cli_checks::MAX_CELLS,
                " pictures; give a smaller --grid, or sweep two dimensions with --dims");
  if (u.all)  // one row per dimension, swept alone from −R to R
    return write(u, p.codes(models::sweep_each_dimension(centre, u.grid, u.range)), u.grid,
                   models::dimension_labels(p.model.latent()));
  const auto [di, dj] = models::parse_dims(u.dims, p.model.latent());
  return write(u, p.codes(models::sweep_two_dimensions(centre, di, dj, u.grid, u.range)), u.grid);
}

int reconstruct(const UseOptions& u) {
  const models::VAESprites p = u.sprites();
  const int n = u.recon_count;
  DEEPGEN_CHECK(n >= 1 && n <= p.s.test.count, "--count ", n, " must be between 1 and ", p.s.test.count,
                " (the TEST images)");
  return write(u, p.reconstructions(n), n);  // top row: the TEST images; bottom row: their codes (the means) decoded
}

int interpolate(const UseOptions& u) {
  const models::VAESprites p = u.sprites();
  return write(u, p.interpolation(u.from, u.to, u.steps), u.steps + 2);  // the two TEST images frame the strip
}

}  // namespace

int main(int argc, char** argv) {
  using cli_checks::real;
  using cli_checks::whole;
  keep_freed_memory();  // a fresh multi-MiB buffer otherwise costs page faults every step (docs/architecture.md)
  TrainOptions t;
  t.cli.loop.epochs = 200;  // early stopping on validation ends the default run (docs/vae.md)
  t.cli.loop.patience = 10;
  t.cli.loop.minutes = 60;
  CLI::App app{"Autoencoder and VAE on the Pokémon sprites: train, eval, sample, walk, reconstruct, interpolate"};
  app.require_subcommand(1);
  UseOptions u;

  auto* train_cmd = app.add_subcommand("train", "train from scratch (or --resume) and checkpoint every epoch");
  add_train_options(train_cmd, t.cli, "folder with pixel_color.txt and colormap.txt", "images");
  add_defaulted(train_cmd, "--mode", t.mode, "vae, or ae: a deterministic code and no KL")
      ->check(CLI::IsMember({"vae", "ae"}));
  add_defaulted(train_cmd, "--latent", t.model.latent, "code dimensions")->check(whole(1, cli_checks::MAX_LATENT));
  add_defaulted(train_cmd, "--beta", t.beta, "weight of the KL term (1: the ELBO)")
      ->check(real(0, cli_checks::MAX_BETA));
  add_defaulted(train_cmd, "--warmup", t.warmup, "epochs over which the KL weight rises from 0 to --beta (0: none)")
      ->check(real(0, double(cli_checks::MAX_EPOCHS)));
  add_defaulted(train_cmd, "--encoder", t.encoder, "encoder widths after the one-hot layer")->check(widths("--encoder"));
  add_defaulted(train_cmd, "--decoder", t.decoder, "decoder widths between the code and the logits")
      ->check(widths("--decoder"));
  add_defaulted(train_cmd, "--colour-dim", t.model.colour_dim, "E features per pixel times a learned colour embedding; "
               "0: P·K logits directly (the lecture's shape)")->check(whole(0, cli_checks::MAX_WIDTH));
  add_defaulted(train_cmd, "--weight-decay", t.weight_decay, "L2 weight decay of Adam")
      ->check(real(0, cli_checks::MAX_WEIGHT_DECAY));

  auto* eval_cmd = app.add_subcommand("eval", "print the negative ELBO, reconstruction and KL in nats per image");
  auto* sample_cmd = app.add_subcommand("sample", "decode codes drawn from N(0, I)");
  auto* walk_cmd = app.add_subcommand("walk", "decode a grid over two code dimensions (or each one alone: --all)");
  auto* reconstruct_cmd = app.add_subcommand("reconstruct", "TEST images above their reconstructions");
  auto* interpolate_cmd = app.add_subcommand("interpolate", "decode the straight line between two TEST images' codes");
  for (auto* c : {eval_cmd, sample_cmd, walk_cmd, reconstruct_cmd, interpolate_cmd}) {
    c->add_option("--data", u.data, "folder with pixel_color.txt and colormap.txt")->required();
    c->add_option("--weights", u.weights, "a model.safetensors or best.safetensors")->required();
  }
  for (auto* c : {train_cmd, eval_cmd}) add_device_option(c, c == train_cmd ? t.device : u.device);
  eval_cmd->add_option("--images", u.images, "score these images (pixel_color format) instead of TEST");
  add_defaulted(eval_cmd, "--samples", u.samples, "draws of the code per image (VAE)")
      ->check(whole(1, cli_checks::MAX_EVAL_SAMPLES));
  add_defaulted(eval_cmd, "--seed", u.eval_seed, "seed of those draws")->check(cli_checks::seed());
  add_defaulted(sample_cmd, "--count", u.count, "images to draw")->check(whole(1, cli_checks::MAX_IMAGES));
  walk_cmd->add_option("--dims", u.dims, "the two code dimensions to sweep, e.g. 0,1");
  walk_cmd->add_flag("--all", u.all, "one row per dimension, each swept alone");
  add_defaulted(walk_cmd, "--grid", u.grid, "points per dimension")->check(whole(2, cli_checks::MAX_GRID));
  add_defaulted(walk_cmd, "--range", u.range, "sweep from -R to R")
      ->check(real(0, cli_checks::MAX_RANGE, cli_checks::Low::open));
  add_defaulted(walk_cmd, "--base", u.base, "the other dimensions: zero, or test:K for TEST image K's code");
  add_defaulted(reconstruct_cmd, "--count", u.recon_count, "TEST images")->check(whole(1, cli_checks::MAX_IMAGES));
  // The TEST images: a whole number here, checked against TEST's size once the data is read.
  interpolate_cmd->add_option("--from", u.from, "first TEST image")->required()->check(whole(0, std::numeric_limits<int64_t>::max()));
  interpolate_cmd->add_option("--to", u.to, "last TEST image")->required()->check(whole(0, std::numeric_limits<int64_t>::max()));
  add_defaulted(interpolate_cmd, "--steps", u.steps, "codes on the line, ends included")
      ->check(whole(2, cli_checks::MAX_STEPS));
  for (auto* c : {sample_cmd, walk_cmd, reconstruct_cmd, interpolate_cmd}) {
    add_defaulted(c, "--decode", u.decode, "argmax (likeliest colour), mean (mean RGB) or sample (a draw per pixel)")
        ->check(CLI::IsMember({"argmax", "mean", "sample"}));
    add_defaulted(c, "--seed", u.seed, "random seed (codes, draws)")->check(cli_checks::seed());
    c->add_option("--out", u.out, "PNG to write")->required()->check(cli_checks::output_file());
  }
  DEEPGEN_CLI_PARSE(app, argc, argv);
  return run_reporting_errors([&] {
    if (*train_cmd) return train_model(t);
    if (*eval_cmd) return eval(u);
    return *sample_cmd ? sample(u) : *walk_cmd ? walk(u) : *reconstruct_cmd ? reconstruct(u) : interpolate(u);
  });
}
