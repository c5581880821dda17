// evaluate_samples — one yardstick for samples of any of the three families
// (PixelRNN, VAE, GAN): Fréchet distance, k-NN precision and recall in a fixed
// feature space, the NLL under a PixelRNN judge, the distance to the nearest
// TRAIN image and the sprite figures (include/deepgen/eval/yardstick.hpp).
//
//   evaluate_samples score         --data DIR --features FILE --images FILE [--judge FILE]
//   evaluate_samples reference     --data DIR --features FILE [--judge FILE]
//   evaluate_samples make-features --data DIR --out FILE [--epochs N] [--seed S] [--input rgb|rgb+edges]
//   evaluate_samples vae-samples   --data DIR --weights FILE [--count N] [--seed S] --out FILE [--png PNG]
//   evaluate_samples speckle       --data DIR --share F [--seed S] --out FILE
//
// score:     the samples in FILE (pixel_color format, e.g. `pixelrnn_pokemon
//            sample --out-indices`) against TEST.
// reference: TEST's first half scored against its second half: the figures
//            real images get, the row every model is read against.
// make-features: trains the feature model (a small VAE encoder on palette RGB,
//            eval/features.hpp) on TRAIN and writes its encoder; the project's
//            copy, share/yardstick_features.safetensors, was made by
//            `OMP_NUM_THREADS=1 evaluate_samples make-features --data data/pokemon
//            --out share/yardstick_features.safetensors` (the defaults: 60 epochs, seed 1).
// vae-samples: the images `vae_pokemon sample --count N --seed S` draws (the
//            same codes from N(0, I), each pixel's likeliest colour), written in
//            the pixel_color format for `score`; --png also draws them as
//            vae_pokemon sample does (the same bytes).
// speckle:   TEST with each pixel set, with probability F, to a uniformly
//            random palette colour: a probe of what the feature space sees
//            (eval::speckled; docs/gan.md).
//
// Lines on stdout are read by scripts; keep their form:
//   images=<n> fd=<v> precision=<v> recall=<v> judge_nll=<v|none> nearest_train=<v> copies=<v>
//     background=<v> components=<v> colours=<v>
//   epoch=<e> loss=<v>          (make-features, one per epoch)
//   wrote <path>
#include <deepgen/allocator.hpp>
#include <deepgen/eval/yardstick.hpp>
#include <deepgen/io/figures.hpp>
#include <deepgen/io/png.hpp>
#include <deepgen/models/vae_sprites.hpp>

#include "cli_checks.hpp"
#include "train_cli.hpp"

#include <cstdio>
#include <string>

using namespace deepgen;

namespace {

struct Options {
  std::string data, features, judge, images, out, weights, png;
  std::string input = "rgb";
  int64_t count = 64;
  uint64_t seed = 1;
  double share = 0;
  eval::FeatureTraining training;
};

int score(const Options& o, bool reference) {
  const data::PokemonSplit s = data::load_pokemon_split(o.data);
  if (reference) {
    std::printf("%s\n", eval::reference_scores(s, o.features, o.judge).line().c_str());
    return 0;
  }
  const eval::Yardstick y = eval::load_yardstick(s, o.features, o.judge);
  const data::ImageSet samples = data::load_pixel_colors(o.images, s.data.palette.size());
  std::printf("%s\n", y.score(samples).line().c_str());
  return 0;
}

int make_features(Options o) {
  const data::PokemonSplit s = data::load_pokemon_split(o.data);
  o.training.input = o.input == "rgb+edges" ? eval::FeatureInput::rgb_edges : eval::FeatureInput::rgb;
  const eval::FeatureEncoder enc =
      eval::make_feature_model(eval::concatenate(s.train, s.valid), s.data.palette, o.training, [](int64_t e, double l) {
        std::printf("epoch=%lld loss=%.3f\n", (long long)e, l);
        std::fflush(stdout);
      });
  eval::save_feature_model(o.out, enc, {{"epochs", std::to_string(o.training.epochs)},
                                         {"seed", std::to_string(o.training.seed)}});
  std::printf("wrote %s\n", o.out.c_str());
  return 0;
}

int vae_samples(const Options& o) {
  const data::PokemonSplit s = data::load_pokemon_split(o.data);
  const models::VAE<float> model = models::load_vae(o.weights, s.data);
  Philox rng(o.seed, uint64_t(1) << 50);  // as vae_pokemon sample draws its codes
  const Tensor<int32_t> images = model.decode(model.draw_noise(o.count, rng), models::PixelDecode::argmax);
  data::ImageSet set;
  set.side = s.test.side;
  set.count = images.dim(0);
  set.pixels.assign(images.data(), images.data() + images.numel());
  data::save_pixel_colors(o.out, set);
  std::printf("wrote %s\n", o.out.c_str());
  if (!o.png.empty()) {  // vae_pokemon sample's picture: 8 to a row, 4× scale, 2 px light-grey lines
    std::vector<io::RgbImage> cells;
    for (int64_t i = 0; i < set.count; ++i) cells.push_back(io::render_image(set, i, s.data.palette, 4));
    io::write_png(o.png, io::grid(cells, int(std::min<int64_t>(set.count, 8)), 2, io::LIGHT_GREY));
    std::printf("wrote %s\n", o.png.c_str());
  }
  return 0;
}

int speckle(const Options& o) {
  const data::PokemonSplit s = data::load_pokemon_split(o.data);
  data::save_pixel_colors(o.out, eval::speckled(s.test, s.data.palette.size(), o.share, o.seed));
  std::printf("wrote %s\n", o.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();
  Options o;
  CLI::App app{"Score generated palette images against the data: FD, precision/recall, judge NLL, copies, sprite "
               "figures"};
  app.require_subcommand(1);
  auto* score_cmd = app.add_subcommand("score", "score the images in --images against TEST");
  auto* ref_cmd = app.add_subcommand("reference", "score TEST's first half against its second half");
  auto* make_cmd = app.add_subcommand("make-features", "train the feature model on TRAIN and write its encoder");
  auto* vae_cmd = app.add_subcommand("vae-samples", "write the images vae_pokemon sample draws, as indices");
  auto* speckle_cmd = app.add_subcommand("speckle", "write TEST with a share of its pixels set to random colours");
  for (auto* c : {score_cmd, ref_cmd, make_cmd, vae_cmd, speckle_cmd})
    c->add_option("--data", o.data, "folder with pixel_color.txt and colormap.txt")->required();
  for (auto* c : {score_cmd, ref_cmd}) {
    c->add_option("--features", o.features, "the feature model (share/yardstick_features.safetensors)")->required();
    c->add_option("--judge", o.judge, "a PixelRNN checkpoint trained on TRAIN, for judge_nll");
  }
  score_cmd->add_option("--images", o.images, "samples in the pixel_color format")->required();
  for (auto* c : {make_cmd, vae_cmd, speckle_cmd})
    c->add_option("--out", o.out, "file to write")->required()->check(cli_checks::output_file());
  vae_cmd->add_option("--weights", o.weights, "a vae_pokemon checkpoint")->required();
  vae_cmd->add_option("--png", o.png, "also draw them (as vae_pokemon sample)")->check(cli_checks::output_file());
  add_defaulted(vae_cmd, "--count", o.count, "images to draw")->check(cli_checks::whole(1, cli_checks::MAX_IMAGES));
  add_defaulted(vae_cmd, "--seed", o.seed, "random seed (as vae_pokemon sample's)")->check(cli_checks::seed());
  speckle_cmd->add_option("--share", o.share, "probability that a pixel is replaced, 0 … 1")
      ->required()
      ->check(cli_checks::real(0, 1));
  add_defaulted(speckle_cmd, "--seed", o.seed, "random seed")->check(cli_checks::seed());
  add_defaulted(make_cmd, "--epochs", o.training.epochs, "passes over TRAIN")
      ->check(cli_checks::whole(1, cli_checks::MAX_EPOCHS));
  add_defaulted(make_cmd, "--seed", o.training.seed, "random seed")->check(cli_checks::seed());
  add_defaulted(make_cmd, "--input", o.input,
                "what the encoder reads: rgb (palette RGB) or rgb+edges (also each pixel's colour change to its "
                "right and lower neighbour)")
      ->check(CLI::IsMember({"rgb", "rgb+edges"}));
  DEEPGEN_CLI_PARSE(app, argc, argv);
  return run_reporting_errors([&] {
    if (*make_cmd) return make_features(o);
    if (*vae_cmd) return vae_samples(o);
    if (*speckle_cmd) return speckle(o);
    return score(o, bool(*ref_cmd));
  });
}
