// models/vae_cuda.hpp — a models::VAE (and its optim::Adam) moved to a
// cuda::VAE on the GPU and back: train and evaluate there, checkpoint, encode
// and draw here (models/cuda_transfer.hpp does the copying and checks names and
// shapes).
//
// Needs deepgen::cuda linked (target_link_libraries(... deepgen::cuda)).
#pragma once

#include "cuda_transfer.hpp"
#include "../cuda/vae.hpp"
#include "vae.hpp"

namespace deepgen::models {

/// The GPU layout of a model's configuration.
inline cuda::VAELayout cuda_layout(const VAEConfig& c) {
  cuda::VAELayout l;
  l.pixels = c.pixels;
  l.palette_size = c.palette_size;
  l.latent = c.latent;
  l.encoder_hidden = c.encoder_hidden;
  l.decoder_hidden = c.decoder_hidden;
  l.colour_dim = c.colour_dim;
  l.variational = c.mode == VAEMode::vae;
  return l;
}

/// A new cuda::VAE holding `model` (and `adam`'s state, if given).
template <typename T>
cuda::VAE<T> to_device(const VAE<T>& model, const optim::Adam<T>* adam = nullptr) {
  cuda::VAE<T> gpu(cuda_layout(model.config()));
  cuda::copy_to_device(model, adam, gpu.parameters());
  return gpu;
}

/// Copy `gpu`'s weights into `model` (and its Adam state into `adam`, if given).
template <typename T>
void to_host(const cuda::VAE<T>& gpu, VAE<T>& model, optim::Adam<T>* adam = nullptr) {
  cuda::copy_to_host(gpu.parameters(), model, adam);
}

}  // namespace deepgen::models
