// train_vae — a model trained from scratch through the library's training
// loop: the whole program is the model, the data and one call to train::run.
//
//   train_vae DATA_DIR OUT_DIR [EPOCHS]
//
// DATA_DIR holds pixel_color.txt and colormap.txt. The loop shuffles, prints
// progress, logs OUT_DIR/train_log.csv, checkpoints every epoch, keeps the
// weights of the best validation figure in OUT_DIR/best.safetensors and stops
// when it has not improved for 5 epochs. Ctrl-C saves; run it again with the
// same arguments and it resumes where it stopped.
#include <deepgen/data/pokemon.hpp>
#include <deepgen/models/vae.hpp>
#include <deepgen/train.hpp>

#include "cli_checks.hpp"

#include <cstdio>
#include <filesystem>
#include <string>

using namespace deepgen;

/// What the loop needs from us: the batches, one step, and the figures to report.
struct SpriteVAE : train::ModuleTask<float> {
  const data::PokemonSplit& sprites;
  models::VAE<float>& vae;

  SpriteVAE(const data::PokemonSplit& s, models::VAE<float>& model, optim::Adam<float>& adam)
      : ModuleTask(model, adam), sprites(s), vae(model) {}

  std::vector<std::vector<int64_t>> epoch_batches(Philox& shuffler) override {
    return train::shuffled_batches(sprites.train.count, 32, shuffler);
  }

  train::StepResult step(const std::vector<int64_t>& items, const train::Position&) override {
    const Tensor<int32_t> images = sprites.train.batch(items);
    // The code's noise comes from (seed 1, Adam's step count), so a resumed run draws the same.
    const models::ELBOValues v = vae.train_step(images, m_adam, /*max_grad_norm=*/5.0, /*beta=*/1.0, /*seed=*/1);
    return {{v.neg_elbo()}, images.dim(0), ""};
  }

  std::vector<train::Column> report(const std::vector<double>& train, double) override {
    const auto& valid = sprites.valid;  // choices are made on VALIDATION; TEST stays untouched here
    return {{"train_neg_elbo", train[0], 2},
            {"valid_neg_elbo", vae.evaluate(valid.pixels.data(), valid.count, 4, 0).neg_elbo(), 2}};
  }
};

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: train_vae DATA_DIR OUT_DIR [EPOCHS]\n");
    return 1;
  }
  // The arguments are checked before the data is read and before OUT_DIR is touched.
  for (const std::string& why :
       {cli_checks::check_argument("OUT_DIR", argv[2], cli_checks::output_folder()),
        argc > 3 ? cli_checks::check_argument("EPOCHS", argv[3], cli_checks::whole(1, cli_checks::MAX_EPOCHS)) : ""})
    if (!why.empty()) {
      std::fprintf(stderr, "error: %s\n", why.c_str());
      return 1;
    }
  try {
    const data::PokemonSplit sprites = data::load_pokemon_split(argv[1]);
    Philox init(1);
    models::VAE<float> vae(models::VAEConfig::standard(sprites.train.pixels_per_image(), sprites.data.palette.size()),
                           init);
    optim::Adam<float> adam(vae.named_parameters(), {1e-3});
    SpriteVAE task(sprites, vae, adam);

    train::Options options;
    options.out = argv[2];
    options.epochs = argc > 3 ? std::stoi(argv[3]) : 100;
    options.resume = std::filesystem::exists(std::filesystem::path(argv[2]) / "model.safetensors");
    options.monitor = "valid_neg_elbo";  // best.safetensors, and early stopping on it
    options.patience = 5;
    options.unit = "img";
    const train::Result r = train::run(task, options);
    std::printf("best valid_neg_elbo %.2f at epoch %.0f: %s\n", r.best, r.best_epoch, r.best_checkpoint.c_str());
    return r.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
