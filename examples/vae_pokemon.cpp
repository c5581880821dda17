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
// DESIGN.md. Training is train::run: checkpoints every epoch, exact --resume,
// best.safetensors at the lowest validation negative ELBO, and early stopping
// on it (--patience), which sets how long the default run trains (docs/vae.md).
// The model's sizes and mode are read back from the checkpoint's tensor shapes.
#include <deepgen/data/pokemon.hpp>
#include <deepgen/deepgen.hpp>
#include <deepgen/io/png.hpp>
#include <deepgen/memory.hpp>
#include <deepgen/models/latent_paths.hpp>
#include <deepgen/models/vae_sprites.hpp>
#if defined(DEEPGEN_WITH_CUDA)
#include <deepgen/models/vae_cuda.hpp>
#endif

#include "device.hpp"
#include "train_cli.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace deepgen;
using models::VAEConfig;
using Model = models::VAE<float>;

namespace {

// Validation and TEST figures, in train and in eval: e drawn 4 times per
// image from seed 0, so both print the same number for the same checkpoint.
constexpr int64_t EVAL_SAMPLES = 4;
constexpr uint64_t EVAL_SEED = 0;
constexpr int SCALE = 4;  // 20×20 sprites drawn 80×80

using Split = data::PokemonSplit;

/// The model of checkpoint `path`, checked against the data.
Model load_model(const std::string& path, const Split& s) {
  return models::load_vae(path, s.data.all.pixels_per_image(), s.data.palette.size());
}

/// `text` as a whole integer, or false.
bool read_int(const std::string& text, long long& value) {
  size_t used = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    return false;
  }
  return used > 0 && used == text.size();
}

/// "512,256" → {512, 256}; "" → {} (no hidden layer). Throws on anything else.
std::vector<int64_t> parse_widths(const std::string& text, const char* option) {
  std::vector<int64_t> out;
  for (const std::string& item : train::split_cells(text)) {
    long long w = 0;
    DEEPGEN_CHECK(read_int(item, w) && w > 0, option, " '", text, "': '", item,
                  "' is not a positive width; give comma-separated widths such as 512,256");
    out.push_back(w);
  }
  return out;
}

std::string join(const std::vector<int64_t>& v) {
  std::string out;
  for (int64_t x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
  return out;
}

/// The model on --device cpu or cuda (DeviceModel, device.hpp).
class Engine : public DeviceModel<Model> {
 public:
  using DeviceModel::DeviceModel;

  models::ELBOValues train_step(const Tensor<int32_t>& images, optim::Adam<float>& adam,
                                const optim::AdamOptions& adam_options, double clip, double beta, uint64_t seed) {
#if defined(DEEPGEN_WITH_CUDA)
    if (m_gpu) {
      const cuda::VAEStepOptions step{adam.lr(), adam_options.beta1, adam_options.beta2, adam_options.eps,
                                      adam_options.weight_decay, clip, beta, seed};
      const cuda::VAETerms t = m_gpu->train_step(images.data(), images.dim(0), step);
      return {t.recon, t.kl};
    }
#endif
    (void)adam_options;
    return m_model.train_step(images, adam, clip, beta, seed);
  }

  models::ELBOValues evaluate(const data::ImageSet& set, int64_t samples = EVAL_SAMPLES, uint64_t seed = EVAL_SEED) {
#if defined(DEEPGEN_WITH_CUDA)
    if (m_gpu) {
      const cuda::VAETerms t = m_gpu->evaluate(set.pixels.data(), set.count, samples, seed);
      return {t.recon, t.kl};
    }
#endif
    return m_model.evaluate(set.pixels.data(), set.count, samples, seed);
  }
};

// ---- train ---------------------------------------------------------------------

struct TrainOptions {
  TrainCli cli;
  std::string mode = "vae", device = "cpu";
  int latent = 10;
  double beta = 1.0;
  double warmup = 0;  // epochs over which β rises linearly from 0
  std::string encoder = "512,256", decoder = "256,512";
  int colour_dim = 16;  // 0: the lecture's P·K-wide last layer (VAEConfig::lecture)
  double weight_decay = 0;
};

/// The VAE as the training loop sees it: batches of TRAIN images, a step
/// with the KL weight of its position, the validation and TEST figures.
class VAETask : public DeviceTask<Engine, Model> {
 public:
  VAETask(const Split& s, const TrainOptions& o, Model& model, optim::Adam<float>& adam,
          const optim::AdamOptions& adam_options)
      : DeviceTask(o.device, model, adam), m_s(s), m_o(o), m_adam_options(adam_options) {}

  std::vector<std::vector<int64_t>> epoch_batches(Philox& shuffler) override {
    return train::shuffled_batches(m_s.train.count, m_o.cli.batch, shuffler);
  }

  train::StepResult step(const std::vector<int64_t>& items, const train::Position& at) override {
    // KL warm-up: β rises linearly over the first --warmup epochs.
    m_beta = m_o.warmup > 0 ? m_o.beta * std::min(1.0, at.epochs() / m_o.warmup) : m_o.beta;
    const int64_t B = int64_t(items.size()), P = m_s.train.pixels_per_image();
    Tensor<int32_t> images(Shape{B, P});
    for (int64_t b = 0; b < B; ++b) std::copy_n(m_s.train.image(items[size_t(b)]), P, images.data() + b * P);
    const models::ELBOValues v =
        engine().train_step(images, m_adam, m_adam_options, m_o.cli.clip, m_beta, m_o.cli.loop.seed);
    char detail[64];
    std::snprintf(detail, sizeof detail, "recon %.1f  kl %.2f", v.recon, v.kl);
    return {{v.recon + m_beta * v.kl}, B, detail};
  }

  std::vector<train::Column> report(const std::vector<double>& train, double) override {
    const models::ELBOValues valid = engine().evaluate(m_s.valid), test = engine().evaluate(m_s.test);
    return {{"beta", m_beta},
            {"train_loss", train[0], 2},
            {"valid_neg_elbo_nats_per_image", valid.neg_elbo(), 2},
            {"valid_recon", valid.recon, 2},
            {"valid_kl", valid.kl, 2},
            {"test_neg_elbo_nats_per_image", test.neg_elbo(), 2},
            {"test_recon", test.recon, 2},
            {"test_kl", test.kl, 2}};
  }

  train::Metadata load(const std::string& path) override {
    const VAEConfig c = load_model(path, m_s).config(), &want = m_model.config();
    DEEPGEN_CHECK(c.mode == want.mode, "--resume: ", path, " holds a model of mode ", to_string(c.mode),
                  " but --mode is ", m_o.mode, "; pass --mode ", to_string(c.mode), " or train into another --out");
    DEEPGEN_CHECK(c.latent == want.latent, "--resume: ", path, " has a ", c.latent,
                  "-dimensional code but --latent is ", m_o.latent, "; pass --latent ", c.latent);
    DEEPGEN_CHECK(c.encoder_hidden == want.encoder_hidden && c.decoder_hidden == want.decoder_hidden &&
                      c.colour_dim == want.colour_dim,
                  "--resume: ", path, " has --encoder ", join(c.encoder_hidden), " --decoder ",
                  join(c.decoder_hidden), " --colour-dim ", c.colour_dim, "; pass the same sizes to continue it");
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
  const optim::AdamOptions m_adam_options;
  double m_beta = 0;  // the KL weight of the last step, for the report
};

int train_model(const TrainOptions& o) {
  const Split s = data::load_pokemon_split(o.cli.data);
  VAEConfig config = VAEConfig::standard(s.train.pixels_per_image(), s.data.palette.size(),
                                         o.mode == "vae" ? models::VAEMode::vae : models::VAEMode::ae);
  config.latent = o.latent;
  config.encoder_hidden = parse_widths(o.encoder, "--encoder");
  config.decoder_hidden = parse_widths(o.decoder, "--decoder");
  config.colour_dim = o.colour_dim;
  Philox init(o.cli.loop.seed);
  Model model(config, init);
  const optim::AdamOptions adam_options{o.cli.lr, 0.9, 0.999, 1e-8, o.weight_decay};
  optim::Adam<float> adam(model.named_parameters(), adam_options);
  std::fprintf(stderr, "%s: %lld parameters, encoder %s, decoder %s, colour dim %d, %d-d code\n",
               to_string(config.mode), (long long)model.parameter_count(), join(config.encoder_hidden).c_str(),
               join(config.decoder_hidden).c_str(), o.colour_dim, o.latent);
  VAETask task(s, o, model, adam, adam_options);
  train::Options loop = o.cli.loop;
  loop.monitor = "valid_neg_elbo_nats_per_image";
  loop.settings = {{"batch_size", std::to_string(o.cli.batch), "--batch"}};
  loop.unit = "img";
  return report_trained(train::run(task, loop));
}

// ---- eval and pictures ---------------------------------------------------------------

int eval(const std::string& dir, const std::string& weights, const std::string& images_path, int64_t samples,
         uint64_t seed, const std::string& device) {
  const Split s = data::load_pokemon_split(dir);
  Model model = load_model(weights, s);
  const data::ImageSet set =
      images_path.empty() ? s.test : data::load_pixel_colors(images_path, s.data.palette.size());
  DEEPGEN_CHECK(set.pixels_per_image() == model.pixels(), images_path, ": images of ", set.pixels_per_image(),
                " pixels, but the model reads ", model.pixels());
  const models::ELBOValues v = Engine(device, model, nullptr).evaluate(set, samples, seed);
  std::printf("neg_elbo_nats_per_image=%.4f recon=%.4f kl=%.4f\n", v.neg_elbo(), v.recon, v.kl);
  return 0;
}

/// What every picture command shares: the data, the model, how to decode, where to write.
struct Picture {
  std::string data, weights, decode = "argmax", out;
  uint64_t seed = 1;
};

/// Draws `pic`'s model's decoded codes and TEST images as cells of a grid.
struct Painter {
  const Picture& pic;
  Split s = data::load_pokemon_split(pic.data);
  Model model = load_model(pic.weights, s);

  std::vector<io::RgbImage> codes(const Tensor<float>& codes) const {
    const auto look = pic.decode == "mean" ? models::SpriteLook::mean
                      : pic.decode == "sample" ? models::SpriteLook::sample : models::SpriteLook::argmax;
    return models::render_codes(model, codes, look, s.data.palette, int(s.data.all.side), SCALE, pic.seed);
  }
  io::RgbImage test(int64_t i) const { return io::render_image(s.test, i, s.data.palette, SCALE); }

  /// The code (the mean) of TEST image `i`, (1, D), checked against the TEST count.
  Tensor<float> test_code(long long i, const char* option) const {
    DEEPGEN_CHECK(i >= 0 && i < s.test.count, option, " ", i, " is not a TEST image; use 0 … ", s.test.count - 1);
    Tensor<int32_t> image(Shape{1, model.pixels()});
    std::copy_n(s.test.image(i), model.pixels(), image.data());
    return model.encode(image);
  }

  int write(const io::RgbImage& img) const {
    io::write_png(pic.out, img);
    std::printf("wrote %s\n", pic.out.c_str());
    return 0;
  }
};

int sample(const Picture& pic, int count) {
  DEEPGEN_CHECK(count >= 1, "--count must be at least 1");
  const Painter p{pic};
  Philox rng(pic.seed, uint64_t(1) << 50);  // streams 0, 1, … are decode's per-image pixel draws
  return p.write(io::grid(p.codes(p.model.draw_noise(count, rng)), std::min(count, 8), 2));
}

/// "I,J" → {I, J}: two different code dimensions in [0, D).
std::pair<int64_t, int64_t> parse_dims(const std::string& text, int64_t D) {
  const auto items = train::split_cells(text);
  DEEPGEN_CHECK(items.size() == 2, "--dims '", text, "': give two dimensions separated by a comma, such as 0,1");
  long long d[2] = {0, 0};
  for (int k = 0; k < 2; ++k) {
    DEEPGEN_CHECK(read_int(items[k], d[k]), "--dims '", text, "': '", items[k],
                  "' is not a number; give two dimensions such as 0,1");
    DEEPGEN_CHECK(d[k] >= 0 && d[k] < D, "--dims '", text, "': dimension ", d[k], " does not exist; the code has ",
                  D, " dimensions, 0 … ", D - 1);
  }
  DEEPGEN_CHECK(d[0] != d[1], "--dims '", text, "': the two dimensions must differ");
  return {d[0], d[1]};
}

int walk(const Picture& pic, const std::string& dims, bool all, int grid_n, double range, const std::string& base) {
  const Painter p{pic};
  DEEPGEN_CHECK(all != !dims.empty(), "walk: give either --dims I,J or --all");
  DEEPGEN_CHECK(grid_n >= 2, "--grid ", grid_n, " must be at least 2");
  DEEPGEN_CHECK(range > 0 && std::isfinite(range), "--range ", range, " must be positive, e.g. 3");
  // The fixed point: zero (the prior's centre) or the code of a TEST image.
  Tensor<float> centre(Shape{1, p.model.latent()});
  long long k = -1;
  const bool from_test = base.rfind("test:", 0) == 0 && read_int(base.substr(5), k);
  DEEPGEN_CHECK(from_test || base == "zero", "--base '", base, "': expected zero or test:K, e.g. test:3");
  if (from_test) centre = p.test_code(k, "--base test:");
  if (all) {  // one row per dimension, swept alone from −R to R
    std::vector<std::string> labels;
    for (int64_t d = 0; d < p.model.latent(); ++d) labels.push_back("dim " + std::to_string(d));
    return p.write(io::grid(p.codes(models::sweep_each_dimension(centre, grid_n, range)), grid_n, 2,
                            io::LIGHT_GREY, labels));
  }
  const auto [di, dj] = parse_dims(dims, p.model.latent());
  return p.write(io::grid(p.codes(models::sweep_two_dimensions(centre, di, dj, grid_n, range)), grid_n, 2));
}

int reconstruct(const Picture& pic, int count) {
  const Painter p{pic};
  DEEPGEN_CHECK(count >= 1 && count <= p.s.test.count, "--count ", count, " must be between 1 and ",
                p.s.test.count, " (the TEST images)");
  Tensor<int32_t> images(Shape{count, p.model.pixels()});
  std::copy_n(p.s.test.pixels.data(), images.numel(), images.data());
  // Top row: the TEST images; bottom row: their codes (the means) decoded.
  std::vector<io::RgbImage> cells;
  for (int i = 0; i < count; ++i) cells.push_back(p.test(i));
  for (auto& c : p.codes(p.model.encode(images))) cells.push_back(std::move(c));
  return p.write(io::grid(cells, count, 2));
}

int interpolate(const Picture& pic, int64_t from, int64_t to, int steps) {
  const Painter p{pic};
  DEEPGEN_CHECK(steps >= 2, "--steps ", steps, " must be at least 2 (the two ends)");
  const Tensor<float> line = models::interpolate_codes(p.test_code(from, "--from"), p.test_code(to, "--to"), steps);
  // The two TEST images frame the strip of decoded codes.
  std::vector<io::RgbImage> cells{p.test(from)};
  for (auto& c : p.codes(line)) cells.push_back(std::move(c));
  cells.push_back(p.test(to));
  return p.write(io::grid(cells, steps + 2, 2));
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();  // a fresh multi-MiB buffer otherwise costs page faults every step (DESIGN.md)
  TrainOptions t;
  t.cli.loop.epochs = 200;  // early stopping on validation ends the default run (docs/vae.md)
  t.cli.loop.patience = 10;
  t.cli.loop.minutes = 60;
  CLI::App app{"Autoencoder and VAE on the Pokémon sprites: train, eval, sample, walk, reconstruct, interpolate"};
  app.require_subcommand(1);
  Picture pic;
  std::string images, dims, base = "zero", device = "cpu";
  int count = 32, recon_count = 10, grid_n = 7, steps = 8;
  int64_t samples = EVAL_SAMPLES, from = 0, to = 1;
  uint64_t eval_seed = EVAL_SEED;
  double range = 3;
  bool all = false;

  auto* train_cmd = app.add_subcommand("train", "train from scratch (or --resume) and checkpoint every epoch");
  add_train_options(train_cmd, t.cli, "folder with pixel_color.txt and colormap.txt", "images");
  train_cmd->add_option("--mode", t.mode, "vae, or ae: a deterministic code and no KL")
      ->capture_default_str()->check(CLI::IsMember({"vae", "ae"}));
  train_cmd->add_option("--latent", t.latent, "code dimensions")->capture_default_str()->check(CLI::Range(1, 4096));
  train_cmd->add_option("--beta", t.beta, "weight of the KL term (1: the ELBO)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--warmup", t.warmup, "epochs over which the KL weight rises from 0 to --beta (0: none)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--encoder", t.encoder, "encoder widths after the one-hot layer")->capture_default_str();
  train_cmd->add_option("--decoder", t.decoder, "decoder widths between the code and the logits")->capture_default_str();
  train_cmd->add_option("--colour-dim", t.colour_dim,
                        "E features per pixel times a learned colour embedding; 0: P·K logits directly (the lecture's shape)")
      ->capture_default_str()->check(CLI::Range(0, 4096));
  train_cmd->add_option("--weight-decay", t.weight_decay, "L2 weight decay of Adam")->capture_default_str()
      ->check(CLI::NonNegativeNumber);

  auto* eval_cmd = app.add_subcommand("eval", "print the negative ELBO, reconstruction and KL in nats per image");
  auto* sample_cmd = app.add_subcommand("sample", "decode codes drawn from N(0, I)");
  auto* walk_cmd = app.add_subcommand("walk", "decode a grid over two code dimensions (or each one alone: --all)");
  auto* reconstruct_cmd = app.add_subcommand("reconstruct", "TEST images above their reconstructions");
  auto* interpolate_cmd = app.add_subcommand("interpolate", "decode the straight line between two TEST images' codes");
  for (auto* c : {eval_cmd, sample_cmd, walk_cmd, reconstruct_cmd, interpolate_cmd}) {
    c->add_option("--data", pic.data, "folder with pixel_color.txt and colormap.txt")->required();
    c->add_option("--weights", pic.weights, "a model.safetensors or best.safetensors")->required();
  }
  add_device_option(train_cmd, t.device);
  add_device_option(eval_cmd, device);
  eval_cmd->add_option("--images", images, "score these images (pixel_color format) instead of TEST");
  eval_cmd->add_option("--samples", samples, "draws of the code per image (VAE)")->capture_default_str()
      ->check(CLI::Range(1, 1000));
  eval_cmd->add_option("--seed", eval_seed, "seed of those draws")->capture_default_str();
  sample_cmd->add_option("--count", count, "images to draw")->capture_default_str();
  walk_cmd->add_option("--dims", dims, "the two code dimensions to sweep, e.g. 0,1");
  walk_cmd->add_flag("--all", all, "one row per dimension, each swept alone");
  walk_cmd->add_option("--grid", grid_n, "points per dimension")->capture_default_str();
  walk_cmd->add_option("--range", range, "sweep from -R to R")->capture_default_str();
  walk_cmd->add_option("--base", base, "the other dimensions: zero, or test:K for TEST image K's code")
      ->capture_default_str();
  reconstruct_cmd->add_option("--count", recon_count, "TEST images")->capture_default_str();
  interpolate_cmd->add_option("--from", from, "first TEST image")->required();
  interpolate_cmd->add_option("--to", to, "last TEST image")->required();
  interpolate_cmd->add_option("--steps", steps, "codes on the line, ends included")->capture_default_str();
  for (auto* c : {sample_cmd, walk_cmd, reconstruct_cmd, interpolate_cmd}) {
    c->add_option("--decode", pic.decode, "argmax (likeliest colour), mean (mean RGB) or sample (a draw per pixel)")
        ->capture_default_str()->check(CLI::IsMember({"argmax", "mean", "sample"}));
    c->add_option("--seed", pic.seed, "random seed (codes, draws)")->capture_default_str();
    c->add_option("--out", pic.out, "PNG to write")->required();
  }
  CLI11_PARSE(app, argc, argv);

  return run_reporting_errors([&] {
    if (*train_cmd) return train_model(t);
    if (*eval_cmd) return eval(pic.data, pic.weights, images, samples, eval_seed, device);
    if (*sample_cmd) return sample(pic, count);
    if (*walk_cmd) return walk(pic, dims, all, grid_n, range, base);
    if (*reconstruct_cmd) return reconstruct(pic, recon_count);
    return interpolate(pic, from, to, steps);
  });
}
