// kernels/launch.cuh — what every kernel file shares: the grid-stride loop,
// the grid size, a block-wide reduction, and the argument checks the
// launchers run (throwing deepgen::Error with a remedy) before any CUDA call.
// Private to kernels/*.cu; users include deepgen/cuda/launchers.hpp.
#pragma once

#include <math.h>

#include <algorithm>
#include <cstdint>

#include "deepgen/error.hpp"

namespace deepgen::cuda::kernels {

// Grid-stride loop over n items, so any size works with a capped grid.
#define DEEPGEN_GRID_STRIDE(idx, n)                                                         \
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < (n); \
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x)

constexpr int THREADS = 256;
static_assert(THREADS % 32 == 0 && THREADS >= 32 && THREADS <= 1024,
              "THREADS must be whole warps and at most 1024: block_reduce and the warp-per-image kernels need it");
// Enough blocks to fill any current GPU many times over; larger sizes are
// covered by the grid-stride loops.
constexpr int64_t MAX_BLOCKS = int64_t(1) << 20;

inline unsigned grid_for(int64_t n) {
  return static_cast<unsigned>(std::min((n + THREADS - 1) / THREADS, MAX_BLOCKS));
}

/// The sum (Op = Sum), maximum (Max) or minimum (Min) of `value` over the block's
/// threads, returned to every thread. blockDim.x must be a multiple of 32 and
/// at most 1024 (32 warps, one `partial` slot each); every launcher of a kernel
/// that calls it checks its block size with check_block_size() first. Every
/// thread of the block must call it (it synchronises).
/// Warps reduce with shuffles, then warp 0 reduces the per-warp results.
struct Sum {
  template <typename T>
  __device__ static T apply(T a, T b) { return a + b; }
  template <typename T>
  __device__ static T identity() { return T(0); }
};
struct Max {
  template <typename T>
  __device__ static T apply(T a, T b) { return a > b ? a : b; }
  template <typename T>
  __device__ static T identity() { return -INFINITY; }
};
struct Min {
  template <typename T>
  __device__ static T apply(T a, T b) { return a < b ? a : b; }
  template <typename T>
  __device__ static T identity() { return T(INT64_MAX); }  // used for indices
};
template <typename Op, typename T>
__device__ T block_reduce(T value) {
  __shared__ T partial[32];
  __shared__ T result;
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int offset = 16; offset > 0; offset /= 2) value = Op::apply(value, __shfl_down_sync(0xffffffffu, value, offset));
  if (lane == 0) partial[warp] = value;
  __syncthreads();
  if (warp == 0) {
    const unsigned warps = blockDim.x / 32;
    value = lane < warps ? partial[lane] : Op::template identity<T>();  // lanes past the last warp add nothing
    for (int offset = 16; offset > 0; offset /= 2) value = Op::apply(value, __shfl_down_sync(0xffffffffu, value, offset));
    if (lane == 0) result = value;
  }
  __syncthreads();
  const T out = result;
  __syncthreads();  // `result` and `partial` may be reused by the next call
  return out;
}

/// The largest of a row's K values, z[0 … K−1], over the block's threads
/// (every thread of the block calls it and gets the result).
template <typename T>
__device__ T row_max(const T* z, int64_t K) {
  T m = z[0];
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x) m = z[k] > m ? z[k] : m;
  return block_reduce<Max>(m);
}

inline void check_positive(const char* fn, const char* name, int64_t value, const char* meaning) {
  DEEPGEN_CHECK(value > 0, fn, ": ", name, " = ", value, " must be positive (", name, " is ", meaning,
                "); pass the real size, and skip the call when there is no work");
}

inline void check_pointer(const char* fn, const char* name, const void* ptr, const char* shape) {
  DEEPGEN_CHECK(ptr != nullptr, fn, ": device pointer '", name, "' is null; pass a device buffer of shape ",
                shape, " (e.g. a cuda::DeviceBuffer's data())");
}

/// The block size of a kernel that works in whole warps (block_reduce, the
/// warp-per-image onehot_linear_fwd): a multiple of 32 from 32 to 1024. A
/// smaller or ragged block would read lanes that do not exist or loop
/// forever (b += blockDim.x / 32 = 0); a larger one overflows block_reduce's
/// 32 per-warp slots and is no valid launch. Launchers call this on the block
/// size they are about to launch with, before any CUDA call.
inline void check_block_size(const char* fn, int64_t threads) {
  DEEPGEN_CHECK(threads >= 32 && threads <= 1024 && threads % 32 == 0, fn, ": block size ", threads,
                " is not a whole number of warps from 32 to 1024, which its kernel's warp reductions need; "
                "launch with kernels::THREADS (", THREADS, ") or another multiple of 32");
}

// Products of sizes index the arrays and must fit in int64_t; a size near
// that is certainly a bad argument. a, b > 0 (checked before).
inline void check_product(const char* fn, int64_t a, int64_t b, const char* what) {
  DEEPGEN_CHECK(a <= INT64_MAX / b, fn, ": ", what, " = ", a, " x ", b,
                " overflows the 64-bit index math; check the sizes passed");
}

/// The one-hot LSTM sequence's sizes (lstm_sequence.cu): all positive, the
/// workspace's (T + 1)·B·4H elements within int64_t, each factor checked
/// before the product that uses it, and the GEMM sizes within cuBLAS's int.
inline void check_sequence_sizes(const char* fn, int64_t B, int64_t steps, int64_t H, int64_t I) {
  check_positive(fn, "B", B, "the batch size");
  check_positive(fn, "steps", steps, "the sequence length T");
  check_positive(fn, "H", H, "the hidden size");
  check_positive(fn, "I", I, "the input size: K, or a PixelRNN context's input_size()");
  check_product(fn, 4, H, "4 x H");
  check_product(fn, B, 4 * H, "B x 4H");
  DEEPGEN_CHECK(steps < INT64_MAX, fn, ": steps = ", steps, " leaves no room for the initial state; pass fewer steps");
  check_product(fn, steps + 1, B * 4 * H, "(T + 1) x B x 4H");
  DEEPGEN_CHECK(steps * B <= 0x7fffffff && 4 * H <= 0x7fffffff && I <= 0x7fffffff, fn, ": T·B = ", steps * B,
                ", 4H = ", 4 * H, ", I = ", I, " must each fit cuBLAS's int sizes");
}

}  // namespace deepgen::cuda::kernels
