// Tests of random.hpp: the Philox4x32-10 bijection against Random123's
// known-answer vectors, the documented counter layout, sequential == stateless
// draws (what a GPU kernel relies on), the distributions' moments, and the
// argument checks. Statistical bounds are 5 standard errors: tight enough to
// catch a biased mapping, loose enough to fail about once in 10^6 runs. The
// seeds move with Catch2's --rng-seed, so a failure can be replayed.
#include <catch2/catch.hpp>

#include <deepgen/random.hpp>
#include <deepgen/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <vector>

using deepgen::Philox;
using deepgen::PhiloxCounter;
using deepgen::PhiloxKey;

namespace {

uint64_t test_seed(uint64_t base) { return base + Catch::rngSeed(); }

PhiloxCounter ctr4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) { return PhiloxCounter{{a, b, c, d}}; }

void require_block(const PhiloxCounter& got, const PhiloxCounter& want) {
  for (int i = 0; i < 4; ++i) {
    INFO("word " << i);
    REQUIRE(got.v[i] == want.v[i]);
  }
}

// Mean, variance, and standardised third and fourth moments in double.
struct Moments {
  double mean = 0, var = 0, skew = 0, kurt = 0, min = 0, max = 0;
};

Moments moments(const std::vector<double>& x) {
  Moments m;
  const double n = static_cast<double>(x.size());
  m.min = *std::min_element(x.begin(), x.end());
  m.max = *std::max_element(x.begin(), x.end());
  m.mean = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double s2 = 0, s3 = 0, s4 = 0;
  for (double v : x) {
    const double d = v - m.mean;
    s2 += d * d;
    s3 += d * d * d;
    s4 += d * d * d * d;
  }
  m.var = s2 / n;
  m.skew = (s3 / n) / std::pow(m.var, 1.5);
  m.kurt = (s4 / n) / (m.var * m.var);
  return m;
}

// |count - N·p| within 5 binomial standard deviations.
void require_frequency(int64_t count, int64_t N, double p) {
  const double expected = static_cast<double>(N) * p;
  const double sigma = std::sqrt(static_cast<double>(N) * p * (1 - p));
  INFO("count " << count << " of " << N << ", expected " << expected << " ± " << sigma);
  REQUIRE(std::abs(static_cast<double>(count) - expected) <= 5 * sigma + 1e-9);
}

template <typename F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const deepgen::Error& e) {
    return e.what();
  }
  return "(no deepgen::Error thrown)";
}

}  // namespace

TEST_CASE("random: Philox4x32-10 matches the Random123 known-answer vectors", "[random]") {
  SECTION("counter 0, key 0") {
    require_block(deepgen::philox4x32_10(ctr4(0, 0, 0, 0), PhiloxKey{{0, 0}}),
                  ctr4(0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8));
  }
  SECTION("counter and key all ones") {
    require_block(deepgen::philox4x32_10(ctr4(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff),
                                         PhiloxKey{{0xffffffff, 0xffffffff}}),
                  ctr4(0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd));
  }
  SECTION("digits of pi") {
    require_block(deepgen::philox4x32_10(ctr4(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344),
                                         PhiloxKey{{0xa4093822, 0x299f31d0}}),
                  ctr4(0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1));
  }
}

TEST_CASE("random: counter layout is block in words 0-1, stream in 2-3, seed as key", "[random]") {
  // The pi vector again, through the (seed, stream, block) interface: this
  // pins the layout a GPU kernel must reproduce.
  const uint64_t seed = 0x299f31d0a4093822ull;
  const uint64_t stream = 0x0370734413198a2eull;
  const uint64_t block = 0x85a308d3243f6a88ull;
  require_block(deepgen::philox_block(seed, stream, block),
                ctr4(0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1));

  // u32 element n is word n % 4 of block n / 4.
  const uint32_t kat0[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
  for (uint64_t n = 0; n < 4; ++n) REQUIRE(deepgen::philox_u32_at(0, 0, n) == kat0[n]);
  const PhiloxCounter b5 = deepgen::philox_block(7, 3, 5);
  for (uint64_t j = 0; j < 4; ++j) REQUIRE(deepgen::philox_u32_at(7, 3, 20 + j) == b5.v[j]);

  // Uniforms and normals are built from the documented slots.
  const uint64_t s = test_seed(11), st = 2;
  for (uint64_t n : {0ull, 1ull, 2ull, 3ull, 1000001ull}) {
    INFO("element " << n);
    REQUIRE(deepgen::philox_uniform_at<float>(s, st, n) ==
            deepgen::uniform_float_from_u32(deepgen::philox_u32_at(s, st, n)));
    REQUIRE(deepgen::philox_uniform_at<double>(s, st, n) ==
            deepgen::uniform_double_from_u32(deepgen::philox_u32_at(s, st, 2 * n),
                                             deepgen::philox_u32_at(s, st, 2 * n + 1)));
    float f0, f1, g0, g1;
    deepgen::philox_normal_pair_at<float>(s, st, n, &f0, &f1);
    deepgen::box_muller(deepgen::philox_uniform_at<float>(s, st, 2 * n),
                        deepgen::philox_uniform_at<float>(s, st, 2 * n + 1), &g0, &g1);
    REQUIRE(f0 == g0);
    REQUIRE(f1 == g1);
    REQUIRE(deepgen::philox_normal_at<float>(s, st, 2 * n) == f0);
    REQUIRE(deepgen::philox_normal_at<float>(s, st, 2 * n + 1) == f1);
    double d0, d1, e0, e1;
    deepgen::philox_normal_pair_at<double>(s, st, n, &d0, &d1);
    deepgen::box_muller(deepgen::philox_uniform_at<double>(s, st, 2 * n),
                        deepgen::philox_uniform_at<double>(s, st, 2 * n + 1), &e0, &e1);
    REQUIRE(d0 == e0);
    REQUIRE(d1 == e1);
    REQUIRE(deepgen::philox_normal_at<double>(s, st, 2 * n) == d0);
    REQUIRE(deepgen::philox_normal_at<double>(s, st, 2 * n + 1) == d1);
  }
}

TEST_CASE("random: the uniform mappings stay strictly inside (0, 1)", "[random]") {
  using deepgen::uniform_double_from_u32;
  using deepgen::uniform_float_from_u32;
  const uint32_t ones = 0xffffffffu;
  REQUIRE(uniform_float_from_u32(0) == 0x1p-24f);
  REQUIRE(uniform_float_from_u32(ones) == 1.0f - 0x1p-24f);
  REQUIRE(uniform_float_from_u32(ones) < 1.0f);
  REQUIRE(uniform_double_from_u32(0, 0) == 0x1p-53);
  REQUIRE(uniform_double_from_u32(ones, ones) == 1.0 - 0x1p-53);
  REQUIRE(uniform_double_from_u32(ones, ones) < 1.0);
  // The value sets are symmetric about 1/2: u(w) + u(~w) == 1 exactly.
  for (uint32_t w : {0u, 1u, 255u, 256u, 0x12345678u, 0x80000000u, ones}) {
    REQUIRE(uniform_float_from_u32(w) + uniform_float_from_u32(~w) == 1.0f);
    REQUIRE(uniform_double_from_u32(w, ~w) + uniform_double_from_u32(~w, w) == 1.0);
  }
  // Box–Muller at the extreme uniforms stays finite.
  float z0, z1;
  deepgen::box_muller(uniform_float_from_u32(0), uniform_float_from_u32(ones), &z0, &z1);
  REQUIRE(std::isfinite(z0));
  REQUIRE(std::isfinite(z1));
  REQUIRE(std::abs(z0) < 6.0f);
  double y0, y1;
  deepgen::box_muller(uniform_double_from_u32(0, 0), uniform_double_from_u32(ones, ones), &y0, &y1);
  REQUIRE(std::isfinite(y0));
  REQUIRE(std::isfinite(y1));
  REQUIRE(std::abs(y0) < 9.0);
}

TEST_CASE("random: the same seed and stream give the same draws", "[random]") {
  const uint64_t seed = test_seed(0x5eed);
  Philox a(seed, 4), b(seed, 4);
  for (int i = 0; i < 500; ++i) {
    REQUIRE(a.next_u32() == b.next_u32());
    REQUIRE(a.uniform<float>() == b.uniform<float>());
    REQUIRE(a.uniform<double>() == b.uniform<double>());
    REQUIRE(a.normal<float>() == b.normal<float>());
    REQUIRE(a.normal<double>() == b.normal<double>());
    REQUIRE(a.uniform_int(1000) == b.uniform_int(1000));
  }
  // A copy continues exactly where the original is, pending normal included.
  a.normal<float>();
  Philox c = a;
  for (int i = 0; i < 100; ++i) REQUIRE(a.normal<float>() == c.normal<float>());
  REQUIRE(a.position() == c.position());
}

TEST_CASE("random: different seeds or streams give different draws", "[random]") {
  // Seeds and streams that differ only in high or only in low halves.
  const std::vector<uint64_t> seeds = {0, 1, uint64_t(1) << 32, uint64_t(1) << 63, test_seed(99)};
  const std::vector<uint64_t> streams = {0, 1, uint64_t(1) << 32, uint64_t(1) << 63};
  std::vector<std::vector<uint32_t>> outs;
  for (uint64_t seed : seeds)
    for (uint64_t stream : streams) {
      Philox g(seed, stream);
      std::vector<uint32_t> v(16);
      for (auto& x : v) x = g.next_u32();
      outs.push_back(v);
    }
  for (size_t i = 0; i < outs.size(); ++i)
    for (size_t j = i + 1; j < outs.size(); ++j) {
      int same = 0;
      for (size_t k = 0; k < 16; ++k) same += outs[i][k] == outs[j][k];
      INFO("generators " << i << " and " << j);
      REQUIRE(same == 0);  // a chance coincidence has probability ~2^-28 here
    }
}

TEST_CASE("random: sequential draws equal the stateless element functions", "[random]") {
  const uint64_t seed = GENERATE(uint64_t(0), uint64_t(0xdeadbeefcafef00dull), test_seed(12345));
  const uint64_t stream = GENERATE(uint64_t(0), uint64_t(77), uint64_t(0xffffffff00000001ull));
  const int64_t N = GENERATE(1, 7, 65, 1000);
  INFO("seed " << seed << " stream " << stream << " N " << N);

  SECTION("u32") {
    Philox g(seed, stream);
    for (int64_t n = 0; n < N; ++n) REQUIRE(g.next_u32() == deepgen::philox_u32_at(seed, stream, n));
    REQUIRE(g.position() == uint64_t(N));
  }
  SECTION("uniform<float>") {
    Philox g(seed, stream);
    for (int64_t n = 0; n < N; ++n)
      REQUIRE(g.uniform<float>() == deepgen::philox_uniform_at<float>(seed, stream, n));
  }
  SECTION("uniform<double>") {
    Philox g(seed, stream);
    for (int64_t n = 0; n < N; ++n)
      REQUIRE(g.uniform<double>() == deepgen::philox_uniform_at<double>(seed, stream, n));
    REQUIRE(g.position() == uint64_t(2 * N));
  }
  SECTION("normal<float>") {
    Philox g(seed, stream);
    for (int64_t n = 0; n < N; ++n)
      REQUIRE(g.normal<float>() == deepgen::philox_normal_at<float>(seed, stream, n));
  }
  SECTION("normal<double>") {
    Philox g(seed, stream);
    for (int64_t n = 0; n < N; ++n)
      REQUIRE(g.normal<double>() == deepgen::philox_normal_at<double>(seed, stream, n));
  }
  SECTION("fill_uniform and fill_normal from a fresh generator") {
    deepgen::Tensorf tf(deepgen::Shape{N});
    deepgen::Tensord td(deepgen::Shape{N, 1});
    Philox g(seed, stream), h(seed, stream);
    deepgen::fill_uniform(tf, g, -2.0f, 3.0f);
    deepgen::fill_normal(td, h, 1.5, 0.25);
    for (int64_t n = 0; n < N; ++n) {
      REQUIRE(tf[n] == -2.0f + 5.0f * deepgen::philox_uniform_at<float>(seed, stream, n));
      REQUIRE(td[n] == 1.5 + 0.25 * deepgen::philox_normal_at<double>(seed, stream, n));
    }
  }
}

TEST_CASE("random: mixed draws follow the documented slot rules", "[random]") {
  const uint64_t seed = test_seed(2024), stream = 5;
  using deepgen::philox_normal_at;
  using deepgen::philox_u32_at;
  using deepgen::philox_uniform_at;
  Philox g(seed, stream);
  REQUIRE(g.next_u32() == philox_u32_at(seed, stream, 0));  // slot 0
  REQUIRE(g.position() == 1);
  // A double takes an even slot pair: slots 2, 3 = double element 1.
  REQUIRE(g.uniform<double>() == philox_uniform_at<double>(seed, stream, 1));
  REQUIRE(g.position() == 4);
  // Float normals come in pairs: element 4 (slots 4, 5), its partner 5 pending.
  REQUIRE(g.normal<float>() == philox_normal_at<float>(seed, stream, 4));
  REQUIRE(g.position() == 6);
  REQUIRE(g.normal<float>() == philox_normal_at<float>(seed, stream, 5));
  REQUIRE(g.position() == 6);
  REQUIRE(g.normal<float>() == philox_normal_at<float>(seed, stream, 6));
  REQUIRE(g.position() == 8);
  // Any other draw discards the pending partner 7; its slots are never reused.
  REQUIRE(g.next_u32() == philox_u32_at(seed, stream, 8));
  // A double normal pair is a whole block: slot 9 rounds up to 12 = block 3,
  // normal<double> elements 6 and 7.
  REQUIRE(g.normal<double>() == philox_normal_at<double>(seed, stream, 6));
  REQUIRE(g.position() == 16);
  REQUIRE(g.uniform<float>() == philox_uniform_at<float>(seed, stream, 16));
  REQUIRE(g.normal<double>() == philox_normal_at<double>(seed, stream, 10));
  REQUIRE(g.normal<double>() == philox_normal_at<double>(seed, stream, 11));
  REQUIRE(g.position() == 24);
  // A normal of the other type discards the pending one too.
  REQUIRE(g.normal<float>() == philox_normal_at<float>(seed, stream, 24));
  REQUIRE(g.normal<double>() == philox_normal_at<double>(seed, stream, 14));
  REQUIRE(g.position() == 32);
  g.seek(41);
  REQUIRE(g.uniform<float>() == philox_uniform_at<float>(seed, stream, 41));
  REQUIRE(g.uniform<double>() == philox_uniform_at<double>(seed, stream, 21));
  REQUIRE(g.position() == 44);
}

TEST_CASE("random: reserve_* hands a kernel exactly the draws the helpers make", "[random]") {
  const uint64_t seed = test_seed(31337), stream = 9;
  const int64_t N = GENERATE(0, 1, 7, 65);
  INFO("N " << N);
  Philox g(seed, stream);
  g.next_u32();
  g.normal<float>();  // slot 0 taken; normal element 2 drawn, element 3 pending, position 4

  SECTION("fill_normal<float> starts at the pending element") {
    Philox probe = g;
    const uint64_t n0 = probe.reserve_normal<float>(static_cast<uint64_t>(N));
    REQUIRE(n0 == 3);
    deepgen::Tensorf t(deepgen::Shape{N}, std::numeric_limits<float>::quiet_NaN());
    deepgen::fill_normal(t, g, 0.0f, 2.0f);
    for (int64_t i = 0; i < N; ++i)
      REQUIRE(t[i] == 2.0f * deepgen::philox_normal_at<float>(seed, stream, n0 + i));
    REQUIRE(g.position() == probe.position());
    REQUIRE(g.normal<float>() == probe.normal<float>());
  }
  SECTION("fill_uniform<double> starts at the next even slot") {
    Philox probe = g;
    const uint64_t n0 = probe.reserve_uniform<double>(static_cast<uint64_t>(N));
    REQUIRE(n0 == 2);  // slots 4, 5
    deepgen::Tensord t(deepgen::Shape{N}, std::numeric_limits<double>::quiet_NaN());
    deepgen::fill_uniform(t, g, 10.0, 11.0);
    for (int64_t i = 0; i < N; ++i)
      REQUIRE(t[i] == 10.0 + deepgen::philox_uniform_at<double>(seed, stream, n0 + i));
    REQUIRE(g.position() == probe.position());
    REQUIRE(g.next_u32() == probe.next_u32());
  }
}

TEMPLATE_TEST_CASE("random: uniform<T> has the moments of U(0, 1)", "[random]", float, double) {
  const int64_t N = 1000000;
  Philox g(test_seed(0xa11ce), 1);
  std::vector<double> x(N);
  for (auto& v : x) v = g.uniform<TestType>();
  const Moments m = moments(x);
  INFO("mean " << m.mean << " var " << m.var << " min " << m.min << " max " << m.max);
  REQUIRE(m.min > 0.0);
  REQUIRE(m.max < 1.0);
  const double n = static_cast<double>(N);
  REQUIRE(std::abs(m.mean - 0.5) < 5 * std::sqrt(1.0 / 12 / n));
  // Var of the sample variance of U(0,1): (μ4 - σ^4)/N = (1/80 - 1/144)/N.
  REQUIRE(std::abs(m.var - 1.0 / 12) < 5 * std::sqrt((1.0 / 80 - 1.0 / 144) / n));
  // Every tenth of the interval gets a tenth of the draws.
  std::vector<int64_t> bins(10, 0);
  for (double v : x) ++bins[std::min<size_t>(9, static_cast<size_t>(v * 10))];
  for (int64_t c : bins) require_frequency(c, N, 0.1);
}

TEMPLATE_TEST_CASE("random: normal<T> has the moments of N(0, 1)", "[random]", float, double) {
  const int64_t N = 1000000;
  Philox g(test_seed(0xb0b), 2);
  std::vector<double> x(N);
  for (auto& v : x) v = g.normal<TestType>();
  const Moments m = moments(x);
  INFO("mean " << m.mean << " var " << m.var << " skew " << m.skew << " kurt " << m.kurt);
  const double n = static_cast<double>(N);
  REQUIRE(std::isfinite(m.min));
  REQUIRE(std::isfinite(m.max));
  REQUIRE(std::abs(m.mean) < 5 / std::sqrt(n));
  REQUIRE(std::abs(m.var - 1) < 5 * std::sqrt(2 / n));
  REQUIRE(std::abs(m.skew) < 5 * std::sqrt(6 / n));
  REQUIRE(std::abs(m.kurt - 3) < 5 * std::sqrt(24 / n));
  // Tails: P(|z| > 2) = 0.0455003, P(|z| > 3) = 0.0026998.
  int64_t beyond2 = 0, beyond3 = 0;
  for (double v : x) {
    beyond2 += std::abs(v) > 2;
    beyond3 += std::abs(v) > 3;
  }
  require_frequency(beyond2, N, 0.0455003);
  require_frequency(beyond3, N, 0.0026998);
  // The two members of a Box–Muller pair, and neighbouring pairs, are uncorrelated.
  double within = 0, across = 0;
  for (int64_t i = 0; i + 2 < N; i += 2) {
    within += x[i] * x[i + 1];
    across += x[i + 1] * x[i + 2];
  }
  const double pairs = n / 2;
  REQUIRE(std::abs(within / pairs) < 5 / std::sqrt(pairs));
  REQUIRE(std::abs(across / pairs) < 5 / std::sqrt(pairs));
}

TEMPLATE_TEST_CASE("random: fill_normal and fill_uniform give the asked-for spread", "[random]",
                   float, double) {
  const int64_t N = 200000;
  Philox g(test_seed(0xf111), 0);
  deepgen::Tensor<TestType> t(deepgen::Shape{N / 100, 100});
  deepgen::fill_normal(t, g, TestType(-3), TestType(0.5));
  std::vector<double> x(t.begin(), t.end());
  Moments m = moments(x);
  const double n = static_cast<double>(N);
  REQUIRE(std::abs(m.mean + 3) < 5 * 0.5 / std::sqrt(n));
  REQUIRE(std::abs(m.var - 0.25) < 5 * 0.25 * std::sqrt(2 / n));

  deepgen::fill_uniform(t, g, TestType(-1), TestType(3));
  x.assign(t.begin(), t.end());
  m = moments(x);
  REQUIRE(m.min >= -1.0);
  REQUIRE(m.max <= 3.0);
  REQUIRE(std::abs(m.mean - 1) < 5 * 4 * std::sqrt(1.0 / 12 / n));
  REQUIRE(std::abs(m.var - 16.0 / 12) < 5 * 16 * std::sqrt((1.0 / 80 - 1.0 / 144) / n));

  // stddev 0 is allowed and gives the mean exactly; plain int arguments convert to T.
  deepgen::fill_normal(t, g, 7, 0);
  REQUIRE(std::all_of(t.begin(), t.end(), [](TestType v) { return v == TestType(7); }));
}

TEMPLATE_TEST_CASE("random: categorical frequencies follow the weights", "[random]", float, double) {
  const int64_t N = 200000;
  Philox g(test_seed(0xca7), 3);
  SECTION("unnormalised weights with zeros, K = 7") {
    const std::vector<TestType> w = {1, 0, 3, 0.5, 5.5, 0, 2};
    const double total = 12;
    std::vector<int64_t> counts(w.size(), 0);
    for (int64_t i = 0; i < N; ++i) {
      const int64_t k = g.categorical(w.data(), static_cast<int64_t>(w.size()));
      REQUIRE(k >= 0);
      REQUIRE(k < static_cast<int64_t>(w.size()));
      ++counts[static_cast<size_t>(k)];
    }
    REQUIRE(counts[1] == 0);
    REQUIRE(counts[5] == 0);
    for (size_t k = 0; k < w.size(); ++k) {
      INFO("category " << k);
      require_frequency(counts[k], N, static_cast<double>(w[k]) / total);
    }
  }
  SECTION("one category, and a single positive weight at the end") {
    const TestType one[1] = {TestType(0.3)};
    const TestType last[3] = {0, 0, TestType(1e-30)};
    for (int i = 0; i < 1000; ++i) {
      REQUIRE(g.categorical(one, 1) == 0);
      REQUIRE(g.categorical(last, 3) == 2);
    }
  }
  SECTION("one uniform per draw, as categorical_from_uniform") {
    const TestType w[4] = {TestType(0.1), TestType(0.2), TestType(0.3), TestType(0.4)};
    const TestType total = w[0] + w[1] + w[2] + w[3];
    Philox h(7, 8);
    for (uint64_t n = 0; n < 1000; ++n) {
      const TestType u = deepgen::philox_uniform_at<TestType>(7, 8, n);
      REQUIRE(h.categorical(w, 4) == deepgen::categorical_from_uniform(w, 4, total, u));
    }
  }
}

// The shared DEEPGEN_HD draw that the GPU's sample_rows makes per row: the
// weights summed in index order in T, then categorical_from_uniform. The CPU's
// Philox::categorical checks the same conditions before the same call, so
// the two refuse the same rows by construction; this shows both halves.
TEMPLATE_TEST_CASE("random: categorical_from_uniform refuses what Philox::categorical refuses", "[random]", float,
                   double) {
  using T = TestType;
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const T inf = std::numeric_limits<T>::infinity();
  const T big = std::numeric_limits<T>::max() / T(1.5);  // finite; two of them sum to inf
  struct Case {
    const char* name;
    std::vector<T> w;
  };
  const std::vector<Case> cases = {
      {"partly NaN (the middle weight)", {T(1), nan, T(2)}},
      {"partly NaN (the last weight)", {T(0.5), T(3), nan}},
      {"all NaN", {nan, nan, nan}},
      {"one +inf", {inf, T(1)}},
      {"one -inf", {T(1), -inf, T(2)}},
      {"all zero", {T(0), T(0), T(0), T(0)}},
      {"negative", {T(1), T(-0.5), T(2)}},
      {"a sum that overflows", {big, big}},
  };
  // uniforms spanning (0, 1), including the extremes uniform<T>() can return
  const std::vector<T> us = {deepgen::philox_uniform_at<T>(1, 2, 0), T(1e-7), T(0.25), T(0.5), T(0.999)};
  for (const auto& c : cases) {
    INFO(c.name);
    const int64_t K = static_cast<int64_t>(c.w.size());
    T total = T(0);  // as sample_rows' thread 0 sums it
    for (T x : c.w) total += x;
    for (T u : us) REQUIRE(deepgen::categorical_from_uniform<T>(c.w.data(), K, total, u) == -1);
    Philox g(5, 6);
    REQUIRE_THROWS_AS(g.categorical(c.w.data(), K), deepgen::Error);
    REQUIRE(g.position() == 0);  // refused before any draw
  }
  SECTION("a total passed as NaN, inf or zero is refused even for good weights") {
    const std::vector<T> w = {T(1), T(2)};
    for (T total : {nan, inf, T(0), T(-3)}) REQUIRE(deepgen::categorical_from_uniform<T>(w.data(), 2, total, T(0.5)) == -1);
  }
  SECTION("finite weights still draw every positive class and never a zero one") {
    const std::vector<T> w = {T(0), T(1), T(0), T(3)};
    const T total = w[0] + w[1] + w[2] + w[3];
    REQUIRE(deepgen::categorical_from_uniform<T>(w.data(), 4, total, T(0.1)) == 1);
    REQUIRE(deepgen::categorical_from_uniform<T>(w.data(), 4, total, T(0.3)) == 3);
    REQUIRE(deepgen::categorical_from_uniform<T>(w.data(), 4, total, T(1)) == 3);  // rounding past the end
  }
  SECTION("finite_hd") {
    REQUIRE(deepgen::finite_hd(T(0)));
    REQUIRE(deepgen::finite_hd(-std::numeric_limits<T>::max()));
    REQUIRE(deepgen::finite_hd(std::numeric_limits<T>::denorm_min()));
    REQUIRE_FALSE(deepgen::finite_hd(nan));
    REQUIRE_FALSE(deepgen::finite_hd(inf));
    REQUIRE_FALSE(deepgen::finite_hd(-inf));
  }
}

TEST_CASE("random: uniform_int stays in 0 ≤ k < n and is unbiased", "[random]") {
  const int64_t n = GENERATE(int64_t(1), int64_t(2), int64_t(3), int64_t(7), int64_t(65),
                             int64_t(1000), (int64_t(1) << 31) + 1, (int64_t(1) << 32) - 1,
                             int64_t(1) << 32, (int64_t(1) << 32) + 1, int64_t(3) << 61,
                             std::numeric_limits<int64_t>::max());
  INFO("n " << n);
  const int64_t N = 60000;
  Philox g(test_seed(0x1d), static_cast<uint64_t>(n));
  std::vector<int64_t> x(N);
  for (auto& v : x) {
    v = g.uniform_int(n);
    REQUIRE(v >= 0);
    REQUIRE(v < n);
  }
  if (n <= 65) {
    std::vector<int64_t> counts(static_cast<size_t>(n), 0);
    for (int64_t v : x) ++counts[static_cast<size_t>(v)];
    for (int64_t c : counts) require_frequency(c, N, 1.0 / static_cast<double>(n));
  } else {
    // The lower half and the lowest third get their share: catches a
    // generator that only fills the low 32 bits or folds values with a bias.
    const int64_t half = n / 2, third = n / 3;
    require_frequency(std::count_if(x.begin(), x.end(), [&](int64_t v) { return v < half; }), N,
                      static_cast<double>(half) / static_cast<double>(n));
    require_frequency(std::count_if(x.begin(), x.end(), [&](int64_t v) { return v < third; }), N,
                      static_cast<double>(third) / static_cast<double>(n));
  }
}

TEST_CASE("random: shuffle is a uniformly random permutation", "[random]") {
  SECTION("a permutation, reproducible from the seed") {
    const int64_t n = GENERATE(0, 1, 2, 7, 65, 1000);
    INFO("n " << n);
    std::vector<int> v(static_cast<size_t>(n));
    std::iota(v.begin(), v.end(), 0);
    std::vector<int> w = v;
    Philox a(test_seed(0x5b), 1), b(test_seed(0x5b), 1);
    deepgen::shuffle(v, a);
    deepgen::shuffle(w, b);
    REQUIRE(v == w);
    std::vector<int> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < n; ++i) REQUIRE(sorted[static_cast<size_t>(i)] == i);
    if (n >= 65) {
      std::vector<int> identity(static_cast<size_t>(n));
      std::iota(identity.begin(), identity.end(), 0);
      REQUIRE(v != identity);
    }
  }
  SECTION("all 6 orders of 3 elements are equally likely") {
    const int64_t N = 60000;
    Philox g(test_seed(0x5c), 2);
    std::map<std::vector<int>, int64_t> counts;
    for (int64_t i = 0; i < N; ++i) {
      std::vector<int> v = {0, 1, 2};
      deepgen::shuffle(v, g);
      ++counts[v];
    }
    REQUIRE(counts.size() == 6);
    for (const auto& kv : counts) require_frequency(kv.second, N, 1.0 / 6);
  }
  SECTION("works for any element type") {
    std::vector<std::string> names = {"bulbasaur", "charmander", "squirtle", "pikachu"};
    Philox g(1, 0);
    deepgen::shuffle(names, g);
    std::sort(names.begin(), names.end());
    REQUIRE(names == std::vector<std::string>{"bulbasaur", "charmander", "pikachu", "squirtle"});
  }
}

TEST_CASE("random: bad arguments throw deepgen::Error and leave the generator unchanged",
          "[random]") {
  using Catch::Contains;
  Philox g(42, 0);
  g.next_u32();
  g.normal<float>();
  const uint64_t pos = g.position();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();

  SECTION("uniform_int of an empty range") {
    REQUIRE_THROWS_AS(g.uniform_int(0), deepgen::Error);
    REQUIRE_THAT(error_message([&] { g.uniform_int(0); }), Contains("uniform_int: n is 0"));
    REQUIRE_THAT(error_message([&] { g.uniform_int(-5); }), Contains("n >= 1"));
  }
  SECTION("categorical with no categories") {
    const float w[1] = {1};
    REQUIRE_THROWS_AS(g.categorical(w, 0), deepgen::Error);
    REQUIRE_THAT(error_message([&] { g.categorical(w, 0); }), Contains("K is 0"));
    REQUIRE_THAT(error_message([&] { g.categorical(w, -2); }), Contains("K is -2"));
    REQUIRE_THAT(error_message([&] { g.categorical(static_cast<const float*>(nullptr), 3); }),
                 Contains("null"));
  }
  SECTION("categorical with all-zero weights") {
    const double w[3] = {0, 0, 0};
    REQUIRE_THROWS_AS(g.categorical(w, 3), deepgen::Error);
    REQUIRE_THAT(error_message([&] { g.categorical(w, 3); }),
                 Contains("sum to 0") && Contains("at least one weight must be positive"));
  }
  SECTION("categorical with a negative, NaN or infinite weight") {
    const float neg[3] = {1, -0.5f, 2};
    const float with_nan[3] = {1, 2, nan};
    const float with_inf[2] = {inf, 1};
    REQUIRE_THROWS_AS(g.categorical(neg, 3), deepgen::Error);
    REQUIRE_THAT(error_message([&] { g.categorical(neg, 3); }),
                 Contains("weight 1 of 3 is -0.5") && Contains("non-negative"));
    REQUIRE_THAT(error_message([&] { g.categorical(with_nan, 3); }),
                 Contains("weight 2 of 3 is nan") && Contains("NaN"));
    REQUIRE_THAT(error_message([&] { g.categorical(with_inf, 2); }), Contains("weight 0 of 2 is inf"));
    const double huge[2] = {1.5e308, 1.5e308};  // each finite, the sum is not
    REQUIRE_THAT(error_message([&] { g.categorical(huge, 2); }), Contains("sum finite"));
  }
  SECTION("fill_normal with a negative or NaN stddev") {
    deepgen::Tensorf t(deepgen::Shape{2, 3}, 5.0f);
    REQUIRE_THROWS_AS(deepgen::fill_normal(t, g, 0.0f, -1.0f), deepgen::Error);
    REQUIRE_THAT(error_message([&] { deepgen::fill_normal(t, g, 0.0f, -1.0f); }),
                 Contains("stddev -1") && Contains("[2, 3]") && Contains("stddev >= 0"));
    REQUIRE_THAT(error_message([&] { deepgen::fill_normal(t, g, 0.0f, nan); }), Contains("stddev nan"));
    REQUIRE_THAT(error_message([&] { deepgen::fill_normal(t, g, inf, 1.0f); }), Contains("mean inf"));
    REQUIRE(std::all_of(t.begin(), t.end(), [](float v) { return v == 5.0f; }));
  }
  SECTION("fill_uniform with empty or non-finite bounds") {
    deepgen::Tensord t(deepgen::Shape{4}, 5.0);
    REQUIRE_THROWS_AS(deepgen::fill_uniform(t, g, 1.0, 1.0), deepgen::Error);
    REQUIRE_THAT(error_message([&] { deepgen::fill_uniform(t, g, 2.0, 1.0); }),
                 Contains("bounds [2, 1]") && Contains("lo < hi"));
    REQUIRE_THAT(error_message([&] { deepgen::fill_uniform(t, g, 0.0, double(inf)); }),
                 Contains("finite"));
    REQUIRE_THAT(error_message([&] { deepgen::fill_uniform(t, g, -1e308, 1e308); }),
                 Contains("overflows"));
    REQUIRE(std::all_of(t.begin(), t.end(), [](double v) { return v == 5.0; }));
  }
  SECTION("seek past the end of a stream") {
    REQUIRE_THAT(error_message([&] { g.seek(Philox::MAX_POSITION + 1); }), Contains("Philox::seek"));
    Philox h(1, 2);
    h.seek(Philox::MAX_POSITION);
    REQUIRE_THAT(error_message([&] { h.next_u32(); }), Contains("exhausted"));
  }
  // No check consumed a draw or dropped the pending normal.
  REQUIRE(g.position() == pos);
  Philox fresh(42, 0);
  fresh.next_u32();
  fresh.normal<float>();
  REQUIRE(g.normal<float>() == fresh.normal<float>());
}
