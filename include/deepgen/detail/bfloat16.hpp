// detail/bfloat16.hpp — a matrix kept in bfloat16 for the sampler's
// matrix-vector products, where the bytes streamed per step, not the
// arithmetic, set the speed.
//
// bfloat16 is the top half of a float32: 8 exponent bits (the same range), 8
// significant bits instead of 24, so a weight is rounded by at most 2⁻⁹ of
// its size. Sampling one image reads all of W_hh (4H × H) once per pixel;
// in bfloat16 that is half the bytes (2 MiB instead of 4 for H = 512), and
// each core's half then fits its L2 cache.
//
// Bf16Matrix::multiply computes out[b, r] = Σ_j x[b, j]·W[r, j] with both
// factors in bfloat16 (x is rounded once per call) and float32 sums:
//   - where the compiler targets AVX512_BF16 (-march=native on such a CPU),
//     with vdpbf16ps, 32 products per instruction;
//   - elsewhere, the same products in plain C++ (exact in float32: two 8-bit
//     significands multiply into 16 bits), which the compiler vectorises.
// vdpbf16ps adds a lane's two products before the running sum (and may round
// differently doing so), so the two paths agree to float32 rounding, not bit
// for bit.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../error.hpp"

#if defined(__AVX512BF16__) && defined(__AVX512F__)
#include <immintrin.h>
#define DEEPGEN_HAVE_AVX512_BF16 1
#else
#define DEEPGEN_HAVE_AVX512_BF16 0
#endif

namespace deepgen::detail {

/// `x` rounded to the nearest bfloat16 (ties to even). Finite inputs only
/// (the weights are checked when loaded; a NaN would stay a NaN of another payload).
inline uint16_t to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}

/// The float32 a bfloat16 stands for (exact).
inline float from_bf16(uint16_t v) {
  const uint32_t u = uint32_t(v) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

/// A (rows, cols) matrix in bfloat16, packed for x·Wᵀ at small batch.
/// Rows come in blocks of 16 (the float32 lanes of a vector) and blocks in
/// groups of 8 (GROUP_ROWS = 128 rows); a group is stored column pair by
/// column pair, its 8 blocks side by side:
///
///   line (group, p, k) = [W[r, 2p], W[r, 2p+1], W[r+1, 2p], W[r+1, 2p+1], …
///                         … W[r+15, 2p+1]],   r = 128·group + 16·k
///
/// vdpbf16ps multiplies one such 64-byte line by (x[2p], x[2p+1]) repeated
/// 16 times and adds into 16 float sums: the rows' dot products build up in
/// registers with no horizontal sum per row, 8 independent sums hide the
/// instruction's latency, and a group is read front to back as one stream.
/// Rows past the matrix (up to the group's end) and columns past it are zeros.
class Bf16Matrix {
 public:
  /// Rows computed together: 8 blocks of 16.
  static constexpr int64_t GROUP_ROWS = 128;

  Bf16Matrix() = default;
  /// W (rows, cols), row-major with leading dimension `ld`, rounded to bfloat16.
  Bf16Matrix(const float* w, int64_t rows, int64_t cols, int64_t ld)
      : m_rows(rows), m_cols(cols), m_groups((rows + GROUP_ROWS - 1) / GROUP_ROWS), m_pairs((cols + 1) / 2),
        m_data(size_t(m_groups * m_pairs * 2 * GROUP_ROWS), 0) {
    DEEPGEN_CHECK(rows > 0 && cols > 0 && ld >= cols, "Bf16Matrix: (", rows, ", ", cols, ") with leading dimension ",
                  ld, " is not a matrix");
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < cols; ++j) m_data[index(r, j)] = to_bf16(w[r * ld + j]);
  }

  /// Rows of W.
  int64_t rows() const { return m_rows; }
  /// Columns of W (the length of x's rows).
  int64_t cols() const { return m_cols; }
  /// W[r, j] as the float it was rounded to.
  float at(int64_t r, int64_t j) const { return from_bf16(m_data[index(r, j)]); }

  /// bfloat16 values per row of x16 (round_input): each column pair
  /// (x[2p], x[2p+1]) written 16 times, one 64-byte vector to load as is.
  /// (A broadcast of the pair in registers would be the natural way, but
  /// clang 16 crashes compiling a broadcast into a bfloat16 vector.)
  int64_t input_stride() const { return m_pairs * 32; }

  /// Rounds B rows of x (B, cols), leading dimension ldx, into `x16`, the
  /// bfloat16 rows (input_stride() apart) that multiply() reads.
  void round_input(const float* x, int64_t B, int64_t ldx, std::vector<uint16_t>& x16) const {
    x16.resize(size_t(B * input_stride()));
    for (int64_t b = 0; b < B; ++b)
      for (int64_t p = 0; p < m_pairs; ++p) {
        const uint16_t lo = to_bf16(x[b * ldx + 2 * p]), hi = 2 * p + 1 < m_cols ? to_bf16(x[b * ldx + 2 * p + 1]) : 0;
        uint16_t* out = x16.data() + b * input_stride() + p * 32;
        for (int64_t l = 0; l < 16; ++l) {
          out[2 * l] = lo;
          out[2 * l + 1] = hi;
        }
      }
  }

  /// out[b·ldo + (r − r0)] = Σ_j x16[b, j]·W[r, j] for rows r in [r0, r1) and
  /// b < B, with x16 from round_input (B rows). Whole groups are computed (a
  /// range that starts or ends inside one computes rows it does not write);
  /// each row's sum runs over the column pairs in order, whatever [r0, r1) is.
  void multiply(const std::vector<uint16_t>& x16, int64_t B, int64_t r0, int64_t r1, float* out, int64_t ldo) const {
    DEEPGEN_ASSERT(int64_t(x16.size()) >= B * input_stride() && r0 >= 0 && r0 <= r1 && r1 <= m_rows);
    float sums[GROUP_ROWS];
    for (int64_t b = 0; b < B; ++b)
      for (int64_t g = r0 / GROUP_ROWS; g * GROUP_ROWS < r1; ++g) {
        group_sums(g, x16.data() + b * input_stride(), sums);
        const int64_t first = std::max(r0, g * GROUP_ROWS), last = std::min(r1, (g + 1) * GROUP_ROWS);
        for (int64_t r = first; r < last; ++r) out[b * ldo + r - r0] = sums[r - g * GROUP_ROWS];
      }
  }

  /// Group g's 128 sums for one row of x16 (round_input's layout), in plain C++: the path of builds
  /// without AVX512_BF16, public so that tests run it on every machine.
  void group_sums_portable(int64_t g, const uint16_t* x, float* sums) const {
    for (int64_t i = 0; i < GROUP_ROWS; ++i) sums[i] = 0;
    const uint16_t* w = m_data.data() + g * m_pairs * 2 * GROUP_ROWS;
    for (int64_t p = 0; p < m_pairs; ++p, w += 2 * GROUP_ROWS) {
      const float x0 = from_bf16(x[32 * p]), x1 = from_bf16(x[32 * p + 1]);
      // One vdpbf16ps lane: both products (exact in float32), then added to
      // the sum, which is where the only rounding happens.
      for (int64_t i = 0; i < GROUP_ROWS; ++i) sums[i] += from_bf16(w[2 * i]) * x0 + from_bf16(w[2 * i + 1]) * x1;
    }
  }

 private:
  size_t index(int64_t r, int64_t j) const {
    return size_t(((r / GROUP_ROWS) * m_pairs + j / 2) * 2 * GROUP_ROWS + (r % GROUP_ROWS) * 2 + j % 2);
  }

  void group_sums(int64_t g, const uint16_t* x, float* sums) const {
#if DEEPGEN_HAVE_AVX512_BF16
    constexpr int BLOCKS = int(GROUP_ROWS / 16);
    __m512 acc[BLOCKS];
    for (int k = 0; k < BLOCKS; ++k) acc[k] = _mm512_setzero_ps();
    const uint16_t* w = m_data.data() + g * m_pairs * 2 * GROUP_ROWS;
    for (int64_t p = 0; p < m_pairs; ++p, w += 2 * GROUP_ROWS) {
      const __m512bh xv = (__m512bh)_mm512_loadu_si512(x + 32 * p);  // (x[2p], x[2p+1]) × 16
      for (int k = 0; k < BLOCKS; ++k) acc[k] = _mm512_dpbf16_ps(acc[k], (__m512bh)_mm512_loadu_si512(w + 32 * k), xv);
    }
    for (int k = 0; k < BLOCKS; ++k) _mm512_storeu_ps(sums + 16 * k, acc[k]);
#else
    group_sums_portable(g, x, sums);
#endif
  }

  int64_t m_rows = 0, m_cols = 0, m_groups = 0, m_pairs = 0;
  std::vector<uint16_t> m_data;  // (groups, pairs, 128 rows, 2 columns)
};

}  // namespace deepgen::detail
