// models/cuda_transfer.hpp — a CPU model's parameters (and its optim::Adam's state)
// copied into a cuda::ParameterStore and back: train on the GPU, checkpoint
// on the host.
//
// The CPU model stays the home of the weights: checkpoints, loading and the
// parameter names are its business. copy_to_device() copies every parameter,
// and the optimizer's moments and step count when an Adam is given;
// copy_to_host() copies them back, so io::save_checkpoint(model, adam) then
// saves what the GPU trained and a resumed run (on either device) continues
// exactly. Both check that the store holds the model's parameters: the same
// names, in the same order, of the same shapes.
//
// Needs deepgen::cuda linked (target_link_libraries(... deepgen::cuda)).
#pragma once

#include <string>

#include "../nn/module.hpp"
#include "../optim/adam.hpp"
#include "../cuda/parameters.hpp"

namespace deepgen::cuda {

namespace detail {
/// The model's parameters, checked to be the store's, in its order.
template <typename T>
nn::NamedParameters<T> matching_parameters(const nn::Module<T>& model, const ParameterStore<T>& store) {
  nn::NamedParameters<T> params = model.named_parameters();
  DEEPGEN_CHECK(params.size() == size_t(store.count()), "GPU model: the CPU model has ", params.size(),
                " parameters, the GPU one ", store.count(), "; build both from the same configuration");
  for (int i = 0; i < store.count(); ++i) {
    const auto& [name, p] = params[size_t(i)];
    DEEPGEN_CHECK(name == store.name(i) && nn::file_shape(p) == Shape(store.shape(i)), "GPU model: parameter ", i,
                  " is '", name, "' of shape ", nn::file_shape(p), " but the GPU model holds '", store.name(i),
                  "' of shape ", Shape(store.shape(i)), "; build both from the same configuration");
  }
  return params;
}
}  // namespace detail

/// Copy `model`'s parameters (and `adam`'s moments and step count, if given) into `store`.
template <typename T>
void copy_to_device(const nn::Module<T>& model, const optim::Adam<T>* adam, ParameterStore<T>& store) {
  const nn::NamedParameters<T> params = detail::matching_parameters(model, store);
  // The store holds PyTorch's layout (Adam's state() gives the moments in it too).
  for (int i = 0; i < store.count(); ++i) {
    const Var<T>& p = params[size_t(i)].second;
    store.set_parameter(i, nn::file_layout(p, p.value()).data());
  }
  if (adam == nullptr) return;
  const auto state = adam->state();
  for (int i = 0; i < store.count(); ++i) {
    const std::string& name = params[size_t(i)].first;
    store.set_adam_moments(i, state.at(name + ".exp_avg").data(), state.at(name + ".exp_avg_sq").data());
  }
  store.set_steps(adam->steps());
}

/// Copy `store`'s parameters into `model` (and its moments and step count
/// into `adam`, if given: an optimizer made for this model's parameters).
template <typename T>
void copy_to_host(const ParameterStore<T>& store, nn::Module<T>& model, optim::Adam<T>* adam) {
  nn::NamedParameters<T> params = detail::matching_parameters(model, store);
  for (int i = 0; i < store.count(); ++i) {
    Var<T>& p = params[size_t(i)].second;
    Tensor<T> value = Tensor<T>::uninitialized(nn::file_shape(p));
    store.get_parameter(i, value.data());
    p.value() = nn::storage_layout(p, value);
  }
  if (adam == nullptr) return;
  auto state = adam->state();
  for (int i = 0; i < store.count(); ++i) {
    const std::string& name = params[size_t(i)].first;
    store.get_adam_moments(i, state.at(name + ".exp_avg").data(), state.at(name + ".exp_avg_sq").data());
  }
  state.at("step") = Tensor<T>::scalar(T(store.steps()));
  adam->load_state(state, "the GPU optimizer state");
}

}  // namespace deepgen::cuda
