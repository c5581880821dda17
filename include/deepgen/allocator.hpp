// allocator.hpp — keep_freed_memory(): tell glibc to keep freed buffers in the
// process. Without it, every multi-MiB buffer freed at the end of a training
// step is returned to the kernel and page-faulted back on the next step,
// which costs milliseconds per buffer. Call it first thing in main() of a
// training or sampling program; a no-op where the C library is not glibc.
#pragma once

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace deepgen {

/// Keeps freed buffers in the process (glibc); call first thing in main().
inline void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 256 << 20);  // buffers up to 256 MiB come from the heap...
  mallopt(M_TRIM_THRESHOLD, 1 << 30);    // ...and the heap is not trimmed below 1 GiB
#endif
}

}  // namespace deepgen
