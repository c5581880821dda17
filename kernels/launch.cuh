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
// Enough blocks to fill any current GPU many times over; larger sizes are
// covered by the grid-stride loops.
constexpr int64_t MAX_BLOCKS = int64_t(1) << 20;

inline unsigned grid_for(int64_t n) {
  return static_cast<unsigned>(std::min((n + THREADS - 1) / THREADS, MAX_BLOCKS));
}

/// The sum (Op = Sum), maximum (Max) or minimum (Min) of `value` over the block's
/// threads, returned to every thread. blockDim.x must be a multiple of 32 and
/// at most 1024; every thread of the block must call it (it synchronises).
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

// Products of sizes index the arrays and must fit in int64_t; a size near
// that is certainly a bad argument. a, b > 0 (checked before).
inline void check_product(const char* fn, int64_t a, int64_t b, const char* what) {
  DEEPGEN_CHECK(a <= INT64_MAX / b, fn, ": ", what, " = ", a, " x ", b,
                " overflows the 64-bit index math; check the sizes passed");
}

}  // namespace deepgen::cuda::kernels
