// models/pixelrnn_cuda.hpp — a models::PixelRNN (and its optim::Adam) copied
// to a cuda::PixelRNN on the GPU and back: train there, checkpoint here.
//
// The CPU model stays the home of the weights: checkpoints, loading and the
// parameter names are its business. to_device() copies the six parameters
// (names and shapes checked against cuda::PixelRNN::PARAMETER_NAMES), and the
// optimizer's moments and step count when an Adam is given; to_host() copies
// them back, so io::save_checkpoint(model, adam) then saves what the GPU
// trained and a resumed run (on either device) continues exactly.
//
// Needs deepgen::cuda linked (target_link_libraries(... deepgen::cuda)).
#pragma once

#include <string>

#include "../cuda/pixelrnn.hpp"
#include "../optim/adam.hpp"
#include "pixelrnn.hpp"

namespace deepgen::models {

namespace detail {
/// The model's parameters in cuda::PixelRNN's order, names and shapes checked.
template <typename T>
nn::NamedParameters<T> gpu_ordered_parameters(const PixelRNN<T>& model, const cuda::PixelRNN<T>& gpu) {
  nn::NamedParameters<T> params = model.named_parameters();
  DEEPGEN_CHECK(params.size() == size_t(cuda::PixelRNN<T>::PARAMETERS), "PixelRNN on the GPU: the model has ",
                params.size(), " parameters, the GPU version ", cuda::PixelRNN<T>::PARAMETERS);
  for (int i = 0; i < cuda::PixelRNN<T>::PARAMETERS; ++i) {
    const auto& [name, p] = params[size_t(i)];
    const std::string want = cuda::PixelRNN<T>::PARAMETER_NAMES[size_t(i)];
    DEEPGEN_CHECK(name == want && p.value().shape() == Shape(gpu.parameter_shape(i)),
                  "PixelRNN on the GPU: parameter ", i, " is '", name, "' of shape ", p.value().shape(),
                  " but the GPU model holds '", want, "' of shape ", Shape(gpu.parameter_shape(i)),
                  "; build both with the same palette and hidden sizes");
  }
  return params;
}
}  // namespace detail

/// Copy `model`'s parameters (and `adam`'s moments and step count, if given)
/// into `gpu`, which must have the model's sizes.
template <typename T>
void copy_to_device(const PixelRNN<T>& model, const optim::Adam<T>* adam, cuda::PixelRNN<T>& gpu) {
  const nn::NamedParameters<T> params = detail::gpu_ordered_parameters(model, gpu);
  for (int i = 0; i < cuda::PixelRNN<T>::PARAMETERS; ++i) gpu.set_parameter(i, params[size_t(i)].second.value().data());
  if (adam == nullptr) return;
  const auto state = adam->state();
  for (int i = 0; i < cuda::PixelRNN<T>::PARAMETERS; ++i) {
    const std::string& name = params[size_t(i)].first;
    gpu.set_adam_moments(i, state.at(name + ".exp_avg").data(), state.at(name + ".exp_avg_sq").data());
  }
  gpu.set_steps(adam->steps());
}

/// A new cuda::PixelRNN holding `model` (and `adam`'s state, if given).
template <typename T>
cuda::PixelRNN<T> to_device(const PixelRNN<T>& model, const optim::Adam<T>* adam = nullptr) {
  cuda::PixelRNN<T> gpu(model.palette_size(), model.hidden_size());
  copy_to_device(model, adam, gpu);
  return gpu;
}

/// Copy `gpu`'s parameters into `model` (and its moments and step count into
/// `adam`, if given: an optimizer made for this model's parameters).
template <typename T>
void to_host(const cuda::PixelRNN<T>& gpu, PixelRNN<T>& model, optim::Adam<T>* adam = nullptr) {
  nn::NamedParameters<T> params = detail::gpu_ordered_parameters(model, gpu);
  for (int i = 0; i < cuda::PixelRNN<T>::PARAMETERS; ++i) gpu.get_parameter(i, params[size_t(i)].second.value().data());
  if (adam == nullptr) return;
  auto state = adam->state();
  for (int i = 0; i < cuda::PixelRNN<T>::PARAMETERS; ++i) {
    const std::string& name = params[size_t(i)].first;
    gpu.get_adam_moments(i, state.at(name + ".exp_avg").data(), state.at(name + ".exp_avg_sq").data());
  }
  state.at("step") = Tensor<T>::scalar(T(gpu.steps()));
  adam->load_state(state, "the GPU optimizer state");
}

}  // namespace deepgen::models
