// models/pixelrnn_sprites.hpp: a checkpoint loads into a model of its own
// hidden size (and a wrong file is a clear error), completions keep whole
// rows, the batch repeats each image, and the completion grid shows what the
// model saw, every completion and the original, in that order.
#include <catch2/catch.hpp>

#include <deepgen/data/pokemon.hpp>
#include <deepgen/train/checkpoint.hpp>
#include <deepgen/models/pixelrnn_sprites.hpp>

#include <algorithm>
#include <map>
#include <string>

#include "support/gradcheck.hpp"
#include "support/temp_dir.hpp"

using namespace deepgen;
using Catch::Contains;
using deepgen::test::TempDir;

namespace {

/// `count` side × side images of K colours, every pixel a fresh draw (none all one colour).
ImageSet random_images(int64_t count, int64_t side, int K, Philox& rng) {
  ImageSet set;
  set.count = count;
  set.side = side;
  for (int64_t i = 0; i < count * side * side; ++i) set.pixels.push_back(int32_t(rng.next_u32() % uint32_t(K)));
  return set;
}

Palette palette_of(int K) {
  Palette p;
  for (int k = 0; k < K; ++k) p.rgb.push_back({uint8_t(40 * k), uint8_t(255 - 30 * k), uint8_t(17 * k + 3)});
  return p;
}

}  // namespace

TEST_CASE("load_pixelrnn: the hidden size comes from the file; a wrong file names the problem", "[pixelrnn][io]") {
  TempDir dir;
  const std::string path = (dir.path / "model.safetensors").string();
  const int64_t K = 6, H = GENERATE(1, 7);
  SECTION("K=6 H=" + std::to_string(H)) {
    Philox rng{uint64_t(Catch::rngSeed())};
    const models::PixelRNN<float> saved(K, H, rng);
    io::save_safetensors<float>(path, io::parameter_tensors(saved), {{"epoch", "3"}});

    std::map<std::string, std::string> meta;
    const models::PixelRNN<float> loaded = models::load_pixelrnn(path, K, &meta);
    CHECK(loaded.hidden_size() == H);
    CHECK(loaded.palette_size() == K);
    CHECK(meta.at("epoch") == "3");
    const auto a = io::parameter_tensors(saved), b = io::parameter_tensors(loaded);
    for (const auto& [name, t] : a) REQUIRE(std::equal(t.begin(), t.end(), b.at(name).begin()));

    CHECK_THROWS_WITH(models::load_pixelrnn(path, K + 1), Contains("has shape") && Contains(path));
  }
  CHECK_THROWS_WITH(models::load_pixelrnn((dir.path / "none.safetensors").string(), K),
                    Contains("none.safetensors"));
  const std::string other = (dir.path / "other.safetensors").string();
  io::save_safetensors<float>(other, std::map<std::string, Tensor<float>>{{"fc.weight", Tensor<float>(Shape{6, 3})}});
  CHECK_THROWS_WITH(models::load_pixelrnn(other, K), Contains("is this a PixelRNN checkpoint"));
}

TEST_CASE("load_pixelrnn: a 2-D context model comes back from its metadata; edits are refused", "[pixelrnn][io]") {
  TempDir dir;
  const std::string path = (dir.path / "model.safetensors").string();
  const int64_t K = 6;
  const models::PixelRNNConfig config{K, 5, models::PixelContext::above_position, 4, 4};
  Philox rng{uint64_t(Catch::rngSeed())};
  const models::PixelRNN<double> saved(config, rng);
  io::save_safetensors<double>(path, io::parameter_tensors(saved), models::pixelrnn_metadata(config));
  const models::PixelRNN<double> loaded = models::load_pixelrnn<double>(path, K);
  CHECK(loaded.config().context == models::PixelContext::above_position);
  CHECK(loaded.config().width == 4);
  CHECK(loaded.hidden_size() == 5);
  const Tensor<int32_t> images = deepgen::test::random_indices({5, 16}, 0, int32_t(K));
  const double before = saved.nll(images.data(), 5, 16), after = loaded.nll(images.data(), 5, 16);
  CHECK(std::abs(after - before) <= 1e-6 * before);

  CHECK_THROWS_WITH(models::load_pixelrnn<double>(path, K + 1),
                    Contains(path) && Contains("palette of 6 colours but the data has 7"));
  // Metadata that disagrees with the tensors: another context, another hidden size.
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"pixelrnn.context", "above"}, {"pixelrnn.hidden_size", "6"}, {"pixelrnn.width", "5"}}) {
    auto meta = models::pixelrnn_metadata(config);
    meta[key] = value;
    const std::string edited = (dir.path / "edited.safetensors").string();
    io::save_safetensors<double>(edited, io::parameter_tensors(saved), meta);
    CHECK_THROWS_WITH(models::load_pixelrnn<double>(edited, K),
                      Contains(edited) && Contains("metadata says") && Contains("edited or damaged"));
  }
}

TEST_CASE("kept_pixels: whole top rows; fractions outside (0, 1), or that round to no rows or all, are refused", "[pixelrnn]") {
  CHECK(models::kept_pixels(0.5, 20) == 200);
  CHECK(models::kept_pixels(0.25, 20) == 100);
  CHECK(models::kept_pixels(0.5, 7) == 28);  // 3.5 rows round to 4
  CHECK(models::kept_pixels(0.03, 20) == 20);  // 0.6 rows round to 1
  CHECK(models::kept_pixels(0.97, 20) == 380);  // 19.4 rows round to 19
  // A fraction inside (0, 1) that rounds to no rows or to all of them is refused like 0 and 1.
  CHECK_THROWS_WITH(models::kept_pixels(0.02, 20), Contains("keeps 0 of the 20 rows"));
  CHECK_THROWS_WITH(models::kept_pixels(0.98, 20), Contains("keeps 20 of the 20 rows"));
  CHECK_THROWS_WITH(models::kept_pixels(0.5, 1), Contains("no rows to complete"));
  for (double bad : {0.0, 1.0, -0.5, 1.5})
    CHECK_THROWS_WITH(models::kept_pixels(bad, 20), Contains("between 0 and 1"));
}

TEST_CASE("repeat_images: row i·samples + k is image i", "[pixelrnn]") {
  Philox rng{uint64_t(Catch::rngSeed())};
  const ImageSet set = random_images(7, 5, 6, rng);
  const int64_t count = GENERATE(1, 7), samples = GENERATE(1, 3);
  SECTION("count=" + std::to_string(count) + " samples=" + std::to_string(samples)) {
    const Tensor<int32_t> batch = models::repeat_images(set, count, samples);
    REQUIRE(batch.shape() == Shape{count * samples, 25});
    for (int64_t i = 0; i < count; ++i)
      for (int64_t k = 0; k < samples; ++k)
        REQUIRE(std::equal(set.image(i), set.image(i) + 25, batch.data() + (i * samples + k) * 25));
  }
  CHECK_THROWS_WITH(models::repeat_images(set, 0, 1), Contains("between 1 and 7"));
  CHECK_THROWS_WITH(models::repeat_images(set, 8, 1), Contains("between 1 and 7"));
  CHECK_THROWS_WITH(models::repeat_images(set, 2, 0), Contains("samples 0"));
}

TEST_CASE("completion_cells: what the model saw, each completion, the original", "[pixelrnn]") {
  Philox rng{uint64_t(Catch::rngSeed())};
  const int K = 6, scale = 2;
  const int64_t side = 5, P = side * side, count = 3, samples = 2;
  const ImageSet set = random_images(4, side, K, rng);
  const Palette palette = palette_of(K);
  const int64_t keep = models::kept_pixels(0.5, side);  // 3 rows
  // Stand-in completions: the kept rows, then fresh colours (what complete returns).
  Tensor<int32_t> completed = models::repeat_images(set, count, samples);
  for (int64_t r = 0; r < count * samples; ++r)
    for (int64_t p = keep; p < P; ++p) completed.at(r, p) = int32_t(rng.next_u32() % uint32_t(K));

  const auto cells = models::completion_cells(set, completed, keep, samples, palette, scale);
  REQUIRE(cells.size() == size_t(count * (samples + 2)));
  for (int64_t i = 0; i < count; ++i) {
    const io::RgbImage& seen = cells[size_t(i * (samples + 2))];
    for (int64_t p = 0; p < P; ++p) {
      const io::Rgb want = p < keep ? io::Rgb(palette[set.image(i)[p]]) : io::HIDDEN_GREY;
      REQUIRE(seen.get(int(p % side) * scale, int(p / side) * scale) == want);
    }
    for (int64_t k = 0; k < samples; ++k)
      REQUIRE(cells[size_t(i * (samples + 2) + 1 + k)].rgb ==
              io::render_palette_image(completed.data() + (i * samples + k) * P, int(side), palette, scale).rgb);
    REQUIRE(cells[size_t(i * (samples + 2) + samples + 1)].rgb == io::render_image(set, i, palette, scale).rgb);
  }

  CHECK_THROWS_WITH(models::completion_cells(set, completed, keep, 4, palette, scale),
                    Contains("pass what PixelRNN::complete returned"));
  CHECK_THROWS_WITH(models::completion_cells(set, Tensor<int32_t>(Shape{2, P - 1}), keep, 1, palette, scale),
                    Contains("completed is"));
  CHECK_THROWS_WITH(models::completion_cells(set, completed, P + 1, samples, palette, scale),
                    Contains("keep 26"));
}
