// The PixelRNN's step inputs for each context, worked by hand on a 3 × 3
// image, and the configuration's metadata: written, read back, and refused
// when edited into something that is not a configuration.
#include <deepgen/pixel_context.hpp>

#include <catch2/catch.hpp>

#include <vector>

using namespace deepgen;
using namespace deepgen::models;
using Catch::Contains;

namespace {
constexpr int32_t N = NO_INPUT;

std::vector<int32_t> tokens_of(const PixelRNNConfig& c, const int32_t* image, int64_t t) {
  std::vector<int32_t> out(size_t(c.slots()), 1234);  // poisoned: every slot must be written
  c.step_tokens(image, t, out.data());
  return out;
}
}  // namespace

TEST_CASE("PixelRNNConfig::step_tokens: previous pixel, the three above, row and column", "[pixelrnn]") {
  // K = 10 colours; pixel p of the 3 × 3 image has colour p + 1.
  const int32_t image[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const PixelRNNConfig lecture{10, 4, PixelContext::previous, 0, 0};
  CHECK(lecture.slots() == 1);
  CHECK(lecture.input_size() == 10);
  CHECK(tokens_of(lecture, image, 0) == std::vector<int32_t>{N});
  CHECK(tokens_of(lecture, image, 4) == std::vector<int32_t>{4});

  const PixelRNNConfig above{10, 4, PixelContext::above, 3, 3};
  CHECK(above.slots() == 4);
  CHECK(above.input_size() == 40);
  // Row 0: nothing above.
  CHECK(tokens_of(above, image, 0) == std::vector<int32_t>{N, N, N, N});
  CHECK(tokens_of(above, image, 2) == std::vector<int32_t>{2, N, N, N});
  // Pixel 3 (row 1, column 0): no above-left; above is pixel 0 (colour 1), above-right pixel 1 (colour 2).
  CHECK(tokens_of(above, image, 3) == std::vector<int32_t>{3, N, 20 + 1, 30 + 2});
  // Pixel 4 (row 1, column 1): above-left 0, above 1, above-right 2.
  CHECK(tokens_of(above, image, 4) == std::vector<int32_t>{4, 10 + 1, 20 + 2, 30 + 3});
  // Pixel 8 (row 2, column 2): no above-right.
  CHECK(tokens_of(above, image, 8) == std::vector<int32_t>{8, 10 + 5, 20 + 6, N});
  // A pixel that is not a colour (−1, the GPU sampler's refused draw) is no input, not column K − 1.
  const int32_t holed[9] = {1, -1, 3, 4, 5, 6, 7, 8, 9};
  CHECK(tokens_of(above, holed, 4) == std::vector<int32_t>{4, 10 + 1, N, 30 + 3});

  const PixelRNNConfig position{10, 4, PixelContext::above_position, 3, 2};  // 3 wide, 2 high
  CHECK(position.slots() == 6);
  CHECK(position.input_size() == 40 + 2 + 3);
  CHECK(tokens_of(position, image, 0) == std::vector<int32_t>{N, N, N, N, 40 + 0, 42 + 0});
  CHECK(tokens_of(position, image, 5) == std::vector<int32_t>{5, 10 + 2, 20 + 3, N, 40 + 1, 42 + 2});
}

TEST_CASE("PixelRNNConfig: metadata round trip; edited metadata is refused with the key", "[pixelrnn][io]") {
  const PixelRNNConfig c{167, 512, PixelContext::above_position, 20, 20};
  auto meta = pixelrnn_metadata(c);
  const PixelRNNConfig back = pixelrnn_config_from(meta, "m.safetensors");
  CHECK(back.context == c.context);
  CHECK(back.palette_size == 167);
  CHECK(back.hidden_size == 512);
  CHECK(back.width == 20);
  CHECK(back.height == 20);
  CHECK(back.input_size() == 4 * 167 + 40);

  // No metadata: the lecture model, sizes left to the tensors.
  const PixelRNNConfig lecture = pixelrnn_config_from({{"epoch", "3"}}, "m.safetensors");
  CHECK(lecture.context == PixelContext::previous);
  CHECK(lecture.hidden_size == 0);

  auto edited = meta;
  edited["pixelrnn.context"] = "diagonal";
  CHECK_THROWS_WITH(pixelrnn_config_from(edited, "m.safetensors"),
                    Contains("m.safetensors") && Contains("unknown PixelRNN context 'diagonal'"));
  for (const char* bad : {"", "12x", "-3", "99999999999999999999", "0"}) {
    edited = meta;
    edited["pixelrnn.hidden_size"] = bad;
    CHECK_THROWS_WITH(pixelrnn_config_from(edited, "m.safetensors"),
                      Contains("m.safetensors") && Contains("'pixelrnn.hidden_size'"));
  }
  edited = meta;
  edited.erase("pixelrnn.width");
  CHECK_THROWS_WITH(pixelrnn_config_from(edited, "m.safetensors"), Contains("no 'pixelrnn.width'"));
  edited = meta;
  edited["pixelrnn.width"] = "0";
  CHECK_THROWS_WITH(pixelrnn_config_from(edited, "m.safetensors"), Contains("'pixelrnn.width' is '0'"));

  CHECK_THROWS_WITH(parse_context("left", "--context"), Contains("--context") && Contains("previous, above"));
  CHECK_THROWS_WITH((PixelRNNConfig{10, 4, PixelContext::above, 0, 3}.check("PixelRNN")),
                    Contains("'above' context needs the image size"));
  CHECK_THROWS_WITH((PixelRNNConfig{0, 4, PixelContext::previous, 0, 0}.check("PixelRNN")),
                    Contains("palette size 0"));
}
