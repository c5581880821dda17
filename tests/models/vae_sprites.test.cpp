// models/option_text.hpp, latent_paths.hpp's parsers and vae_sprites.hpp's
// helpers for the picture commands: option text is read strictly with
// errors that name the option, a resume is refused with what to pass, and
// the pictures hold the cells they promise, in order.
#include <catch2/catch.hpp>

#include <deepgen/data/pokemon.hpp>
#include <deepgen/train/checkpoint.hpp>
#include <deepgen/models/latent_paths.hpp>
#include <deepgen/models/option_text.hpp>
#include <deepgen/models/vae_sprites.hpp>

#include <string>
#include <vector>

#include "support/temp_dir.hpp"

using namespace deepgen;
using Catch::Contains;
using deepgen::test::TempDir;
using models::VAEConfig;

TEST_CASE("split_commas and parse_integer read option text strictly", "[vae][cli]") {
  using V = std::vector<std::string>;
  CHECK(models::split_commas("") == V{});
  CHECK(models::split_commas("7") == V{"7"});
  CHECK(models::split_commas("a,,b") == V{"a", "", "b"});
  CHECK(models::split_commas("a,") == V{"a", ""});
  CHECK(models::split_commas(",") == V{"", ""});
  long long v = 0;
  CHECK((models::parse_integer("-12", v) && v == -12));
  CHECK((models::parse_integer("512", v) && v == 512));
  for (const char* bad : {"", "x", "1x", "1.5", "99999999999999999999"}) CHECK_FALSE(models::parse_integer(bad, v));
}

TEST_CASE("parse_widths and join_widths: comma-separated positive widths, round trip", "[vae][cli]") {
  using W = std::vector<int64_t>;
  CHECK(models::parse_widths("512,256", "--encoder") == W{512, 256});
  CHECK(models::parse_widths("16", "--encoder") == W{16});
  CHECK(models::parse_widths("", "--encoder") == W{});
  CHECK(models::join_widths({512, 256}) == "512,256");
  CHECK(models::join_widths({}) == "");
  CHECK(models::parse_widths(models::join_widths({3, 1, 4}), "--x") == W{3, 1, 4});
  CHECK_THROWS_WITH(models::parse_widths("16,x", "--encoder"),
                    Contains("--encoder '16,x': 'x' is not a positive width") && Contains("512,256"));
  CHECK_THROWS_WITH(models::parse_widths("0", "--decoder"), Contains("--decoder '0': '0'"));
  CHECK_THROWS_WITH(models::parse_widths("8,", "--decoder"), Contains("'' is not a positive width"));
}

TEST_CASE("parse_dims: two different dimensions of the code", "[vae][cli][latent]") {
  CHECK(models::parse_dims("0,2", 3) == std::pair<int64_t, int64_t>{0, 2});
  CHECK(models::parse_dims("2,1", 3) == std::pair<int64_t, int64_t>{2, 1});
  CHECK_THROWS_WITH(models::parse_dims("1,1", 3), Contains("--dims '1,1'") && Contains("must differ"));
  CHECK_THROWS_WITH(models::parse_dims("0,3", 3), Contains("dimension 3 does not exist") && Contains("0 … 2"));
  CHECK_THROWS_WITH(models::parse_dims("-1,0", 3), Contains("dimension -1 does not exist"));
  CHECK_THROWS_WITH(models::parse_dims("a,1", 3), Contains("'a' is not a number"));
  CHECK_THROWS_WITH(models::parse_dims("1", 3), Contains("separated by a comma"));
  CHECK_THROWS_WITH(models::parse_dims("0,1,2", 3, "--pair"), Contains("--pair '0,1,2'"));
}

TEST_CASE("parse_base: zero or test:K", "[vae][cli][latent]") {
  CHECK_FALSE(models::parse_base("zero").has_value());
  CHECK(models::parse_base("test:3") == 3);
  CHECK(models::parse_base("test:-1") == -1);  // the caller checks it against its images
  for (const char* bad : {"test:x", "test:", "one", "Zero", "test:1 "})
    CHECK_THROWS_WITH(models::parse_base(bad), Contains("expected zero or test:K"));
}

TEST_CASE("dimension_labels name sweep_each_dimension's rows", "[latent]") {
  CHECK(models::dimension_labels(3) == std::vector<std::string>{"dim 0", "dim 1", "dim 2"});
  CHECK(models::dimension_labels(0).empty());
}

TEST_CASE("sprite_look names the three looks", "[vae][cli]") {
  CHECK(models::sprite_look("argmax") == models::SpriteLook::argmax);
  CHECK(models::sprite_look("mean") == models::SpriteLook::mean);
  CHECK(models::sprite_look("sample") == models::SpriteLook::sample);
  CHECK_THROWS_WITH(models::sprite_look("soft"), Contains("'soft'"));
}

TEST_CASE("check_resumable refuses another mode or size, saying what to pass", "[vae][cli]") {
  const VAEConfig saved = VAEConfig::standard(25, 6);
  CHECK_NOTHROW(models::check_resumable(saved, saved, "m.safetensors"));
  VAEConfig other = saved;
  other.mode = models::VAEMode::ae;
  CHECK_THROWS_WITH(models::check_resumable(saved, other, "m.safetensors"),
                    Contains("m.safetensors holds a model of mode vae but --mode is ae; pass --mode vae"));
  other = saved;
  other.latent = 4;
  CHECK_THROWS_WITH(models::check_resumable(saved, other, "m.safetensors"),
                    Contains("has a 10-dimensional code but --latent is 4; pass --latent 10"));
  other = saved;
  other.decoder_hidden = {16};
  CHECK_THROWS_WITH(models::check_resumable(saved, other, "m.safetensors"),
                    Contains("--encoder 512,256 --decoder 256,512 --colour-dim 16"));
  other = saved;
  other.colour_dim = 0;
  CHECK_THROWS_WITH(models::check_resumable(saved, other, "m.safetensors"), Contains("pass the same sizes"));
}

TEST_CASE("ImageSet::batch copies the chosen images in order", "[vae]") {
  ImageSet set;
  set.count = 3;
  set.side = 2;
  for (int32_t i = 0; i < 12; ++i) set.pixels.push_back(i);
  const Tensor<int32_t> b = set.batch({2, 0, 2});
  REQUIRE(b.shape() == Shape{3, 4});
  CHECK(std::vector<int32_t>(b.begin(), b.end()) == std::vector<int32_t>{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});
  CHECK(set.batch({}).shape() == Shape{0, 4});
  CHECK_THROWS_WITH(set.batch({3}), Contains("image 3 does not exist"));
}

TEST_CASE("VAESprites: a checkpoint with its data, drawn as grid cells", "[vae][io]") {
  TempDir dir;
  const int K = 5, scale = 2;
  const int64_t side = 4, P = side * side, count = 60;
  Philox rng{uint64_t(Catch::rngSeed())};
  ImageSet all;
  all.count = count;
  all.side = side;
  for (int64_t i = 0; i < count * P; ++i) all.pixels.push_back(int32_t(rng.next_u32() % uint32_t(K)));
  Palette palette;
  for (int k = 0; k < K; ++k) palette.rgb.push_back({uint8_t(50 * k), uint8_t(255 - 40 * k), uint8_t(13 * k)});
  data::save_colormap((dir.path / "colormap.txt").string(), palette);
  data::save_pixel_colors((dir.path / "pixel_color.txt").string(), all);
  VAEConfig c = VAEConfig::standard(P, K);
  c.latent = 3;
  c.encoder_hidden = {8};
  c.decoder_hidden = {8};
  const models::VAE<float> saved(c, rng);
  const std::string weights = (dir.path / "model.safetensors").string();
  io::save_safetensors<float>(weights, io::parameter_tensors(saved), {});

  const models::VAESprites p(dir.path.string(), weights, models::SpriteLook::argmax, scale, 7);
  REQUIRE(p.model.config().latent == 3);
  REQUIRE(p.s.test.count == 3);  // rows 7, 27, 47
  CHECK(models::summary(p.model) == "vae: " + std::to_string(saved.parameter_count()) +
                                        " parameters, encoder 8, decoder 8, colour dim 16, 3-d code");

  const Tensor<float> code = p.test_code(1, "--from");
  REQUIRE(code.shape() == Shape{1, 3});
  CHECK_THROWS_WITH(p.test_code(3, "--from"), Contains("--from 3 is not a TEST image; use 0 … 2"));
  CHECK_THROWS_WITH(p.test_code(-1, "--base test:"), Contains("--base test: -1 is not a TEST image"));

  const auto render = [&](const Tensor<float>& codes) {
    return models::render_codes(p.model, codes, models::SpriteLook::argmax, palette, int(side), scale, 7);
  };
  const auto recon = p.reconstructions(2);
  REQUIRE(recon.size() == 4);
  const auto decoded = render(p.model.encode(p.s.test.batch({0, 1})));
  for (int64_t i = 0; i < 2; ++i) {
    CHECK(recon[size_t(i)].rgb == io::render_image(p.s.test, i, palette, scale).rgb);
    CHECK(recon[size_t(2 + i)].rgb == decoded[size_t(i)].rgb);
  }

  const auto line = p.interpolation(0, 2, 4);
  REQUIRE(line.size() == 6);
  CHECK(line.front().rgb == p.test(0).rgb);
  CHECK(line.back().rgb == p.test(2).rgb);
  const auto middle = render(models::interpolate_codes(p.test_code(0, ""), p.test_code(2, ""), 4));
  for (size_t k = 0; k < 4; ++k) CHECK(line[1 + k].rgb == middle[k].rgb);
  CHECK_THROWS_WITH(p.interpolation(0, 9, 4), Contains("--to 9 is not a TEST image"));

  CHECK_THROWS_WITH(models::VAESprites((dir.path / "none").string(), weights), Contains("cannot open"));
}
