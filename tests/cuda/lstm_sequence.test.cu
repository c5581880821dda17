// tests/cuda/lstm_sequence.test.cu — the whole one-hot LSTM sequence
// (kernels/lstm_sequence.cu, cuda/lstm_sequence.hpp), forward and backward
// through time, against the step-by-step double reference (lstm_reference.hpp).
// On a machine without a GPU these WARN and pass (DEEPGEN_REQUIRE_GPU=1 makes
// that a failure).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <type_traits>
#include <vector>

#include "deepgen/cuda/lstm_sequence.hpp"
#include "deepgen/cuda/memory.hpp"
#include "deepgen/error.hpp"

#include "cuda/lstm_reference.hpp"
#include "cuda/support.hpp"

namespace {

using namespace deepgen::test::gpu;
using deepgen::cuda::DeviceBuffer;

}  // namespace

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
