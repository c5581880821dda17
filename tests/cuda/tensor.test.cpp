// tests/cuda/tensor.test.cpp — DeviceTensor: shape checks (no device needed)
// and host → device → host round trips on the default and a created stream.
#include <catch2/catch.hpp>

#include <cstdint>

#include "deepgen/cuda/tensor.hpp"

#include "cuda/support.hpp"

using deepgen::Shape;
using deepgen::Tensor;
using deepgen::cuda::DeviceTensor;

TEST_CASE("DeviceTensor: mismatched shapes are refused before any copy", "[cuda][tensor]") {
  DeviceTensor<float> empty;  // shape [0]: no allocation, no device needed
  CHECK(empty.shape() == Shape{0});
  CHECK(empty.data() == nullptr);
  CHECK(empty.device() == deepgen::Device::cuda);
  Tensor<float> host(Shape{2, 3});
  CHECK_THROWS_WITH(empty.copy_from(host),
                    Catch::Contains("the host tensor has shape [2, 3] but the device tensor [0]"));
  CHECK_THROWS_WITH(empty.copy_to(host), Catch::Contains("DeviceTensor::copy_to"));
  const DeviceTensor<int32_t> none(Shape{0, 5});  // zero elements: nothing to allocate
  CHECK(none.to_host().shape() == (Shape{0, 5}));
}

TEMPLATE_TEST_CASE("DeviceTensor: host to device and back gives the same tensor", "[cuda][tensor]", float, double,
                   int32_t) {
  if (deepgen::test::gpu::gpu_missing()) return;
  using T = TestType;
  deepgen::test::gpu::Stream stream;
  for (cudaStream_t s : {cudaStream_t(nullptr), stream.get()}) {
    Tensor<T> host(Shape{3, 4, 5});
    for (int64_t n = 0; n < host.numel(); ++n) host[n] = T(n * 7 - 50);
    const DeviceTensor<T> dev = DeviceTensor<T>::from_host(host, s);
    CHECK(dev.shape() == host.shape());
    const Tensor<T> back = dev.to_host(s);
    REQUIRE(back.shape() == host.shape());
    CHECK(std::equal(back.begin(), back.end(), host.begin()));
    Tensor<T> other(Shape{3, 4, 5}, T(1));
    DeviceTensor<T> dev2(other.shape());
    dev2.copy_from(other, s);
    dev2.copy_to(host, s);  // host now holds ones
    CHECK(std::all_of(host.begin(), host.end(), [](T x) { return x == T(1); }));
  }
}
