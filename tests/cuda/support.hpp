// tests/cuda/support.hpp — what every GPU test file shares: the skip (or,
// with DEEPGEN_REQUIRE_GPU=1, fail) when no device is usable, tolerances,
// seeded inputs, poisoned outputs with canaries, a non-default stream, and
// the relative-error check that fails on NaN.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/memory.hpp"

namespace deepgen::test::gpu {

using deepgen::cuda::DeviceBuffer;

constexpr std::size_t CANARY = 16;  // guard elements after the end of every output

/// True (after a WARN) when the device tests must be skipped.
inline bool gpu_missing() {
  std::string why;
  if (deepgen::cuda_device_available(&why)) return false;
  if (std::getenv("DEEPGEN_REQUIRE_GPU") != nullptr)
    FAIL("DEEPGEN_REQUIRE_GPU is set but no CUDA device is usable (" << why << ")");
  WARN("no CUDA device: GPU tests skipped (" << why << ")");
  return true;
}

template <typename T>
double tolerance();
template <>
inline double tolerance<float>() {
  return 1e-5;  // a few float ulps per element against an exact reference
}
template <>
inline double tolerance<double>() {
  return 1e-12;  // device and host libm may differ by an ulp or two
}

/// A generator whose stream depends on Catch's seed and on the case, so every
/// size gets its own inputs and a failing run replays with --rng-seed.
inline std::mt19937 make_rng(int tag, int64_t a, int64_t b) {
  std::seed_seq seq{Catch::rngSeed(), static_cast<unsigned>(tag), static_cast<unsigned>(a),
                    static_cast<unsigned>(b)};
  return std::mt19937(seq);
}

/// n values uniform in [lo, hi); a continuous range, so none is exactly zero in practice.
template <typename T>
std::vector<T> uniform(std::mt19937& rng, std::size_t n, double lo, double hi) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(dist(rng));
  return v;
}

template <typename T>
std::vector<double> to_double(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}

template <typename T>
DeviceBuffer<T> to_device(const std::vector<T>& h_x) {
  DeviceBuffer<T> d_x(h_x.size());
  d_x.upload(h_x.data(), h_x.size());
  return d_x;
}

/// What an output element holds before the kernel writes it: NaN for floating
/// point; for integers (colour and class indices) the most negative value,
/// which is no valid index and no −1 "no class" either, so an element the
/// kernel never wrote fails a range check instead of passing as colour 0.
template <typename T>
T poison() {
  if constexpr (std::is_floating_point<T>::value)
    return std::numeric_limits<T>::quiet_NaN();
  else
    return std::numeric_limits<T>::min();
}

/// A device output of n elements followed by CANARY guard elements. The first
/// n start as poison<T>() (or as given values, for accumulating outputs);
/// fetch() checks the guards are untouched and returns the first n.
template <typename T>
class Output {
 public:
  explicit Output(std::size_t n) : Output(std::vector<T>(n, poison<T>())) {}
  explicit Output(const std::vector<T>& initial) : m_n(initial.size()), m_d(initial.size() + CANARY) {
    std::vector<T> h_x(initial);
    h_x.insert(h_x.end(), CANARY, canary());
    m_d.upload(h_x.data(), h_x.size());
  }
  T* data() { return m_d.data(); }

  std::vector<T> fetch(const char* name) const {
    std::vector<T> h_x(m_n + CANARY);
    m_d.download(h_x.data(), h_x.size());
    const std::vector<T> guard(CANARY, canary());
    INFO(name << ": the kernel wrote past the end of its " << m_n << " elements");
    REQUIRE(std::memcmp(h_x.data() + m_n, guard.data(), CANARY * sizeof(T)) == 0);
    h_x.resize(m_n);
    return h_x;
  }

 private:
  static T canary() { return T(-1234.625); }  // exact in float and double
  std::size_t m_n;
  DeviceBuffer<T> m_d;
};

/// A non-default stream, so the launchers' stream argument is exercised.
class Stream {
 public:
  Stream() { DEEPGEN_CUDA_CHECK(cudaStreamCreate(&m_stream)); }
  ~Stream() { cudaStreamDestroy(m_stream); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return m_stream; }
  void sync() const { DEEPGEN_CUDA_CHECK(cudaStreamSynchronize(m_stream)); }

 private:
  cudaStream_t m_stream = nullptr;
};

/// Whether `got` is close to `ref`: the same length, every element of `got`
/// finite, and ‖got − ref‖ / ‖ref‖ <= tol, written so that NaN fails. Equal
/// vectors pass whatever their norm, so two empty (or all-zero) vectors are
/// close instead of failing on 0/0 = NaN; a non-zero difference from a zero
/// reference is an infinite error and fails. `why` (if given) says what was found.
template <typename T>
bool is_close(const std::vector<T>& got, const std::vector<double>& ref, double tol, std::string* why = nullptr) {
  std::ostringstream out;
  bool ok = got.size() == ref.size();
  if (!ok) {
    out << got.size() << " elements against a reference of " << ref.size();
  } else {
    std::size_t nonfinite = 0;
    double diff2 = 0, ref2 = 0;
    for (std::size_t k = 0; k < got.size(); ++k) {
      if (!std::isfinite(static_cast<double>(got[k]))) ++nonfinite;
      const double d = static_cast<double>(got[k]) - ref[k];
      diff2 += d * d;
      ref2 += ref[k] * ref[k];
    }
    const double err = diff2 == 0 ? 0.0 : std::sqrt(diff2) / std::sqrt(ref2);
    ok = nonfinite == 0 && err <= tol;  // NaN fails
    out << nonfinite << " non-finite of " << got.size() << ", relative error " << err << " (tolerance " << tol << ")";
  }
  if (why) *why = out.str();
  return ok;
}

/// REQUIRE is_close(got, ref, tol) (default tol: tolerance<T>()), naming `name` and the error found.
template <typename T>
void require_close(const char* name, const std::vector<T>& got, const std::vector<double>& ref,
                   double tol = tolerance<T>()) {
  std::string why;
  const bool close = is_close(got, ref, tol, &why);
  INFO(name << ": " << why);
  REQUIRE(close);
}

}  // namespace deepgen::test::gpu
