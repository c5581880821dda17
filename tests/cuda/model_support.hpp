// tests/cuda/model_support.hpp — what the GPU model tests (pixelrnn.test.cpp,
// vae.test.cpp) share: the double CPU reference holding a model's weights,
// tensors as flat vectors, and the tolerance of a whole step. Host code
// (Eigen): for the .test.cpp files only.
#pragma once

#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "deepgen/nn/module.hpp"

namespace deepgen::test::gpu {

/// Copy every weight of `from` into `to`, a model of the same configuration in double.
template <typename T>
void copy_weights(const nn::Module<T>& from, nn::Module<double>& to) {
  std::map<std::string, Tensor<double>> tensors;
  for (const auto& [name, p] : from.named_parameters()) {
    Tensor<double> t(p.value().shape());
    for (int64_t n = 0; n < t.numel(); ++n) t[n] = double(p.value()[n]);
    tensors[name] = t;
  }
  to.load_parameters(tensors);
}

/// A tensor's elements, as they are and widened to double.
template <typename T>
std::vector<T> elements(const Tensor<T>& t) {
  return std::vector<T>(t.data(), t.data() + t.numel());
}
template <typename T>
std::vector<double> flat(const Tensor<T>& t) {
  return std::vector<double>(t.data(), t.data() + t.numel());
}

/// ‖gpu − ref‖/‖ref‖ allowed after a whole forward, backward and update
/// against the double CPU model: float rounds through every layer (a
/// 12-step recurrence for the PixelRNN); double only in summation order.
template <typename T>
double step_tolerance() {
  return std::is_same<T, float>::value ? 2e-5 : 1e-11;
}

}  // namespace deepgen::test::gpu
