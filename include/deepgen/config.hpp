// config.hpp — the few macros every header shares.
//
// DEEPGEN_HD marks the small inline functions that hold a kernel's arithmetic
// (gate math, one Philox round, one Adam element). Under nvcc they are
// __host__ __device__, so the CPU path and the CUDA kernel call the very same
// code and the CPU tests cover the math the GPU runs (like EIGEN_DEVICE_FUNC).
#pragma once

#if defined(__CUDACC__)
#define DEEPGEN_HD __host__ __device__
#else
#define DEEPGEN_HD
#endif

// An OpenMP parallel loop where the program is built with OpenMP; a plain
// loop otherwise (no unknown-pragma warning for users who do not use it).
// DEEPGEN_PARALLEL_FOR_REDUCE_SUM(x) is the same loop summing `x` over threads.
#define DEEPGEN_PRAGMA(text) _Pragma(#text)
#if defined(_OPENMP)
#define DEEPGEN_PARALLEL_FOR _Pragma("omp parallel for schedule(static)")
#define DEEPGEN_PARALLEL_FOR_REDUCE_SUM(x) DEEPGEN_PRAGMA(omp parallel for schedule(static) reduction(+ : x))
#else
#define DEEPGEN_PARALLEL_FOR
#define DEEPGEN_PARALLEL_FOR_REDUCE_SUM(x)
#endif

#include <cstdint>

namespace deepgen {
/// An index meaning "no input": the all-zeros one-hot vector (gather_columns,
/// the LSTM's one-hot tokens, the CUDA kernels' −1). Step 0 of the PixelRNN
/// sequence has no previous pixel; a pixel in the top row has none above.
constexpr int32_t NO_INPUT = -1;

/// A target that the loss skips (padding), as PyTorch's ignore_index: the
/// softmax cross-entropy (ops/softmax_cross_entropy.hpp and its kernel) counts
/// no row whose target is IGNORE_INDEX; data/text.hpp pads targets with it.
constexpr int32_t IGNORE_INDEX = -100;
}  // namespace deepgen

#define DEEPGEN_VERSION_MAJOR 0
#define DEEPGEN_VERSION_MINOR 1
#define DEEPGEN_VERSION_PATCH 0
