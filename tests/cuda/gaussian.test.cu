// tests/cuda/gaussian.test.cu — the VAE's reparameterisation + KL
// (kernels/gaussian.cu) against the CPU math (detail/gaussian.hpp) and the
// CPU's Philox normals.
// Without a device these WARN and pass (DEEPGEN_REQUIRE_GPU=1 makes that a
// failure); the argument checks run everywhere.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "deepgen/cuda/launchers.hpp"
#include "deepgen/detail/gaussian.hpp"
#include "deepgen/error.hpp"
#include "deepgen/random.hpp"

#include "cuda/support.hpp"

namespace {

using namespace deepgen::test::gpu;
using Catch::Contains;

}  // namespace

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

TEST_CASE("reparam_kl launchers reject bad arguments before touching the device", "[cuda][vae]") {
  float f = 0;
  REQUIRE_THROWS_WITH(deepgen::cuda::reparam_kl_fwd<float>(&f, &f, 0, 0, &f, &f, &f, 4, 0, nullptr), Contains("D = 0"));
  REQUIRE_THROWS_WITH(deepgen::cuda::reparam_kl_bwd<float>(&f, &f, nullptr, &f, 1.f, &f, &f, 4, 2, nullptr),
                      Contains("'noise' is null"));
}
