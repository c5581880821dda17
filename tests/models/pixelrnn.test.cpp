// PixelRNN: interop with PyTorch both ways, gradients through the whole
// model, completion that carries the state (checked against re-running the
// sequence), sampling, training steps and bad input.
#include <deepgen/data/pokemon.hpp>
#include <deepgen/train/checkpoint.hpp>
#include <deepgen/models/pixelrnn.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/gradcheck.hpp"
#include "support/temp_dir.hpp"

using namespace deepgen;
using Catch::Contains;
namespace fs = std::filesystem;
using deepgen::test::TempDir;

namespace {
const std::string FIXTURE = std::string(DEEPGEN_FIXTURE_DIR) + "/pixelrnn_torch";

template <typename T>
models::PixelRNN<T> load_fixture_model() {
  const auto tensors = io::load_safetensors<T>(FIXTURE + "/model.safetensors");
  const int64_t K = tensors.at("fc.weight").dim(0), H = tensors.at("lstm.weight_hh_l0").dim(1);
  Philox rng(0);
  models::PixelRNN<T> model(K, H, rng);
  model.load_parameters(tensors, "fixture");
  return model;
}

}  // namespace

TEST_CASE("PixelRNN: a PyTorch-trained checkpoint gives PyTorch's NLL and logits", "[pixelrnn][interop]") {
  const auto model = load_fixture_model<float>();
  CHECK(model.palette_size() == 11);
  CHECK(model.hidden_size() == 16);
  const auto palette = data::load_colormap(FIXTURE + "/colormap.txt");
  const auto images = data::load_pixel_colors(FIXTURE + "/images.txt", palette.size());
  std::ifstream f(FIXTURE + "/expected.json");
  const auto expected = nlohmann::json::parse(f);
  const double torch_nll = expected["nll_nats_per_pixel"];
  const double nll = model.nll(images.pixels.data(), images.count, images.pixels_per_image());
  INFO("deepgen " << nll << " vs PyTorch " << torch_nll);
  REQUIRE(std::abs(nll - torch_nll) / torch_nll <= 1e-4);

  const Tensor<int32_t> first({1, 25}, std::vector<int32_t>(images.image(0), images.image(0) + 25));
  const Tensor<float> logits = model.logits(first).value();
  double diff = 0, norm = 0;
  for (int64_t p = 0; p < 25; ++p)
    for (int64_t k = 0; k < 11; ++k) {
      const double ref = expected["logits_image0"][p][k];
      diff += (logits.at(0, p, k) - ref) * (logits.at(0, p, k) - ref);
      norm += ref * ref;
    }
  REQUIRE(std::sqrt(diff / norm) <= 1e-5);
}

TEST_CASE("PixelRNN: PyTorch loads a deepgen checkpoint and agrees on the NLL", "[pixelrnn][interop]") {
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) {
    WARN("PyTorch (/usr/bin/python3 with torch) not available: the PyTorch side of the interop check is skipped");
    return;
  }
  TempDir dir;
  Philox rng(Catch::rngSeed());
  models::PixelRNN<float> model(11, 16, rng);
  const std::string path = (dir.path / "model.safetensors").string();
  io::save_safetensors<float>(path, io::parameter_tensors(model));
  const auto images = data::load_pixel_colors(FIXTURE + "/images.txt", 11);
  const double nll = model.nll(images.pixels.data(), images.count, images.pixels_per_image());
  char expected[64];
  std::snprintf(expected, sizeof expected, "%.9g", nll);
  const std::string cmd = "cd '" + FIXTURE + "' && /usr/bin/python3 check_deepgen_checkpoint.py '" + path + "' images.txt " + expected;
  REQUIRE(std::system(cmd.c_str()) == 0);
}

TEST_CASE("PixelRNN: gradients of the loss through the whole model (double)", "[pixelrnn][gradcheck]") {
  Philox rng(Catch::rngSeed());
  models::PixelRNN<double> model(5, 4, rng);
  const Tensor<int32_t> images = deepgen::test::random_indices({2, 6}, 0, 5);
  std::vector<Var<double>> params;
  for (auto& [name, p] : model.named_parameters()) params.push_back(p);
  deepgen::test::check_gradients([&] { return model.loss(images); }, params);
}

TEST_CASE("PixelRNN: completion carries the state; greedy equals re-running the sequence", "[pixelrnn]") {
  const auto model = load_fixture_model<double>();
  const auto images = data::load_pixel_colors(FIXTURE + "/images.txt", 11);
  const int64_t P = 25, keep = GENERATE(0, 10, 24);
  SECTION("keep=" + std::to_string(keep)) {
    const Tensor<int32_t> batch = images.to_tensor();
    const Tensor<int32_t> done = model.complete(batch, keep, {0.0, 0}, 1);
    for (int64_t b = 0; b < batch.dim(0); ++b) {
      // Naive: for each new pixel, run the model on everything so far and take the argmax.
      Tensor<int32_t> seq(Shape{1, P});
      std::copy_n(batch.data() + b * P, P, seq.data());
      for (int64_t t = keep; t < P; ++t) {
        const Tensor<double> logits = model.logits(seq).value();
        int32_t best = 0;
        for (int32_t k = 1; k < 11; ++k)
          if (logits.at(0, t, k) > logits.at(0, t, best)) best = k;
        seq.at(0, t) = best;
      }
      for (int64_t t = 0; t < P; ++t) REQUIRE(done.at(b, t) == seq.at(0, t));
    }
  }
}

TEST_CASE("PixelRNN: sampling is reproducible, per-image, and valid", "[pixelrnn]") {
  const auto model = load_fixture_model<float>();
  const Tensor<int32_t> a = model.sample(6, 25, {1.0, 0}, 42);
  const Tensor<int32_t> b = model.sample(6, 25, {1.0, 0}, 42);
  const Tensor<int32_t> c = model.sample(6, 25, {1.0, 0}, 43);
  const Tensor<int32_t> three = model.sample(3, 25, {1.0, 0}, 42);
  CHECK(std::equal(a.begin(), a.end(), b.begin()));
  CHECK_FALSE(std::equal(a.begin(), a.end(), c.begin()));
  CHECK(std::equal(three.begin(), three.end(), a.begin()));  // image i depends on (seed, i) only
  for (int32_t v : a) REQUIRE((v >= 0 && v < 11));
  // top_k = 1 is greedy.
  const Tensor<int32_t> greedy = model.sample(2, 25, {0.0, 0}, 1);
  const Tensor<int32_t> top1 = model.sample(2, 25, {1.0, 1}, 99);
  CHECK(std::equal(greedy.begin(), greedy.end(), top1.begin()));
}

TEST_CASE("PixelRNN: training steps lower the loss; NaN stops before touching the weights", "[pixelrnn]") {
  Philox rng(Catch::rngSeed());
  models::PixelRNN<float> model(11, 16, rng);
  const auto images = data::load_pixel_colors(FIXTURE + "/images.txt", 11).to_tensor();
  optim::Adam<float> adam(model.named_parameters(), {1e-2});
  const double first = model.train_step(images, adam, 1.0);
  double last = first;
  for (int i = 0; i < 30; ++i) last = model.train_step(images, adam, 1.0);
  CHECK(last < first - 0.5);

  Var<float> w = model.named_parameters()[1].second;  // lstm.weight_hh_l0
  w.value()[3] = std::numeric_limits<float>::quiet_NaN();
  const auto before = io::parameter_tensors(model);
  REQUIRE_THROWS_WITH(model.train_step(images, adam, 1.0), Contains("loss is nan") && Contains("learning rate"));
  const auto after = io::parameter_tensors(model);
  for (const auto& [name, t] : before)
    for (int64_t i = 0; i < t.numel(); ++i)
      if (!std::isnan(t[i])) REQUIRE(after.at(name)[i] == t[i]);
}

TEST_CASE("PixelRNN: bad input names the problem", "[pixelrnn][errors]") {
  const auto model = load_fixture_model<float>();
  const Tensor<int32_t> bad({1, 3}, {0, 11, 2});
  REQUIRE_THROWS_WITH(model.loss(bad), Contains("colour 11") && Contains("[0, 11)"));
  const Tensor<int32_t> ok({1, 4}, {0, 1, 2, 3});
  REQUIRE_THROWS_WITH(model.complete(ok, 5, {1.0, 0}, 1), Contains("keep = 5"));
  REQUIRE_THROWS_WITH(model.complete(ok, 2, {-1.0, 0}, 1), Contains("temperature -1"));
  // A checkpoint of another size does not load into this model.
  Philox rng(1);
  models::PixelRNN<float> other(11, 8, rng);
  REQUIRE_THROWS_WITH(other.load_parameters(io::parameter_tensors(model), "m.safetensors"),
                      Contains("lstm.weight_ih_l0") && Contains("[64, 11]") && Contains("[32, 11]"));
}

TEST_CASE("checkpoint: model and optimizer round trip; a mismatched pair is refused", "[pixelrnn][io]") {
  TempDir dir;
  const std::string path = (dir.path / "model.safetensors").string();
  Philox rng(3);
  models::PixelRNN<float> model(11, 8, rng);
  optim::Adam<float> adam(model.named_parameters());
  const auto images = data::load_pixel_colors(FIXTURE + "/images.txt", 11).to_tensor();
  model.train_step(images, adam, 1.0);
  io::save_checkpoint(path, model, adam, {{"epoch", "1"}});
  CHECK(fs::exists(dir.path / "model.optim.safetensors"));

  std::map<std::string, std::string> meta;
  Philox rng2(4);
  models::PixelRNN<float> copy(11, 8, rng2);
  copy.load_parameters(io::load_safetensors<float>(path, &meta), path);
  optim::Adam<float> adam2(copy.named_parameters());
  io::load_optimizer(path, meta, adam2);
  CHECK(meta.at("epoch") == "1");
  // One more identical step on both: bit-identical weights.
  model.train_step(images, adam, 1.0);
  copy.train_step(images, adam2, 1.0);
  const auto a = io::parameter_tensors(model), b = io::parameter_tensors(copy);
  for (const auto& [name, t] : a) REQUIRE(std::equal(t.begin(), t.end(), b.at(name).begin()));

  // A crash between the two renames leaves ids that differ.
  meta["checkpoint"] = "999";
  REQUIRE_THROWS_WITH(io::load_optimizer(path, meta, adam2), Contains("checkpoint mismatch") && Contains("step 999"));
}

TEST_CASE("checkpoint: a crash at any point of a save leaves a pair that resumes", "[pixelrnn][io]") {
  TempDir dir;
  const std::string path = (dir.path / "model.safetensors").string();
  const fs::path optim = dir.path / "model.optim.safetensors", prev = dir.path / "model.optim.prev.safetensors";
  Philox rng(3);
  models::PixelRNN<float> model(11, 8, rng);
  optim::Adam<float> adam(model.named_parameters());
  const auto images = data::load_pixel_colors(FIXTURE + "/images.txt", 11).to_tensor();
  model.train_step(images, adam, 1.0);
  io::save_checkpoint(path, model, adam, {{"epoch", "1"}});
  const auto state_1 = adam.state();
  CHECK(!fs::exists(prev));  // nothing to keep at the first save
  // The Adam state that load_optimizer restores from `path`, as name → values.
  auto resumed_state = [&] {
    const auto meta = io::read_safetensors_header(path).metadata;
    optim::Adam<float> fresh(model.named_parameters());
    io::load_optimizer(path, meta, fresh);
    return fresh.state();
  };
  auto same = [](const std::map<std::string, Tensor<float>>& x, const std::map<std::string, Tensor<float>>& y) {
    if (x.size() != y.size()) return false;
    for (const auto& [name, t] : x)
      if (!y.count(name) || !std::equal(t.begin(), t.end(), y.at(name).begin(), y.at(name).end())) return false;
    return true;
  };

  SECTION("killed after the optimizer file of the next save: the previous state pairs with the model") {
    model.train_step(images, adam, 1.0);
    io::save_optimizer_state<float>(path, adam.state(), {{"checkpoint", std::to_string(adam.steps())}});
    REQUIRE(fs::exists(prev));
    CHECK(same(resumed_state(), state_1));
    // The pair is whole again under the usual names, so a later crash is covered too.
    CHECK(!fs::exists(prev));
    CHECK(same(resumed_state(), state_1));
  }
  SECTION("killed after the old optimizer file was moved aside") {
    fs::rename(optim, prev);
    CHECK(same(resumed_state(), state_1));
    CHECK(fs::exists(optim));
  }
  SECTION("a whole save keeps the state before it beside the new one") {
    model.train_step(images, adam, 1.0);
    io::save_checkpoint(path, model, adam, {{"epoch", "2"}});
    CHECK(same(resumed_state(), adam.state()));
    CHECK(fs::exists(prev));
  }
  SECTION("neither optimizer file pairs: refused, naming both") {
    model.train_step(images, adam, 1.0);
    io::save_optimizer_state<float>(path, adam.state(), {{"checkpoint", "5"}});
    io::save_optimizer_state<float>(path, adam.state(), {{"checkpoint", "6"}});
    CHECK_THROWS_WITH(resumed_state(), Contains("checkpoint mismatch") && Contains("model.optim.safetensors is from step 6") &&
                                           Contains("model.optim.prev.safetensors is from step 5") &&
                                           Contains("is from step 1"));
  }
}

// ---- 2-D contexts (pixel_context.hpp) ----------------------------------------------

namespace {
models::PixelRNNConfig context_config(models::PixelContext c) {
  return {5, 4, c, 3, 3};  // K = 5, H = 4, 3 × 3 images
}
}  // namespace

TEST_CASE("PixelRNN 2-D contexts: gradients of every parameter (double)", "[pixelrnn][gradcheck]") {
  const auto context = GENERATE(models::PixelContext::above, models::PixelContext::above_position);
  SECTION(models::context_name(context)) {
    Philox rng(Catch::rngSeed());
    const models::PixelRNN<double> model(context_config(context), rng);
    CHECK(model.lstm().input_size() == model.config().input_size());
    const Tensor<int32_t> images = deepgen::test::random_indices({2, 9}, 0, 5);
    std::vector<Var<double>> params;
    for (auto& [name, p] : model.named_parameters()) params.push_back(p);
    deepgen::test::check_gradients([&] { return model.loss(images); }, params);
  }
}

TEST_CASE("PixelRNN 2-D contexts: step t sees only pixels before t", "[pixelrnn]") {
  // Change pixels t … P−1 of an image: the logits of steps 0 … t stay, and
  // (for t ≥ 1 with the row above in view) a change at t − W moves step t.
  const auto context = GENERATE(models::PixelContext::above, models::PixelContext::above_position);
  Philox rng(Catch::rngSeed());
  const models::PixelRNN<double> model(context_config(context), rng);
  const Tensor<int32_t> a = deepgen::test::random_indices({1, 9}, 0, 5);
  const Tensor<double> la = model.logits(a).value();
  for (int64_t t = 0; t < 9; ++t) {
    Tensor<int32_t> b = a;
    for (int64_t p = t; p < 9; ++p) b[p] = (a[p] + 1 + int32_t(p)) % 5;
    const Tensor<double> lb = model.logits(b).value();
    for (int64_t s = 0; s <= t; ++s)
      for (int64_t k = 0; k < 5; ++k) REQUIRE(lb.at(0, s, k) == la.at(0, s, k));
  }
  // Pixel 1 is above pixel 4: the LSTM could only carry it through the state,
  // but here it is also a direct input, so step 4's logits see it.
  Tensor<int32_t> b = a;
  b[1] = (a[1] + 2) % 5;
  CHECK(model.logits(b).value().at(0, 4, 0) != la.at(0, 4, 0));
}

TEST_CASE("PixelRNN 2-D contexts: completion keeps the kept pixels and conditions on them exactly", "[pixelrnn]") {
  const auto context = GENERATE(models::PixelContext::above, models::PixelContext::above_position);
  const int64_t keep = GENERATE(0, 4, 6);
  SECTION(std::string(models::context_name(context)) + " keep=" + std::to_string(keep)) {
    Philox rng(Catch::rngSeed());
    const models::PixelRNN<double> model(context_config(context), rng);
    Tensor<int32_t> images = deepgen::test::random_indices({3, 9}, 0, 5);
    // Greedy completion equals re-running the whole model on what is drawn so far.
    const Tensor<int32_t> greedy = model.complete(images, keep, {0.0, 0}, 1);
    for (int64_t b = 0; b < 3; ++b) {
      Tensor<int32_t> seq(Shape{1, 9});
      std::copy_n(images.data() + b * 9, 9, seq.data());
      for (int64_t t = keep; t < 9; ++t) {
        const Tensor<double> logits = model.logits(seq).value();
        int32_t best = 0;
        for (int32_t k = 1; k < 5; ++k)
          if (logits.at(0, t, k) > logits.at(0, t, best)) best = k;
        seq.at(0, t) = best;
      }
      for (int64_t t = 0; t < 9; ++t) REQUIRE(greedy.at(b, t) == seq.at(0, t));
    }
    // Pixels past `keep` are never read: poisoned, they change nothing; kept ones never change.
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t p = keep; p < 9; ++p) images.at(b, p) = -77;
    const Tensor<int32_t> drawn = model.complete(images, keep, {1.0, 0}, 5);
    const Tensor<int32_t> again = model.complete(greedy, keep, {1.0, 0}, 5);
    for (int64_t n = 0; n < 27; ++n) {
      REQUIRE(drawn[n] == again[n]);
      if (n % 9 < keep) REQUIRE(drawn[n] == images[n]);
      REQUIRE((drawn[n] >= 0 && drawn[n] < 5));
    }
  }
}

TEST_CASE("PixelRNN 2-D contexts: images of another size are refused", "[pixelrnn][errors]") {
  Philox rng(1);
  const models::PixelRNN<float> model(context_config(models::PixelContext::above), rng);
  const Tensor<int32_t> wrong(Shape{2, 8});
  REQUIRE_THROWS_WITH(model.loss(wrong), Contains("8 pixels") && Contains("3 × 3"));
  REQUIRE_THROWS_WITH(model.sample(2, 16, {1.0, 0}, 1), Contains("16 pixels") && Contains("3 × 3"));
  REQUIRE_THROWS_WITH(models::PixelRNN<float>(models::PixelRNNConfig{5, 4, models::PixelContext::above, 0, 0}, rng),
                      Contains("needs the image size"));
}
