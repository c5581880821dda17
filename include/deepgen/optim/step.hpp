// optim/step.hpp — the end of every training step: backward, gradient
// clipping, Adam, with the checks that keep a diverged step from touching
// the weights (a non-finite loss before backward, a non-finite gradient
// before the update).
#pragma once

#include <cmath>

#include "adam.hpp"
#include "clip.hpp"

namespace deepgen::optim {

/// Backpropagate `loss`, clip the gradients of `params` to max_grad_norm
/// (0: no clipping, only the finiteness check), and take one Adam step.
/// `where` names the model in the error of a diverged step.
template <typename T>
void backward_and_step(const Var<T>& loss, const nn::NamedParameters<T>& params, Adam<T>& adam,
                       double max_grad_norm, const char* where) {
  const double value = loss.value()[0];
  DEEPGEN_CHECK(std::isfinite(value), where, ": the loss is ", value, " at step ", adam.steps() + 1,
                " (training diverged); lower the learning rate or the gradient clip");
  backward(loss);
  if (max_grad_norm > 0)
    clip_grad_norm(params, max_grad_norm);
  else
    global_grad_norm(params);  // throws on NaN/inf
  adam.step();
}

}  // namespace deepgen::optim
