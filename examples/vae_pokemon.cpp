// vae_pokemon — the lecture's autoencoder and VAE on the Pokémon sprites:
// train, evaluate, decode random codes, walk the code space, reconstruct,
// interpolate.
//
//   vae_pokemon train       --data DIR --out DIR [--mode vae|ae] [--epochs N] [--minutes M]
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
//
// --decode argmax|mean|sample: the likeliest colour of every pixel, the
// probability-weighted mean RGB (the lecture's soft look), or a draw per pixel.
//
// Lines on stdout are read by scripts; keep their form:
//   epoch=<e> step=<n> minutes=<m> beta=<b> train_loss=<v> test_neg_elbo_nats_per_image=<v> test_recon=<v> test_kl=<v>
//   neg_elbo_nats_per_image=<v> recon=<v> kl=<v>
//   wrote <path>
// All figures are nats per image; TEST is the fixed split of DESIGN.md. The
// model's sizes and mode are read back from the checkpoint's tensor shapes.
// Checkpoints (model.safetensors + model.optim.safetensors) are written
// atomically after every epoch and when --minutes runs out, with the position
// in the epoch, so --resume continues exactly where the last one was taken.
#include <deepgen/data/pokemon.hpp>
#include <deepgen/deepgen.hpp>
#include <deepgen/memory.hpp>
#include <deepgen/io/checkpoint.hpp>
#include <deepgen/io/png.hpp>

#include <deepgen/models/vae.hpp>
#if defined(DEEPGEN_WITH_CUDA)
#include <deepgen/models/vae_cuda.hpp>
#endif

#include "device.hpp"
#include "progress.hpp"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

namespace fs = std::filesystem;
using namespace deepgen;
using models::VAEConfig;
using models::VAEMode;
using Model = models::VAE<float>;

namespace {

// The TEST figures of every report, in train and in eval: e drawn 4 times per
// image from seed 0, so both print the same number for the same checkpoint.
constexpr int64_t EVAL_SAMPLES = 4;
constexpr uint64_t EVAL_SEED = 0;
constexpr int SCALE = 4;  // 20×20 sprites drawn 80×80

using Split = data::PokemonSplit;

/// A model shaped like the checkpoint: mode and sizes come from the tensor shapes.
Model load_model(const std::string& path, const Split& s, std::map<std::string, std::string>* meta = nullptr) {
  const auto tensors = io::load_safetensors<float>(path, meta);
  const VAEConfig c = VAEConfig::from_parameters(tensors, s.data.palette.size(), path);
  DEEPGEN_CHECK(c.pixels == s.data.all.pixels_per_image(), path, ": the model reads images of ", c.pixels,
                " pixels but the data has ", s.data.all.pixels_per_image(), "; use the data it was trained on");
  Philox unused(0);
  Model model(c, unused);
  model.load_parameters(tensors, path);
  return model;
}

std::string join(const std::vector<int64_t>& v) {
  std::string out;
  for (int64_t x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
  return out;
}

/// "512,256" → {512, 256}; "" → {} (no hidden layer). Throws on anything else.
std::vector<int64_t> parse_widths(const std::string& text, const char* option) {
  std::vector<int64_t> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    size_t used = 0;
    long long w = 0;
    try {
      w = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    DEEPGEN_CHECK(used == item.size() && used > 0 && w > 0, option, " '", text, "': '", item,
                  "' is not a positive width; give comma-separated widths such as 512,256");
    out.push_back(w);
    start = comma + 1;
  }
  return out;
}

// ---- train ---------------------------------------------------------------------

struct TrainOptions {
  std::string data, out;
  std::string mode = "vae";
  int epochs = 25;  // the default model's TEST figure bottoms out near epoch 25 (seed 1), then overfits
  double minutes = 10;
  int batch = 32;
  double lr = 1e-3;
  int latent = 10;
  double beta = 1.0;
  double warmup = 0;  // epochs over which β rises linearly from 0
  std::string encoder = "512,256", decoder = "256,512";
  int colour_dim = 16;  // 0: the lecture's P·K-wide last layer (VAEConfig::lecture)
  double weight_decay = 0;
  double clip = 5.0;
  uint64_t seed = 1;
  bool resume = false;
  std::string device = "cpu";
};

/// The model on --device cpu or cuda (DeviceModel, device.hpp): it trains and evaluates
/// on whichever the run asked for.
class Engine : public DeviceModel<Model> {
 public:
  using DeviceModel::DeviceModel;

  models::ELBOValues train_step(const Tensor<int32_t>& images, optim::Adam<float>& adam,
                                const optim::AdamOptions& adam_options, double clip, double beta, uint64_t seed) {
#if defined(DEEPGEN_WITH_CUDA)
    if (m_gpu) {
      cuda::VAEStepOptions step;
      step.lr = adam.lr();
      step.beta1 = adam_options.beta1;
      step.beta2 = adam_options.beta2;
      step.eps = adam_options.eps;
      step.weight_decay = adam_options.weight_decay;
      step.max_grad_norm = clip;
      step.beta = beta;
      step.seed = seed;
      const cuda::VAETerms t = m_gpu->train_step(images.data(), images.dim(0), step);
      return {t.recon, t.kl};
    }
#endif
    (void)adam_options;
    return m_model.train_step(images, adam, clip, beta, seed);
  }

  models::ELBOValues evaluate(const int32_t* images, int64_t count, int64_t samples, uint64_t seed) {
#if defined(DEEPGEN_WITH_CUDA)
    if (m_gpu) {
      const cuda::VAETerms t = m_gpu->evaluate(images, count, samples, seed);
      return {t.recon, t.kl};
    }
#endif
    return m_model.evaluate(images, count, samples, seed);
  }
};

int train(const TrainOptions& o) {
  const Split s = data::load_pokemon_split(o.data);
  VAEConfig config = VAEConfig::standard(s.train.pixels_per_image(), s.data.palette.size(),
                                         o.mode == "vae" ? VAEMode::vae : VAEMode::ae);
  config.latent = o.latent;
  config.encoder_hidden = parse_widths(o.encoder, "--encoder");
  config.decoder_hidden = parse_widths(o.decoder, "--decoder");
  config.colour_dim = o.colour_dim;
  fs::create_directories(o.out);
  const std::string model_path = (fs::path(o.out) / "model.safetensors").string();
  const std::string log_path = (fs::path(o.out) / "train_log.csv").string();

  Philox init(o.seed);
  Model model(config, init);
  const optim::AdamOptions adam_options{o.lr, 0.9, 0.999, 1e-8, o.weight_decay};
  optim::Adam<float> adam(model.named_parameters(), adam_options);
  int64_t epoch = 0, next_batch = 0;
  double minutes_before = 0;  // training time of earlier runs (resume)
  if (o.resume) {
    DEEPGEN_CHECK(fs::exists(model_path), "--resume: no checkpoint at ", model_path,
                  "; run without --resume to start training");
    std::map<std::string, std::string> meta;
    model = load_model(model_path, s, &meta);
    const VAEConfig& c = model.config();
    DEEPGEN_CHECK(c.mode == config.mode, "--resume: ", model_path, " holds a model of mode ", to_string(c.mode),
                  " but --mode is ", o.mode, "; pass --mode ", to_string(c.mode), " or train into another --out");
    DEEPGEN_CHECK(c.latent == config.latent, "--resume: ", model_path, " has a ", c.latent,
                  "-dimensional code but --latent is ", o.latent, "; pass --latent ", c.latent);
    DEEPGEN_CHECK(c.encoder_hidden == config.encoder_hidden && c.decoder_hidden == config.decoder_hidden &&
                      c.colour_dim == config.colour_dim,
                  "--resume: ", model_path, " has --encoder ", join(c.encoder_hidden), " --decoder ",
                  join(c.decoder_hidden), " --colour-dim ", c.colour_dim, "; pass the same sizes to continue it");
    adam = optim::Adam<float>(model.named_parameters(), adam_options);
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
  std::fprintf(stderr, "%s: %lld parameters, encoder %s, decoder %s, colour dim %d, %d-d code\n",
               to_string(config.mode), (long long)model.parameter_count(), join(config.encoder_hidden).c_str(),
               join(config.decoder_hidden).c_str(), o.colour_dim, o.latent);
  Engine engine(o.device, model, &adam);
  std::ofstream log(log_path, o.resume ? std::ios::app : std::ios::trunc);
  if (!o.resume) log << "epoch,step,minutes,beta,train_loss,test_neg_elbo_nats_per_image,test_recon,test_kl\n";

  const bool tty = isatty(fileno(stderr));
  const auto start = std::chrono::steady_clock::now();
  auto minutes_now = [&] {
    return minutes_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 60;
  };
  const int64_t batches = (s.train.count + o.batch - 1) / o.batch;
  // KL warm-up: β grows linearly over the first --warmup epochs, a function of
  // the position in training only, so a resumed run gets the same values.
  auto beta_at = [&](double progress_epochs) {
    return o.warmup > 0 ? o.beta * std::min(1.0, progress_epochs / o.warmup) : o.beta;
  };
  auto save = [&](double train_loss) {
    engine.to_host(adam);
    io::save_checkpoint(model_path, model, adam,
                        {{"model", "vae"}, {"mode", o.mode}, {"epoch", std::to_string(epoch)},
                         {"batch", std::to_string(next_batch)}, {"minutes", std::to_string(minutes_now())},
                         {"seed", std::to_string(o.seed)}, {"batch_size", std::to_string(o.batch)},
                         {"lr", std::to_string(o.lr)}, {"beta", std::to_string(o.beta)},
                         {"warmup", std::to_string(o.warmup)}, {"weight_decay", std::to_string(o.weight_decay)},
                         {"train_loss", std::to_string(train_loss)}});
  };
  const int64_t P = s.train.pixels_per_image();
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
    double beta = beta_at(double(epoch));
    for (; next_batch < batches; ++next_batch) {
      if (minutes_now() >= o.minutes) {
        out_of_time = true;
        break;
      }
      const int64_t first = next_batch * o.batch;
      const int64_t B = std::min<int64_t>(o.batch, s.train.count - first);
      Tensor<int32_t> images(Shape{B, P});
      for (int64_t b = 0; b < B; ++b) std::copy_n(s.train.image(order[first + b]), P, images.data() + b * P);
      beta = beta_at(double(epoch) + double(next_batch) / double(batches));
      const models::ELBOValues v = engine.train_step(images, adam, adam_options, o.clip, beta, o.seed);
      const double loss = v.recon + beta * v.kl;
      loss_sum += loss;
      ++loss_count;
      const auto now = std::chrono::steady_clock::now();
      const double secs = std::chrono::duration<double>(now - epoch_start).count();
      const double img_per_s = double(first + B) / secs;
      const double eta = secs / double(next_batch + 1) * double(batches - next_batch - 1);
      if (tty || std::chrono::duration<double>(now - last_print).count() > 30 || next_batch + 1 == batches) {
        std::fprintf(stderr, "%sepoch %lld  step %lld/%lld  loss %.1f (recon %.1f, kl %.2f)  %.0f img/s  ETA %s%s",
                     tty ? "\r" : "", (long long)epoch + 1, (long long)next_batch + 1, (long long)batches, loss,
                     v.recon, v.kl, img_per_s, fmt_duration(eta).c_str(), tty ? "   " : "\n");
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
    const models::ELBOValues test = engine.evaluate(s.test.pixels.data(), s.test.count, EVAL_SAMPLES, EVAL_SEED);
    const double minutes = minutes_now();
    const double epochs_done = double(epoch) + double(next_batch) / double(batches);  // fractional if cut short
    save(train_loss);  // first: every reported epoch has its checkpoint
    std::printf("epoch=%.2f step=%lld minutes=%.2f beta=%.4f train_loss=%.2f test_neg_elbo_nats_per_image=%.2f "
                "test_recon=%.2f test_kl=%.2f\n",
                epochs_done, (long long)engine.steps(adam), minutes, beta, train_loss, test.neg_elbo(), test.recon, test.kl);
    std::fflush(stdout);
    log << epochs_done << ',' << engine.steps(adam) << ',' << minutes << ',' << beta << ',' << train_loss << ','
        << test.neg_elbo() << ',' << test.recon << ',' << test.kl << '\n';
    log.flush();
  }
  std::printf("wrote %s\n", model_path.c_str());
  return 0;
}

// ---- eval ------------------------------------------------------------------------

int eval(const std::string& dir, const std::string& weights, const std::string& images_path, int64_t samples,
         uint64_t seed, const std::string& device) {
  const Split s = data::load_pokemon_split(dir);
  Model model = load_model(weights, s);
  const data::ImageSet set =
      images_path.empty() ? s.test : data::load_pixel_colors(images_path, s.data.palette.size());
  DEEPGEN_CHECK(set.pixels_per_image() == model.pixels(), images_path, ": images of ", set.pixels_per_image(),
                " pixels, but the model reads ", model.pixels());
  Engine engine(device, model, nullptr);
  const models::ELBOValues v = engine.evaluate(set.pixels.data(), set.count, samples, seed);
  std::printf("neg_elbo_nats_per_image=%.4f recon=%.4f kl=%.4f\n", v.neg_elbo(), v.recon, v.kl);
  return 0;
}

// ---- pictures ----------------------------------------------------------------------

struct Picture {
  std::string decode = "argmax";
  uint64_t seed = 1;
  std::string out;
};

/// One sprite per code, drawn as --decode says.
std::vector<io::RgbImage> render_codes(const Model& model, const Tensor<float>& codes, const Picture& pic,
                                       const Split& s) {
  const int side = int(s.data.all.side);
  const int64_t P = model.pixels(), K = model.palette_size();
  std::vector<io::RgbImage> cells;
  if (pic.decode == "mean") {
    const Tensor<float> probs = model.decode_probabilities(codes);
    for (int64_t b = 0; b < codes.dim(0); ++b) {
      io::RgbImage img(side * SCALE, side * SCALE);
      for (int64_t p = 0; p < P; ++p) {
        float rgb[3] = {0, 0, 0};
        for (int64_t k = 0; k < K; ++k)
          for (int c = 0; c < 3; ++c) rgb[c] += probs.at(b, p, k) * float(s.data.palette[int(k)][c]);
        io::Rgb colour;
        for (int c = 0; c < 3; ++c) colour[c] = uint8_t(std::lround(std::clamp(rgb[c], 0.0f, 255.0f)));
        img.fill_rect(int(p % side) * SCALE, int(p / side) * SCALE, SCALE, SCALE, colour);
      }
      cells.push_back(std::move(img));
    }
    return cells;
  }
  const auto how = pic.decode == "sample" ? models::PixelDecode::sample : models::PixelDecode::argmax;
  const Tensor<int32_t> images = model.decode(codes, how, pic.seed);
  for (int64_t b = 0; b < codes.dim(0); ++b)
    cells.push_back(io::render_palette_image(images.data() + b * P, side, s.data.palette, SCALE));
  return cells;
}

void write(const Picture& pic, const io::RgbImage& img) {
  io::write_png(pic.out, img);
  std::printf("wrote %s\n", pic.out.c_str());
}

/// TEST image `i` as a (1, P) batch, checked against the TEST count.
Tensor<int32_t> test_image(const Split& s, int64_t i, const char* option) {
  DEEPGEN_CHECK(i >= 0 && i < s.test.count, option, " ", i, " is not a TEST image; use 0 … ", s.test.count - 1);
  const int64_t P = s.test.pixels_per_image();
  Tensor<int32_t> out(Shape{1, P});
  std::copy_n(s.test.image(i), P, out.data());
  return out;
}

int sample(const std::string& dir, const std::string& weights, int count, const Picture& pic) {
  const Split s = data::load_pokemon_split(dir);
  const Model model = load_model(weights, s);
  DEEPGEN_CHECK(count >= 1, "--count must be at least 1");
  Philox rng(pic.seed, uint64_t(1) << 50);  // streams 0, 1, … are decode's per-image pixel draws
  write(pic, io::grid(render_codes(model, model.draw_noise(count, rng), pic, s), std::min(count, 8), 2));
  return 0;
}

/// "I,J" → {I, J}: two different code dimensions in [0, D).
std::pair<int64_t, int64_t> parse_dims(const std::string& text, int64_t D) {
  const size_t comma = text.find(',');
  auto number = [&](const std::string& item) {
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    DEEPGEN_CHECK(used == item.size() && used > 0, "--dims '", text, "': '", item,
                  "' is not a number; give two dimensions such as 0,1");
    DEEPGEN_CHECK(v >= 0 && v < D, "--dims '", text, "': dimension ", v, " does not exist; the code has ", D,
                  " dimensions, 0 … ", D - 1);
    return int64_t(v);
  };
  DEEPGEN_CHECK(comma != std::string::npos, "--dims '", text, "': give two dimensions separated by a comma, such as 0,1");
  const int64_t i = number(text.substr(0, comma)), j = number(text.substr(comma + 1));
  DEEPGEN_CHECK(i != j, "--dims '", text, "': the two dimensions must differ");
  return {i, j};
}

int walk(const std::string& dir, const std::string& weights, const std::string& dims, bool all, int grid_n,
         double range, const std::string& base, const Picture& pic) {
  const Split s = data::load_pokemon_split(dir);
  const Model model = load_model(weights, s);
  const int64_t D = model.latent();
  DEEPGEN_CHECK(all != !dims.empty(), "walk: give either --dims I,J or --all");
  DEEPGEN_CHECK(grid_n >= 2, "--grid ", grid_n, " must be at least 2");
  DEEPGEN_CHECK(range > 0 && std::isfinite(range), "--range ", range, " must be positive, e.g. 3");
  // The fixed point: zero (the prior's centre) or the code of a TEST image.
  Tensor<float> centre(Shape{1, D});
  if (base.rfind("test:", 0) == 0) {
    size_t used = 0;
    long long k = -1;
    try {
      k = std::stoll(base.substr(5), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    DEEPGEN_CHECK(used > 0 && used == base.size() - 5, "--base '", base, "': expected zero or test:K, e.g. test:3");
    centre = model.encode(test_image(s, k, "--base test:"));
  } else {
    DEEPGEN_CHECK(base == "zero", "--base '", base, "': expected zero or test:K, e.g. test:3");
  }
  auto value = [&](int i) { return float(-range + 2 * range * double(i) / double(grid_n - 1)); };
  if (all) {
    // One row per dimension, swept alone from −R to R.
    Tensor<float> codes(Shape{D * grid_n, D});
    std::vector<std::string> labels;
    for (int64_t d = 0; d < D; ++d) {
      labels.push_back("dim " + std::to_string(d));
      for (int i = 0; i < grid_n; ++i) {
        for (int64_t e = 0; e < D; ++e) codes.at(d * grid_n + i, e) = centre.at(0, e);
        codes.at(d * grid_n + i, d) = value(i);
      }
    }
    write(pic, io::grid(render_codes(model, codes, pic, s), grid_n, 2, io::LIGHT_GREY, labels));
    return 0;
  }
  const auto [di, dj] = parse_dims(dims, D);
  // Row r sweeps dimension I, column c dimension J.
  Tensor<float> codes(Shape{int64_t(grid_n) * grid_n, D});
  for (int r = 0; r < grid_n; ++r)
    for (int c = 0; c < grid_n; ++c) {
      const int64_t n = int64_t(r) * grid_n + c;
      for (int64_t e = 0; e < D; ++e) codes.at(n, e) = centre.at(0, e);
      codes.at(n, di) = value(r);
      codes.at(n, dj) = value(c);
    }
  write(pic, io::grid(render_codes(model, codes, pic, s), grid_n, 2));
  return 0;
}

int reconstruct(const std::string& dir, const std::string& weights, int count, const Picture& pic) {
  const Split s = data::load_pokemon_split(dir);
  const Model model = load_model(weights, s);
  DEEPGEN_CHECK(count >= 1 && count <= s.test.count, "--count ", count, " must be between 1 and ", s.test.count,
                " (the TEST images)");
  const int64_t P = s.test.pixels_per_image();
  Tensor<int32_t> images(Shape{count, P});
  std::copy_n(s.test.pixels.data(), count * P, images.data());
  // Top row: the TEST images; bottom row: their codes (the means) decoded.
  std::vector<io::RgbImage> cells;
  for (int i = 0; i < count; ++i) cells.push_back(io::render_image(s.test, i, s.data.palette, SCALE));
  for (auto& c : render_codes(model, model.encode(images), pic, s)) cells.push_back(std::move(c));
  write(pic, io::grid(cells, count, 2));
  return 0;
}

int interpolate(const std::string& dir, const std::string& weights, int64_t from, int64_t to, int steps,
                const Picture& pic) {
  const Split s = data::load_pokemon_split(dir);
  const Model model = load_model(weights, s);
  DEEPGEN_CHECK(steps >= 2, "--steps ", steps, " must be at least 2 (the two ends)");
  const Tensor<float> a = model.encode(test_image(s, from, "--from"));
  const Tensor<float> b = model.encode(test_image(s, to, "--to"));
  const int64_t D = model.latent();
  Tensor<float> codes(Shape{steps, D});
  for (int i = 0; i < steps; ++i) {
    const float t = float(i) / float(steps - 1);
    for (int64_t d = 0; d < D; ++d) codes.at(i, d) = (1 - t) * a.at(0, d) + t * b.at(0, d);
  }
  // The two TEST images frame the strip of decoded codes.
  std::vector<io::RgbImage> cells{io::render_image(s.test, from, s.data.palette, SCALE)};
  for (auto& c : render_codes(model, codes, pic, s)) cells.push_back(std::move(c));
  cells.push_back(io::render_image(s.test, to, s.data.palette, SCALE));
  write(pic, io::grid(cells, steps + 2, 2));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Keep freed memory in the process: a fresh multi-MiB buffer otherwise
  // costs page faults on every training step (DESIGN.md, "Where speed comes from").
  keep_freed_memory();

  CLI::App app{"Autoencoder and VAE on the Pokémon sprites: train, eval, sample, walk, reconstruct, interpolate"};
  app.require_subcommand(1);
  std::string data_dir, weights, images, dims, base = "zero", device = "cpu";
  TrainOptions t;
  Picture pic;
  int count = 32, recon_count = 10, grid_n = 7, steps = 8;
  int64_t samples = EVAL_SAMPLES, from = 0, to = 1;
  uint64_t eval_seed = EVAL_SEED;
  double range = 3;
  bool all = false;

  auto* train_cmd = app.add_subcommand("train", "train from scratch (or --resume) and checkpoint every epoch");
  train_cmd->add_option("--data", t.data, "folder with pixel_color.txt and colormap.txt")->required();
  train_cmd->add_option("--out", t.out, "output folder (model.safetensors, train_log.csv)")->required();
  train_cmd->add_option("--mode", t.mode, "vae, or ae: a deterministic code and no KL")
      ->capture_default_str()->check(CLI::IsMember({"vae", "ae"}));
  train_cmd->add_option("--epochs", t.epochs, "stop after this many epochs")->capture_default_str();
  train_cmd->add_option("--minutes", t.minutes, "stop after this much training time")->capture_default_str();
  train_cmd->add_option("--batch", t.batch, "images per step")->capture_default_str()->check(CLI::Range(1, 4096));
  train_cmd->add_option("--lr", t.lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
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
  train_cmd->add_option("--clip", t.clip, "gradient-norm clip (0: none)")->capture_default_str()->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--seed", t.seed, "random seed")->capture_default_str();
  train_cmd->add_flag("--resume", t.resume, "continue from OUT/model.safetensors");

  auto* eval_cmd = app.add_subcommand("eval", "print the negative ELBO, reconstruction and KL in nats per image");
  auto* sample_cmd = app.add_subcommand("sample", "decode codes drawn from N(0, I)");
  auto* walk_cmd = app.add_subcommand("walk", "decode a grid over two code dimensions (or each one alone: --all)");
  auto* reconstruct_cmd = app.add_subcommand("reconstruct", "TEST images above their reconstructions");
  auto* interpolate_cmd = app.add_subcommand("interpolate", "decode the straight line between two TEST images' codes");
  for (auto* c : {eval_cmd, sample_cmd, walk_cmd, reconstruct_cmd, interpolate_cmd}) {
    c->add_option("--data", data_dir, "folder with pixel_color.txt and colormap.txt")->required();
    c->add_option("--weights", weights, "a model.safetensors")->required();
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

  try {
    if (*train_cmd) return train(t);
    if (*eval_cmd) return eval(data_dir, weights, images, samples, eval_seed, device);
    if (*sample_cmd) return sample(data_dir, weights, count, pic);
    if (*walk_cmd) return walk(data_dir, weights, dims, all, grid_n, range, base, pic);
    if (*reconstruct_cmd) return reconstruct(data_dir, weights, recon_count, pic);
    if (*interpolate_cmd) return interpolate(data_dir, weights, from, to, steps, pic);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
