// tests/cuda/kernels.test.cu — softmax cross-entropy (kernels/softmax_ce.cu),
// Adam over all tensors (kernels/adam.cu), reparameterisation + KL
// (kernels/vae.cu) and sampling (kernels/sampling.cu) against double-precision CPU references, on fresh random
// inputs, outputs poisoned with NaN and guarded by canaries (support.hpp).
// Without a device these WARN and pass (DEEPGEN_REQUIRE_GPU=1 makes that a
// failure); the argument checks run everywhere.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "deepgen/cuda/context.hpp"
#include "deepgen/cuda/launchers.hpp"
#include "deepgen/detail/adam_rule.hpp"
#include "deepgen/detail/gaussian.hpp"
#include "deepgen/error.hpp"
#include "deepgen/sampling.hpp"
#include "deepgen/random.hpp"

#include "cuda/support.hpp"

namespace {

using namespace deepgen::test::gpu;
using Catch::Contains;
constexpr int32_t IGNORE = -100;

}  // namespace

// ---- softmax cross-entropy ------------------------------------------------------------

TEMPLATE_TEST_CASE("softmax_xent_fwd/bwd match the double CPU reference", "[cuda][softmax]", float, double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t N = GENERATE(as<int64_t>{}, 1, 3, 130);
  const int64_t K = GENERATE(as<int64_t>{}, 1, 7, 167, 1000, 11833);
  DYNAMIC_SECTION("N=" << N << " K=" << K) {
    auto rng = make_rng(11, N, K);
    const auto h_z = uniform<T>(rng, N * K, -8, 8);
    std::vector<int32_t> h_y(N);
    std::uniform_int_distribution<int32_t> pick(0, int32_t(K - 1));
    for (auto& y : h_y) y = pick(rng);
    if (N > 1) h_y[1] = IGNORE;  // a padded row
    const auto d_z = to_device(h_z);
    const auto d_y = to_device(h_y);
    Output<T> d_p(N * K), d_loss(N), d_dz(N * K);
    Stream stream;
    const T scale = T(0.37);
    deepgen::cuda::softmax_xent_fwd<T>(d_z.data(), d_y.data(), d_p.data(), d_loss.data(), N, K, IGNORE, stream.get());
    deepgen::cuda::softmax_xent_bwd<T>(d_p.data(), d_y.data(), d_dz.data(), N, K, scale, IGNORE, stream.get());
    stream.sync();

    std::vector<double> ref_p(N * K), ref_loss(N), ref_dz(N * K);
    for (int64_t n = 0; n < N; ++n) {
      double m = h_z[n * K];
      for (int64_t k = 0; k < K; ++k) m = std::max(m, double(h_z[n * K + k]));
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += std::exp(double(h_z[n * K + k]) - m);
      for (int64_t k = 0; k < K; ++k) ref_p[n * K + k] = std::exp(double(h_z[n * K + k]) - m) / s;
      const bool ignored = h_y[n] == IGNORE;
      ref_loss[n] = ignored ? 0 : std::log(s) + m - double(h_z[n * K + h_y[n]]);
      for (int64_t k = 0; k < K; ++k)
        ref_dz[n * K + k] = ignored ? 0 : double(scale) * (ref_p[n * K + k] - (k == h_y[n] ? 1 : 0));
    }
    require_close("probs", d_p.fetch("probs"), ref_p);
    // ‖ref_loss‖ may be all zero at K = 1 (log 1 = 0): compare absolutely there.
    const auto loss = d_loss.fetch("row_loss");
    if (K == 1) {
      for (T v : loss) REQUIRE(std::abs(double(v)) <= 1e-6);
    } else {
      require_close("row_loss", loss, ref_loss);
    }
    // At K = 1 every probability is exactly 1 and every dlogit exactly 0: a
    // zero reference, which require_close passes only for exact zeros.
    const auto dz = d_dz.fetch("dlogits");
    require_close("dlogits", dz, ref_dz);
    if (N > 1)
      for (int64_t k = 0; k < K; ++k) REQUIRE(dz[size_t(K + k)] == T(0));  // the ignored row
  }
}

TEST_CASE("softmax_xent: an out-of-range target gives a NaN row loss", "[cuda][softmax]") {
  if (gpu_missing()) return;
  const std::vector<float> z{0.5f, -1.f, 2.f, 0.f, 0.f, 0.f};
  const std::vector<int32_t> y{1, 3};  // K = 3: the second is out of range
  const auto d_z = to_device(z);
  const auto d_y = to_device(y);
  Output<float> d_p(6), d_loss(2);
  Stream stream;
  deepgen::cuda::softmax_xent_fwd<float>(d_z.data(), d_y.data(), d_p.data(), d_loss.data(), 2, 3, IGNORE, stream.get());
  stream.sync();
  const auto loss = d_loss.fetch("row_loss");
  REQUIRE(std::isfinite(loss[0]));
  REQUIRE(std::isnan(loss[1]));
}

// ---- Adam -------------------------------------------------------------------------

TEMPLATE_TEST_CASE("adam_update_all updates every tensor like detail::adam_update", "[cuda][adam]", float, double) {
  using T = TestType;
  if (gpu_missing()) return;
  const std::vector<int64_t> sizes{1, 7, 0, 4096, 3, 100003};  // 0: an empty tensor repeats an offset
  auto rng = make_rng(12, 0, 0);
  std::vector<std::vector<T>> p, g, m, v;
  std::vector<DeviceBuffer<T>> dp, dg, dm, dv;
  std::vector<int64_t> offsets{0};
  for (int64_t n : sizes) {
    p.push_back(uniform<T>(rng, n, -1, 1));
    g.push_back(uniform<T>(rng, n, -1, 1));
    m.push_back(uniform<T>(rng, n, -0.1, 0.1));
    v.push_back(uniform<T>(rng, n, 0, 0.01));
    dp.push_back(to_device(p.back()));
    dg.push_back(to_device(g.back()));
    dm.push_back(to_device(m.back()));
    dv.push_back(to_device(v.back()));
    offsets.push_back(offsets.back() + n);
  }
  std::vector<T*> hp, hm, hv;
  std::vector<const T*> hg;
  for (size_t i = 0; i < sizes.size(); ++i) {
    hp.push_back(dp[i].data());
    hg.push_back(dg[i].data());
    hm.push_back(dm[i].data());
    hv.push_back(dv[i].data());
  }
  const auto d_hp = to_device(hp);
  const auto d_hg = to_device(hg);
  const auto d_hm = to_device(hm);
  const auto d_hv = to_device(hv);
  const auto d_off = to_device(offsets);
  const auto s = deepgen::detail::adam_scalars<T>(1e-3, 0.9, 0.999, 1e-8, 0.01, 3);
  Stream stream;
  deepgen::cuda::adam_update_all<T>(d_hp.data(), d_hg.data(), d_hm.data(), d_hv.data(), d_off.data(),
                                    int64_t(sizes.size()), offsets.back(), s, stream.get());
  stream.sync();
  const auto sd = deepgen::detail::adam_scalars<double>(1e-3, 0.9, 0.999, 1e-8, 0.01, 3);
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::vector<double> rp(p[i].begin(), p[i].end()), rm(m[i].begin(), m[i].end()), rv(v[i].begin(), v[i].end());
    for (size_t k = 0; k < rp.size(); ++k) deepgen::detail::adam_update<double>(&rp[k], double(g[i][k]), &rm[k], &rv[k], sd);
    std::vector<T> gp(rp.size()), gm(rp.size()), gv(rp.size());
    dp[i].download(gp.data(), gp.size());
    dm[i].download(gm.data(), gm.size());
    dv[i].download(gv.data(), gv.size());
    INFO("tensor " << i << " of " << sizes[i] << " elements");
    require_close("p", gp, rp);
    require_close("m", gm, rm);
    require_close("v", gv, rv);
  }
}

// ---- reparameterisation + KL ----------------------------------------------------------------

TEMPLATE_TEST_CASE("reparam_kl_fwd/bwd match the CPU math and the CPU's Philox normals", "[cuda][vae]", float,
                   double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t B = GENERATE(as<int64_t>{}, 1, 33, 300);
  const int64_t D = GENERATE(as<int64_t>{}, 1, 10, 32);
  DYNAMIC_SECTION("B=" << B << " D=" << D) {
    auto rng = make_rng(13, B, D);
    const auto h_m = uniform<T>(rng, B * D, -2, 2);
    const auto h_s = uniform<T>(rng, B * D, -3, 1);
    const auto h_dc = uniform<T>(rng, B * D, -1, 1);
    const auto d_m = to_device(h_m);
    const auto d_s = to_device(h_s);
    const auto d_dc = to_device(h_dc);
    Output<T> d_e(B * D), d_c(B * D), d_kl(B), d_dm(B * D), d_ds(B * D);
    const uint64_t seed = 5, step_stream = (uint64_t(1) << 40) + 17;
    const T dkl = T(0.25);
    Stream stream;
    deepgen::cuda::reparam_kl_fwd<T>(d_m.data(), d_s.data(), seed, step_stream, d_e.data(), d_c.data(), d_kl.data(),
                                     B, D, stream.get());
    deepgen::cuda::reparam_kl_bwd<T>(d_m.data(), d_s.data(), d_e.data(), d_dc.data(), dkl, d_dm.data(), d_ds.data(),
                                     B, D, stream.get());
    stream.sync();
    const auto e = d_e.fetch("noise");
    // The noise is Philox(seed, stream)'s normals, as fill_normal draws them on the CPU.
    deepgen::Philox cpu(seed, step_stream);
    std::vector<double> ref_e(B * D), ref_c(B * D), ref_kl(B, 0.0), ref_dm(B * D), ref_ds(B * D);
    for (int64_t i = 0; i < B * D; ++i) ref_e[i] = double(cpu.normal<T>());
    require_close("noise", e, ref_e);
    for (int64_t i = 0; i < B * D; ++i) {
      const double m = h_m[i], s = h_s[i], ei = double(e[i]), dc = h_dc[i];
      ref_c[i] = deepgen::detail::reparam_fwd(m, s, ei);
      ref_kl[i / D] += deepgen::detail::kl_term(m, s);
      ref_dm[i] = dc + double(dkl) * m;
      ref_ds[i] = deepgen::detail::reparam_dlogvar(s, ei, dc) + double(dkl) * deepgen::detail::kl_dlogvar(s);
    }
    require_close("code", d_c.fetch("code"), ref_c);
    require_close("kl_row", d_kl.fetch("kl_row"), ref_kl);
    require_close("dmean", d_dm.fetch("dmean"), ref_dm);
    require_close("dlogvar", d_ds.fetch("dlogvar"), ref_ds);

    // Without dcode (no gradient through the code): the KL terms alone.
    Output<T> d_dm_kl(B * D), d_ds_kl(B * D);
    deepgen::cuda::reparam_kl_bwd<T>(d_m.data(), d_s.data(), d_e.data(), nullptr, dkl, d_dm_kl.data(), d_ds_kl.data(),
                                     B, D, stream.get());
    stream.sync();
    std::vector<double> ref_dm_kl(B * D), ref_ds_kl(B * D);
    for (int64_t i = 0; i < B * D; ++i) {
      ref_dm_kl[i] = double(dkl) * double(h_m[i]);
      ref_ds_kl[i] = double(dkl) * deepgen::detail::kl_dlogvar(double(h_s[i]));
    }
    require_close("dmean without dcode", d_dm_kl.fetch("dmean"), ref_dm_kl);
    require_close("dlogvar without dcode", d_ds_kl.fetch("dlogvar"), ref_ds_kl);
  }
}

// ---- sampling -------------------------------------------------------------------------------

/// sample_rows on the GPU over logits h_z (B, K): row b draws from Philox
/// stream stream0 + b after its first `draw` uniforms.
template <typename T>
std::vector<int32_t> gpu_sample_rows(const std::vector<T>& h_z, int64_t B, int64_t K, double temperature,
                                     uint64_t seed, uint64_t stream0, uint64_t draw) {
  const auto d_z = to_device(h_z);
  Output<int32_t> d_out{size_t(B)};
  Output<T> d_w(size_t(B * K));
  Stream stream;
  deepgen::cuda::sample_rows<T>(d_z.data(), B, K, temperature, seed, stream0, draw, d_w.data(), d_out.data(),
                                stream.get());
  stream.sync();
  return d_out.fetch("out");
}

/// The CPU's draw for the same row: sample_logits over the K logits at `z`
/// from Philox(seed, stream) after `draw` uniforms; throws where the CPU refuses.
template <typename T>
int32_t cpu_sample_row(const T* z, int64_t K, double temperature, uint64_t seed, uint64_t stream, uint64_t draw,
                       std::vector<T>& scratch) {
  deepgen::Philox cpu(seed, stream);
  for (uint64_t i = 0; i < draw; ++i) cpu.uniform<T>();  // the row's earlier draws
  deepgen::SamplingOptions s;
  s.temperature = temperature;
  return deepgen::sample_logits(z, K, s, cpu, scratch);
}

TEMPLATE_TEST_CASE("sample_rows draws what the CPU's sample_logits draws", "[cuda][sampling]", float, double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t B = 500;
  const int64_t K = GENERATE(as<int64_t>{}, 1, 167, 1000);
  // 1e35: 1/T rounds to ~1e-35 in float, every weight to exactly 1 (on the
  // CPU too): a draw from equal weights, not the temperature-0 argmax.
  const double temperature = GENERATE(0.0, 0.5, 1.0, 1e35);
  DYNAMIC_SECTION("K=" << K << " temperature=" << temperature) {
    auto rng = make_rng(14, K, temperature < 100 ? int64_t(temperature * 10) : 99);
    const auto h_z = uniform<T>(rng, B * K, -4, 4);
    const uint64_t seed = 9, stream0 = 100, draw = 3;
    const auto out = gpu_sample_rows(h_z, B, K, temperature, seed, stream0, draw);
    int64_t differ = 0;
    std::vector<T> scratch;
    for (int64_t b = 0; b < B; ++b) {
      const int32_t want =
          cpu_sample_row(h_z.data() + b * K, K, temperature, seed, stream0 + uint64_t(b), draw, scratch);
      REQUIRE(out[size_t(b)] >= 0);
      REQUIRE(out[size_t(b)] < K);
      differ += out[size_t(b)] != want;
    }
    // Device and host exp may differ in the last bit, which moves a draw only
    // when the uniform falls within that of a class boundary.
    INFO(differ << " of " << B << " rows differ from the CPU's draw");
    REQUIRE(differ <= (std::is_same<T, float>::value && temperature > 0 ? 1 : 0));
  }
}

TEMPLATE_TEST_CASE("sample_rows refuses the rows the CPU's draw refuses (NaN, inf) and draws the rest alike",
                   "[cuda][sampling]", float, double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t K = 167;
  const T nan = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
  const double temperature = GENERATE(0.5, 1.0);
  DYNAMIC_SECTION("temperature=" << temperature) {
    // One row per case; the CPU's sample_logits either throws (want −1) or
    // draws, and the GPU must answer the same.
    const std::vector<std::pair<const char*, std::vector<std::pair<int64_t, T>>>> rows = {
        {"finite", {}},
        {"one NaN logit", {{40, nan}}},
        {"the last logit NaN", {{K - 1, nan}}},
        {"the first logit NaN", {{0, nan}}},
        {"all NaN", {}},  // filled below
        {"one +inf logit", {{7, inf}}},
        {"one -inf logit (weight 0: still a draw)", {{9, -inf}}},
    };
    const int64_t B = int64_t(rows.size());
    auto rng = make_rng(16, K, int64_t(temperature * 10));
    auto h_z = uniform<T>(rng, size_t(B * K), -4, 4);
    for (int64_t b = 0; b < B; ++b)
      for (const auto& [k, v] : rows[size_t(b)].second) h_z[size_t(b * K + k)] = v;
    for (int64_t k = 0; k < K; ++k) h_z[size_t(4 * K + k)] = nan;
    const uint64_t seed = 21, stream0 = 7, draw = 2;
    const auto out = gpu_sample_rows(h_z, B, K, temperature, seed, stream0, draw);
    std::vector<T> scratch;
    for (int64_t b = 0; b < B; ++b) {
      INFO("row " << b << ": " << rows[size_t(b)].first << ", GPU drew " << out[size_t(b)]);
      int32_t want = -1;
      try {
        want = cpu_sample_row(h_z.data() + b * K, K, temperature, seed, stream0 + uint64_t(b), draw, scratch);
      } catch (const deepgen::Error&) {
        want = -1;  // the CPU refuses this row
      }
      CHECK(out[size_t(b)] == want);
    }
    CHECK(out[0] >= 0);  // the finite row and the -inf row draw; the rest are refused
    CHECK(out[1] == -1);
    CHECK(out[6] >= 0);
    CHECK(out[6] != 9);
  }
}

/// The one-hot linear layer on the GPU (forward, then backward accumulating
/// onto dw0) beside its double CPU reference. A colour outside [0, K) adds
/// nothing to the reference; the kernel is expected to make that image's y NaN.
template <typename T>
struct OnehotLinearRun {
  std::vector<double> y_ref, dw_ref;  ///< the reference's y (B, H) and dW (H, P·K)
  std::vector<T> y, dw;               ///< the kernels'
};

template <typename T>
OnehotLinearRun<T> run_onehot_linear(const std::vector<int32_t>& images, const std::vector<T>& w,
                                     const std::vector<T>& bias, const std::vector<T>& dy, const std::vector<T>& dw0,
                                     int64_t B, int64_t P, int64_t K, int64_t H) {
  OnehotLinearRun<T> r;
  r.y_ref.assign(size_t(B * H), 0.0);
  r.dw_ref.assign(dw0.begin(), dw0.end());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      double acc = double(bias[size_t(h)]);
      for (int64_t p = 0; p < P; ++p) {
        const int32_t k = images[size_t(b * P + p)];
        if (k < 0 || k >= K) continue;
        const size_t col = size_t(h * P * K + p * K + k);
        acc += double(w[col]);
        r.dw_ref[col] += double(dy[size_t(b * H + h)]);
      }
      r.y_ref[size_t(b * H + h)] = acc;
    }
  Stream stream;
  const auto d_images = to_device(images);
  const auto d_w = to_device(w), d_bias = to_device(bias), d_dy = to_device(dy);
  Output<T> y(size_t(B * H)), dw(dw0);
  deepgen::cuda::onehot_linear_fwd<T>(d_images.data(), d_w.data(), d_bias.data(), y.data(), B, P, K, H,
                                      stream.get());
  deepgen::cuda::onehot_linear_bwd<T>(d_images.data(), d_dy.data(), dw.data(), B, P, K, H, stream.get());
  stream.sync();
  r.y = y.fetch("y");
  r.dw = dw.fetch("dweight");
  return r;
}

TEMPLATE_TEST_CASE("onehot_linear: a colour outside 0 ≤ k < K makes its image's outputs NaN and adds no gradient",
                   "[cuda][vae]", float, double) {
  using T = TestType;
  if (gpu_missing()) return;
  const int64_t B = 4, P = 37, K = 5, H = 9;
  auto rng = make_rng(17, B * P, K * H);
  std::uniform_int_distribution<int32_t> colour(0, int32_t(K - 1));
  std::vector<int32_t> images(size_t(B * P));
  for (auto& c : images) c = colour(rng);
  images[size_t(1 * P + 4)] = int32_t(K);  // image 1: one past the palette
  images[size_t(3 * P + 36)] = -1;         // image 3: negative
  const std::vector<T> w = uniform<T>(rng, size_t(H * P * K), -1, 1), bias = uniform<T>(rng, size_t(H), -1, 1);
  const std::vector<T> dy = uniform<T>(rng, size_t(B * H), -1, 1);
  const std::vector<T> dw0 = uniform<T>(rng, size_t(H * P * K), -1, 1);
  const auto run = run_onehot_linear(images, w, bias, dy, dw0, B, P, K, H);
  const std::vector<T>& got = run.y;
  const std::vector<double>& y_ref = run.y_ref;
  for (int64_t b = 0; b < B; ++b) {
    INFO("image " << b);
    const std::vector<T> row(got.begin() + b * H, got.begin() + (b + 1) * H);
    if (b == 1 || b == 3) {
      CHECK(std::all_of(row.begin(), row.end(), [](T v) { return std::isnan(v); }));
    } else {
      require_close("y", row, std::vector<double>(y_ref.begin() + b * H, y_ref.begin() + (b + 1) * H));
    }
  }
  require_close("dweight", run.dw, run.dw_ref);
}

// ---- argument checks (no device needed) ----------------------------------------------------

TEST_CASE("softmax, Adam and VAE launchers reject bad arguments before touching the device", "[cuda]") {
  float f = 0;
  int32_t t = 0;
  int64_t o = 0;
  float* pf = &f;
  const float* cpf = &f;
  REQUIRE_THROWS_WITH(deepgen::cuda::softmax_xent_fwd<float>(&f, &t, &f, &f, 0, 5, IGNORE, nullptr), Contains("N = 0"));
  REQUIRE_THROWS_WITH(deepgen::cuda::softmax_xent_fwd<float>(&f, nullptr, &f, &f, 2, 5, IGNORE, nullptr),
                      Contains("'targets' is null"));
  REQUIRE_THROWS_WITH(deepgen::cuda::softmax_xent_bwd<float>(&f, &t, &f, 2, -1, 1.f, IGNORE, nullptr), Contains("K = -1"));
  const auto s = deepgen::detail::adam_scalars<float>(1e-3, 0.9, 0.999, 1e-8, 0, 1);
  REQUIRE_THROWS_WITH(deepgen::cuda::adam_update_all<float>(&pf, &cpf, &pf, &pf, &o, 0, 1, s, nullptr),
                      Contains("tensors = 0"));
  REQUIRE_THROWS_WITH(deepgen::cuda::adam_update_all<float>(&pf, &cpf, &pf, &pf, &o, 1, 1,
                                                            deepgen::detail::AdamScalars<float>{}, nullptr),
                      Contains("adam_scalars"));
  REQUIRE_THROWS_WITH(deepgen::cuda::reparam_kl_fwd<float>(&f, &f, 0, 0, &f, &f, &f, 4, 0, nullptr), Contains("D = 0"));
  REQUIRE_THROWS_WITH(deepgen::cuda::reparam_kl_bwd<float>(&f, &f, nullptr, &f, 1.f, &f, &f, 4, 2, nullptr),
                      Contains("'noise' is null"));
  REQUIRE_THROWS_WITH(deepgen::cuda::sample_rows<float>(&f, 2, 3, -1.0, 0, 0, 0, &f, &t, nullptr),
                      Contains("temperature -1"));
  REQUIRE_THROWS_WITH(deepgen::cuda::sample_rows<float>(&f, 2, 0, 1.0, 0, 0, 0, &f, &t, nullptr), Contains("K = 0"));
}

TEST_CASE("cuda::Context: a stream and a cuBLAS handle, or a clear error without a device", "[cuda]") {
  std::string why;
  if (deepgen::cuda_device_available(&why)) {
    deepgen::cuda::Context ctx;
    REQUIRE(ctx.stream() != nullptr);
    REQUIRE(ctx.cublas() != nullptr);
    deepgen::cuda::Context moved(std::move(ctx));
    REQUIRE(moved.cublas() != nullptr);
    moved.sync();
  } else {
    REQUIRE_THROWS_AS(deepgen::cuda::Context(), deepgen::CudaError);
    REQUIRE_THROWS_WITH(deepgen::cuda::Context(), Contains("cudaStreamCreate") && Contains("failed"));
  }
}

TEMPLATE_TEST_CASE("onehot_linear_fwd/bwd and relu_fwd/bwd match the double CPU reference", "[cuda][vae]", float,
                   double) {
  if (gpu_missing()) return;
  using T = TestType;
  for (const auto& [B, P, K, H] : {std::array<int64_t, 4>{1, 1, 1, 1}, {3, 37, 5, 9}, {70, 400, 17, 33}}) {
    INFO("B=" << B << " P=" << P << " K=" << K << " H=" << H);
    auto rng = make_rng(15, B * P, K * H);
    std::uniform_int_distribution<int32_t> colour(0, int32_t(K - 1));
    std::vector<int32_t> images(size_t(B * P));
    for (auto& c : images) c = colour(rng);
    const std::vector<T> w = uniform<T>(rng, size_t(H * P * K), -1, 1), bias = uniform<T>(rng, size_t(H), -1, 1);
    const std::vector<T> dy = uniform<T>(rng, size_t(B * H), -1, 1);
    const std::vector<T> dw0 = uniform<T>(rng, size_t(H * P * K), -1, 1);  // bwd accumulates onto this
    const auto run = run_onehot_linear(images, w, bias, dy, dw0, B, P, K, H);
    require_close("onehot_linear_fwd y", run.y, run.y_ref);
    require_close("onehot_linear_bwd dweight", run.dw, run.dw_ref);

    // ReLU on y's values (mixed signs), and its backward from dy.
    const std::vector<T> x = uniform<T>(rng, size_t(B * H), -1, 1);
    std::vector<double> relu_ref(x.size()), drelu_ref(x.size());
    for (size_t n = 0; n < x.size(); ++n) {
      relu_ref[n] = x[n] > 0 ? double(x[n]) : 0.0;
      drelu_ref[n] = x[n] > 0 ? double(dy[n]) : 0.0;
    }
    Stream stream;
    const auto d_x = to_device(x), d_dy = to_device(dy);
    Output<T> r(x.size()), dr(x.size());
    deepgen::cuda::relu_fwd<T>(d_x.data(), r.data(), int64_t(x.size()), stream.get());
    deepgen::cuda::relu_bwd<T>(r.data(), d_dy.data(), dr.data(), int64_t(x.size()), stream.get());
    stream.sync();
    const std::vector<T> relu_got = r.fetch("relu");  // (the canaries are checked either way)
    if (std::any_of(relu_ref.begin(), relu_ref.end(), [](double v) { return v != 0; }))
      require_close("relu_fwd", relu_got, relu_ref);
    else
      CHECK(std::all_of(relu_got.begin(), relu_got.end(), [](T v) { return v == T(0); }));
    const std::vector<T> drelu_got = dr.fetch("drelu");
    if (std::any_of(drelu_ref.begin(), drelu_ref.end(), [](double v) { return v != 0; }))
      require_close("relu_bwd", drelu_got, drelu_ref);
    else
      CHECK(std::all_of(drelu_got.begin(), drelu_got.end(), [](T v) { return v == T(0); }));
  }
}

TEST_CASE("onehot_linear and relu launchers reject bad arguments before touching the device", "[cuda][vae]") {
  const int32_t* no_images = nullptr;
  float* p = reinterpret_cast<float*>(uintptr_t(256));  // never dereferenced: the checks come first
  CHECK_THROWS_WITH(deepgen::cuda::onehot_linear_fwd<float>(no_images, p, p, p, 2, 3, 4, 5, nullptr),
                    Catch::Contains("device pointer 'images' is null"));
  CHECK_THROWS_WITH(deepgen::cuda::onehot_linear_bwd<float>(reinterpret_cast<const int32_t*>(p), p, p, 2, 0, 4, 5,
                                                            nullptr),
                    Catch::Contains("P = 0 must be positive"));
  CHECK_THROWS_WITH(deepgen::cuda::relu_fwd<float>(p, nullptr, 8, nullptr), Catch::Contains("'y' is null"));
  CHECK_THROWS_WITH(deepgen::cuda::relu_bwd<float>(p, p, p, -1, nullptr), Catch::Contains("n = -1 must be positive"));
}
