// models/pixelrnn_cuda.hpp — a models::PixelRNN (and its optim::Adam) moved
// to a cuda::PixelRNN on the GPU and back: train there, checkpoint here
// (models/cuda_transfer.hpp does the copying and checks names and shapes).
//
// Needs deepgen::cuda linked (target_link_libraries(... deepgen::cuda)).
#pragma once

#include "../cuda/pixelrnn.hpp"
#include "cuda_transfer.hpp"
#include "pixelrnn.hpp"

namespace deepgen::models {

/// A new cuda::PixelRNN of `model`'s configuration (any context) holding its
/// weights (and `adam`'s state, if given).
template <typename T>
cuda::PixelRNN<T> to_device(const PixelRNN<T>& model, const optim::Adam<T>* adam = nullptr) {
  cuda::PixelRNN<T> gpu(model.config());
  cuda::copy_to_device(model, adam, gpu.parameters());
  return gpu;
}

/// Copy `gpu`'s weights into `model` (and its Adam state into `adam`, if given).
template <typename T>
void to_host(const cuda::PixelRNN<T>& gpu, PixelRNN<T>& model, optim::Adam<T>* adam = nullptr) {
  cuda::copy_to_host(gpu.parameters(), model, adam);
}

}  // namespace deepgen::models
