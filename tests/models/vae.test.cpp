// VAE and AE: PyTorch names and shapes, the configuration read back from a
// checkpoint's shapes, gradients of the whole loss (double), the loss terms
// against a hand computation, evaluation, decoding, training and bad input.
#include <deepgen/train/checkpoint.hpp>
#include <deepgen/models/vae.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

#include "support/gradcheck.hpp"

using namespace deepgen;
using deepgen::test::random_indices;
using Catch::Contains;
using models::VAE;
using models::VAEConfig;
using models::VAEMode;

namespace {
/// A tiny model: 4 pixels, 3 colours, a 2-d code; colour_dim 0 or E.
VAEConfig tiny(VAEMode mode, int64_t colour_dim = 0) {
  VAEConfig c;
  c.pixels = 4;
  c.palette_size = 3;
  c.latent = 2;
  c.encoder_hidden = {5};
  c.decoder_hidden = {4, 3};
  c.colour_dim = colour_dim;
  c.mode = mode;
  return c;
}

/// 8 images of 16 pixels, 4 colours: vertical stripes shifted by the image
/// number, every third image mirrored — distinct but learnable from a 2-d code.
Tensor<int32_t> stripes() {
  Tensor<int32_t> images(Shape{8, 16});
  for (int64_t i = 0; i < 8; ++i)
    for (int64_t p = 0; p < 16; ++p) {
      const int64_t x = i % 3 == 0 ? 3 - p % 4 : p % 4;
      images.at(i, p) = int32_t((x + i + (p / 8) * (i / 4)) % 4);
    }
  return images;
}

double accuracy(const Tensor<int32_t>& a, const Tensor<int32_t>& b) {
  int64_t same = 0;
  for (int64_t n = 0; n < a.numel(); ++n) same += a[n] == b[n];
  return double(same) / double(a.numel());
}

/// support/gradcheck.hpp's check for every parameter of a model, but with the
/// error relative to max(‖analytic‖, ‖numeric‖, 1e-2): behind ReLUs some
/// parameters get gradients of 1e-5 or less (units dead for most images,
/// per-image terms that cancel), where the central differences' own rounding,
/// ~1e-16·|loss|/h ≈ 1e-9, is already 1e-4 of the norm. A wrong gradient is
/// off by about its own size, far above 1e-6 · 1e-2.
void check_model_gradients(const std::function<Var<double>()>& loss, const nn::Module<double>& model) {
  auto params = model.named_parameters();
  for (auto& [name, p] : params) p.zero_grad();
  backward(loss());
  for (auto& [name, p] : params) {
    Var<double> x = p;
    const Tensor<double> analytic = x.grad();
    Tensor<double> numeric(x.shape());
    for (int64_t i = 0; i < x.value().numel(); ++i) {
      const double x0 = x.value()[i], h = 1e-6 * std::max(1.0, std::abs(x0));
      NoGradGuard no_grad;
      x.value()[i] = x0 + h;
      const double fp = loss().value()[0];
      x.value()[i] = x0 - h;
      const double fm = loss().value()[0];
      x.value()[i] = x0;
      numeric[i] = (fp - fm) / (2 * h);
    }
    const double diff = (analytic.vec() - numeric.vec()).norm();
    const double err = diff / std::max({analytic.vec().norm(), numeric.vec().norm(), 1e-2});
    INFO(name << " " << x.shape() << ": ‖analytic‖ " << analytic.vec().norm() << ", error " << err);
    REQUIRE(err <= 1e-6);  // NaN fails
  }
}
}  // namespace

TEST_CASE("VAE: nn.Sequential names and shapes; the lecture shape has 68.7M parameters", "[vae]") {
  Philox rng(Catch::rngSeed());
  VAE<float> vae(tiny(VAEMode::vae), rng);
  std::vector<std::string> names;
  for (const auto& [name, p] : vae.named_parameters()) names.push_back(name + " " + nn::file_shape(p).str());
  CHECK(names == std::vector<std::string>{"encoder.0.weight [5, 12]", "encoder.0.bias [5]",
                                          "encoder.2.weight [4, 5]", "encoder.2.bias [4]",
                                          "decoder.0.weight [4, 2]", "decoder.0.bias [4]",
                                          "decoder.2.weight [3, 4]", "decoder.2.bias [3]",
                                          "decoder.4.weight [12, 3]", "decoder.4.bias [12]"});
  VAE<float> ae(tiny(VAEMode::ae), rng);
  CHECK(ae.named_parameters()[2].second.shape() == Shape{2, 5});  // encoder.2: the code itself
  // With a colour embedding: 2 features per pixel, then (K, E) and (P, K).
  VAE<float> colours(tiny(VAEMode::vae, 2), rng);
  const auto cp = colours.named_parameters();
  REQUIRE(cp.size() == 12);
  CHECK(cp[8].first == "decoder.4.weight");
  CHECK(cp[8].second.shape() == Shape{8, 3});
  CHECK(cp[10].first == "decoder.colours.weight");
  CHECK(cp[10].second.shape() == Shape{3, 2});
  CHECK(cp[11].first == "decoder.pixel_bias");
  CHECK(cp[11].second.shape() == Shape{4, 3});

  // The lecture's model, counted from the formula rather than built (274 MB).
  const VAEConfig lecture = VAEConfig::lecture(400, 167);
  const int64_t PK = 400 * 167;
  CHECK(lecture.encoder_hidden == std::vector<int64_t>{512, 256});
  CHECK(lecture.decoder_hidden == std::vector<int64_t>{256, 512});
  CHECK(lecture.encoder_outputs() == 20);
  CHECK(lecture.colour_dim == 0);
  CHECK(VAEConfig::standard(400, 167).colour_dim == 16);
  const int64_t count = (PK + 1) * 512 + 513 * 256 + 257 * 20 + 11 * 256 + 257 * 512 + 513 * PK;
  CHECK(std::abs(double(count) / 68.7e6 - 1) < 0.001);
}

TEST_CASE("VAEConfig::from_parameters reads mode and sizes back from the shapes", "[vae]") {
  Philox rng(Catch::rngSeed());
  for (auto [mode, colour_dim] : {std::pair{VAEMode::vae, 0}, {VAEMode::ae, 0}, {VAEMode::vae, 2}}) {
    VAE<float> model(tiny(mode, colour_dim), rng);
    const VAEConfig c = VAEConfig::from_parameters(io::parameter_tensors(model), 3, "m.safetensors");
    CHECK(c.mode == mode);
    CHECK(c.colour_dim == colour_dim);
    CHECK(c.pixels == 4);
    CHECK(c.palette_size == 3);
    CHECK(c.latent == 2);
    CHECK(c.encoder_hidden == std::vector<int64_t>{5});
    CHECK(c.decoder_hidden == std::vector<int64_t>{4, 3});
    VAE<float> copy(c, rng);
    copy.load_parameters(io::parameter_tensors(model), "m.safetensors");
  }
  VAE<float> model(tiny(VAEMode::vae), rng);
  REQUIRE_THROWS_WITH(VAEConfig::from_parameters(io::parameter_tensors(model), 5, "m.safetensors"),
                      Contains("m.safetensors") && Contains("12 inputs") && Contains("5 colours"));
  std::map<std::string, Tensor<float>> pixelrnn{{"lstm.weight_ih_l0", Tensor<float>(Shape{4, 3})}};
  REQUIRE_THROWS_WITH(VAEConfig::from_parameters(pixelrnn, 3, "p.safetensors"),
                      Contains("no 'encoder.0.weight'") && Contains("not a VAE"));
  auto odd = io::parameter_tensors(model);
  odd["encoder.2.weight"] = Tensor<float>(Shape{3, 5});
  REQUIRE_THROWS_WITH(VAEConfig::from_parameters(odd, 3, "m.safetensors"), Contains("3 outputs") && Contains("2 dimensions"));
}

TEST_CASE("VAE: the one-hot layer is kept transposed; files and optimizer state hold PyTorch's layout",
          "[vae][checkpoint]") {
  Philox rng(Catch::rngSeed());
  VAE<double> model(tiny(VAEMode::vae), rng);
  const auto params = model.named_parameters();
  REQUIRE(params[0].first == "encoder.0.weight");
  CHECK(params[0].second.stored_transposed());
  CHECK(params[0].second.shape() == Shape{12, 5});
  CHECK(nn::file_shape(params[0].second) == Shape{5, 12});
  // A file in PyTorch's layout (as every earlier checkpoint is): the encoder
  // computed by hand from it, y = relu(W·onehot(x) + b) then encoder.2.
  std::map<std::string, Tensor<double>> file = io::parameter_tensors(model);
  for (auto& [name, t] : file)
    for (auto& v : t) v = rng.uniform<double>() - 0.5;  // fresh values, so nothing matches by accident
  VAE<double> loaded(tiny(VAEMode::vae), rng);
  loaded.load_parameters(file, "old.safetensors");
  const Tensor<int32_t> images = random_indices({3, 4}, 0, 3);
  const Tensor<double>& W0 = file.at("encoder.0.weight");  // (5, 12)
  const Tensor<double>& W2 = file.at("encoder.2.weight");  // (4, 5)
  const Tensor<double> enc = loaded.encoder_output(images).value();
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t o = 0; o < 4; ++o) {
      double want = file.at("encoder.2.bias")[o];
      for (int64_t j = 0; j < 5; ++j) {
        double h = file.at("encoder.0.bias")[j];
        for (int64_t p = 0; p < 4; ++p) h += W0.at(j, p * 3 + images.at(b, p));
        want += W2.at(o, j) * std::max(h, 0.0);
      }
      CHECK(enc.at(b, o) == Approx(want).epsilon(1e-12));
    }
  // Saving gives back exactly the file's tensors, and Adam's moments in the same layout.
  for (const auto& [name, t] : io::parameter_tensors(loaded)) {
    INFO(name);
    REQUIRE(t.shape() == file.at(name).shape());
    CHECK(std::equal(t.begin(), t.end(), file.at(name).begin()));
  }
  optim::Adam<double> adam(loaded.named_parameters());
  loaded.train_step(images, adam, 0.0);
  const auto state = adam.state();
  CHECK(state.at("encoder.0.weight.exp_avg").shape() == Shape{5, 12});
  // exp_avg after one step is (1 − β1)·g: row j, column p·K + x of the
  // gradient in PyTorch's layout is the stored gradient's (p·K + x, j).
  const Tensor<double>& g = loaded.named_parameters()[0].second.grad();
  for (int64_t j = 0; j < 5; ++j)
    for (int64_t c = 0; c < 12; ++c) CHECK(state.at("encoder.0.weight.exp_avg").at(j, c) == Approx(0.1 * g.at(c, j)));
  optim::Adam<double> again(loaded.named_parameters());
  again.load_state(state, "optim.safetensors");
  const auto back = again.state();
  for (const auto& [name, t] : state) CHECK(std::equal(t.begin(), t.end(), back.at(name).begin()));
}

TEST_CASE("VAE: gradients of the whole loss by central differences (double, fixed noise)", "[vae][gradcheck]") {
  Philox rng(Catch::rngSeed());
  const double beta = GENERATE(1.0, 0.3);
  const int64_t colour_dim = GENERATE(0, 2);
  for (VAEMode mode : {VAEMode::vae, VAEMode::ae}) {
    SECTION(std::string(to_string(mode)) + " beta=" + std::to_string(beta) + " colour_dim=" + std::to_string(colour_dim)) {
      // Wider than tiny(), so that few ReLUs are dead and every layer gets a gradient to check.
      VAEConfig c = tiny(mode, colour_dim);
      c.encoder_hidden = {6};
      c.decoder_hidden = {6, 5};
      VAE<double> model(c, rng);
      const Tensor<int32_t> images = random_indices({4, 4}, 0, 3);
      const Tensor<double> noise = model.draw_noise(4, rng);
      check_model_gradients([&] { return model.loss(images, noise, beta).loss; }, model);
    }
  }
}

TEST_CASE("VAE: loss terms equal a hand computation; the AE has no KL", "[vae]") {
  Philox rng(Catch::rngSeed());
  const Tensor<int32_t> images = random_indices({3, 4}, 0, 3);
  for (VAEMode mode : {VAEMode::vae, VAEMode::ae}) {
    VAE<double> model(tiny(mode), rng);
    const Tensor<double> noise = model.draw_noise(3, rng);
    const auto t = model.loss(images, noise, 0.5);
    // Recompute (1)–(6) from the encoder output and the logits.
    const Tensor<double> enc = model.encoder_output(images).value();
    Tensor<double> codes(Shape{3, 2});
    double kl = 0;
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t d = 0; d < 2; ++d) {
        if (mode == VAEMode::ae) {
          codes.at(b, d) = enc.at(b, d);
          continue;
        }
        const double m = enc.at(b, d), s = enc.at(b, 2 + d);
        codes.at(b, d) = m + std::exp(s / 2) * noise.at(b, d);
        kl += 0.5 * (std::exp(s) + m * m - 1 - s) / 3;
      }
    const Tensor<double> logits = model.logits(Var<double>(codes)).value();
    double recon = 0;
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t p = 0; p < 4; ++p) {
        double z = 0;
        for (int64_t k = 0; k < 3; ++k) z += std::exp(logits.at(b, p, k));
        recon += (std::log(z) - logits.at(b, p, images.at(b, p))) / 3;
      }
    CHECK(t.recon.value()[0] == Approx(recon).epsilon(1e-12));
    if (mode == VAEMode::vae) {
      REQUIRE(t.kl.defined());
      CHECK(t.kl.value()[0] == Approx(kl).epsilon(1e-12));
      CHECK(t.loss.value()[0] == Approx(recon + 0.5 * kl).epsilon(1e-12));
    } else {
      CHECK_FALSE(t.kl.defined());
      CHECK(t.loss.value()[0] == t.recon.value()[0]);
      CHECK(model.encoder_output(images).shape() == Shape{3, 2});
      CHECK(model.evaluate(images.data(), 3).kl == 0.0);
    }
  }
}

TEST_CASE("VAE::evaluate: averages the documented draws, independent of the batch size", "[vae]") {
  Philox rng(Catch::rngSeed());
  VAE<double> model(tiny(VAEMode::vae), rng);
  const Tensor<int32_t> images = random_indices({7, 4}, 0, 3);
  const auto all = model.evaluate(images.data(), 7, 3, 11);
  const auto batched = model.evaluate(images.data(), 7, 3, 11, 2);
  CHECK(all.recon == Approx(batched.recon).epsilon(1e-12));
  CHECK(all.kl == Approx(batched.kl).epsilon(1e-12));
  CHECK(all.neg_elbo() == all.recon + all.kl);
  CHECK(all.kl > 0);
  // Draw j of image i is Philox(seed, j·2³² + i), as documented.
  double recon = 0;
  for (uint64_t j = 0; j < 3; ++j) {
    Tensor<double> noise(Shape{7, 2});
    for (int64_t i = 0; i < 7; ++i) {
      Philox draws(11, (j << 32) + uint64_t(i));
      for (int64_t d = 0; d < 2; ++d) noise.at(i, d) = draws.normal<double>();
    }
    recon += model.loss(images, noise).recon.value()[0] / 3;
  }
  CHECK(all.recon == Approx(recon).epsilon(1e-12));
  // The KL does not depend on the draws: it is the same exact value every time.
  CHECK(model.evaluate(images.data(), 7, 1, 12).kl == Approx(all.kl).epsilon(1e-12));
}

TEST_CASE("VAE: decoding gives distributions, argmax and reproducible draws", "[vae]") {
  Philox rng(Catch::rngSeed());
  VAE<double> model(tiny(VAEMode::vae), rng);
  const Tensor<double> codes = model.draw_noise(5, rng);
  const Tensor<double> probs = model.decode_probabilities(codes);
  REQUIRE(probs.shape() == Shape{5, 4, 3});
  for (int64_t r = 0; r < 20; ++r) CHECK(probs.matrix().row(r).sum() == Approx(1.0).epsilon(1e-12));
  const Tensor<int32_t> best = model.decode(codes);
  REQUIRE(best.shape() == Shape{5, 4});
  for (int64_t b = 0; b < 5; ++b)
    for (int64_t p = 0; p < 4; ++p)
      for (int64_t k = 0; k < 3; ++k) REQUIRE(probs.at(b, p, k) <= probs.at(b, p, best.at(b, p)));
  const auto a = model.decode(codes, models::PixelDecode::sample, 3);
  const auto b = model.decode(codes, models::PixelDecode::sample, 3);
  CHECK(std::equal(a.begin(), a.end(), b.begin()));
  for (int32_t v : a) REQUIRE((v >= 0 && v < 3));
  const Tensor<double> means = model.encode(random_indices({5, 4}, 0, 3));
  CHECK(means.shape() == Shape{5, 2});
}

TEST_CASE("VAE: training lowers the loss, and the code of an image decodes to it", "[vae]") {
  const Tensor<int32_t> images = stripes();
  for (VAEMode mode : {VAEMode::vae, VAEMode::ae}) {
    SECTION(to_string(mode)) {
      VAEConfig c;
      c.pixels = 16;
      c.palette_size = 4;
      c.latent = 2;
      c.encoder_hidden = {32};
      c.decoder_hidden = {32};
      c.mode = mode;
      Philox rng(Catch::rngSeed());
      VAE<float> model(c, rng);
      optim::Adam<float> adam(model.named_parameters(), {1e-2});
      const double first = model.evaluate(images.data(), 8, 16).neg_elbo();
      for (int i = 0; i < 300; ++i) model.train_step(images, adam, 1.0, 1.0, 7);
      // Judged by evaluate (16 draws per image), not by one noisy batch.
      const double last = model.evaluate(images.data(), 8, 16).neg_elbo();
      INFO("negative ELBO " << first << " -> " << last << " nats per image");
      CHECK(last < 0.5 * first);
      const double own = accuracy(model.decode(model.encode(images)), images);
      Philox noise_rng(99);
      const double random = accuracy(model.decode(model.draw_noise(8, noise_rng)), images);
      INFO("pixels right from the image's own code " << own << ", from random codes " << random);
      CHECK(own >= 0.9);
      CHECK(own > random + 0.2);
    }
  }
}

TEST_CASE("VAE::train_step: a NaN loss throws before the weights change", "[vae]") {
  Philox rng(Catch::rngSeed());
  VAE<float> model(tiny(VAEMode::vae), rng);
  optim::Adam<float> adam(model.named_parameters());
  const Tensor<int32_t> images = random_indices({3, 4}, 0, 3);
  model.train_step(images, adam, 1.0);
  Var<float> w = model.named_parameters()[2].second;  // encoder.2.weight
  w.value()[1] = std::numeric_limits<float>::quiet_NaN();
  const auto before = io::parameter_tensors(model);
  REQUIRE_THROWS_WITH(model.train_step(images, adam, 1.0), Contains("loss is nan") && Contains("learning rate"));
  const auto after = io::parameter_tensors(model);
  for (const auto& [name, t] : before)
    for (int64_t i = 0; i < t.numel(); ++i)
      if (!std::isnan(t[i])) REQUIRE(after.at(name)[i] == t[i]);
}

TEST_CASE("VAE: bad input names the problem and the remedy", "[vae][errors]") {
  Philox rng(Catch::rngSeed());
  VAE<float> model(tiny(VAEMode::vae), rng);
  const Tensor<float> noise = model.draw_noise(1, rng);
  const Tensor<int32_t> colour({1, 4}, {0, 1, 3, 2});
  REQUIRE_THROWS_WITH(model.loss(colour, noise), Contains("colour 3 at image 0, pixel 2") && Contains("[0, 3)"));
  const Tensor<int32_t> wide({1, 5}, {0, 1, 2, 0, 1});
  REQUIRE_THROWS_WITH(model.loss(wide, noise), Contains("(B, 4)") && Contains("[1, 5]") && Contains("4 pixels"));
  REQUIRE_THROWS_WITH(model.encode(Tensor<int32_t>(Shape{4})), Contains("(B, 4)") && Contains("[4]"));
  const Tensor<int32_t> ok({2, 4}, {0, 1, 2, 0, 1, 2, 0, 1});
  REQUIRE_THROWS_WITH(model.loss(ok, noise), Contains("noise") && Contains("[2, 2]") && Contains("[1, 2]"));
  REQUIRE_THROWS_WITH(model.loss(ok, model.draw_noise(2, rng), -1), Contains("beta = -1"));
  REQUIRE_THROWS_WITH(model.decode(Tensor<float>(Shape{2, 3})), Contains("(B, 2)") && Contains("[2, 3]"));
  VAEConfig no_data = tiny(VAEMode::vae);
  no_data.palette_size = 0;
  REQUIRE_THROWS_WITH(VAE<float>(no_data, rng), Contains("palette_size = 0") && Contains("from the data"));
  VAEConfig zero_width = tiny(VAEMode::ae);
  zero_width.decoder_hidden = {4, 0};
  REQUIRE_THROWS_WITH(VAE<float>(zero_width, rng), Contains("decoder width 0"));
  // A checkpoint of the other mode does not load: the encoder's last layer differs.
  VAE<float> ae(tiny(VAEMode::ae), rng);
  REQUIRE_THROWS_WITH(ae.load_parameters(io::parameter_tensors(model), "vae.safetensors"),
                      Contains("encoder.2.weight") && Contains("[4, 5]") && Contains("[2, 5]"));
}
