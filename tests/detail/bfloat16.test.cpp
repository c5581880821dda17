// detail/bfloat16.hpp (the sampler's 16-bit weights): rounding, the product
// on both paths against a double reference of the rounded factors, and the
// bf16 LSTM stepper and PixelRNN sampler against their float32 selves.
#include <deepgen/detail/bfloat16.hpp>
#include <deepgen/models/pixelrnn.hpp>

#include <cmath>
#include <limits>

#include "support/gradcheck.hpp"

using namespace deepgen;
using deepgen::detail::Bf16Matrix;
using deepgen::detail::from_bf16;
using deepgen::detail::to_bf16;
using deepgen::test::random_indices;
using Catch::Contains;

TEST_CASE("bfloat16: rounds to nearest, ties to even, and keeps float's range", "[bf16]") {
  CHECK(from_bf16(to_bf16(1.0f)) == 1.0f);
  CHECK(from_bf16(to_bf16(-3.5f)) == -3.5f);
  // 1 + 2⁻⁸ lies halfway between 1 and 1 + 2⁻⁷: ties go to the even one, 1.
  CHECK(from_bf16(to_bf16(1.0f + 1.0f / 256)) == 1.0f);
  // 1 + 3·2⁻⁸ is halfway between 1 + 2⁻⁷ (odd) and 1 + 2⁻⁶: up, to even.
  CHECK(from_bf16(to_bf16(1.0f + 3.0f / 256)) == 1.0f + 1.0f / 64);
  CHECK(from_bf16(to_bf16(1.0f + 1.1f / 256)) == 1.0f + 1.0f / 128);  // past halfway: up
  CHECK(from_bf16(to_bf16(1e30f)) == Approx(1e30).epsilon(1.0 / 256));
  CHECK(from_bf16(to_bf16(1e-30f)) == Approx(1e-30).epsilon(1.0 / 256));
  Philox rng(Catch::rngSeed());
  for (int i = 0; i < 1000; ++i) {
    const float x = (rng.uniform<float>() - 0.5f) * 8;
    REQUIRE(std::abs(from_bf16(to_bf16(x)) - x) <= std::abs(x) / 256);  // half a unit of 2⁻⁷
  }
}

TEST_CASE("Bf16Matrix::multiply: x·Wᵀ of the rounded factors, on this build's path and the portable one", "[bf16]") {
  Philox rng(Catch::rngSeed());
  // Rows: part of a block, part of a group, a group of 128 and then some.
  const int64_t rows = GENERATE(1, 7, 145), cols = GENERATE(1, 33, 512), B = GENERATE(1, 3);
  SECTION("rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) + " B=" + std::to_string(B)) {
    std::vector<float> w(size_t(rows * (cols + 3))), x(size_t(B * cols));  // w with leading dimension cols + 3
    for (auto& v : w) v = rng.uniform<float>() - 0.5f;
    for (auto& v : x) v = rng.uniform<float>() - 0.5f;
    const Bf16Matrix W(w.data(), rows, cols, cols + 3);
    std::vector<uint16_t> x16;
    W.round_input(x.data(), B, cols, x16);
    REQUIRE(int64_t(x16.size()) == B * W.input_stride());
    // The reference: the rounded factors multiplied and summed in double.
    auto reference = [&](int64_t b, int64_t r, double* scale) {
      double ref = 0;
      *scale = 0;
      for (int64_t j = 0; j < cols; ++j) {
        REQUIRE(double(W.at(r, j)) == Approx(w[size_t(r * (cols + 3) + j)]).epsilon(1.0 / 256).margin(1e-30));
        const double term = double(W.at(r, j)) * double(from_bf16(to_bf16(x[size_t(b * cols + j)])));
        ref += term;
        *scale += std::abs(term);
      }
      return ref;
    };
    // Rows [r0, rows) of the output, r0 inside the first block, into a
    // poisoned buffer with a canary column past the end.
    const int64_t r0 = rows > 1 ? 1 : 0, ldo = rows - r0 + 1;
    std::vector<float> out(size_t(B * ldo), std::numeric_limits<float>::quiet_NaN());
    W.multiply(x16, B, r0, rows, out.data(), ldo);
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t r = r0; r < rows; ++r) {
        double scale;
        const double ref = reference(b, r, &scale), got = out[size_t(b * ldo + r - r0)];
        INFO("b=" << b << " r=" << r << " got " << got << " reference " << ref);
        REQUIRE(std::abs(got - ref) <= 1e-6 * scale + 1e-30);  // float32 sums of exact products
      }
      CHECK(std::isnan(out[size_t(b * ldo + ldo - 1)]));  // the canary: nothing written past r1
    }
    // The portable path (the only one on CPUs without AVX512_BF16), group by group.
    std::vector<float> sums(128);
    for (int64_t g = 0; g * 128 < rows; ++g) {
      W.group_sums_portable(g, x16.data(), sums.data());
      for (int64_t i = 0; i < 128 && g * 128 + i < rows; ++i) {
        double scale;
        const double ref = reference(0, g * 128 + i, &scale);
        REQUIRE(std::abs(sums[size_t(i)] - ref) <= 1e-6 * scale + 1e-30);
      }
    }
  }
}

TEST_CASE("LSTMStepper with bfloat16 weights: close to float32, and refused for double", "[bf16][nn][lstm]") {
  Philox rng(Catch::rngSeed());
  const int64_t H = GENERATE(7, 130), B = GENERATE(1, 4), K = 5, T = 6;
  nn::LSTM<float> lstm(K, H, rng);
  const Tensor<int32_t> tokens = random_indices({B, T}, 0, K);
  auto exact = nn::LSTMState<float>::zeros(B, H), half = nn::LSTMState<float>::zeros(B, H);
  nn::LSTMStepper<float> f32(lstm), bf16(lstm, 1, true);
  CHECK_FALSE(f32.bf16_weights());
  CHECK(bf16.bf16_weights());
  double worst = 0;
  for (int64_t t = 0; t < T; ++t) {
    std::vector<int32_t> step(static_cast<size_t>(B), 0);
    for (int64_t b = 0; b < B; ++b) step[size_t(b)] = tokens.at(b, t);
    f32.step(step.data(), exact);
    bf16.step(step.data(), half);
    for (int64_t n = 0; n < B * H; ++n) {
      REQUIRE(std::isfinite(half.h[n]));
      worst = std::max(worst, double(std::abs(half.h[n] - exact.h[n])));
    }
  }
  INFO("largest |h_bf16 − h_f32| over " << T << " steps: " << worst);
  CHECK(worst > 0);      // the weights were rounded: not the float32 path in disguise
  CHECK(worst < 0.02);   // |h| < 1; rounding moves each gate input by ~2⁻⁹ of its size
  nn::LSTM<double> lstm64(K, H, rng);
  REQUIRE_THROWS_WITH(nn::LSTMStepper<double>(lstm64, 1, true), Contains("bfloat16") && Contains("double"));
}

TEST_CASE("PixelRNN with bfloat16 sampling weights: stepwise NLL near float32's, samples valid and reproducible",
          "[bf16][pixelrnn]") {
  Philox rng(Catch::rngSeed());
  for (const models::PixelRNNConfig& config :
       {models::PixelRNNConfig{11, 64, models::PixelContext::previous, 0, 0},
        models::PixelRNNConfig{11, 48, models::PixelContext::above_position, 5, 5}}) {
    INFO("context " << models::context_name(config.context));
    models::PixelRNN<float> model(config, rng);
    const Tensor<int32_t> images = random_indices({5, 25}, 0, 11);
    const double sequence = model.loss(images).value()[0];
    const double f32 = model.stepwise_nll(images.data(), 5, 25), bf16 = model.stepwise_nll(images.data(), 5, 25, true);
    INFO("sequence op " << sequence << ", stepwise float32 " << f32 << ", stepwise bfloat16 " << bf16);
    CHECK(f32 == Approx(sequence).epsilon(1e-5));  // the same model through the sampler's arithmetic
    CHECK(std::abs(bf16 - f32) < 0.01);           // the bound, nats per pixel
    CHECK(bf16 != f32);
    SamplingOptions options;
    options.bf16_weights = true;
    const Tensor<int32_t> a = model.sample(4, 25, options, 7), b = model.sample(4, 25, options, 7);
    CHECK(std::equal(a.begin(), a.end(), b.begin()));
    for (int32_t v : a) REQUIRE((v >= 0 && v < 11));
    // Completion keeps the kept pixels with the option too.
    const Tensor<int32_t> done = model.complete(images, 10, options, 3);
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t t = 0; t < 10; ++t) REQUIRE(done.at(i, t) == images.at(i, t));
  }
  models::PixelRNN<double> twice({11, 8, models::PixelContext::previous, 0, 0}, rng);
  SamplingOptions options;
  options.bf16_weights = true;
  REQUIRE_THROWS_WITH(twice.sample(1, 25, options, 1), Contains("bfloat16"));
}
