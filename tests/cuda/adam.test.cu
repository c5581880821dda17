// tests/cuda/adam.test.cu — Adam over every tensor in one launch (kernels/adam.cu)
// against detail::adam_update, the CPU's rule, on fresh random inputs.
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
#include "deepgen/detail/adam_rule.hpp"
#include "deepgen/error.hpp"

#include "cuda/support.hpp"

namespace {

using namespace deepgen::test::gpu;
using Catch::Contains;

}  // namespace

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

TEST_CASE("adam_update_all rejects bad arguments before touching the device", "[cuda][adam]") {
  float f = 0;
  int64_t o = 0;
  float* pf = &f;
  const float* cpf = &f;
  const auto s = deepgen::detail::adam_scalars<float>(1e-3, 0.9, 0.999, 1e-8, 0, 1);
  REQUIRE_THROWS_WITH(deepgen::cuda::adam_update_all<float>(&pf, &cpf, &pf, &pf, &o, 0, 1, s, nullptr),
                      Contains("tensors = 0"));
  REQUIRE_THROWS_WITH(deepgen::cuda::adam_update_all<float>(&pf, &cpf, &pf, &pf, &o, 1, 1,
                                                            deepgen::detail::AdamScalars<float>{}, nullptr),
                      Contains("adam_scalars"));
}
