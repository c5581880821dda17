// detail/parallel.hpp — splitting long element-wise passes over both cores.
//
// The chunks are fixed by the element count, not by the thread count, so a
// reduction that sums chunk results in chunk order gives the same bits on
// any number of threads (the resume tests rely on bitwise repeatability).
#pragma once

#include <algorithm>
#include <cstdint>

#include "../config.hpp"

namespace deepgen::detail {

/// Elements per chunk: large enough that the loop and thread hand-off cost
/// nothing beside the work, small enough that a chunk's arrays stay in L2.
constexpr int64_t PARALLEL_CHUNK = int64_t(1) << 14;

/// Calls f(begin, end) for the chunks [c·chunk, min(n, (c+1)·chunk)) of
/// [0, n), chunks spread over OpenMP threads; one call, no threads, when n
/// fits in one chunk.
template <typename F>
void parallel_chunks(int64_t n, F&& f, int64_t chunk = PARALLEL_CHUNK) {
  if (n <= 0) return;
  const int64_t chunks = (n + chunk - 1) / chunk;
  if (chunks == 1) {
    f(int64_t(0), n);
    return;
  }
  DEEPGEN_PARALLEL_FOR
  for (int64_t c = 0; c < chunks; ++c) f(c * chunk, std::min(n, (c + 1) * chunk));
}

}  // namespace deepgen::detail
