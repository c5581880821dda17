// tests/cuda/launch.test.cu — kernels/launch.cuh's launch-time checks, which
// run without a device: block sizes, and size products checked before they
// are formed. launch.cuh is private to the kernels; this test includes it by
// path because its checks are what every launcher calls before touching a
// device.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "deepgen/cuda/launchers.hpp"
#include "deepgen/error.hpp"

#include "../../kernels/launch.cuh"

namespace {
using Catch::Contains;
namespace kernels = deepgen::cuda::kernels;
}  // namespace

TEST_CASE("check_block_size: whole warps from 32 to 1024, as block_reduce and onehot_linear_fwd need", "[cuda][launch]") {
  for (int64_t ok : {32, 64, 96, 256, 1024}) CHECK_NOTHROW(kernels::check_block_size("f", ok));
  CHECK_NOTHROW(kernels::check_block_size("f", kernels::THREADS));  // what every launcher uses
  for (int64_t bad : {0, 1, 16, 31, 48, 100, 1056, 2048, -32}) {
    INFO("block size " << bad);
    CHECK_THROWS_AS(kernels::check_block_size("f", bad), deepgen::Error);
  }
  CHECK_THROWS_WITH(kernels::check_block_size("sample_rows", 48),
                    Contains("sample_rows: block size 48") && Contains("multiple of 32"));
}

TEST_CASE("check_sequence_sizes: every product is checked before it is formed", "[cuda][launch]") {
  const int64_t big = int64_t(1) << 62;
  CHECK_NOTHROW(kernels::check_sequence_sizes("f", 64, 4096, 256, 167));
  // 4·H alone overflows: refused before B·4H is computed.
  CHECK_THROWS_WITH(kernels::check_sequence_sizes("f", 2, 3, big, 5), Contains("4 x H"));
  // 4·H fits, B·4H does not.
  CHECK_THROWS_WITH(kernels::check_sequence_sizes("f", big, 3, 8, 5), Contains("B x 4H"));
  // B·4H fits, (T + 1)·B·4H does not.
  CHECK_THROWS_WITH(kernels::check_sequence_sizes("f", int64_t(1) << 20, int64_t(1) << 40, 8, 5),
                    Contains("(T + 1) x B x 4H"));
  CHECK_THROWS_WITH(kernels::check_sequence_sizes("f", 1, INT64_MAX, 1, 5), Contains("steps = "));
  // Within int64_t but past cuBLAS's int.
  CHECK_THROWS_WITH(kernels::check_sequence_sizes("f", int64_t(1) << 16, int64_t(1) << 16, 8, 5),
                    Contains("cuBLAS's int sizes"));
  CHECK_THROWS_WITH(kernels::check_sequence_sizes("f", 0, 3, 8, 5), Contains("B = 0 must be positive"));
}
