// tests/cuda/lstm_reference.hpp — the double-precision CPU reference that the
// LSTM kernel tests (lstm.test.cu: one step; lstm_sequence.test.cu: a whole
// sequence) compare against, built from the same detail::lstm_unit_fwd.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "deepgen/detail/lstm_gates.hpp"

namespace deepgen::test::gpu {

constexpr int64_t I_SIZE = 13;  // input (palette) size of the one-hot tests: awkward, small

/// Tokens in [-1, I): -1 is the all-zeros input of step 0. With two or more
/// rows the first is -1 and the last is I - 1 (the last column); a single row
/// gets a real column so the gather is exercised.
inline std::vector<int32_t> random_tokens(std::mt19937& rng, int64_t n, int64_t I) {
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
inline FwdRef reference_fwd(const std::vector<double>& pre, const std::vector<double>& b_ih,
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
inline FwdRef reference_sequence_fwd(const std::vector<int32_t>& tokens, const std::vector<double>& wih,
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
inline void add_dpre_times_whh(const double* dpre, const std::vector<double>& whh, double* dh, int64_t B, int64_t H) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k < H; ++k)
      for (int64_t g = 0; g < 4 * H; ++g) dh[b * H + k] += dpre[b * 4 * H + g] * whh[size_t(g * H + k)];
}

}  // namespace deepgen::test::gpu
