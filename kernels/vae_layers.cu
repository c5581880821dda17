// kernels/vae_layers.cu — the VAE's own layers on the GPU: the one-hot first
// layer (ops/onehot_linear.hpp is the CPU path and the reference) and ReLU
// (ops/elementwise.hpp's relu), forward and backward. Declared and explained
// in deepgen/cuda/launchers.hpp.
//
// onehot_linear_fwd: W is (H, P·K) row-major, PyTorch's layout, so a column
// is strided; like the CPU op, the kernels walk W row by row. One block per
// unit h: warp w takes images w, w + warps, …; its lanes take pixels
// lane, lane + 32, … and add the gathered weights; a shuffle tree sums the
// lanes. Each row's K-wide block of pixel p is read at one colour per image,
// from L2 after the first image.
//
// onehot_linear_bwd: one block per unit h, each thread owning pixels p,
// p + blockDim, …: for every image b it adds dy[b, h] to column p·K + x[b, p]
// of row h. The columns of different pixels are disjoint, so no two threads
// write one element (no atomics) and each element's sum runs in image
// order: the result repeats bit for bit.
#include <math.h>

#include <algorithm>
#include <cstdint>

#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/launchers.hpp"
#include "deepgen/error.hpp"
#include "launch.cuh"

namespace deepgen::cuda {
namespace {

using namespace kernels;

template <typename T>
__global__ void onehot_linear_fwd_kernel(const int32_t* images, const T* weight, const T* bias, T* y, int64_t B,
                                         int64_t P, int64_t K, int64_t H) {
  const int64_t h = blockIdx.x;
  const T* row = weight + h * P * K;
  const unsigned lane = threadIdx.x % 32, warps = blockDim.x / 32;
  for (int64_t b = threadIdx.x / 32; b < B; b += warps) {
    T acc = T(0);
    for (int64_t p = lane; p < P; p += 32) {
      const int32_t k = images[b * P + p];
      acc += (k >= 0 && k < K) ? row[p * K + k] : T(NAN);
    }
    for (int offset = 16; offset > 0; offset /= 2) acc += __shfl_down_sync(0xffffffffu, acc, offset);
    if (lane == 0) y[b * H + h] = acc + (bias ? bias[h] : T(0));
  }
}

template <typename T>
__global__ void onehot_linear_bwd_kernel(const int32_t* images, const T* dy, T* dweight, int64_t B, int64_t P,
                                         int64_t K, int64_t H) {
  const int64_t h = blockIdx.x;
  T* row = dweight + h * P * K;
  for (int64_t p = threadIdx.x; p < P; p += blockDim.x)
    for (int64_t b = 0; b < B; ++b) {
      const int32_t k = images[b * P + p];
      if (k >= 0 && k < K) row[p * K + k] += dy[b * H + h];
    }
}

template <typename T>
__global__ void relu_fwd_kernel(const T* x, T* y, int64_t n) {
  DEEPGEN_GRID_STRIDE(i, n) { y[i] = x[i] > T(0) ? x[i] : T(0); }
}

template <typename T>
__global__ void relu_bwd_kernel(const T* y, const T* dy, T* dx, int64_t n) {
  DEEPGEN_GRID_STRIDE(i, n) { dx[i] = y[i] > T(0) ? dy[i] : T(0); }
}

void check_onehot(const char* fn, const void* images, int64_t B, int64_t P, int64_t K, int64_t H) {
  check_positive(fn, "B", B, "the number of images");
  check_positive(fn, "P", P, "the pixels per image");
  check_positive(fn, "K", K, "the palette size");
  check_positive(fn, "H", H, "the layer's outputs");
  check_product(fn, P, K, "P x K");
  check_product(fn, H, P * K, "H x P·K");
  check_product(fn, B, std::max(P, H), "B x max(P, H)");
  DEEPGEN_CHECK(H <= 0x7fffffff, fn, ": H = ", H, " exceeds the grid's 2^31 - 1 blocks");
  check_pointer(fn, "images", images, "(B, P) int32 colours");
}

}  // namespace

template <typename T>
void onehot_linear_fwd(const int32_t* images, const T* weight, const T* bias, T* y, int64_t B, int64_t P, int64_t K,
                       int64_t H, cudaStream_t stream) {
  const char* fn = "onehot_linear_fwd";
  check_onehot(fn, images, B, P, K, H);
  check_pointer(fn, "weight", weight, "(H, P·K)");
  check_pointer(fn, "y", y, "(B, H)");
  const int threads = THREADS;
  check_block_size(fn, threads);  // a warp per image, full-warp shuffles: whole warps, at least one
  onehot_linear_fwd_kernel<T><<<static_cast<unsigned>(H), threads, 0, stream>>>(images, weight, bias, y, B, P, K, H);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

template <typename T>
void onehot_linear_bwd(const int32_t* images, const T* dy, T* dweight, int64_t B, int64_t P, int64_t K, int64_t H,
                       cudaStream_t stream) {
  const char* fn = "onehot_linear_bwd";
  check_onehot(fn, images, B, P, K, H);
  check_pointer(fn, "dy", dy, "(B, H)");
  check_pointer(fn, "dweight", dweight, "(H, P·K)");
  onehot_linear_bwd_kernel<T><<<static_cast<unsigned>(H), THREADS, 0, stream>>>(images, dy, dweight, B, P, K, H);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

template <typename T>
void relu_fwd(const T* x, T* y, int64_t n, cudaStream_t stream) {
  check_positive("relu_fwd", "n", n, "the number of elements");
  check_pointer("relu_fwd", "x", x, "(n)");
  check_pointer("relu_fwd", "y", y, "(n)");
  relu_fwd_kernel<T><<<grid_for(n), THREADS, 0, stream>>>(x, y, n);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

template <typename T>
void relu_bwd(const T* y, const T* dy, T* dx, int64_t n, cudaStream_t stream) {
  check_positive("relu_bwd", "n", n, "the number of elements");
  check_pointer("relu_bwd", "y", y, "(n), the ReLU's output");
  check_pointer("relu_bwd", "dy", dy, "(n)");
  check_pointer("relu_bwd", "dx", dx, "(n)");
  relu_bwd_kernel<T><<<grid_for(n), THREADS, 0, stream>>>(y, dy, dx, n);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

#define DEEPGEN_INSTANTIATE(T)                                                                                 \
  template void onehot_linear_fwd<T>(const int32_t*, const T*, const T*, T*, int64_t, int64_t, int64_t, int64_t, \
                                     cudaStream_t);                                                             \
  template void onehot_linear_bwd<T>(const int32_t*, const T*, T*, int64_t, int64_t, int64_t, int64_t,           \
                                     cudaStream_t);                                                             \
  template void relu_fwd<T>(const T*, T*, int64_t, cudaStream_t);                                               \
  template void relu_bwd<T>(const T*, const T*, T*, int64_t, cudaStream_t);
DEEPGEN_INSTANTIATE(float)
DEEPGEN_INSTANTIATE(double)
#undef DEEPGEN_INSTANTIATE

}  // namespace deepgen::cuda
