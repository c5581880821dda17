// kernels/softmax_cross_entropy.cu — fused, numerically stable softmax cross-entropy
// over K classes on the GPU, forward and backward (ops/softmax_cross_entropy.hpp
// is the CPU path and the reference).
//
// Forward: one block per row. Three passes over the row's K logits, each a
// strided loop of the block's threads and a block_reduce: the maximum m, the
// sum s = Σ exp(z − m), then p = exp(z − m)/s written out; the row's loss is
// log s + m − z[target] (0 for an ignored row). A block per row, not a thread
// per row, because K runs from 167 (a palette) to tens of thousands (a
// vocabulary) while the rows of one batch may be few.
//
// Backward: one thread per element, d = scale·(p − [k = target]), 0 in
// ignored rows; scale = the loss's gradient / the number of counted rows.
#include <math.h>

#include <cstdint>

#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/launchers.hpp"
#include "deepgen/detail/math.hpp"
#include "deepgen/error.hpp"
#include "launch.cuh"

namespace deepgen::cuda {
namespace {

using namespace kernels;

template <typename T>
__global__ void softmax_cross_entropy_fwd_kernel(const T* logits, const int32_t* targets, T* probs, T* row_loss,
                                                 int64_t K, int32_t ignore_index) {
  const int64_t row = blockIdx.x;
  const T* z = logits + row * K;
  T* p = probs + row * K;
  const T m = row_max(z, K);
  T s = T(0);
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x) {
    const T e = detail::exp_(z[k] - m);
    p[k] = e;
    s += e;
  }
  s = block_reduce<Sum>(s);
  const T inv = T(1) / s;
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x) p[k] *= inv;
  if (threadIdx.x == 0) {
    const int32_t y = targets[row];
    // An out-of-range target is a caller bug the launcher cannot see (the
    // targets live on the device): NaN makes the loss say so.
    row_loss[row] = y == ignore_index ? T(0) : (y < 0 || y >= K) ? T(NAN) : detail::log_(s) + m - z[y];
  }
}

template <typename T>
__global__ void softmax_cross_entropy_bwd_kernel(const T* probs, const int32_t* targets, T* dlogits, int64_t N,
                                                 int64_t K, T scale, int32_t ignore_index) {
  DEEPGEN_GRID_STRIDE(idx, N * K) {
    const int64_t row = idx / K, k = idx - row * K;
    const int32_t y = targets[row];
    dlogits[idx] = y == ignore_index ? T(0) : scale * (probs[idx] - (k == y ? T(1) : T(0)));
  }
}

void check_rows(const char* fn, int64_t N, int64_t K) {
  check_positive(fn, "N", N, "the number of rows (B·T logit vectors)");
  check_positive(fn, "K", K, "the number of classes");
  check_product(fn, N, K, "N x K");
  DEEPGEN_CHECK(N <= int64_t(0x7fffffff), fn, ": N = ", N, " rows exceed the grid's 2^31 - 1 blocks; split the call");
}

}  // namespace

template <typename T>
void softmax_cross_entropy_fwd(const T* logits, const int32_t* targets, T* probs, T* row_loss, int64_t N, int64_t K,
                               int32_t ignore_index, cudaStream_t stream) {
  const char* fn = "softmax_cross_entropy_fwd";
  check_rows(fn, N, K);
  check_pointer(fn, "logits", logits, "(N, K)");
  check_pointer(fn, "targets", targets, "(N) int32");
  check_pointer(fn, "probs", probs, "(N, K)");
  check_pointer(fn, "row_loss", row_loss, "(N)");
  const int threads = THREADS;
  check_block_size(fn, threads);  // the row's max and sum are block_reduce calls
  softmax_cross_entropy_fwd_kernel<T><<<static_cast<unsigned>(N), threads, 0, stream>>>(logits, targets, probs,
                                                                                      row_loss, K, ignore_index);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

template <typename T>
void softmax_cross_entropy_bwd(const T* probs, const int32_t* targets, T* dlogits, int64_t N, int64_t K, T scale,
                               int32_t ignore_index, cudaStream_t stream) {
  const char* fn = "softmax_cross_entropy_bwd";
  check_rows(fn, N, K);
  check_pointer(fn, "probs", probs, "(N, K), saved by softmax_cross_entropy_fwd");
  check_pointer(fn, "targets", targets, "(N) int32");
  check_pointer(fn, "dlogits", dlogits, "(N, K)");
  softmax_cross_entropy_bwd_kernel<T><<<grid_for(N * K), THREADS, 0, stream>>>(probs, targets, dlogits, N, K, scale,
                                                                               ignore_index);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

#define DEEPGEN_INSTANTIATE(T)                                                                                        \
  template void softmax_cross_entropy_fwd<T>(const T*, const int32_t*, T*, T*, int64_t, int64_t, int32_t,             \
                                             cudaStream_t);                                                           \
  template void softmax_cross_entropy_bwd<T>(const T*, const int32_t*, T*, int64_t, int64_t, T, int32_t, cudaStream_t);
DEEPGEN_INSTANTIATE(float)
DEEPGEN_INSTANTIATE(double)
#undef DEEPGEN_INSTANTIATE

}  // namespace deepgen::cuda
