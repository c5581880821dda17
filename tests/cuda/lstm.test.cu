// tests/cuda/lstm.test.cu — the LSTM step kernels of kernels/lstm.cu against a
// double-precision CPU reference built from the same detail::lstm_unit_fwd/bwd.
//
// The reference calls the shared functions on whole 4H rows (H, j), while the
// kernels call them on a 4-element register copy (1, 0): agreement checks the
// kernels' index math and the gather, not just the shared arithmetic (which the
// CPU tests cover). Every output is poisoned with NaN before the launch and has
// canaries past its end; errors are ‖gpu − ref‖ / ‖ref‖ with checks that fail
// on NaN. Inputs are fresh random numbers from Catch's --rng-seed.
//
// On a machine without a GPU the device tests WARN and pass; set
// DEEPGEN_REQUIRE_GPU=1 (scripts/gpu_check.sh does) to make that a failure.
// The argument-validation tests need no device and always run (the error
// macros: check.test.cu; DeviceBuffer: memory.test.cu). The whole sequence
// (kernels/lstm_sequence.cu) is lstm_sequence.test.cu.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/launchers.hpp"
#include "deepgen/detail/lstm_gates.hpp"
#include "deepgen/error.hpp"

#include "cuda/lstm_reference.hpp"
#include "cuda/support.hpp"

namespace {

using namespace deepgen::test::gpu;

}  // namespace

// ---- forward -----------------------------------------------------------------------

TEMPLATE_TEST_CASE("lstm_pointwise_fwd matches the double CPU reference", "[cuda][lstm]", float,
                   double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t B = GENERATE(as<int64_t>{}, 1, 7, 65);
  const int64_t H = GENERATE(as<int64_t>{}, 1, 7, 65, 512);
  const bool onehot = GENERATE(false, true);
  DYNAMIC_SECTION("B=" << B << " H=" << H << (onehot ? " one-hot input I=13" : " no input term")) {
    CAPTURE(Catch::rngSeed());
    const int64_t I = I_SIZE;
    auto rng = make_rng(onehot ? 2 : 1, B, H);
    const auto h_pre = uniform<T>(rng, B * 4 * H, -2, 2);
    const auto h_b_ih = uniform<T>(rng, 4 * H, -0.5, 0.5);
    const auto h_b_hh = uniform<T>(rng, 4 * H, -0.5, 0.5);
    const auto h_c_prev = uniform<T>(rng, B * H, -1.5, 1.5);
    const auto h_weight_ih = uniform<T>(rng, 4 * H * I, -1, 1);
    const auto h_tokens = random_tokens(rng, B, I);

    const auto d_pre = to_device(h_pre);
    const auto d_b_ih = to_device(h_b_ih);
    const auto d_b_hh = to_device(h_b_hh);
    const auto d_c_prev = to_device(h_c_prev);
    const auto d_weight_ih = to_device(h_weight_ih);
    const auto d_tokens = to_device(h_tokens);
    Output<T> d_act(B * 4 * H), d_c(B * H), d_h(B * H);

    Stream stream;
    if (onehot) {
      deepgen::cuda::lstm_pointwise_fwd<T>(d_pre.data(), d_tokens.data(), d_weight_ih.data(),
                                           d_b_ih.data(), d_b_hh.data(), d_c_prev.data(),
                                           d_act.data(), d_c.data(), d_h.data(), B, H, I,
                                           stream.get());
    } else {
      deepgen::cuda::lstm_pointwise_fwd<T>(d_pre.data(), d_b_ih.data(), d_b_hh.data(),
                                           d_c_prev.data(), d_act.data(), d_c.data(), d_h.data(),
                                           B, H, stream.get());
    }
    stream.sync();

    const auto ref = reference_fwd(to_double(h_pre), to_double(h_b_ih), to_double(h_b_hh),
                                   to_double(h_c_prev), onehot ? &h_tokens : nullptr,
                                   to_double(h_weight_ih), B, H, I);
    require_close("act", d_act.fetch("act"), ref.act);
    require_close("c", d_c.fetch("c"), ref.c);
    require_close("h", d_h.fetch("h"), ref.h);
  }
}

TEMPLATE_TEST_CASE("lstm_pointwise_fwd works in place (act over pre and c over c_prev)",
                   "[cuda][lstm]", float, double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t B = 7, H = 65, I = I_SIZE;
  auto rng = make_rng(3, B, H);
  const auto h_pre = uniform<T>(rng, B * 4 * H, -2, 2);
  const auto h_b_ih = uniform<T>(rng, 4 * H, -0.5, 0.5);
  const auto h_b_hh = uniform<T>(rng, 4 * H, -0.5, 0.5);
  const auto h_c_prev = uniform<T>(rng, B * H, -1.5, 1.5);
  const auto h_weight_ih = uniform<T>(rng, 4 * H * I, -1, 1);
  const auto h_tokens = random_tokens(rng, B, I);

  Output<T> d_pre_act(h_pre), d_c(h_c_prev), d_h(B * H);  // inputs double as outputs
  const auto d_b_ih = to_device(h_b_ih);
  const auto d_b_hh = to_device(h_b_hh);
  const auto d_weight_ih = to_device(h_weight_ih);
  const auto d_tokens = to_device(h_tokens);
  deepgen::cuda::lstm_pointwise_fwd<T>(d_pre_act.data(), d_tokens.data(), d_weight_ih.data(),
                                       d_b_ih.data(), d_b_hh.data(), d_c.data(), d_pre_act.data(),
                                       d_c.data(), d_h.data(), B, H, I, nullptr);
  DEEPGEN_CUDA_CHECK(cudaDeviceSynchronize());

  const auto ref = reference_fwd(to_double(h_pre), to_double(h_b_ih), to_double(h_b_hh),
                                 to_double(h_c_prev), &h_tokens, to_double(h_weight_ih), B, H, I);
  require_close("act (in place over pre)", d_pre_act.fetch("act"), ref.act);
  require_close("c (in place over c_prev)", d_c.fetch("c"), ref.c);
  require_close("h", d_h.fetch("h"), ref.h);
}

TEMPLATE_TEST_CASE("lstm_pointwise_fwd turns a row with an out-of-range token into NaN",
                   "[cuda][lstm]", float, double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t B = 7, H = 65, I = I_SIZE;
  const int64_t bad_row = 3;
  auto rng = make_rng(4, B, H);
  const auto h_pre = uniform<T>(rng, B * 4 * H, -2, 2);
  const auto h_b_ih = uniform<T>(rng, 4 * H, -0.5, 0.5);
  const auto h_b_hh = uniform<T>(rng, 4 * H, -0.5, 0.5);
  const auto h_c_prev = uniform<T>(rng, B * H, -1.5, 1.5);
  const auto h_weight_ih = uniform<T>(rng, 4 * H * I, -1, 1);
  auto h_tokens = random_tokens(rng, B, I);
  h_tokens[bad_row] = static_cast<int32_t>(I);  // one past the last column

  const auto d_pre = to_device(h_pre);
  const auto d_b_ih = to_device(h_b_ih);
  const auto d_b_hh = to_device(h_b_hh);
  const auto d_c_prev = to_device(h_c_prev);
  const auto d_weight_ih = to_device(h_weight_ih);
  const auto d_tokens = to_device(h_tokens);
  Output<T> d_act(B * 4 * H), d_c(B * H), d_h(B * H);
  deepgen::cuda::lstm_pointwise_fwd<T>(d_pre.data(), d_tokens.data(), d_weight_ih.data(),
                                       d_b_ih.data(), d_b_hh.data(), d_c_prev.data(), d_act.data(),
                                       d_c.data(), d_h.data(), B, H, I, nullptr);
  DEEPGEN_CUDA_CHECK(cudaDeviceSynchronize());
  const auto act = d_act.fetch("act");
  const auto h = d_h.fetch("h");

  auto ref_tokens = h_tokens;
  ref_tokens[bad_row] = -1;  // the other rows must be computed as usual
  const auto ref = reference_fwd(to_double(h_pre), to_double(h_b_ih), to_double(h_b_hh),
                                 to_double(h_c_prev), &ref_tokens, to_double(h_weight_ih), B, H, I);
  std::vector<T> good_h;
  std::vector<double> good_ref;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t j = 0; j < H; ++j) {
      if (b == bad_row) {
        INFO("row " << b << " has token " << h_tokens[b] << " >= I = " << I << ", unit " << j);
        REQUIRE(std::isnan(static_cast<double>(h[b * H + j])));
        for (int q = 0; q < 4; ++q) REQUIRE(std::isnan(static_cast<double>(act[b * 4 * H + q * H + j])));
      } else {
        good_h.push_back(h[b * H + j]);
        good_ref.push_back(ref.h[b * H + j]);
      }
    }
  }
  require_close("h of the valid rows", good_h, good_ref);
}

// ---- backward ----------------------------------------------------------------------

TEMPLATE_TEST_CASE("lstm_pointwise_bwd matches the double CPU reference", "[cuda][lstm]", float,
                   double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t B = GENERATE(as<int64_t>{}, 1, 7, 65);
  const int64_t H = GENERATE(as<int64_t>{}, 1, 7, 65, 512);
  DYNAMIC_SECTION("B=" << B << " H=" << H) {
    CAPTURE(Catch::rngSeed());
    auto rng = make_rng(5, B, H);
    // Gates in their ranges: i, f, o = σ(·) in (0, 1), g = tanh(·) in (-1, 1).
    std::vector<T> h_act = uniform<T>(rng, B * 4 * H, 0.02, 0.98);
    const auto g = uniform<T>(rng, B * H, -0.98, 0.98);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j) h_act[b * 4 * H + 2 * H + j] = g[b * H + j];
    const auto h_c_prev = uniform<T>(rng, B * H, -1.5, 1.5);
    const auto h_c = uniform<T>(rng, B * H, -1.5, 1.5);
    const auto h_dh = uniform<T>(rng, B * H, -1, 1);
    const auto h_dc_next = uniform<T>(rng, B * H, -1, 1);

    const auto d_act = to_device(h_act);
    const auto d_c_prev = to_device(h_c_prev);
    const auto d_c = to_device(h_c);
    const auto d_dh = to_device(h_dh);
    const auto d_dc_next = to_device(h_dc_next);
    Output<T> d_dpre(B * 4 * H), d_dc_prev(B * H);
    Stream stream;
    deepgen::cuda::lstm_pointwise_bwd<T>(d_act.data(), d_c_prev.data(), d_c.data(), d_dh.data(),
                                         d_dc_next.data(), d_dpre.data(), d_dc_prev.data(), B, H,
                                         stream.get());
    stream.sync();

    std::vector<double> ref_dpre(B * 4 * H), ref_dc_prev(B * H);
    const auto act = to_double(h_act);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j) {
        const int64_t k = b * H + j;
        deepgen::detail::lstm_unit_bwd<double>(act.data() + b * 4 * H, H, j, h_c_prev[k], h_c[k],
                                               h_dh[k], h_dc_next[k], ref_dpre.data() + b * 4 * H,
                                               &ref_dc_prev[k]);
      }
    require_close("dpre", d_dpre.fetch("dpre"), ref_dpre);
    require_close("dc_prev", d_dc_prev.fetch("dc_prev"), ref_dc_prev);
  }
}

// ---- one-hot gather gradient -------------------------------------------------------

TEMPLATE_TEST_CASE("onehot_scatter_add accumulates dpre rows into weight_ih columns",
                   "[cuda][lstm]", float, double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t N = GENERATE(as<int64_t>{}, 1, 7, 65);
  const int64_t H = GENERATE(as<int64_t>{}, 1, 7, 65, 512);
  DYNAMIC_SECTION("N=" << N << " H4=" << 4 * H << " I=13") {
    CAPTURE(Catch::rngSeed());
    const int64_t H4 = 4 * H, I = I_SIZE;
    auto rng = make_rng(6, N, H);
    auto h_tokens = random_tokens(rng, N, I);
    if (N >= 3) h_tokens[1] = static_cast<int32_t>(I);  // out of range: must be skipped
    const auto h_dpre = uniform<T>(rng, N * H4, -1, 1);
    const auto h_dweight0 = uniform<T>(rng, H4 * I, -0.25, 0.25);  // += onto nonzero values

    const auto d_tokens = to_device(h_tokens);
    const auto d_dpre = to_device(h_dpre);
    Output<T> d_dweight(h_dweight0);
    Stream stream;
    deepgen::cuda::onehot_scatter_add<T>(d_tokens.data(), d_dpre.data(), d_dweight.data(), N, H4,
                                         I, stream.get());
    stream.sync();
    const auto dweight = d_dweight.fetch("dweight_ih");

    std::vector<double> ref = to_double(h_dweight0);
    std::vector<bool> touched(I, false);
    for (int64_t n = 0; n < N; ++n) {
      const int32_t t = h_tokens[n];
      if (t < 0 || t >= I) continue;
      touched[t] = true;
      for (int64_t r = 0; r < H4; ++r) ref[r * I + t] += h_dpre[n * H4 + r];
    }
    require_close("dweight_ih", dweight, ref);
    for (int64_t t = 0; t < I; ++t) {
      if (touched[t]) continue;
      for (int64_t r = 0; r < H4; ++r) {
        INFO("column " << t << " has no token but changed at row " << r);
        REQUIRE(std::memcmp(&dweight[r * I + t], &h_dweight0[r * I + t], sizeof(T)) == 0);
      }
    }
  }
}

// ---- multi-hot input: S tokens per row (a PixelRNN's 2-D context) -----------------

/// Tokens (n, S) in [-1, I), each row's slots in disjoint blocks of I / S
/// columns as a PixelRNN context's are, -1 (no input) in about one slot in five;
/// slot 0 of row 0 is always a column, and for S ≥ 2 the last row holds one
/// token twice (the launchers promise each copy adds again).
std::vector<int32_t> random_multihot(std::mt19937& rng, int64_t n, int64_t S, int64_t I) {
  const int64_t block = I / S;
  std::uniform_int_distribution<int64_t> col(0, block - 1), none(0, 4);
  std::vector<int32_t> t(static_cast<std::size_t>(n * S));
  for (int64_t r = 0; r < n; ++r)
    for (int64_t s = 0; s < S; ++s) t[r * S + s] = none(rng) == 0 ? -1 : static_cast<int32_t>(s * block + col(rng));
  t[0] = static_cast<int32_t>(col(rng));  // at least one gathered column, also in a one-row case
  if (S >= 2)  // the last row repeats a token: each copy adds its column again
    t[(n - 1) * S + S - 1] = t[(n - 1) * S] = static_cast<int32_t>(col(rng));
  return t;
}

TEMPLATE_TEST_CASE("lstm_pointwise_fwd with S tokens per row adds the sum of their columns", "[cuda][lstm]", float,
                   double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t B = GENERATE(as<int64_t>{}, 1, 7, 65);
  const int64_t S = GENERATE(as<int64_t>{}, 1, 4, 6);
  DYNAMIC_SECTION("B=" << B << " S=" << S) {
    CAPTURE(Catch::rngSeed());
    const int64_t H = 65, I = 6 * I_SIZE + 5;  // room for 6 blocks of 13 and a ragged end
    auto rng = make_rng(7, B, S);
    const auto h_pre = uniform<T>(rng, B * 4 * H, -2, 2);
    const auto h_b_ih = uniform<T>(rng, 4 * H, -0.5, 0.5);
    const auto h_b_hh = uniform<T>(rng, 4 * H, -0.5, 0.5);
    const auto h_c_prev = uniform<T>(rng, B * H, -1.5, 1.5);
    const auto h_weight_ih = uniform<T>(rng, 4 * H * I, -1, 1);
    const auto h_tokens = random_multihot(rng, B, S, I);

    const auto d_pre = to_device(h_pre);
    const auto d_b_ih = to_device(h_b_ih);
    const auto d_b_hh = to_device(h_b_hh);
    const auto d_c_prev = to_device(h_c_prev);
    const auto d_weight_ih = to_device(h_weight_ih);
    const auto d_tokens = to_device(h_tokens);
    Output<T> d_act(B * 4 * H), d_c(B * H), d_h(B * H);
    Stream stream;
    deepgen::cuda::lstm_pointwise_fwd<T>(d_pre.data(), d_tokens.data(), d_weight_ih.data(), d_b_ih.data(),
                                         d_b_hh.data(), d_c_prev.data(), d_act.data(), d_c.data(), d_h.data(), B, H,
                                         I, S, stream.get());
    stream.sync();

    // The reference: the columns summed into pre on the host, then no input term.
    std::vector<double> pre = to_double(h_pre);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < S; ++s) {
        const int32_t t = h_tokens[b * S + s];
        if (t < 0) continue;
        for (int64_t k = 0; k < 4 * H; ++k) pre[b * 4 * H + k] += double(h_weight_ih[k * I + t]);
      }
    const auto ref = reference_fwd(pre, to_double(h_b_ih), to_double(h_b_hh), to_double(h_c_prev), nullptr,
                                   to_double(h_weight_ih), B, H, I);
    require_close("act", d_act.fetch("act"), ref.act);
    require_close("c", d_c.fetch("c"), ref.c);
    require_close("h", d_h.fetch("h"), ref.h);
  }
}

TEMPLATE_TEST_CASE("onehot_scatter_add with S tokens per row scatters every token", "[cuda][lstm]", float, double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t N = GENERATE(as<int64_t>{}, 1, 7, 65);
  const int64_t S = GENERATE(as<int64_t>{}, 4, 6);
  DYNAMIC_SECTION("N=" << N << " S=" << S) {
    CAPTURE(Catch::rngSeed());
    const int64_t H4 = 4 * 65, I = 6 * I_SIZE + 5;
    auto rng = make_rng(8, N, S);
    auto h_tokens = random_multihot(rng, N, S, I);
    h_tokens[S - 1] = static_cast<int32_t>(I);  // out of range: must be skipped
    const auto h_dpre = uniform<T>(rng, N * H4, -1, 1);
    const auto h_dweight0 = uniform<T>(rng, H4 * I, -0.25, 0.25);  // += onto nonzero values

    const auto d_tokens = to_device(h_tokens);
    const auto d_dpre = to_device(h_dpre);
    Output<T> d_dweight(h_dweight0);
    Stream stream;
    deepgen::cuda::onehot_scatter_add<T>(d_tokens.data(), d_dpre.data(), d_dweight.data(), N, H4, I, S,
                                         stream.get());
    stream.sync();

    std::vector<double> ref = to_double(h_dweight0);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) {
        const int32_t t = h_tokens[n * S + s];
        if (t < 0 || t >= I) continue;
        for (int64_t r = 0; r < H4; ++r) ref[r * I + t] += h_dpre[n * H4 + r];
      }
    require_close("dweight_ih", d_dweight.fetch("dweight_ih"), ref);
  }
}

// ---- without a device: argument checks --------------------------------------------

TEST_CASE("LSTM launchers reject bad arguments before touching the device", "[cuda][lstm]") {
  // Host arrays stand in for device pointers: validation must throw before any launch.
  std::vector<float> x(64, 1.0f);
  std::vector<int32_t> tok(4, 0);
  float* p = x.data();
  const int32_t* t = tok.data();
  using Catch::Contains;
  using deepgen::cuda::lstm_pointwise_bwd;
  using deepgen::cuda::lstm_pointwise_fwd;
  using deepgen::cuda::onehot_scatter_add;

  REQUIRE_THROWS_WITH(lstm_pointwise_fwd<float>(p, p, p, p, p, p, p, 0, 4, nullptr),
                      Contains("B = 0 must be positive"));
  REQUIRE_THROWS_WITH(lstm_pointwise_fwd<float>(p, p, p, p, p, p, p, 2, -1, nullptr),
                      Contains("H = -1 must be positive"));
  REQUIRE_THROWS_WITH(lstm_pointwise_fwd<float>(p, p, p, nullptr, p, p, p, 2, 4, nullptr),
                      Contains("'c_prev' is null") && Contains("zeros at the first step"));
  REQUIRE_THROWS_WITH(lstm_pointwise_fwd<float>(p, t, p, p, p, p, p, p, p, 2, 4, 0, nullptr),
                      Contains("I = 0 must be positive"));
  REQUIRE_THROWS_WITH(lstm_pointwise_fwd<float>(p, nullptr, p, p, p, p, p, p, p, 2, 4, 3, nullptr),
                      Contains("'tokens' is null"));
  REQUIRE_THROWS_WITH(lstm_pointwise_fwd<float>(p, t, p, p, p, p, p, p, p, 0, 4, 3, nullptr),
                      Contains("B = 0 must be positive"));
  REQUIRE_THROWS_WITH(lstm_pointwise_bwd<float>(p, p, p, p, p, p, p, 2, 0, nullptr),
                      Contains("H = 0 must be positive"));
  REQUIRE_THROWS_WITH(lstm_pointwise_bwd<float>(p, p, p, p, nullptr, p, p, 2, 4, nullptr),
                      Contains("'dc_next' is null") && Contains("zeros at the last step"));
  REQUIRE_THROWS_WITH(onehot_scatter_add<float>(t, p, p, 0, 16, 3, nullptr),
                      Contains("N = 0 must be positive"));
  REQUIRE_THROWS_WITH(onehot_scatter_add<float>(t, p, nullptr, 2, 16, 3, nullptr),
                      Contains("'dweight_ih' is null"));
  REQUIRE_THROWS_AS(onehot_scatter_add<float>(t, p, p, 2, 16, -3, nullptr), deepgen::Error);
  // The multi-hot forms: S must be positive too.
  REQUIRE_THROWS_WITH(lstm_pointwise_fwd<float>(p, t, p, p, p, p, p, p, p, 2, 4, 3, 0, nullptr),
                      Contains("multi-hot input") && Contains("S = 0 must be positive"));
  REQUIRE_THROWS_WITH(onehot_scatter_add<float>(t, p, p, 2, 16, 3, -1, nullptr), Contains("S = -1 must be positive"));
}
