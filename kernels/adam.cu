// kernels/adam.cu — one launch that applies Adam to every parameter tensor of
// a model (optim/adam.hpp is the CPU path; the per-element rule is
// detail/adam_rule.hpp's DEEPGEN_HD adam_update, called here unchanged).
//
// The tensors stay where they are: the launcher gets device arrays of their
// pointers (parameter, gradient, first and second moment) and of the prefix
// sums of their sizes, offsets[0] = 0 … offsets[tensors] = total. Each thread
// takes element idx of the concatenation, finds its tensor by binary search
// over the offsets (a few steps for tens of tensors, all cached), and updates
// that element. One launch instead of one per tensor: a model's small biases
// would otherwise each cost a launch.
#include <cstdint>

#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/launchers.hpp"
#include "deepgen/error.hpp"
#include "deepgen/detail/adam_rule.hpp"
#include "launch.cuh"

namespace deepgen::cuda {
namespace {

using namespace kernels;

template <typename T>
__global__ void adam_update_all_kernel(T* const* params, const T* const* grads, T* const* m, T* const* v,
                                       const int64_t* offsets, int64_t tensors, int64_t total,
                                       detail::AdamScalars<T> s) {
  DEEPGEN_GRID_STRIDE(idx, total) {
    int64_t lo = 0, hi = tensors - 1;  // the tensor t with offsets[t] <= idx < offsets[t + 1]
    while (lo < hi) {
      const int64_t mid = (lo + hi + 1) / 2;
      if (offsets[mid] <= idx) lo = mid; else hi = mid - 1;
    }
    const int64_t i = idx - offsets[lo];
    detail::adam_update(params[lo] + i, grads[lo][i], m[lo] + i, v[lo] + i, s);
  }
}

}  // namespace

template <typename T>
void adam_update_all(T* const* params, const T* const* grads, T* const* m, T* const* v, const int64_t* offsets,
                     int64_t tensors, int64_t total, const detail::AdamScalars<T>& s, cudaStream_t stream) {
  const char* fn = "adam_update_all";
  check_positive(fn, "tensors", tensors, "the number of parameter tensors");
  check_positive(fn, "total", total, "the number of parameters, offsets[tensors]");
  check_pointer(fn, "params", params, "(tensors) device pointers");
  check_pointer(fn, "grads", grads, "(tensors) device pointers");
  check_pointer(fn, "m", m, "(tensors) device pointers");
  check_pointer(fn, "v", v, "(tensors) device pointers");
  check_pointer(fn, "offsets", offsets, "(tensors + 1) prefix sums of the tensor sizes");
  DEEPGEN_CHECK(s.step_size > T(0) && s.inv_bc2_sqrt > T(0) && s.eps > T(0), fn, ": step_size = ", s.step_size,
                ", inv_bc2_sqrt = ", s.inv_bc2_sqrt, ", eps = ", s.eps,
                " must be positive; compute them with detail::adam_scalars (or optim::Adam::scalars())");
  adam_update_all_kernel<T><<<grid_for(total), THREADS, 0, stream>>>(params, grads, m, v, offsets, tensors, total, s);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

#define DEEPGEN_INSTANTIATE(T)                                                                               \
  template void adam_update_all<T>(T* const*, const T* const*, T* const*, T* const*, const int64_t*, int64_t, \
                                   int64_t, const detail::AdamScalars<T>&, cudaStream_t);
DEEPGEN_INSTANTIATE(float)
DEEPGEN_INSTANTIATE(double)
#undef DEEPGEN_INSTANTIATE

}  // namespace deepgen::cuda
