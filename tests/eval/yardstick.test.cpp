// Tests of the yardstick (include/deepgen/eval/): the Fréchet distance and the
// k-NN precision/recall on hand-made feature sets with known answers, the
// nearest-TRAIN distance, the feature checkpoint's round trip and refusals,
// and the whole yardstick on hand-made image sets (and, where the lecture's
// data is present, with the committed feature model on TEST).
#include <catch2/catch.hpp>

#include <deepgen/eval/yardstick.hpp>

#include <cmath>
#include <filesystem>
#include <string>

#include "support/temp_dir.hpp"

using namespace deepgen;
namespace fs = std::filesystem;

namespace {

Tensor<float> gaussian_points(int64_t n, int64_t f, uint64_t seed, float shift = 0, float sd = 1) {
  Tensor<float> t(Shape{n, f});
  Philox rng(seed);
  fill_normal(t, rng, shift, sd);
  return t;
}

// A hand-made palette: white background, three colours.
Palette little_palette() {
  Palette p;
  p.rgb = {{255, 255, 255}, {200, 30, 30}, {30, 30, 200}, {20, 160, 40}};
  return p;
}

// `count` 6×6 "sprites": a filled rectangle of colour 1..3 at a random place and size on white.
ImageSet blobs(int64_t count, uint64_t seed) {
  ImageSet s;
  s.side = 6;
  s.count = count;
  s.pixels.assign(size_t(count * 36), 0);
  Philox rng(seed);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t x = rng.uniform_int(4), y = rng.uniform_int(4), w = 2 + rng.uniform_int(3), h = 2 + rng.uniform_int(3);
    const int32_t c = int32_t(1 + rng.uniform_int(3));
    for (int64_t r = y; r < std::min<int64_t>(6, y + h); ++r)
      for (int64_t q = x; q < std::min<int64_t>(6, x + w); ++q) s.image(i)[r * 6 + q] = c;
  }
  return s;
}

eval::FeatureEncoder little_encoder(uint64_t seed = 3) {
  eval::FeatureConfig c;
  c.pixels = 36;
  c.palette_size = 4;
  c.hidden = 16;
  c.features = 8;
  c.latent = 2;
  Philox rng(seed);
  return eval::FeatureEncoder(c, rng);
}

}  // namespace

TEST_CASE("frechet_distance: 0 for one set, the squared shift for a moved one, the closed form for diagonal "
          "Gaussians", "[eval]") {
  const Tensor<float> a = gaussian_points(200, 5, 1);
  CHECK(eval::frechet_distance(a, a) == Approx(0).margin(1e-9));
  Tensor<float> moved = a;
  for (int64_t i = 0; i < moved.dim(0); ++i) moved.at(i, 2) += 3.0f;  // same covariance, mean + 3·e₂
  CHECK(eval::frechet_distance(a, moved) == Approx(9.0).epsilon(1e-5));
  // Exact moments: FD(N(0, diag(a)), N(μ, diag(b))) = ‖μ‖² + Σ (√a − √b)².
  eval::Moments x, y;
  x.mean = Eigen::VectorXd::Zero(3);
  y.mean = Eigen::VectorXd::Constant(3, 1.0);
  x.cov = Eigen::Vector3d(1, 4, 9).asDiagonal();
  y.cov = Eigen::Vector3d(4, 4, 1).asDiagonal();
  CHECK(eval::frechet_distance(x, y) == Approx(3.0 + 1.0 + 0.0 + 4.0).epsilon(1e-12));
  // Symmetric, and a singular covariance (fewer points than dimensions) still gives a real value.
  const Tensor<float> few = gaussian_points(4, 10, 2), other = gaussian_points(5, 10, 3, 0.5f);
  const double fd = eval::frechet_distance(few, other);
  CHECK(std::isfinite(fd));
  CHECK(fd == Approx(eval::frechet_distance(other, few)).epsilon(1e-6));
  CHECK_THROWS_WITH(eval::frechet_distance(a, gaussian_points(10, 4, 5)), Catch::Contains("one feature space"));
}

TEST_CASE("precision_recall: 1 and 1 for one set; a far cluster is outside; half coverage shows as recall",
          "[eval]") {
  const Tensor<float> real = gaussian_points(100, 4, 1);
  const auto same = eval::precision_recall(real, real, 3);
  CHECK(same.precision == 1.0);
  CHECK(same.recall == 1.0);
  const auto far = eval::precision_recall(real, gaussian_points(50, 4, 2, 100.0f), 3);
  CHECK(far.precision == 0.0);
  CHECK(far.recall == 0.0);
  // Two far-apart clusters of real points; samples that copy one cluster are all realistic and cover half.
  Tensor<float> two(Shape{100, 4});
  const Tensor<float> a = gaussian_points(50, 4, 7), b = gaussian_points(50, 4, 8, 50.0f);
  std::copy_n(a.data(), 200, two.data());
  std::copy_n(b.data(), 200, two.data() + 200);
  const auto h = eval::precision_recall(two, a, 3);
  CHECK(h.precision == 1.0);
  CHECK(h.recall == 0.5);
  // Mode collapse: every sample the same real point: precise, and no recall beyond that point's ball.
  Tensor<float> collapsed(Shape{20, 4});
  for (int64_t i = 0; i < 20; ++i) std::copy_n(real.data(), 4, collapsed.data() + i * 4);
  const auto c = eval::precision_recall(real, collapsed, 3);
  CHECK(c.precision == 1.0);
  CHECK(c.recall <= 0.05);
  CHECK_THROWS_WITH(eval::precision_recall(gaussian_points(3, 4, 1), real, 3), Catch::Contains("more than k"));
}

TEST_CASE("nearest_distances: Hamming distance to the nearest TRAIN image", "[eval]") {
  const ImageSet train = blobs(10, 7);
  ImageSet samples = eval::image_range(train, 2, 3);
  samples.image(0)[0] = samples.image(0)[0] == 3 ? 2 : 3;  // one pixel off train image 2
  const std::vector<int64_t> d = eval::nearest_distances(samples, train);
  REQUIRE(d.size() == 3);
  CHECK(d[0] <= 1);
  CHECK(d[1] == 0);
  CHECK(d[2] == 0);
  ImageSet far = samples;
  for (auto& v : far.pixels) v = 0;  // all white: as far as the smallest blob
  int64_t smallest = 36;
  for (int64_t i = 0; i < train.count; ++i)
    smallest = std::min<int64_t>(smallest, 36 - std::count(train.image(i), train.image(i) + 36, 0));
  CHECK(eval::nearest_distances(far, train)[0] == smallest);
}

TEST_CASE("palette_rgb_edges: RGB, then each pixel's colour change to its right and lower neighbour", "[eval]") {
  // 2×2 image: white, red / blue, white (little_palette's colours 0, 1, 2, 0).
  const int32_t px[4] = {0, 1, 2, 0};
  const Palette pal = little_palette();
  const Tensor<float> rgb = eval::palette_rgb(px, 1, 4, pal), e = eval::palette_rgb_edges(px, 1, 4, pal);
  REQUIRE(e.shape() == Shape{1, 20});
  for (int64_t j = 0; j < 12; ++j) CHECK(e[j] == rgb[j]);
  auto change = [&](int32_t a, int32_t b) {
    double sum = 0;
    for (size_t j = 0; j < 3; ++j) sum += std::abs(double(pal.rgb[size_t(a)][j]) - double(pal.rgb[size_t(b)][j])) / 127.5;
    return sum / 3;
  };
  const double right[4] = {change(0, 1), 0, change(2, 0), 0}, down[4] = {change(0, 2), change(1, 0), 0, 0};
  for (int64_t p = 0; p < 4; ++p) {
    CHECK(e[12 + p] == Approx(right[p]).epsilon(1e-6));
    CHECK(e[16 + p] == Approx(down[p]).epsilon(1e-6));
  }
  CHECK(e[12] == Approx(2.0 * (55 + 225 + 225) / 255.0 / 3.0).epsilon(1e-6));  // white → red, by hand
  CHECK_THROWS_WITH(eval::palette_rgb_edges(px, 1, 3, pal), Catch::Contains("not square"));
}

TEST_CASE("feature model: saved and loaded, another kind of file or size refused", "[eval]") {
  test::TempDir dir;
  const std::string path = (dir.path / "f.safetensors").string();
  const eval::FeatureEncoder enc = little_encoder();
  eval::save_feature_model(path, enc);
  const eval::FeatureEncoder back = eval::load_feature_model(path, 36, 4);
  const ImageSet s = blobs(5, 1);
  const Tensor<float> f1 = enc.embed(s, little_palette()), f2 = back.embed(s, little_palette());
  REQUIRE(f1.shape() == Shape{5, 8});
  for (int64_t i = 0; i < f1.numel(); ++i) CHECK(f1[i] == f2[i]);
  CHECK_THROWS_WITH(eval::load_feature_model(path, 49, 4), Catch::Contains("make one for this data"));
  std::map<std::string, Tensor<float>> tensors;
  for (const auto& [name, p] : enc.named_parameters()) tensors[name] = p.value();
  io::save_safetensors<float>(path, tensors, {{"model", "pixelrnn"}});
  CHECK_THROWS_WITH(eval::load_feature_model(path, 36, 4), Catch::Contains("not a yardstick feature model"));
  Palette wrong = little_palette();
  wrong.rgb.pop_back();
  CHECK_THROWS_WITH(enc.embed(s, wrong), Catch::Contains("palette of 4 colours"));
  // A file from before the input key (an RGB encoder, no "input") still loads and embeds as it did.
  eval::FeatureConfig c = enc.config();
  c.input = eval::FeatureInput::rgb;
  Philox rng(5);
  const eval::FeatureEncoder old(c, rng);
  std::map<std::string, Tensor<float>> old_tensors;
  for (const auto& [name, p] : old.named_parameters()) old_tensors[name] = p.value();
  io::save_safetensors<float>(path, old_tensors, {{"model", eval::FEATURES_MODEL}, {"pixels", "36"},
      {"palette_size", "4"}, {"hidden", "16"}, {"features", "8"}, {"latent", "2"}});
  const eval::FeatureEncoder old_back = eval::load_feature_model(path, 36, 4);
  CHECK(old_back.config().input == eval::FeatureInput::rgb);
  const Tensor<float> g1 = old.embed(s, little_palette()), g2 = old_back.embed(s, little_palette());
  for (int64_t i = 0; i < g1.numel(); ++i) CHECK(g1[i] == g2[i]);
  io::save_safetensors<float>(path, old_tensors, {{"model", eval::FEATURES_MODEL}, {"input", "rgb+edges"},
      {"pixels", "36"}, {"palette_size", "4"}, {"hidden", "16"}, {"features", "8"}, {"latent", "2"}});
  CHECK_THROWS_WITH(eval::load_feature_model(path, 36, 4), Catch::Contains("encoder.0.weight"));
  io::save_safetensors<float>(path, old_tensors, {{"model", eval::FEATURES_MODEL}, {"input", "grey"},
      {"pixels", "36"}, {"palette_size", "4"}, {"hidden", "16"}, {"features", "8"}, {"latent", "2"}});
  CHECK_THROWS_WITH(eval::load_feature_model(path, 36, 4), Catch::Contains("input='grey'"));
}

TEST_CASE("Yardstick on hand-made sets: the reference scores fd 0, precision and recall 1; TRAIN copies are "
          "copies; out-of-palette samples refused", "[eval]") {
  const ImageSet test = blobs(30, 11), train = blobs(60, 12);
  const eval::Yardstick y(test, train, little_palette(), little_encoder());
  const eval::Scores self = y.score(test);
  CHECK(self.fd == Approx(0).margin(1e-6));
  CHECK(self.precision == 1.0);
  CHECK(self.recall == 1.0);
  CHECK(std::isnan(self.judge_nll));
  const eval::Scores copies = y.score(eval::image_range(train, 0, 20));
  CHECK(copies.copies == 1.0);
  CHECK(copies.nearest_train == 0.0);
  CHECK(copies.stats.components_median == 1.0);  // one rectangle per image
  CHECK(copies.line().find("copies=1.0000") != std::string::npos);
  ImageSet bad = test;
  bad.pixels[5] = 4;
  CHECK_THROWS_WITH(y.score(bad), Catch::Contains("palette has 4 colours"));
  CHECK_THROWS_WITH(y.score(eval::image_range(test, 0, 3)), Catch::Contains("more than 3 samples"));
}

TEST_CASE("Yardstick on the lecture's data with the committed feature model: TEST scores itself perfectly, TRAIN "
          "copies are flagged, all-white images fall outside TEST's manifold", "[eval][data]") {
  const fs::path dir = DEEPGEN_TEST_DATA_DIR;
  const fs::path features = fs::path(DEEPGEN_FIXTURE_DIR) / ".." / ".." / "share" / "yardstick_features.safetensors";
  if (!fs::exists(dir / "pixel_color.txt")) {
    WARN("the lecture's data is not at " << dir << "; skipped");
    return;
  }
  const data::PokemonSplit s = data::load_pokemon_split(dir.string());
  const eval::Yardstick y = eval::load_yardstick(s, features.string(), "");
  const eval::Scores self = y.score(s.test);
  CHECK(self.fd == Approx(0).margin(1e-6));
  CHECK(self.precision == 1.0);
  CHECK(self.recall == 1.0);
  CHECK(self.copies == 0.0);  // TEST holds no TRAIN image
  const eval::Scores copies = y.score(eval::image_range(s.train, 0, 64));
  CHECK(copies.copies == 1.0);
  ImageSet white = eval::image_range(s.train, 0, 64);
  const int32_t background = data::background_colour(s.train);
  for (auto& v : white.pixels) v = background;
  const eval::Scores w = y.score(white);
  CHECK(w.precision <= 0.05);
  CHECK(w.recall <= 0.05);
  CHECK(w.fd > 10 * copies.fd);
  CHECK(w.stats.background_share == 1.0);
  // Speckle: TEST with half of its pixels set to random colours must score
  // well apart from real sprites (TEST's halves). The RGB space does not
  // tell a quarter apart (fd 11.7 against the halves' 12.2; docs/gan.md).
  const double reference_fd = eval::reference_scores(s, features.string(), "").fd;
  const eval::Scores sp = y.score(eval::speckled(s.test, s.data.palette.size(), 0.5, 1));
  INFO("speckled fd " << sp.fd << " recall " << sp.recall << "; TEST halves fd " << reference_fd);
  CHECK(sp.fd > 2 * reference_fd);
  CHECK(sp.recall < 0.5);
}
