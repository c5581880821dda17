// random.hpp — deepgen's random numbers: the counter-based Philox4x32-10
// generator, the draws built on it (uniform, normal, integer, categorical) and
// the tensor/epoch helpers (fill_uniform, fill_normal, shuffle).
//
// Why counter-based: a Philox draw is a pure function of (seed, stream, index),
// so a CUDA thread can compute element n directly, with no state to carry or
// share, and the CPU gets bit-identical integers and uniforms from the same
// code (the DEEPGEN_HD functions below). There is no global generator: every
// draw comes from an explicit seed, so a run repeats exactly.
//
// Philox4x32-10 is the Random123 / cuRAND algorithm (Salmon et al., SC'11):
// a 10-round bijection of a 128-bit counter under a 64-bit key.
//
// Counter layout — a GPU kernel must reproduce it exactly:
//
//   key   = { lo32(seed),  hi32(seed) }
//   ctr   = { lo32(block), hi32(block), lo32(stream), hi32(stream) }
//   block b of (seed, stream) = philox4x32_10(ctr, key), four 32-bit words
//   u32 element n of (seed, stream) = word n % 4 of block n / 4
//
// This is cuRAND's layout: curand_init(seed, subsequence = stream, offset = n,
// &philox_state) followed by curand() yields u32 element n, n+1, ...
// (cuRAND's float conversions differ from ours; only the integers agree.)
//
// Every other draw is a function of the u32 elements ("slots"):
//
//   (1) uniform<float>  element n = ((w >> 8) | 1) · 2^-24,  w = u32 n.
//       An odd 24-bit integer over 2^24: 23 random bits plus a half step, so
//       every value lies in [2^-24, 1 - 2^-24] exactly — never 0, never 1, and
//       exactly symmetric about 1/2. (24 random bits plus a half step would
//       need 25 significand bits; 1 - 2^-25 rounds to 1.0f.)
//   (2) uniform<double> element n = ((a·2^32 + b) >> 11 | 1) · 2^-53,
//       a = u32 2n, b = u32 2n+1 (both in block n / 2): 52 random bits plus a
//       half step, in [2^-53, 1 - 2^-53], for the same reason as (1).
//   (3) normal<T> elements 2m and 2m+1 are the two Box–Muller outputs of
//       uniform<T> elements 2m (u1) and 2m+1 (u2):
//         z_2m = r·cos(2π·u2),  z_2m+1 = r·sin(2π·u2),  r = sqrt(-2·ln u1).
//       For float that is u32 slots 2m, 2m+1; for double it is block m.
//       u1 ≥ 2^-24 (float) or 2^-53 (double) keeps r finite: r ≤ 5.8 or 8.6.
//
// Integers and uniforms are bit-identical on CPU and GPU. Normals go through
// logf/sqrtf/cosf/sinf, whose device versions may differ from glibc's in the
// last bit or two, so CPU and GPU normals agree to a few ulps, not bitwise.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "config.hpp"
#include "detail/math.hpp"
#include "error.hpp"

namespace deepgen {

// Declared, not included: tensor.hpp brings in Eigen, which a CUDA kernel that
// only wants the Philox functions should not have to compile. Whoever calls
// fill_uniform/fill_normal holds a Tensor and so has included tensor.hpp.
template <typename T>
class Tensor;

// ---- the bijection (host and device) -----------------------------------------

/// Four 32-bit words: a Philox counter, and also the block it maps to.
struct PhiloxCounter {
  /// The four words.
  uint32_t v[4];
};

/// Two 32-bit words: a Philox key.
struct PhiloxKey {
  /// The two words.
  uint32_t v[2];
};

namespace detail {

constexpr uint32_t PHILOX_M0 = 0xD2511F53u;  // round multipliers
constexpr uint32_t PHILOX_M1 = 0xCD9E8D57u;
constexpr uint32_t PHILOX_W0 = 0x9E3779B9u;  // key schedule (Weyl) increments
constexpr uint32_t PHILOX_W1 = 0xBB67AE85u;

/// 32×32 → 64-bit product: returns the low word, writes the high word.
DEEPGEN_HD inline uint32_t mulhilo32(uint32_t a, uint32_t b, uint32_t* hi) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

}  // namespace detail

/// One Philox4x32 round:
///   (hi0, lo0) = M0·c0,  (hi1, lo1) = M1·c2
///   out = { hi1 ^ c1 ^ k0,  lo1,  hi0 ^ c3 ^ k1,  lo0 }
DEEPGEN_HD inline PhiloxCounter philox4x32_round(PhiloxCounter ctr, PhiloxKey key) {
  uint32_t hi0 = 0, hi1 = 0;
  const uint32_t lo0 = detail::mulhilo32(detail::PHILOX_M0, ctr.v[0], &hi0);
  const uint32_t lo1 = detail::mulhilo32(detail::PHILOX_M1, ctr.v[2], &hi1);
  PhiloxCounter out;
  out.v[0] = hi1 ^ ctr.v[1] ^ key.v[0];
  out.v[1] = lo1;
  out.v[2] = hi0 ^ ctr.v[3] ^ key.v[1];
  out.v[3] = lo0;
  return out;
}

/// The key schedule between rounds: k += (W0, W1), modulo 2^32.
DEEPGEN_HD inline PhiloxKey philox4x32_bumpkey(PhiloxKey key) {
  key.v[0] += detail::PHILOX_W0;
  key.v[1] += detail::PHILOX_W1;
  return key;
}

/// Philox4x32-10: ten rounds with a key bump between consecutive rounds.
/// Written out, not looped, so neither g++ nor nvcc is left to decide
/// whether to unroll (a pragma would be an unknown-pragma warning in g++).
DEEPGEN_HD inline PhiloxCounter philox4x32_10(PhiloxCounter ctr, PhiloxKey key) {
  ctr = philox4x32_round(ctr, key);                                  // 1
  key = philox4x32_bumpkey(key); ctr = philox4x32_round(ctr, key);  // 2
  key = philox4x32_bumpkey(key); ctr = philox4x32_round(ctr, key);  // 3
  key = philox4x32_bumpkey(key); ctr = philox4x32_round(ctr, key);  // 4
  key = philox4x32_bumpkey(key); ctr = philox4x32_round(ctr, key);  // 5
  key = philox4x32_bumpkey(key); ctr = philox4x32_round(ctr, key);  // 6
  key = philox4x32_bumpkey(key); ctr = philox4x32_round(ctr, key);  // 7
  key = philox4x32_bumpkey(key); ctr = philox4x32_round(ctr, key);  // 8
  key = philox4x32_bumpkey(key); ctr = philox4x32_round(ctr, key);  // 9
  key = philox4x32_bumpkey(key); ctr = philox4x32_round(ctr, key);  // 10
  return ctr;
}

// ---- stateless draws (host and device) ---------------------------------------

/// Block `block` of stream `stream` under `seed`, in the layout documented at
/// the top of this file.
DEEPGEN_HD inline PhiloxCounter philox_block(uint64_t seed, uint64_t stream, uint64_t block) {
  PhiloxCounter ctr;
  ctr.v[0] = static_cast<uint32_t>(block);
  ctr.v[1] = static_cast<uint32_t>(block >> 32);
  ctr.v[2] = static_cast<uint32_t>(stream);
  ctr.v[3] = static_cast<uint32_t>(stream >> 32);
  PhiloxKey key;
  key.v[0] = static_cast<uint32_t>(seed);
  key.v[1] = static_cast<uint32_t>(seed >> 32);
  return philox4x32_10(ctr, key);
}

/// u32 element n of (seed, stream): word n % 4 of block n / 4.
DEEPGEN_HD inline uint32_t philox_u32_at(uint64_t seed, uint64_t stream, uint64_t n) {
  const PhiloxCounter b = philox_block(seed, stream, n >> 2);
  // Selected, not indexed: v[n & 3] would make a kernel keep the block in
  // (slow, local) memory; the selects stay in registers.
  const unsigned w = static_cast<unsigned>(n & 3);
  return w == 0 ? b.v[0] : w == 1 ? b.v[1] : w == 2 ? b.v[2] : b.v[3];
}

/// Equation (1): a u32 → float in [2^-24, 1 - 2^-24].
DEEPGEN_HD inline float uniform_float_from_u32(uint32_t w) {
  return static_cast<float>((w >> 8) | 1u) * 0x1p-24f;
}

/// Equation (2): two u32 (a supplies the high bits) → double in [2^-53, 1 - 2^-53].
DEEPGEN_HD inline double uniform_double_from_u32(uint32_t a, uint32_t b) {
  const uint64_t bits = ((static_cast<uint64_t>(a) << 32) | b) >> 11;
  return static_cast<double>(bits | 1u) * 0x1p-53;
}

/// Equation (3), one pair: uniforms u1, u2 in (0,1) → two independent N(0,1).
DEEPGEN_HD inline void box_muller(float u1, float u2, float* z0, float* z1) {
  const float r = detail::sqrt_(-2.0f * detail::log_(u1));
  const float theta = 6.28318530717958647692f * u2;
  *z0 = r * cosf(theta);
  *z1 = r * sinf(theta);
}
/// Equation (3) in double: uniforms u1, u2 in (0,1) → two independent N(0,1).
DEEPGEN_HD inline void box_muller(double u1, double u2, double* z0, double* z1) {
  const double r = detail::sqrt_(-2.0 * detail::log_(u1));
  const double theta = 6.28318530717958647692 * u2;
  *z0 = r * cos(theta);
  *z1 = r * sin(theta);
}

/// uniform<T> element n of (seed, stream), T = float or double; in (0, 1).
template <typename T>
DEEPGEN_HD inline T philox_uniform_at(uint64_t seed, uint64_t stream, uint64_t n) {
  static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                "philox_uniform_at<T>: T must be float or double");
  if constexpr (std::is_same<T, float>::value) {
    return uniform_float_from_u32(philox_u32_at(seed, stream, n));
  } else {
    // u32 slots 2n and 2n+1: words 2(n%2), 2(n%2)+1 of block n/2.
    const PhiloxCounter b = philox_block(seed, stream, n >> 1);
    const unsigned lane = static_cast<unsigned>(n & 1) * 2u;
    return uniform_double_from_u32(b.v[lane], b.v[lane + 1]);
  }
}

/// normal<T> elements 2m and 2m+1 of (seed, stream) — one Box–Muller pair.
template <typename T>
DEEPGEN_HD inline void philox_normal_pair_at(uint64_t seed, uint64_t stream, uint64_t m, T* z0,
                                             T* z1) {
  static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                "philox_normal_pair_at<T>: T must be float or double");
  if constexpr (std::is_same<T, float>::value) {
    // uniform<float> 2m, 2m+1 = u32 slots 2m, 2m+1 = words 2(m%2), 2(m%2)+1 of block m/2.
    const PhiloxCounter b = philox_block(seed, stream, m >> 1);
    const unsigned lane = static_cast<unsigned>(m & 1) * 2u;
    box_muller(uniform_float_from_u32(b.v[lane]), uniform_float_from_u32(b.v[lane + 1]), z0, z1);
  } else {
    // uniform<double> 2m, 2m+1 = u32 slots 4m..4m+3 = block m.
    const PhiloxCounter b = philox_block(seed, stream, m);
    box_muller(uniform_double_from_u32(b.v[0], b.v[1]), uniform_double_from_u32(b.v[2], b.v[3]),
               z0, z1);
  }
}

/// normal<T> element n of (seed, stream): N(0, 1).
template <typename T>
DEEPGEN_HD inline T philox_normal_at(uint64_t seed, uint64_t stream, uint64_t n) {
  T z0, z1;
  philox_normal_pair_at<T>(seed, stream, n >> 1, &z0, &z1);
  return (n & 1) ? z1 : z0;
}

/// True when x is finite (not NaN, not ±inf), in DEEPGEN_HD code: std\::isfinite
/// is host-only and the global isfinite device-only in some toolchains, while x − x is
/// 0 exactly for every finite x and NaN for NaN and ±inf.
template <typename T>
DEEPGEN_HD inline bool finite_hd(T x) {
  return x - x == T(0);
}

/// Index k drawn with probability w[k] / total from one uniform u in (0,1),
/// or −1, "no class", when the weights admit no draw: any w[k] NaN, infinite
/// or negative, or a total that is not finite and positive (all zero, all
/// NaN, or a sum that overflowed). The caller passes K ≥ 1 and total = w[0]
/// + … + w[K-1] summed in this order (in T). Both devices call this one
/// function, so the CPU (Philox::categorical, which turns −1 into an error
/// after naming the bad weight) and the GPU (sample_rows, whose −1 the
/// PixelRNN turns into an error) refuse the same rows: a NaN weight is never
/// skipped in favour of a colour drawn from the rest.
/// Never returns a zero-weight index: where rounding pushes u·total past the
/// last partial sum, the answer is the last index of positive weight.
template <typename T>
DEEPGEN_HD inline int64_t categorical_from_uniform(const T* w, int64_t K, T total, T u) {
  if (!(total > T(0)) || !finite_hd(total)) return -1;
  for (int64_t k = 0; k < K; ++k)
    if (!(w[k] >= T(0)) || !finite_hd(w[k])) return -1;
  const T target = u * total;
  T cum = T(0);
  int64_t last = -1;
  for (int64_t k = 0; k < K; ++k) {
    if (w[k] > T(0)) {
      cum += w[k];
      last = k;
      if (target < cum) return k;
    }
  }
  return last;
}

// ---- the sequential generator (host) -----------------------------------------

/// A Philox4x32-10 stream (seed, stream) read front to back.
///
/// The state is a position p: the number of u32 slots consumed. Each draw is
/// one stateless element of the documented layout, so a GPU kernel can
/// reproduce any of them:
///
///   next_u32()        slot p,                      p += 1
///   uniform<float>()  uniform<float> element p,    p += 1
///   uniform<double>() p rounded up to even; element p/2 (slots p, p+1), p += 2
///   normal<T>()       pairs: p rounded up to 2·s (s = slots per T: 1 float,
///                     2 double); returns element n = p/s (even) and leaves
///                     n+1 "pending", p moves past the whole pair. The next
///                     normal<T>() returns the pending n+1; any other draw
///                     discards it. No slot is ever used twice.
///
/// So a run of one kind of draw from a fresh Philox(seed, stream) returns
/// elements 0, 1, 2, … of the stateless functions philox_u32_at,
/// philox_uniform_at<T>, philox_normal_at<T>. reserve_uniform/reserve_normal
/// hand a whole range to a GPU kernel the same way.
class Philox {
 public:
  /// The last position a stream reaches: 2^63 u32 slots. Keeps all position
  /// arithmetic far from uint64 overflow; nobody draws 2^63 numbers.
  static constexpr uint64_t MAX_POSITION = uint64_t(1) << 63;

  /// Stream `stream` (cuRAND's "subsequence") of generator `seed`.
  explicit Philox(uint64_t seed, uint64_t stream = 0) : m_seed(seed), m_stream(stream) {}

  /// The seed this generator was made with.
  uint64_t seed() const { return m_seed; }
  /// The stream (cuRAND's "subsequence") this generator draws from.
  uint64_t stream() const { return m_stream; }
  /// Number of u32 slots consumed so far (including slots skipped by alignment).
  uint64_t position() const { return m_pos; }
  /// Continue from u32 slot `position` (at most MAX_POSITION); discards a
  /// pending normal.
  void seek(uint64_t position) {
    DEEPGEN_CHECK(position <= MAX_POSITION, "Philox::seek: position ", position,
                  " is past the last usable slot ", MAX_POSITION, "; use another stream");
    m_pos = position;
    m_normal_slots = 0;
  }

  /// The next 32 random bits (slot p).
  uint32_t next_u32() {
    m_normal_slots = 0;
    check_room(m_pos, 1, 1);
    return u32_at(m_pos++);
  }

  /// Uniform in the open interval (0, 1): equation (1) or (2).
  template <typename T>
  T uniform() {
    const uint64_t n = reserve_uniform<T>(1);
    if constexpr (std::is_same<T, float>::value) {
      return uniform_float_from_u32(u32_at(n));
    } else {
      return uniform_double_from_u32(u32_at(2 * n), u32_at(2 * n + 1));
    }
  }

  /// Standard normal N(0, 1) by Box–Muller: equation (3).
  template <typename T>
  T normal() {
    const uint64_t n = reserve_normal<T>(1);
    constexpr int s = slots<T>();
    if (m_memo_slots == s && m_memo_index == n) return static_cast<T>(m_memo_value);
    T z0, z1;
    philox_normal_pair_at<T>(m_seed, m_stream, n >> 1, &z0, &z1);
    // Memo of the partner: a pure cache of philox_normal_at<T>(seed, stream, n|1),
    // so it can never change a result, only save the recomputation.
    m_memo_slots = s;
    m_memo_index = n | 1;
    m_memo_value = static_cast<double>(z1);
    return (n & 1) ? z1 : z0;
  }

  /// Uniform integer in [0, n), unbiased (rejection). Consumes a variable
  /// number of u32 slots (almost always 1 for n ≤ 2^32, 2 above), so it has
  /// no stateless counterpart; GPU code should not need one.
  int64_t uniform_int(int64_t n) {
    DEEPGEN_CHECK(n > 0, "Philox::uniform_int: n is ", n,
                  "; the range [0, n) must be non-empty, so pass n >= 1");
    const uint64_t un = static_cast<uint64_t>(n);
    if (un <= (uint64_t(1) << 32)) {
      if (un == (uint64_t(1) << 32)) return static_cast<int64_t>(next_u32());
      // Lemire's multiply-shift with rejection of the biased low products.
      const uint32_t range = static_cast<uint32_t>(un);
      uint64_t m = static_cast<uint64_t>(next_u32()) * range;
      if (static_cast<uint32_t>(m) < range) {
        const uint32_t threshold = (0u - range) % range;  // 2^32 mod range
        while (static_cast<uint32_t>(m) < threshold) m = static_cast<uint64_t>(next_u32()) * range;
      }
      return static_cast<int64_t>(m >> 32);
    }
    // 64-bit draws: reject the 2^64 mod n smallest values, then reduce.
    const uint64_t threshold = (uint64_t(0) - un) % un;
    uint64_t x;
    do {
      const uint64_t hi = next_u32();
      x = (hi << 32) | next_u32();
    } while (x < threshold);
    return static_cast<int64_t>(x % un);
  }

  /// An index in [0, K) with probability probs[k] / Σ probs, from one
  /// uniform<T>(). Weights need not be normalised but must be finite and
  /// non-negative with a positive sum. Checks happen before any draw, so a
  /// throw leaves the generator unchanged.
  template <typename T>
  int64_t categorical(const T* probs, int64_t K) {
    static_assert(std::is_floating_point<T>::value,
                  "Philox::categorical: weights must be float or double");
    DEEPGEN_CHECK(K > 0, "Philox::categorical: K is ", K,
                  "; pass at least one category weight");
    DEEPGEN_CHECK(probs != nullptr, "Philox::categorical: probs is null for K = ", K);
    T total = T(0);
    for (int64_t k = 0; k < K; ++k) {
      DEEPGEN_CHECK(std::isfinite(probs[k]) && probs[k] >= T(0), "Philox::categorical: weight ",
                    k, " of ", K, " is ", probs[k],
                    "; weights must be finite and non-negative (check for NaN in the logits)");
      total += probs[k];
    }
    DEEPGEN_CHECK(total > T(0) && std::isfinite(total), "Philox::categorical: the ", K,
                  " weights sum to ", total, "; at least one weight must be positive and the sum finite");
    const int64_t k = categorical_from_uniform<T>(probs, K, total, uniform<T>());
    DEEPGEN_ASSERT(k >= 0 && k < K);  // the checks above are the ones that make it return -1
    return k;
  }

  /// Reserve the next `count` uniform<T> draws for a kernel and return the
  /// element index n0 of the first: they are philox_uniform_at<T>(seed,
  /// stream, n0 + i), i < count, exactly what `count` calls of uniform<T>()
  /// would have returned. count = 0 changes nothing.
  template <typename T>
  uint64_t reserve_uniform(uint64_t count) {
    constexpr int s = slots<T>();
    const uint64_t p = round_up(m_pos, s);
    if (count == 0) return p / s;
    check_room(p, count, s);
    m_normal_slots = 0;
    m_pos = p + count * s;
    return p / s;
  }

  /// Reserve the next `count` normal<T> draws for a kernel: they are
  /// philox_normal_at<T>(seed, stream, n0 + i), i < count, exactly what
  /// `count` calls of normal<T>() would have returned. count = 0 changes nothing.
  template <typename T>
  uint64_t reserve_normal(uint64_t count) {
    constexpr int s = slots<T>();
    const uint64_t n0 = (m_normal_slots == s) ? m_normal_next : round_up(m_pos, 2 * s) / s;
    if (count == 0) return n0;
    check_room(n0 * s, count, s);
    const uint64_t end = n0 + count;  // one past the last element handed out
    if (end & 1) {
      // The last pair is half used: its second element stays pending.
      m_normal_slots = s;
      m_normal_next = end;
      m_pos = (end + 1) * s;
    } else {
      m_normal_slots = 0;
      m_pos = end * s;
    }
    return n0;
  }

 private:
  template <typename T>
  static constexpr int slots() {
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                  "Philox draws of real numbers are float or double");
    return std::is_same<T, float>::value ? 1 : 2;
  }
  static uint64_t round_up(uint64_t p, uint64_t m) { return (p + m - 1) / m * m; }

  // Refuse to run past MAX_POSITION rather than wrap around and repeat: there
  // must be room for `count` + 1 draws of `s` slots from slot `first` (the
  // + 1 covers the partner of a half-used normal pair).
  void check_room(uint64_t first, uint64_t count, uint64_t s) const {
    DEEPGEN_CHECK(first <= MAX_POSITION && count < (MAX_POSITION - first) / s, "Philox: stream ",
                  m_stream, " of seed ", m_seed, " is exhausted at position ", m_pos,
                  " (asked for ", count, " more draws); use another stream for more draws");
  }

  // Slot n through a one-block cache: sequential reads cost one Philox per
  // four slots. The cache is keyed by block, so it never changes a result.
  uint32_t u32_at(uint64_t n) {
    const uint64_t b = n >> 2;
    if (b != m_block_index) {
      m_block = philox_block(m_seed, m_stream, b);
      m_block_index = b;
    }
    return m_block.v[n & 3];
  }

  uint64_t m_seed;
  uint64_t m_stream;
  uint64_t m_pos = 0;
  // Pending normal: element m_normal_next of normal<T> with slots<T>() ==
  // m_normal_slots; 0 slots means none is pending.
  int m_normal_slots = 0;
  uint64_t m_normal_next = 0;
  // Memo of one normal element (see normal()); 0 slots means empty.
  int m_memo_slots = 0;
  uint64_t m_memo_index = 0;
  double m_memo_value = 0.0;
  // Block cache; block indices stay below 2^62, so ~0 means empty.
  uint64_t m_block_index = ~uint64_t(0);
  PhiloxCounter m_block{};
};

// ---- tensor and epoch helpers (host) -----------------------------------------

namespace detail {
// T taken from the tensor alone, so fill_normal(t, rng, 0, 1) works for a
// Tensor<float> instead of failing deduction on the int arguments.
template <typename T>
struct RandomArg {
  using type = T;
};
template <typename T>
using random_arg_t = typename RandomArg<T>::type;
}  // namespace detail

/// t[i] = lo + (hi - lo)·u_i with u_i the next numel() uniform<T>() draws of
/// rng (element n0 + i, n0 = rng.reserve_uniform<T>(numel())). u_i is in
/// (0,1), but rounding of the affine map may land exactly on lo or hi.
template <typename T>
void fill_uniform(Tensor<T>& t, Philox& rng, detail::random_arg_t<T> lo,
                  detail::random_arg_t<T> hi) {
  static_assert(std::is_floating_point<T>::value,
                "fill_uniform: the tensor must hold float or double");
  DEEPGEN_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo < hi, "fill_uniform: bounds [", lo,
                ", ", hi, "] for a tensor of shape ", t.shape(),
                "; pass finite bounds with lo < hi");
  const T width = hi - lo;
  DEEPGEN_CHECK(std::isfinite(width), "fill_uniform: hi - lo overflows for bounds [", lo, ", ", hi,
                "]; use a narrower range");
  const int64_t N = t.numel();
  for (int64_t i = 0; i < N; ++i) t[i] = lo + width * rng.uniform<T>();
}

/// t[i] = mean + stddev·z_i with z_i the next numel() normal<T>() draws of
/// rng (element n0 + i, n0 = rng.reserve_normal<T>(numel())).
template <typename T>
void fill_normal(Tensor<T>& t, Philox& rng, detail::random_arg_t<T> mean,
                 detail::random_arg_t<T> stddev) {
  static_assert(std::is_floating_point<T>::value,
                "fill_normal: the tensor must hold float or double");
  DEEPGEN_CHECK(std::isfinite(mean) && std::isfinite(stddev) && stddev >= T(0),
                "fill_normal: mean ", mean, ", stddev ", stddev, " for a tensor of shape ",
                t.shape(), "; pass a finite mean and a finite stddev >= 0");
  const int64_t N = t.numel();
  for (int64_t i = 0; i < N; ++i) t[i] = mean + stddev * rng.normal<T>();
}

/// Fisher–Yates shuffle in place: every permutation equally likely. For
/// epoch shuffling, use one stream per epoch (Philox(seed, epoch)) so an
/// epoch's order does not depend on how many draws earlier epochs made.
template <typename T, typename Alloc>
void shuffle(std::vector<T, Alloc>& v, Philox& rng) {
  for (int64_t i = static_cast<int64_t>(v.size()) - 1; i > 0; --i) {
    const int64_t j = rng.uniform_int(i + 1);
    using std::swap;
    swap(v[static_cast<std::size_t>(i)], v[static_cast<std::size_t>(j)]);
  }
}

}  // namespace deepgen
