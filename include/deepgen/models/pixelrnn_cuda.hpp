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

/// Copy `gpu`'s weights into `model` (and its Adam state into `adam`, if
/// given). Both must have the same configuration: for a 2-D context the
/// shapes alone do not tell a 4 × 3 model from a 3 × 4 one, so it is checked.
template <typename T>
void to_host(const cuda::PixelRNN<T>& gpu, PixelRNN<T>& model, optim::Adam<T>* adam = nullptr) {
  const PixelRNNConfig &g = gpu.config(), &m = model.config();
  DEEPGEN_CHECK(g.context == m.context && g.palette_size == m.palette_size && g.hidden_size == m.hidden_size &&
                    (!m.two_dimensional() || (g.width == m.width && g.height == m.height)),
                "to_host: the GPU model is a '", context_name(g.context), "' PixelRNN (K ", g.palette_size, ", H ",
                g.hidden_size, ", ", g.width, " x ", g.height, ") but the CPU model is a '", context_name(m.context),
                "' one (K ", m.palette_size, ", H ", m.hidden_size, ", ", m.width, " x ", m.height,
                "); copy into a model built from the same PixelRNNConfig");
  cuda::copy_to_host(gpu.parameters(), model, adam);
}

}  // namespace deepgen::models
