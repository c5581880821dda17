// models/pixelrnn_cuda.hpp — a models::PixelRNN (and its optim::Adam) moved
// to a cuda::PixelRNN on the GPU and back: train there, checkpoint here
// (cuda/transfer.hpp does the copying and checks names and shapes).
//
// Needs deepgen::cuda linked (target_link_libraries(... deepgen::cuda)).
#pragma once

#include "../cuda/pixelrnn.hpp"
#include "../cuda/transfer.hpp"
#include "pixelrnn.hpp"

namespace deepgen::models {

/// A new cuda::PixelRNN holding `model` (and `adam`'s state, if given).
/// The GPU model runs the lecture's context only: a 2-D context model is
/// refused with deepgen::Error rather than run wrong.
template <typename T>
cuda::PixelRNN<T> to_device(const PixelRNN<T>& model, const optim::Adam<T>* adam = nullptr) {
  DEEPGEN_CHECK(!model.config().two_dimensional(), "cuda::PixelRNN runs the lecture's PixelRNN (context "
                "'previous') only, but this model's context is '", context_name(model.config().context),
                "'; use --device cpu (or train with --context previous for the GPU)");
  cuda::PixelRNN<T> gpu(model.palette_size(), model.hidden_size());
  cuda::copy_to_device(model, adam, gpu.parameters());
  return gpu;
}

/// Copy `gpu`'s weights into `model` (and its Adam state into `adam`, if given).
template <typename T>
void to_host(const cuda::PixelRNN<T>& gpu, PixelRNN<T>& model, optim::Adam<T>* adam = nullptr) {
  cuda::copy_to_host(gpu.parameters(), model, adam);
}

}  // namespace deepgen::models
