// tests/cuda/vae.test.cpp — cuda::VAE against models::VAE: a whole training
// step (both terms, every gradient, the updated weights) for the VAE and the
// autoencoder, with and without the colour embedding, and evaluate(). The
// reference is the CPU model in double holding the same weights. Compiled by
// the host compiler (the CPU model is Eigen code) into the CUDA test binary.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "deepgen/cuda/vae.hpp"
#include "deepgen/models/vae.hpp"
#include "deepgen/models/vae_cuda.hpp"
#include "deepgen/optim/step.hpp"

#include "cuda/model_support.hpp"
#include "cuda/support.hpp"

namespace {

using namespace deepgen;
using namespace deepgen::test::gpu;

constexpr int64_t P = 12, K = 7, B = 5;  // awkward sizes: 12 pixels in 7 colours

models::VAEConfig small_config(int64_t colour_dim, models::VAEMode mode) {
  models::VAEConfig c = models::VAEConfig::standard(P, K, mode);
  c.latent = 3;
  c.encoder_hidden = {20, 9};
  c.decoder_hidden = {11};
  c.colour_dim = colour_dim;
  return c;
}

std::vector<int32_t> random_images(std::mt19937& rng, int64_t count) {
  std::uniform_int_distribution<int32_t> colour(0, int32_t(K - 1));
  std::vector<int32_t> images(size_t(count * P));
  for (auto& c : images) c = colour(rng);
  return images;
}

/// The double CPU model with exactly the weights of `model`.
template <typename T>
models::VAE<double> in_double(const models::VAE<T>& model) {
  Philox unused(0);
  models::VAE<double> ref(model.config(), unused);
  copy_weights(model, ref);
  return ref;
}

/// The pixel bias starts at zero; random values test its gradient path.
template <typename T>
void randomise_pixel_bias(models::VAE<T>& model, std::mt19937& rng) {
  for (auto& [name, p] : model.named_parameters())
    if (name == "decoder.pixel_bias") {
      Var<T> q = p;
      std::uniform_real_distribution<double> u(-0.5, 0.5);
      for (auto& x : q.value()) x = T(u(rng));
    }
}

}  // namespace

TEMPLATE_TEST_CASE("cuda::VAE: a training step equals the CPU model's", "[cuda][vae_model]", float, double) {
  if (gpu_missing()) return;
  using T = TestType;
  const int64_t colour_dim = GENERATE(0, 4);
  const auto mode = GENERATE(models::VAEMode::vae, models::VAEMode::ae);
  INFO("colour_dim " << colour_dim << ", " << models::to_string(mode));
  std::mt19937 rng = make_rng(41, colour_dim, int64_t(mode == models::VAEMode::vae));
  const std::vector<int32_t> images = random_images(rng, B);
  Tensor<int32_t> batch(Shape{B, P});
  std::copy(images.begin(), images.end(), batch.data());
  Philox init(rng());
  models::VAE<T> model(small_config(colour_dim, mode), init);
  randomise_pixel_bias(model, rng);
  cuda::VAEStepOptions opts;
  opts.lr = 1e-2;
  opts.eps = 1e-3;  // smooth in the gradient: float and double updates agree to rounding
  opts.max_grad_norm = 0.5;
  opts.beta = 0.7;
  opts.seed = 5;
  optim::Adam<T> adam(model.named_parameters(), {opts.lr, opts.beta1, opts.beta2, opts.eps, opts.weight_decay});
  cuda::VAE<T> gpu = models::to_device(model, &adam);
  models::VAE<double> ref = in_double(model);
  optim::Adam<double> ref_adam(ref.named_parameters(), {opts.lr, opts.beta1, opts.beta2, opts.eps, opts.weight_decay});

  // The noise of step `step` as the GPU draws it: normal<T> elements of
  // Philox(seed, 2^40 + step) (float and double normals differ, so the
  // double reference is handed the T draws, widened).
  auto noise_at = [&](int64_t step) {
    Tensor<double> wide;
    if (!ref.variational()) return wide;
    Philox noise_rng(opts.seed, (uint64_t(1) << 40) + uint64_t(step));
    const Tensor<T> e = model.draw_noise(B, noise_rng);
    wide = Tensor<double>(e.shape());
    for (int64_t n = 0; n < e.numel(); ++n) wide[n] = double(e[n]);
    return wide;
  };

  // Terms and gradients: models::VAE::train_step's first half.
  const cuda::VAETerms t = gpu.forward_backward(images.data(), B, opts.beta, opts.seed);
  ref_adam.zero_grad();
  const models::ELBOTerms<double> want = ref.loss(batch, noise_at(0), opts.beta);
  backward(want.loss);
  INFO("recon gpu " << t.recon << " cpu " << want.recon.value()[0]);
  CHECK(std::abs(t.recon - want.recon.value()[0]) <= step_tolerance<T>() * want.recon.value()[0]);
  if (ref.variational()) {
    INFO("kl gpu " << t.kl << " cpu " << want.kl.value()[0]);
    CHECK(std::abs(t.kl - want.kl.value()[0]) <= step_tolerance<T>() * std::abs(want.kl.value()[0]) + 1e-12);
  } else {
    CHECK(t.kl == 0);
  }
  const auto ref_params = ref.named_parameters();
  const auto& store = gpu.parameters();
  REQUIRE(size_t(store.count()) == ref_params.size());
  for (int i = 0; i < store.count(); ++i) {
    std::vector<T> g(size_t(store.numel(i)), T(NAN));
    store.get_gradient(i, g.data());
    require_close(store.name(i).c_str(), g, flat(ref_params[size_t(i)].second.grad()), step_tolerance<T>());
  }

  // Two whole steps from the same start (the second with the next noise
  // stream and Adam's step-2 corrections): the updated weights.
  gpu.parameters().set_steps(0);
  for (int64_t step = 0; step < 2; ++step) {
    INFO("step " << step + 1);
    gpu.train_step(images.data(), B, opts);
    ref_adam.zero_grad();
    optim::backward_and_step(ref.loss(batch, noise_at(step), opts.beta).loss, ref_params, ref_adam,
                             opts.max_grad_norm, "reference");
    models::to_host(gpu, model, &adam);
    CHECK(adam.steps() == step + 1);
    const auto params = model.named_parameters();
    for (size_t i = 0; i < params.size(); ++i)
      require_close(params[i].first.c_str(),
                    elements(params[i].second.value()),
                    flat(ref_params[i].second.value()), step_tolerance<T>());
  }
}

TEST_CASE("cuda::VAE: evaluate equals the CPU model's, noise streams included", "[cuda][vae_model]") {
  if (gpu_missing()) return;
  const auto mode = GENERATE(models::VAEMode::vae, models::VAEMode::ae);
  INFO(models::to_string(mode));
  std::mt19937 rng = make_rng(42, int64_t(mode == models::VAEMode::vae), 0);
  const int64_t count = 7;  // batches of 3: 3 + 3 + 1
  const std::vector<int32_t> images = random_images(rng, count);
  Philox init(rng());
  models::VAE<double> model(small_config(4, mode), init);
  randomise_pixel_bias(model, rng);
  cuda::VAE<double> gpu = models::to_device(model);
  const cuda::VAETerms got = gpu.evaluate(images.data(), count, 2, 9, 3);
  const models::ELBOValues want = model.evaluate(images.data(), count, 2, 9, 3);
  INFO("recon " << got.recon << " vs " << want.recon << ", kl " << got.kl << " vs " << want.kl);
  CHECK(std::abs(got.recon - want.recon) <= 1e-11 * want.recon);
  CHECK(std::abs(got.kl - want.kl) <= 1e-11 * want.kl);  // 0 for the AE on both
}

TEMPLATE_TEST_CASE("cuda::VAE<T>::evaluate equals the double reference fed the T noise", "[cuda][vae_model]", float,
                   double) {
  if (gpu_missing()) return;
  using T = TestType;
  const int64_t colour_dim = GENERATE(0, 4);
  const auto mode = GENERATE(models::VAEMode::vae, models::VAEMode::ae);
  INFO("colour_dim " << colour_dim << ", " << models::to_string(mode));
  std::mt19937 rng = make_rng(43, colour_dim, int64_t(mode == models::VAEMode::vae));
  const int64_t count = 7, samples = 2, batch = 3;  // batches of 3: 3 + 3 + 1
  const uint64_t seed = 9;
  const std::vector<int32_t> images = random_images(rng, count);
  Philox init(rng());
  models::VAE<T> model(small_config(colour_dim, mode), init);
  randomise_pixel_bias(model, rng);
  cuda::VAE<T> gpu = models::to_device(model);
  const cuda::VAETerms got = gpu.evaluate(images.data(), count, samples, seed, batch);

  // The reference: the double model with the same weights, on image i's draw
  // j = normal<T> elements of Philox(seed, j·2³² + i) widened (float and
  // double normals differ, so the double model is handed the T draws).
  const models::VAE<double> ref = in_double(model);
  Tensor<int32_t> all(Shape{count, P});
  std::copy(images.begin(), images.end(), all.data());
  const int64_t D = ref.latent(), draws = ref.variational() ? samples : 1;
  double recon = 0, kl = 0;
  for (int64_t j = 0; j < draws; ++j) {
    Tensor<double> noise;
    if (ref.variational()) {
      noise = Tensor<double>(Shape{count, D});
      for (int64_t i = 0; i < count; ++i) {
        Philox r(seed, (uint64_t(j) << 32) + uint64_t(i));
        for (int64_t d = 0; d < D; ++d) noise.at(i, d) = double(r.normal<T>());
      }
    }
    const models::ELBOTerms<double> t = ref.loss(all, noise);
    recon += t.recon.value()[0] / double(draws);
    kl += t.kl.defined() ? t.kl.value()[0] / double(draws) : 0.0;
  }
  INFO("recon " << got.recon << " vs " << recon << ", kl " << got.kl << " vs " << kl);
  CHECK(std::isfinite(got.recon));
  CHECK(std::isfinite(got.kl));
  CHECK(std::abs(got.recon - recon) <= step_tolerance<T>() * recon);
  if (ref.variational())
    CHECK(std::abs(got.kl - kl) <= step_tolerance<T>() * kl + 1e-12);
  else
    CHECK(got.kl == 0);
}

TEST_CASE("cuda::VAE: bad images and a NaN weight are refused before any update", "[cuda][vae_model]") {
  if (gpu_missing()) return;
  Philox init(1);
  models::VAE<float> model(small_config(4, models::VAEMode::vae), init);
  cuda::VAE<float> gpu = models::to_device(model);
  std::vector<int32_t> images(size_t(B * P), 1);
  images[13] = int32_t(K);
  CHECK_THROWS_WITH(gpu.forward_backward(images.data(), B, 1.0, 0),
                    Catch::Contains("colour 7 at image 1, pixel 1 is outside the palette [0, 7)"));
  images[13] = 0;
  CHECK_THROWS_WITH(gpu.forward_backward(images.data(), B, -1.0, 0), Catch::Contains("beta = -1"));
  auto& store = gpu.parameters();
  std::vector<float> bias(size_t(store.numel(1)), NAN);  // encoder.0.bias
  store.set_parameter(1, bias.data());
  CHECK_THROWS_WITH(gpu.train_step(images.data(), B, {}), Catch::Contains("nan at step 1"));
  CHECK(store.steps() == 0);
}
