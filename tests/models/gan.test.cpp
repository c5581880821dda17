// models/gan.hpp: the configuration in metadata (round trip, other models and
// damaged keys refused), gradients of both losses through both output designs
// in double, a training step that moves D towards telling real from fake, the
// EMA, repeatability from the seed, and generate() giving palette images.
#include <catch2/catch.hpp>

#include <deepgen/models/gan.hpp>

#include <cmath>

#include "support/gradcheck.hpp"

using namespace deepgen;
using deepgen::test::check_gradients;
using models::GANConfig;
using models::GANOutput;

namespace {

GANConfig little(GANOutput out) {
  GANConfig c;
  c.pixels = 9;
  c.palette_size = 4;
  c.output = out;
  c.noise = 3;
  c.generator_hidden = {5};
  c.discriminator_hidden = {6};
  c.colour_dim = 2;
  return c;
}

Palette gan_palette() {
  Palette p;
  p.rgb = {{255, 255, 255}, {200, 30, 30}, {30, 30, 200}, {0, 0, 0}};
  return p;
}

Tensor<int32_t> little_images(int64_t B, uint64_t seed) {
  Tensor<int32_t> t(Shape{B, 9});
  Philox rng(seed);
  for (auto& v : t) v = int32_t(rng.uniform_int(4));
  return t;
}

}  // namespace

TEST_CASE("GAN metadata: round trip; another model's file and damaged keys refused by name", "[gan]") {
  for (GANOutput o : {GANOutput::rgb, GANOutput::gumbel}) {
    const GANConfig c = little(o);
    const GANConfig back = models::gan_config_from(models::gan_metadata(c), "f");
    CHECK(back.output == c.output);
    CHECK(back.noise == 3);
    CHECK(back.generator_hidden == c.generator_hidden);
    CHECK(back.discriminator_hidden == c.discriminator_hidden);
    CHECK(back.colour_dim == 2);
  }
  auto meta = models::gan_metadata(little(GANOutput::rgb));
  meta["model"] = "vae";
  CHECK_THROWS_WITH(models::gan_config_from(meta, "f"), Catch::Contains("not a GAN checkpoint"));
  meta = models::gan_metadata(little(GANOutput::rgb));
  meta["gan.noise"] = "x3";
  CHECK_THROWS_WITH(models::gan_config_from(meta, "f"), Catch::Contains("'gan.noise' = 'x3'"));
  meta = models::gan_metadata(little(GANOutput::rgb));
  meta["gan.output"] = "pixels";
  CHECK_THROWS_WITH(models::gan_config_from(meta, "f"), Catch::Contains("expected rgb or gumbel"));
  meta.erase("gan.output");
  CHECK_THROWS_WITH(models::gan_config_from(meta, "f"), Catch::Contains("'gan.output' is missing"));
}

TEST_CASE("GAN: gradients of the generator's and the discriminator's losses in double, both outputs", "[gan]") {
  for (GANOutput o : {GANOutput::rgb, GANOutput::gumbel}) {
    const GANConfig c = little(o);
    Philox init(5);
    models::GAN<double> gan(c, init);
    Philox rng(6);
    const Tensor<double> z = gan.draw_noise(3, rng);
    const Tensor<double> g = gumbel_noise<double>(Shape{3, 9, 4}, rng);
    const Tensor<double> real = gan.real_input(little_images(3, 1), gan_palette());
    auto fake = [&] {
      const Var<double> out = gan.generator(Var<double>(z));
      return o == GANOutput::rgb ? out : gumbel_softmax(out, g, 0.7);
    };
    auto g_loss = [&] {
      return binary_cross_entropy_with_logits(gan.discriminator.score(gan.discriminator.embed(fake())), 1.0);
    };
    auto d_loss = [&] {
      return add(binary_cross_entropy_with_logits(gan.discriminator.score(gan.discriminator.embed(Var<double>(real))), 0.9),
                 binary_cross_entropy_with_logits(gan.discriminator.score(gan.discriminator.embed(fake())), 0.0));
    };
    std::vector<Var<double>> gp, dp;
    for (auto& [name, p] : gan.generator.named_parameters()) gp.push_back(p);
    for (auto& [name, p] : gan.discriminator.named_parameters()) dp.push_back(p);
    check_gradients(g_loss, gp);
    check_gradients(d_loss, dp);
  }
}

TEST_CASE("GAN::train_step: D learns to separate, the EMA follows, the seed repeats the run", "[gan]") {
  for (GANOutput o : {GANOutput::rgb, GANOutput::gumbel}) {
    auto run = [&](double ema, int steps, models::GANStepValues* last) {
      Philox init(1);
      auto gan = std::make_unique<models::GAN<float>>(little(o), init);
      optim::Adam<float> ag(gan->generator.named_parameters(), {1e-3, 0.5});
      optim::Adam<float> ad(gan->discriminator.named_parameters(), {1e-2, 0.5});
      models::GANStepSettings s;
      s.ema = ema;
      s.instance_noise = 0.05;
      const Tensor<int32_t> images = little_images(16, 2);
      models::GANStepValues v;
      for (int i = 0; i < steps; ++i) v = gan->train_step(images, gan_palette(), ag, ad, s, 9);
      if (last) *last = v;
      return gan;
    };
    models::GANStepValues first, later;
    run(0.9, 1, &first);
    auto gan = run(0.9, 60, &later);
    CHECK(std::isfinite(later.d_loss));
    CHECK(later.d_real - later.d_fake > first.d_real - first.d_fake);  // a fixed batch: D memorises it
    // The EMA lags the generator; with decay 0 it is the generator.
    const auto g = gan->generator.named_parameters(), e = gan->generator_ema.named_parameters();
    double diff = 0;
    for (size_t i = 0; i < g.size(); ++i) diff += (g[i].second.value().vec() - e[i].second.value().vec()).norm();
    CHECK(diff > 0);
    auto copy = run(0.0, 3, nullptr);
    const auto g0 = copy->generator.named_parameters(), e0 = copy->generator_ema.named_parameters();
    for (size_t i = 0; i < g0.size(); ++i) CHECK(g0[i].second.value().vec() == e0[i].second.value().vec());
    // The same seed gives the same weights.
    auto again = run(0.9, 60, nullptr);
    const auto a = gan->named_parameters(), b = again->named_parameters();
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].second.value().vec() == b[i].second.value().vec());
    // generate(): palette indices of the right shape.
    Philox rng(3);
    const Tensor<int32_t> images = gan->generate(gan->draw_noise(5, rng), gan_palette());
    REQUIRE(images.shape() == Shape{5, 9});
    for (int32_t v : images) CHECK((v >= 0 && v < 4));
    CHECK_THROWS_WITH(gan->generate(Tensor<float>(Shape{2, 4}), gan_palette()), Catch::Contains("noise must be"));
  }
}

TEST_CASE("GAN::real_input: rgb is each pixel's palette colour in [-1, 1], gumbel an exact one-hot", "[gan]") {
  GANConfig c = little(GANOutput::rgb);
  Philox init(2);
  models::GAN<float> gan(c, init);
  const Tensor<int32_t> image = little_images(1, 4);
  const Tensor<float> x = gan.real_input(image, gan_palette());
  REQUIRE(x.shape() == Shape{1, 27});
  for (int64_t p = 0; p < 9; ++p)
    for (int ch = 0; ch < 3; ++ch)
      CHECK(x[3 * p + ch] == Approx(gan_palette()[image[p]][size_t(ch)] / 127.5 - 1.0));
  CHECK_THROWS_WITH(gan.real_input(little_images(1, 4), Palette{}), Catch::Contains("built for 4 colours"));
  Philox init2(2);
  models::GAN<float> g2(little(GANOutput::gumbel), init2);
  const Tensor<float> h = g2.real_input(image, gan_palette());
  REQUIRE(h.shape() == Shape{1, 9, 4});
  for (int64_t p = 0; p < 9; ++p)
    for (int32_t k = 0; k < 4; ++k) CHECK(h[p * 4 + k] == (k == image[p] ? 1.0f : 0.0f));
}
