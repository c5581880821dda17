// cuda/parameters.hpp — a model's parameters on the GPU, with their gradients
// and Adam's two moments, and the end of every training step: the gradient
// norm, clipping and the Adam update (optim/step.hpp's backward_and_step
// after the backward pass).
//
// Each kind is one contiguous buffer, the parameters back to back in the CPU
// model's named_parameters() order. So one memset zeroes every gradient, one
// cuBLAS nrm2 gives the global norm, one scal clips, and one adam_update_all
// launch (over a single "tensor") updates everything. The names and shapes
// are the CPU model's, and models/cuda_transfer.hpp copies a model and its
// optim::Adam here and back by them.
//
// Plain C++ (no Eigen): defined in kernels/parameters.cu.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "context.hpp"
#include "memory.hpp"

namespace deepgen::cuda {

/// Adam's hyperparameters and the clipping of one step (optim::AdamOptions
/// and backward_and_step's max_grad_norm).
struct OptimizerOptions {
  ///@{
  /// Adam's settings, as optim::AdamOptions.
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  ///@}
  double max_grad_norm = 1.0;  ///< 0: no clipping (the finiteness check stays)
};

/// Throws deepgen::Error, prefixed by `where`, unless lr > 0, eps > 0,
/// 0 <= β < 1, weight_decay >= 0 and max_grad_norm >= 0 (optim::Adam's rules).
void check_optimizer_options(const OptimizerOptions& options, const char* where);

/// A model's parameters, gradients and Adam moments as flat device buffers, with the step's
/// norm check, clipping and Adam update (clip_and_update).
template <typename T>
class ParameterStore {
 public:
  /// Zero-filled parameters, gradients and moments of these shapes.
  /// Throws deepgen::CudaError without a usable device.
  ParameterStore(std::vector<std::string> names, std::vector<std::vector<int64_t>> shapes);

  /// The number of parameters.
  int count() const { return int(m_names.size()); }
  /// The name of parameter i (PyTorch's).
  const std::string& name(int i) const;
  /// The shape of parameter i.
  const std::vector<int64_t>& shape(int i) const;
  /// The element count of parameter i.
  int64_t numel(int i) const;
  /// All parameters together.
  int64_t total() const { return m_offsets.back(); }

  /// Device pointers to parameter i and its gradient.
  ///@{
  T* parameter(int i) { return m_params.data() + offset(i); }
  const T* parameter(int i) const { return m_params.data() + offset(i); }
  T* gradient(int i) { return m_grads.data() + offset(i); }
  ///@}

  /// Copy parameter i (numel(i) elements) from / to host memory; the same
  /// for its gradient and its Adam moments.
  ///@{
  void set_parameter(int i, const T* host);
  void get_parameter(int i, T* host) const;
  void get_gradient(int i, T* host) const;
  void set_adam_moments(int i, const T* host_exp_avg, const T* host_exp_avg_sq);
  void get_adam_moments(int i, T* host_exp_avg, T* host_exp_avg_sq) const;
  ///@}

  /// Adam steps taken (the CPU optimizer's steps()); set it when resuming.
  int64_t steps() const { return m_step; }
  /// Sets the number of Adam steps taken (when resuming).
  void set_steps(int64_t steps);

  /// Every gradient to zero, queued on ctx's stream.
  void zero_grad(const Context& ctx);

  /// After a backward pass: ‖g‖₂ over every gradient, checked finite (else a
  /// deepgen::Error naming the first parameter holding NaN or inf, before
  /// anything changes), gradients scaled to max_grad_norm when above it (as
  /// optim::clip_grad_norm), then one Adam step. Returns the norm before
  /// clipping. `where` names the model in errors.
  double clip_and_update(const Context& ctx, const OptimizerOptions& options, const char* where);

 private:
  void check_index(int i) const;
  int64_t offset(int i) const;

  std::vector<std::string> m_names;
  std::vector<std::vector<int64_t>> m_shapes;
  std::vector<int64_t> m_offsets;  // prefix sums of the sizes, count() + 1
  int64_t m_step = 0;
  DeviceBuffer<T> m_params, m_grads, m_exp_avg, m_exp_avg_sq;
  // adam_update_all's pointer tables and offsets: one tensor, the flat buffer.
  DeviceBuffer<T*> m_adam_ptrs;  // params, exp_avg, exp_avg_sq
  DeviceBuffer<const T*> m_adam_grad_ptr;
  DeviceBuffer<int64_t> m_adam_offsets;
};

}  // namespace deepgen::cuda
