// tests/cuda/lstm.test.cu — the LSTM kernels of kernels/lstm.cu against a
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
// macros: check.test.cu; DeviceBuffer: memory.test.cu).
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
#include "deepgen/cuda/lstm_sequence.hpp"
#include "deepgen/cuda/memory.hpp"
#include "deepgen/detail/lstm_gates.hpp"
#include "deepgen/error.hpp"

#include "cuda/support.hpp"

namespace {

using namespace deepgen::test::gpu;
using deepgen::cuda::DeviceBuffer;

constexpr int64_t I_SIZE = 13;  // input (palette) size of the one-hot tests: awkward, small

/// Tokens in [-1, I): -1 is the all-zeros input of step 0. With two or more
/// rows the first is -1 and the last is I - 1 (the last column); a single row
/// gets a real column so the gather is exercised.
std::vector<int32_t> random_tokens(std::mt19937& rng, int64_t n, int64_t I) {
  std::uniform_int_distribution<int32_t> dist(-1, static_cast<int32_t>(I - 1));
  std::vector<int32_t> t(static_cast<std::size_t>(n));
  for (auto& x : t) x = dist(rng);
  if (n == 1) {
    t[0] = static_cast<int32_t>(I / 2);
  } else {
    t.front() = -1;
    t.back() = static_cast<int32_t>(I - 1);
  }
  return t;
}

/// CPU reference of the forward, in double: a = pre + b_ih + b_hh (+ weight_ih
/// column tokens[b] when tokens is given), then detail::lstm_unit_fwd on the row.
struct FwdRef {
  std::vector<double> act, c, h;
};
FwdRef reference_fwd(const std::vector<double>& pre, const std::vector<double>& b_ih,
                     const std::vector<double>& b_hh, const std::vector<double>& c_prev,
                     const std::vector<int32_t>* tokens, const std::vector<double>& weight_ih,
                     int64_t B, int64_t H, int64_t I) {
  FwdRef r{std::vector<double>(B * 4 * H), std::vector<double>(B * H), std::vector<double>(B * H)};
  std::vector<double> a(4 * H);
  for (int64_t b = 0; b < B; ++b) {
    const int32_t t = tokens ? (*tokens)[b] : -1;
    for (int64_t k = 0; k < 4 * H; ++k) {
      a[k] = pre[b * 4 * H + k] + b_ih[k] + b_hh[k];
      if (t >= 0) a[k] += weight_ih[k * I + t];
    }
    for (int64_t j = 0; j < H; ++j)
      deepgen::detail::lstm_unit_fwd<double>(a.data(), r.act.data() + b * 4 * H, H, j,
                                             c_prev[b * H + j], &r.c[b * H + j], &r.h[b * H + j]);
  }
  return r;
}

/// The whole one-hot sequence in double, step by step: pre = h·W_hhᵀ, then
/// reference_fwd. tokens (T, B) time-major; h0, c0 (B, H). Returns act
/// (T, B, 4H) and, with the initial state first, hs and cs (T + 1, B, H).
FwdRef reference_sequence_fwd(const std::vector<int32_t>& tokens, const std::vector<double>& wih,
                              const std::vector<double>& whh, const std::vector<double>& bih,
                              const std::vector<double>& bhh, std::vector<double> h, std::vector<double> c,
                              int64_t B, int64_t steps, int64_t H, int64_t I) {
  FwdRef all{{}, c, h};
  for (int64_t t = 0; t < steps; ++t) {
    std::vector<double> pre(size_t(B * 4 * H), 0.0);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t g = 0; g < 4 * H; ++g)
        for (int64_t k = 0; k < H; ++k) pre[size_t(b * 4 * H + g)] += h[size_t(b * H + k)] * whh[size_t(g * H + k)];
    const std::vector<int32_t> tok(tokens.begin() + t * B, tokens.begin() + (t + 1) * B);
    const FwdRef r = reference_fwd(pre, bih, bhh, c, &tok, wih, B, H, I);
    all.act.insert(all.act.end(), r.act.begin(), r.act.end());
    all.h.insert(all.h.end(), r.h.begin(), r.h.end());
    all.c.insert(all.c.end(), r.c.begin(), r.c.end());
    h = r.h;
    c = r.c;
  }
  return all;
}

/// dh (B, H) += dpre (B, 4H) · W_hh (4H, H): the gradient a step sends back to h.
void add_dpre_times_whh(const double* dpre, const std::vector<double>& whh, double* dh, int64_t B, int64_t H) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k < H; ++k)
      for (int64_t g = 0; g < 4 * H; ++g) dh[b * H + k] += dpre[b * 4 * H + g] * whh[size_t(g * H + k)];
}

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
/// columns as a PixelRNN context's are, -1 (no input) in about one slot in five.
std::vector<int32_t> random_multihot(std::mt19937& rng, int64_t n, int64_t S, int64_t I) {
  const int64_t block = I / S;
  std::uniform_int_distribution<int64_t> col(0, block - 1), none(0, 4);
  std::vector<int32_t> t(static_cast<std::size_t>(n * S));
  for (int64_t r = 0; r < n; ++r)
    for (int64_t s = 0; s < S; ++s) t[r * S + s] = none(rng) == 0 ? -1 : static_cast<int32_t>(s * block + col(rng));
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

// ---- a whole sequence -------------------------------------------------------------------------

TEMPLATE_TEST_CASE("lstm_sequence_forward_onehot matches the step-by-step double reference", "[cuda][lstm]", float,
                   double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t B = GENERATE(as<int64_t>{}, 1, 9);
  const int64_t H = GENERATE(as<int64_t>{}, 7, 64);
  const int64_t steps = 12;
  DYNAMIC_SECTION("B=" << B << " H=" << H) {
    auto rng = make_rng(21, B, H);
    const double bound = 1 / std::sqrt(double(H));
    const auto h_wih = uniform<T>(rng, 4 * H * I_SIZE, -bound, bound);
    const auto h_whh = uniform<T>(rng, 4 * H * H, -bound, bound);
    const auto h_bih = uniform<T>(rng, 4 * H, -bound, bound);
    const auto h_bhh = uniform<T>(rng, 4 * H, -bound, bound);
    const auto h_h0 = uniform<T>(rng, B * H, -0.5, 0.5);
    const auto h_c0 = uniform<T>(rng, B * H, -0.5, 0.5);
    const auto h_tokens = random_tokens(rng, steps * B, I_SIZE);  // (T, B)
    const auto d_wih = to_device(h_wih);
    const auto d_whh = to_device(h_whh);
    const auto d_bih = to_device(h_bih);
    const auto d_bhh = to_device(h_bhh);
    const auto d_h0 = to_device(h_h0);
    const auto d_c0 = to_device(h_c0);
    const auto d_tokens = to_device(h_tokens);
    Output<T> d_act(steps * B * 4 * H), d_hs((steps + 1) * B * H), d_cs((steps + 1) * B * H);
    deepgen::cuda::Context ctx;
    deepgen::cuda::lstm_sequence_forward_onehot<T>(ctx, d_tokens.data(), d_wih.data(), d_whh.data(), d_bih.data(),
                                                   d_bhh.data(), d_h0.data(), d_c0.data(), B, steps, H, I_SIZE,
                                                   d_act.data(), d_hs.data(), d_cs.data());
    ctx.sync();

    const FwdRef ref = reference_sequence_fwd(h_tokens, to_double(h_wih), to_double(h_whh), to_double(h_bih),
                                              to_double(h_bhh), to_double(h_h0), to_double(h_c0), B, steps, H, I_SIZE);
    // Float rounding compounds over the steps: a looser bound than one step's.
    const double tol = std::is_same<T, float>::value ? 1e-4 : 1e-11;
    require_close("act", d_act.fetch("act"), ref.act, tol);
    require_close("hs", d_hs.fetch("hs"), ref.h, tol);
    require_close("cs", d_cs.fetch("cs"), ref.c, tol);
  }
}

TEMPLATE_TEST_CASE("lstm_sequence_backward_onehot matches backpropagation through time in double",
                   "[cuda][lstm]", float, double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t B = GENERATE(as<int64_t>{}, 1, 9);
  const int64_t H = GENERATE(as<int64_t>{}, 7, 64);
  const int64_t steps = 10, G = 4 * H, N = steps * B;
  DYNAMIC_SECTION("B=" << B << " H=" << H) {
    auto rng = make_rng(22, B, H);
    const double bound = 1 / std::sqrt(double(H));
    const auto h_wih = uniform<T>(rng, G * I_SIZE, -bound, bound);
    const auto h_whh = uniform<T>(rng, G * H, -bound, bound);
    const auto h_bih = uniform<T>(rng, G, -bound, bound);
    const auto h_bhh = uniform<T>(rng, G, -bound, bound);
    const auto h_tokens = random_tokens(rng, N, I_SIZE);
    const auto h_dy = uniform<T>(rng, N * H, -1, 1);
    const auto h_dhn = uniform<T>(rng, B * H, -1, 1);
    const auto h_dcn = uniform<T>(rng, B * H, -1, 1);
    // The gradient buffers start non-zero: backward must add to them.
    const auto g_wih = uniform<T>(rng, G * I_SIZE, -0.1, 0.1);
    const auto g_whh = uniform<T>(rng, G * H, -0.1, 0.1);
    const auto g_bih = uniform<T>(rng, G, -0.1, 0.1);
    const auto g_bhh = uniform<T>(rng, G, -0.1, 0.1);
    const auto d_wih = to_device(h_wih);
    const auto d_whh = to_device(h_whh);
    const auto d_bih = to_device(h_bih);
    const auto d_bhh = to_device(h_bhh);
    const auto d_tokens = to_device(h_tokens);
    const auto d_dy = to_device(h_dy);
    const auto d_dhn = to_device(h_dhn);
    const auto d_dcn = to_device(h_dcn);
    const auto d_ones = to_device(std::vector<T>(size_t(N), T(1)));
    DeviceBuffer<T> d_act(N * G), d_hs((steps + 1) * B * H), d_cs((steps + 1) * B * H), d_work(2 * B * H);
    Output<T> d_dpre(N * G), d_gwih(g_wih), d_gwhh(g_whh), d_gbih(g_bih), d_gbhh(g_bhh), d_dh0(B * H), d_dc0(B * H);
    deepgen::cuda::Context ctx;
    deepgen::cuda::lstm_sequence_forward_onehot<T>(ctx, d_tokens.data(), d_wih.data(), d_whh.data(), d_bih.data(),
                                                   d_bhh.data(), nullptr, nullptr, B, steps, H, I_SIZE, d_act.data(),
                                                   d_hs.data(), d_cs.data());
    deepgen::cuda::lstm_sequence_backward_onehot<T>(
        ctx, d_tokens.data(), d_whh.data(), d_act.data(), d_hs.data(), d_cs.data(), d_dy.data(), d_dhn.data(),
        d_dcn.data(), B, steps, H, I_SIZE, d_ones.data(), d_dpre.data(), d_work.data(), d_gwih.data(),
        d_gwhh.data(), d_gbih.data(), d_gbhh.data(), d_dh0.data(), d_dc0.data());
    ctx.sync();

    // Reference forward (zero initial state) and BPTT, all in double.
    const auto wih = to_double(h_wih), whh = to_double(h_whh);
    const std::vector<double> zeros(size_t(B * H), 0.0);
    const FwdRef fwd = reference_sequence_fwd(h_tokens, wih, whh, to_double(h_bih), to_double(h_bhh), zeros, zeros,
                                              B, steps, H, I_SIZE);
    const std::vector<double>&act = fwd.act, &hs = fwd.h, &cs = fwd.c;
    std::vector<double> dpre(size_t(N * G)), dc = to_double(h_dcn), dh(size_t(B * H)), dh0(size_t(B * H), 0.0);
    for (int64_t t = steps - 1; t >= 0; --t) {
      for (int64_t i = 0; i < B * H; ++i) dh[size_t(i)] = h_dy[size_t(t * B * H + i)] + (t == steps - 1 ? h_dhn[size_t(i)] : 0);
      if (t < steps - 1) add_dpre_times_whh(dpre.data() + (t + 1) * B * G, whh, dh.data(), B, H);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t j = 0; j < H; ++j) {
          const size_t i = size_t(b * H + j);
          double dcp;
          deepgen::detail::lstm_unit_bwd<double>(act.data() + (t * B + b) * G, H, j, cs[size_t(t * B * H) + i],
                                                 cs[size_t((t + 1) * B * H) + i], dh[i], dc[i],
                                                 dpre.data() + (t * B + b) * G, &dcp);
          dc[i] = dcp;
        }
    }
    add_dpre_times_whh(dpre.data(), whh, dh0.data(), B, H);
    std::vector<double> gwih = to_double(g_wih), gwhh = to_double(g_whh), gbih = to_double(g_bih), gbhh = to_double(g_bhh);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t g = 0; g < G; ++g) {
        const double d = dpre[size_t(n * G + g)];
        gbih[size_t(g)] += d;
        gbhh[size_t(g)] += d;
        for (int64_t k = 0; k < H; ++k) gwhh[size_t(g * H + k)] += d * hs[size_t(n * H + k)];
        if (h_tokens[size_t(n)] >= 0) gwih[size_t(g * I_SIZE + h_tokens[size_t(n)])] += d;
      }
    const double tol = std::is_same<T, float>::value ? 1e-4 : 1e-11;
    require_close("dpre", d_dpre.fetch("dpre"), dpre, tol);
    require_close("dweight_ih", d_gwih.fetch("dweight_ih"), gwih, tol);
    require_close("dweight_hh", d_gwhh.fetch("dweight_hh"), gwhh, tol);
    require_close("db_ih", d_gbih.fetch("db_ih"), gbih, tol);
    require_close("db_hh", d_gbhh.fetch("db_hh"), gbhh, tol);
    require_close("dh0", d_dh0.fetch("dh0"), dh0, tol);
    require_close("dc0", d_dc0.fetch("dc0"), dc, tol);
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
