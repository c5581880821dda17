// kernels/sampling.cu — one categorical draw per row of logits at a
// temperature, for PixelRNN sampling and completion on the GPU; the same draw
// as the CPU's sample_logits (sampling.hpp) with top_k = 0.
//
// One block per row: the row's maximum and the first index that holds it
// (block reductions; temperature 0 returns that index, as the CPU does), the
// weights w_k = exp((z_k − z_max)/T) into `weights`, then thread 0 sums them
// in index order — the CPU's order, so the total has the same bits — and
// calls categorical_from_uniform (random.hpp, DEEPGEN_HD) with uniform element
// `draw` of Philox(seed, stream + row): the draw the CPU's Philox(seed,
// stream + row) makes as its (draw + 1)-th uniform. The sequential sum keeps
// the CPU's rounding; it costs K steps of one thread, nothing next to the
// step's GEMM at a palette's K = 167.
//
// A row with any NaN or infinite logit, or whose weights are all zero, gets
// −1: categorical_from_uniform refuses it exactly where the CPU's
// Philox::categorical throws, and cuda::PixelRNN::complete turns the −1 into
// an error. (At temperature 0 the row's argmax is returned, −1 only when no
// logit equals the row's maximum, e.g. all NaN; the CPU's argmax does not look
// for NaN: see docs/cuda.md.)
#include <cmath>
#include <cstdint>

#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/launchers.hpp"
#include "deepgen/detail/math.hpp"
#include "deepgen/error.hpp"
#include "deepgen/random.hpp"
#include "launch.cuh"

namespace deepgen::cuda {
namespace {

using namespace kernels;

template <typename T>
__global__ void sample_rows_kernel(const T* logits, int64_t K, bool greedy, T inv_temperature, uint64_t seed,
                                   uint64_t stream, uint64_t draw, T* weights, int32_t* out) {
  const int64_t row = blockIdx.x;
  const T* z = logits + row * K;
  T* w = weights + row * K;
  const T m = row_max(z, K);
  int64_t first = INT64_MAX;  // the first index holding the maximum
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x)
    if (z[k] == m && k < first) first = k;
  first = block_reduce<Min>(first);
  // temperature 0: the likeliest class. (A flag, not inv_temperature == 0:
  // a huge finite temperature rounds 1/T to 0 in float, which the CPU treats
  // as a draw from equal weights, and so does this.)
  if (greedy) {
    if (threadIdx.x == 0) out[row] = first < K ? int32_t(first) : -1;
    return;
  }
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x) w[k] = detail::exp_((z[k] - m) * inv_temperature);
  __syncthreads();
  if (threadIdx.x == 0) {
    T total = T(0);
    for (int64_t k = 0; k < K; ++k) total += w[k];
    const T u = philox_uniform_at<T>(seed, stream + uint64_t(row), draw);
    out[row] = int32_t(categorical_from_uniform<T>(w, K, total, u));
  }
}

}  // namespace

void check_sampling_temperature(const char* fn, double temperature) {
  DEEPGEN_CHECK(temperature >= 0 && std::isfinite(temperature), fn, ": temperature ", temperature,
                " is invalid; use 0 (likeliest colour) or a positive finite value such as 0.5 or 1.0");
}

template <typename T>
void sample_rows(const T* logits, int64_t B, int64_t K, double temperature, uint64_t seed, uint64_t stream,
                 uint64_t draw, T* weights, int32_t* out, cudaStream_t cuda_stream) {
  const char* fn = "sample_rows";
  check_positive(fn, "B", B, "the number of rows, one draw each");
  check_positive(fn, "K", K, "the number of classes");
  check_product(fn, B, K, "B x K");
  DEEPGEN_CHECK(B <= int64_t(0x7fffffff) && K <= int64_t(0x7fffffff), fn, ": B = ", B, " or K = ", K,
                " exceeds 2^31 - 1; split the call");
  check_sampling_temperature(fn, temperature);
  check_pointer(fn, "logits", logits, "(B, K)");
  check_pointer(fn, "weights", weights, "(B, K) scratch");
  check_pointer(fn, "out", out, "(B) int32");
  const int threads = THREADS;
  check_block_size(fn, threads);  // row_max and the first-index search are block_reduce calls
  // The CPU computes 1/T in double and rounds it to T; so does this.
  const bool greedy = temperature == 0;
  const T inv_t = greedy ? T(0) : T(1 / temperature);
  sample_rows_kernel<T><<<static_cast<unsigned>(B), threads, 0, cuda_stream>>>(logits, K, greedy, inv_t, seed, stream,
                                                                              draw, weights, out);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

#define DEEPGEN_INSTANTIATE(T)                                                                              \
  template void sample_rows<T>(const T*, int64_t, int64_t, double, uint64_t, uint64_t, uint64_t, T*, int32_t*, \
                               cudaStream_t);
DEEPGEN_INSTANTIATE(float)
DEEPGEN_INSTANTIATE(double)
#undef DEEPGEN_INSTANTIATE

}  // namespace deepgen::cuda
