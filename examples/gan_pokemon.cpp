// gan_pokemon — a generative adversarial network on the Pokémon sprites
// (include/deepgen/models/gan.hpp, docs/gan.md): train, sample, interpolate
// between noise vectors, and score samples with the yardstick.
//
//   gan_pokemon train       --data DIR --out DIR [--output rgb|gumbel] [--minutes M] [--epochs N] [--passes N]
//                           [--batch B] [--lr LR] [--lr-d LR] [--beta1 B] [--noise D] [--generator W,W…]
//                           [--discriminator W,W…] [--colour-dim E] [--label-smoothing S] [--instance-noise S]
//                           [--noise-passes N] [--tau-start T] [--tau-end T] [--tau-passes N] [--ema D]
//                           [--features FILE] [--clip C] [--seed S] [--resume]
//   gan_pokemon sample      --data DIR --weights FILE [--count N] [--seed S] [--raw] --out PNG [--out-indices FILE]
//   gan_pokemon interpolate --data DIR --weights FILE [--rows N] [--steps N] [--seed S] [--raw] --out PNG
//   gan_pokemon eval        --data DIR --weights FILE --features FILE [--judge FILE] [--count N] [--seed S] [--raw]
//
// An "epoch" of the log is --passes passes over TRAIN (each pass shuffled
// anew), so checkpoints and reports come every few hundred steps, not every 12.
// With --features (the yardstick's feature model), each report scores 64 EMA
// samples from fixed noise against VALIDATION (valid_fd, valid_precision,
// valid_recall) and best.safetensors keeps the lowest valid_fd; TEST is left
// for eval. Samples come from the generator's moving average unless --raw.
//
// Lines on stdout are read by scripts; keep their form:
//   epoch=<e> step=<n> minutes=<m> d_loss=<v> g_loss=<v> d_real=<v> d_fake=<v> tau=<v> sigma=<v>
//     [valid_fd=<v> valid_precision=<v> valid_recall=<v>]
//   images=<n> fd=<v> precision=<v> recall=<v> judge_nll=<v|none> nearest_train=<v> copies=<v> …   (eval)
//   wrote <path>
#include <deepgen/allocator.hpp>
#include <deepgen/eval/yardstick.hpp>
#include <deepgen/io/figures.hpp>
#include <deepgen/io/png.hpp>
#include <deepgen/models/gan.hpp>
#include <deepgen/train/checkpoint.hpp>

#include "cli_checks.hpp"
#include "train_cli.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

using namespace deepgen;
using models::GANConfig;
using Model = models::GAN<float>;
using Split = data::PokemonSplit;

namespace {

constexpr int SCALE = 4;                 // 20×20 sprites drawn 80×80
constexpr int64_t REPORT_SAMPLES = 64;   // EMA samples scored against VALIDATION at each report
constexpr uint64_t REPORT_SEED = 12345;  // their fixed noise
constexpr int64_t MAX_PASSES = 100000;   // --passes, --noise-passes, --tau-passes
constexpr int64_t MAX_NOISE = 4096;      // --noise dimensions

// ---- train ---------------------------------------------------------------------

struct TrainOptions {
  TrainCli cli;
  std::string output = "rgb", generator = "256,512", discriminator = "256,128", features;
  int64_t noise = 32, colour_dim = 8, passes = 10, noise_passes = 1000, tau_passes = 200;
  double lr_d = 2e-4, beta1 = 0.5, label_smoothing = 0.9, instance_noise = 0.1, tau_start = 1.0, tau_end = 0.3,
         ema = 0.999;

  /// The knobs of the step at `epochs` passes (fractional) into the run: σ falls linearly to 0 over
  /// --noise-passes, τ from --tau-start to --tau-end over --tau-passes, geometrically.
  models::GANStepSettings step_settings(double done) const {
    models::GANStepSettings s;
    s.label_smoothing = label_smoothing;
    s.instance_noise = instance_noise * std::max(0.0, 1.0 - done / double(noise_passes));
    s.tau = tau_start * std::pow(tau_end / tau_start, std::min(1.0, done / double(tau_passes)));
    s.ema = ema;
    s.clip = cli.clip;
    return s;
  }
};

/// Saves G, D and the EMA in one file and both optimizers' states, prefixed g. and d., in its sibling,
/// tied by the checkpoint id of train/checkpoint.hpp.
class GANTask : public train::Task {
 public:
  GANTask(const Split& s, const TrainOptions& o, Model& gan, optim::Adam<float>& adam_g, optim::Adam<float>& adam_d)
      : m_s(s), m_o(o), m_gan(gan), m_g(adam_g), m_d(adam_d) {
    m_gan.set_colour_frequencies(s.train);
    if (!o.features.empty())
      m_yardstick = std::make_unique<eval::Yardstick>(
          s.valid, s.train, s.data.palette,
          eval::load_feature_model(o.features, s.train.pixels_per_image(), s.data.palette.size()));
  }

  std::vector<std::vector<int64_t>> epoch_batches(Philox& shuffler) override {
    std::vector<std::vector<int64_t>> all;
    for (int64_t p = 0; p < m_o.passes; ++p)
      for (auto& b : train::shuffled_batches(m_s.train.count, m_o.cli.batch, shuffler)) all.push_back(std::move(b));
    return all;
  }

  train::StepResult step(const std::vector<int64_t>& items, const train::Position& at) override {
    m_settings = m_o.step_settings(at.epochs() * double(m_o.passes));
    const models::GANStepValues v =
        m_gan.train_step(m_s.train.batch(items), m_s.data.palette, m_g, m_d, m_settings, m_o.cli.loop.seed);
    char detail[96];
    std::snprintf(detail, sizeof detail, "g %.3f  D(x) %.2f  D(G(z)) %.2f", v.g_loss, v.d_real, v.d_fake);
    return {{v.d_loss, v.g_loss, v.d_real, v.d_fake}, int64_t(items.size()), detail};
  }

  std::vector<train::Column> report(const std::vector<double>& t, double) override {
    std::vector<train::Column> c{{"d_loss", t[0]}, {"g_loss", t[1]}, {"d_real", t[2]}, {"d_fake", t[3]},
                                 {"tau", m_settings.tau}, {"sigma", m_settings.instance_noise}};
    if (m_yardstick) {
      Philox rng(REPORT_SEED);
      const Tensor<int32_t> images = m_gan.generate(m_gan.draw_noise(REPORT_SAMPLES, rng), m_s.data.palette);
      data::ImageSet set;
      set.side = m_s.train.side;
      set.count = REPORT_SAMPLES;
      set.pixels.assign(images.data(), images.data() + images.numel());
      const eval::Scores sc = m_yardstick->score(set);
      c.push_back({"valid_fd", sc.fd});
      c.push_back({"valid_precision", sc.precision});
      c.push_back({"valid_recall", sc.recall});
    }
    return c;
  }

  void save(const std::string& path, const train::Metadata& meta, bool with_optimizer) override {
    train::Metadata m = meta;
    for (const auto& [k, v] : models::gan_metadata(m_gan.config())) m[k] = v;
    std::map<std::string, Tensor<float>> params;
    for (const auto& [name, p] : m_gan.named_parameters()) params[name] = p.value();
    if (with_optimizer) {
      m["checkpoint"] = std::to_string(m_d.steps());
      std::map<std::string, Tensor<float>> state;
      for (const auto& [k, v] : m_g.state()) state["g." + k] = v;
      for (const auto& [k, v] : m_d.state()) state["d." + k] = v;
      io::save_optimizer_state<float>(path, state, m);  // first: the model file is the commit
    }
    io::save_safetensors<float>(path, params, m);
  }

  train::Metadata load(const std::string& path) override {
    train::Metadata meta;
    const auto tensors = io::load_safetensors<float>(path, &meta);
    const GANConfig saved = models::gan_config_from(meta, path), want = m_gan.config();
    DEEPGEN_CHECK(saved.output == want.output && saved.noise == want.noise &&
                      saved.generator_hidden == want.generator_hidden &&
                      saved.discriminator_hidden == want.discriminator_hidden && saved.colour_dim == want.colour_dim &&
                      saved.pixels == want.pixels && saved.palette_size == want.palette_size,
                  "--resume: ", path, " holds a GAN with --output ", models::to_string(saved.output), " --noise ",
                  saved.noise, " --generator ", models::join_widths(saved.generator_hidden), " --discriminator ",
                  models::join_widths(saved.discriminator_hidden), " --colour-dim ", saved.colour_dim,
                  "; pass the same to continue it, or train into another --out");
    m_gan.load_parameters(tensors, path);
    std::string opath;
    const auto state = io::load_optimizer_state<float>(path, meta, &opath);
    std::map<std::string, Tensor<float>> g, d;
    for (const auto& [k, v] : state) {
      if (k.rfind("g.", 0) == 0) g[k.substr(2)] = v;
      if (k.rfind("d.", 0) == 0) d[k.substr(2)] = v;
    }
    m_g.load_state(g, opath + " (generator)");
    m_d.load_state(d, opath + " (discriminator)");
    return meta;
  }

 private:
  const Split& m_s;
  const TrainOptions& m_o;
  Model& m_gan;
  optim::Adam<float>& m_g;
  optim::Adam<float>& m_d;
  std::unique_ptr<eval::Yardstick> m_yardstick;
  models::GANStepSettings m_settings;  // of the last step, for the report
};

int train_model(const TrainOptions& o) {
  const Split s = data::load_pokemon_split(o.cli.data);
  GANConfig c;
  c.pixels = s.train.pixels_per_image();
  c.palette_size = s.data.palette.size();
  c.output = models::gan_output(o.output);
  c.noise = o.noise;
  c.colour_dim = o.colour_dim;
  c.generator_hidden = models::parse_widths(o.generator, "--generator");
  c.discriminator_hidden = models::parse_widths(o.discriminator, "--discriminator");
  DEEPGEN_CHECK(o.tau_end <= o.tau_start, "--tau-end ", o.tau_end, " must not exceed --tau-start ", o.tau_start);
  Philox init(o.cli.loop.seed);
  Model gan(c, init);
  optim::Adam<float> adam_g(gan.generator.named_parameters(), {o.cli.lr, o.beta1, 0.999, 1e-8, 0});
  optim::Adam<float> adam_d(gan.discriminator.named_parameters(), {o.lr_d, o.beta1, 0.999, 1e-8, 0});
  std::fprintf(stderr, "gan (%s): generator %lld parameters, discriminator %lld\n", models::to_string(c.output),
               (long long)gan.generator.parameter_count(), (long long)gan.discriminator.parameter_count());
  GANTask task(s, o, gan, adam_g, adam_d);
  train::Options loop = o.cli.loop;
  if (!o.features.empty()) loop.monitor = "valid_fd";
  loop.unit = "img";
  using train::exact;
  loop.settings = {{"batch_size", std::to_string(o.cli.batch), "--batch"},
                   {"passes", std::to_string(o.passes), "--passes"},
                   {"lr", exact(o.cli.lr), "--lr"},
                   {"lr_d", exact(o.lr_d), "--lr-d"},
                   {"beta1", exact(o.beta1), "--beta1"},
                   {"clip", exact(o.cli.clip), "--clip"},
                   {"label_smoothing", exact(o.label_smoothing), "--label-smoothing"},
                   {"instance_noise", exact(o.instance_noise), "--instance-noise"},
                   {"noise_passes", std::to_string(o.noise_passes), "--noise-passes"},
                   {"tau_start", exact(o.tau_start), "--tau-start"},
                   {"tau_end", exact(o.tau_end), "--tau-end"},
                   {"tau_passes", std::to_string(o.tau_passes), "--tau-passes"},
                   {"ema", exact(o.ema), "--ema"},
                   {"features", o.features, "--features"}};
  return report_trained(train::run(task, loop));
}

// ---- sample, interpolate, eval ---------------------------------------------------------

struct UseOptions {
  std::string data, weights, out, out_indices, features, judge;
  int64_t count = 64, rows = 4, steps = 8;
  uint64_t seed = 1;
  bool raw = false;
};

struct Loaded {
  Split s;
  Model gan;
  explicit Loaded(const UseOptions& u)
      : s(data::load_pokemon_split(u.data)),
        gan(models::load_gan(u.weights, s.train.pixels_per_image(), s.data.palette.size())) {
    gan.set_colour_frequencies(s.train);
  }

  data::ImageSet images(const Tensor<float>& z, bool raw) const {
    const Tensor<int32_t> t = gan.generate(z, s.data.palette, !raw);
    data::ImageSet set;
    set.side = s.train.side;
    set.count = t.dim(0);
    set.pixels.assign(t.data(), t.data() + t.numel());
    return set;
  }
};

int write_png(const UseOptions& u, const Loaded& l, const data::ImageSet& set, int columns) {
  std::vector<io::RgbImage> cells;
  for (int64_t i = 0; i < set.count; ++i) cells.push_back(io::render_image(set, i, l.s.data.palette, SCALE));
  io::write_png(u.out, io::grid(cells, columns, 2, io::LIGHT_GREY));
  std::printf("wrote %s\n", u.out.c_str());
  return 0;
}

int sample(const UseOptions& u) {
  const Loaded l(u);
  Philox rng(u.seed);
  const data::ImageSet set = l.images(l.gan.draw_noise(u.count, rng), u.raw);
  if (!u.out_indices.empty()) {
    data::save_pixel_colors(u.out_indices, set);
    std::printf("wrote %s\n", u.out_indices.c_str());
  }
  return write_png(u, l, set, int(std::min<int64_t>(u.count, 8)));
}

int interpolate(const UseOptions& u) {
  const Loaded l(u);
  Philox rng(u.seed);
  const Tensor<float> ends = l.gan.draw_noise(2 * u.rows, rng);  // row r runs from z[2r] to z[2r + 1]
  const int64_t D = l.gan.config().noise;
  Tensor<float> z(Shape{u.rows * u.steps, D});
  for (int64_t r = 0; r < u.rows; ++r)
    for (int64_t k = 0; k < u.steps; ++k) {
      const float t = float(k) / float(u.steps - 1);
      for (int64_t d = 0; d < D; ++d)
        z.at(r * u.steps + k, d) = (1 - t) * ends.at(2 * r, d) + t * ends.at(2 * r + 1, d);
    }
  return write_png(u, l, l.images(z, u.raw), int(u.steps));
}

int evaluate(const UseOptions& u) {
  const Loaded l(u);
  const eval::Yardstick y = eval::load_yardstick(l.s, u.features, u.judge);
  Philox rng(u.seed);
  std::printf("%s\n", y.score(l.images(l.gan.draw_noise(u.count, rng), u.raw)).line().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();
  using namespace cli_checks;
  TrainOptions t;
  t.cli.loop.epochs = 100000;  // --minutes ends the default run
  t.cli.loop.minutes = 20;
  t.cli.batch = 64;
  t.cli.lr = 2e-4;
  t.cli.clip = 0;
  CLI::App app{"A GAN on the Pokémon sprites: train, sample, interpolate, eval"};
  app.require_subcommand(1);
  UseOptions u;

  auto* train_cmd = app.add_subcommand("train", "train from scratch (or --resume) and checkpoint every epoch");
  add_train_options(train_cmd, t.cli, "folder with pixel_color.txt and colormap.txt", "images");
  add_defaulted(train_cmd, "--output", t.output, "rgb (RGB, nearest palette colour) or gumbel (colour logits, "
                "Gumbel-softmax)")->check(CLI::IsMember({"rgb", "gumbel"}));
  add_defaulted(train_cmd, "--passes", t.passes, "passes over TRAIN per epoch (report, checkpoint)")
      ->check(whole(1, MAX_PASSES));
  add_defaulted(train_cmd, "--lr-d", t.lr_d, "the discriminator's Adam learning rate (--lr is the generator's)")
      ->check(real(0, MAX_LR, Low::open));
  add_defaulted(train_cmd, "--beta1", t.beta1, "Adam's beta1 for both networks")->check(real(0, 0.999999));
  add_defaulted(train_cmd, "--noise", t.noise, "dimensions of z")->check(whole(1, MAX_NOISE));
  add_defaulted(train_cmd, "--generator", t.generator, "generator widths between z and the output");
  add_defaulted(train_cmd, "--discriminator", t.discriminator, "discriminator widths between its input and the logit");
  add_defaulted(train_cmd, "--colour-dim", t.colour_dim, "gumbel: colour features per pixel")
      ->check(whole(1, MAX_WIDTH));
  add_defaulted(train_cmd, "--label-smoothing", t.label_smoothing, "D's target for real images (1: none)")
      ->check(real(0, 1, Low::open));
  add_defaulted(train_cmd, "--instance-noise", t.instance_noise, "σ of the noise on D's inputs at the start (0: none)")
      ->check(real(0, 100));
  add_defaulted(train_cmd, "--noise-passes", t.noise_passes, "passes over which σ falls to 0")
      ->check(whole(1, MAX_PASSES));
  add_defaulted(train_cmd, "--tau-start", t.tau_start, "gumbel: Gumbel-softmax temperature at the start")
      ->check(real(0, MAX_TEMPERATURE, Low::open));
  add_defaulted(train_cmd, "--tau-end", t.tau_end, "gumbel: temperature after --tau-passes")
      ->check(real(0, MAX_TEMPERATURE, Low::open));
  add_defaulted(train_cmd, "--tau-passes", t.tau_passes, "passes over which τ falls")->check(whole(1, MAX_PASSES));
  add_defaulted(train_cmd, "--ema", t.ema, "decay of the generator's moving average (0: none)")->check(real(0, 0.999999));
  train_cmd->add_option("--features", t.features, "the yardstick's feature model: score VALIDATION at each report");

  auto* sample_cmd = app.add_subcommand("sample", "draw images from noise");
  auto* interp_cmd = app.add_subcommand("interpolate", "rows of images along straight lines between noise vectors");
  auto* eval_cmd = app.add_subcommand("eval", "score --count samples with the yardstick against TEST");
  for (auto* c : {sample_cmd, interp_cmd, eval_cmd}) {
    c->add_option("--data", u.data, "folder with pixel_color.txt and colormap.txt")->required();
    c->add_option("--weights", u.weights, "a model.safetensors or best.safetensors")->required();
    add_defaulted(c, "--seed", u.seed, "random seed of the noise")->check(seed());
    c->add_flag("--raw", u.raw, "draw with the generator itself, not its moving average");
  }
  for (auto* c : {sample_cmd, eval_cmd})
    add_defaulted(c, "--count", u.count, "images to draw")->check(whole(c == eval_cmd ? 4 : 1, MAX_IMAGES));
  for (auto* c : {sample_cmd, interp_cmd}) c->add_option("--out", u.out, "PNG to write")->required()->check(output_file());
  sample_cmd->add_option("--out-indices", u.out_indices, "also write the images in the pixel_color format")
      ->check(output_file());
  add_defaulted(interp_cmd, "--rows", u.rows, "pairs of noise vectors")->check(whole(1, MAX_GRID));
  add_defaulted(interp_cmd, "--steps", u.steps, "images per row, ends included")->check(whole(2, MAX_STEPS));
  eval_cmd->add_option("--features", u.features, "the yardstick's feature model")->required();
  eval_cmd->add_option("--judge", u.judge, "a PixelRNN checkpoint trained on TRAIN, for judge_nll");
  DEEPGEN_CLI_PARSE(app, argc, argv);
  return run_reporting_errors([&] {
    if (*train_cmd) return train_model(t);
    if (*sample_cmd) return sample(u);
    return *interp_cmd ? interpolate(u) : evaluate(u);
  });
}
