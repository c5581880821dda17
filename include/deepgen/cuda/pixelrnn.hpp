// cuda/pixelrnn.hpp — the lecture's PixelRNN trained, scored and sampled on
// the GPU: the device counterpart of models/pixelrnn.hpp, step for step.
//
// A cuda::PixelRNN<T> holds, in device memory, the six parameters in
// PyTorch's order (PARAMETER_NAMES; models::PixelRNN's named_parameters()
// order), their gradients and Adam's two moments (a cuda::ParameterStore),
// plus the workspaces of the largest batch seen. The CPU model stays the home
// of the weights: models/pixelrnn_cuda.hpp copies a models::PixelRNN and its
// optim::Adam here and back (for checkpoints), with names and shapes checked.
//
// One training step (train_step), on the context's stream, for B images of P
// pixels, N = P·B rows in time-major order (row t·B + b is image b, step t):
//   1. lstm_sequence_forward_onehot: T = P steps of one GEMM + the fused step
//   2. dropout on h (the CPU's mask, element for element: Philox(seed, 2^40 |
//      step) word (b·P + t)·H + j), one kernel that recomputes the mask
//      instead of storing it, so backward is the same kernel again
//   3. logits = ones·fc.biasᵀ + h·fc.weightᵀ: two cuBLAS GEMMs (the first of
//      depth 1 broadcasts the bias), (N, K)
//   4. softmax_xent_fwd; the loss = Σ row losses / N, read back and checked
//      finite before any gradient is computed (as optim::backward_and_step)
//   5. softmax_xent_bwd, then fc's gradients as two GEMMs and a GEMV over all
//      N rows, dh = dlogits·fc.weight, dropout backward, and
//      lstm_sequence_backward_onehot
//   6. ParameterStore::clip_and_update: ‖g‖₂ over every gradient (one
//      cublasNrm2), checked finite, scaled to max_grad_norm when above it
//      (PyTorch's clip_grad_norm_), then adam_update_all over the one buffer
// Two values travel to the host per step (the loss and the norm): the
// finiteness checks need them, and they cost a few microseconds.
//
// Sampling and completion (complete) run the recurrence one step at a time
// with the sampled colour kept on the device: the token read at step t is the
// pixel written at step t − 1, so nothing crosses to the host until the end.
// Row b draws from Philox(seed, first_index + b), one uniform per sampled
// pixel, as models::PixelRNN::complete does.
//
// Plain C++ (no Eigen): this header compiles with g++ and nvcc; the
// definitions live in kernels/pixelrnn.cu, instantiated for float and double.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "context.hpp"
#include "memory.hpp"
#include "parameters.hpp"

namespace deepgen::cuda {

/// Adam, clipping, and the step's own options.
struct PixelRNNStepOptions : OptimizerOptions {
  double dropout = 0;  ///< rate on the LSTM outputs; 0: none
  uint64_t seed = 0;   ///< the dropout masks' Philox key
};

/// models::PixelRNN on the GPU: the training step, NLL and completion, on one Context.
template <typename T>
class PixelRNN {
 public:
  /// The number of parameters.
  static constexpr int PARAMETERS = 6;
  /// Their names, as models::PixelRNN's, in the ParameterStore's order.
  static constexpr std::array<const char*, PARAMETERS> PARAMETER_NAMES = {
      "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0", "fc.weight", "fc.bias"};

  /// palette_size K colours, hidden_size H cells. Parameters start at zero:
  /// copy real ones in through parameters() (or models/pixelrnn_cuda.hpp's
  /// to_device). Throws deepgen::CudaError without a usable device.
  PixelRNN(int64_t palette_size, int64_t hidden_size);

  /// K, the number of colours.
  int64_t palette_size() const { return m_K; }
  /// H, the LSTM's hidden units.
  int64_t hidden_size() const { return m_H; }
  /// The parameters, their gradients, Adam's moments and step count.
  ///@{
  ParameterStore<T>& parameters() { return m_store; }
  const ParameterStore<T>& parameters() const { return m_store; }
  ///@}

  /// Forward and backward on B images of P pixels (host, B × P colour indices
  /// in [0, K), checked): returns the mean cross-entropy (nats per pixel) and
  /// leaves every parameter's gradient in the gradient buffer (overwritten),
  /// the values of models::PixelRNN::training_loss + backward with the
  /// dropout mask of Philox(seed, 2^40 | parameters().steps()). No update.
  double forward_backward(const int32_t* images, int64_t B, int64_t P, double dropout, uint64_t seed);

  /// One training step: forward_backward, clipping, Adam; returns the loss.
  /// A non-finite loss or gradient throws deepgen::Error before the weights
  /// change (as models::PixelRNN::train_step).
  double train_step(const int32_t* images, int64_t B, int64_t P, const PixelRNNStepOptions& options);

  /// Mean cross-entropy in nats per pixel of `count` images (count × P, host),
  /// in batches of `batch`, no dropout: models::PixelRNN::nll.
  double nll(const int32_t* images, int64_t count, int64_t P, int64_t batch = 64);

  /// Complete B images (host, B × P, in place) from their first `keep` pixels,
  /// at `temperature` (0: the likeliest colour): models::PixelRNN::complete
  /// with top_k = 0. keep = 0 draws new images. Needs one step's workspace
  /// (not the training one), so any batch that fits the CPU fits here.
  void complete(int32_t* images, int64_t B, int64_t P, int64_t keep, double temperature, uint64_t seed,
                uint64_t first_index = 0);

  /// The stream and cuBLAS handle all of its work runs on.
  const Context& context() const { return m_ctx; }

 private:
  void check_images(const int32_t* images, int64_t B, int64_t P, const char* where) const;
  void reserve(int64_t B, int64_t P);           // grow the training workspaces for (B, P)
  void reserve_sampling(int64_t B, int64_t P);  // grow complete()'s
  double forward(int64_t B, int64_t P, double dropout, uint64_t seed, uint64_t stream);  // after upload
  void backward(int64_t B, int64_t P, double dropout, uint64_t seed, uint64_t stream);
  T* param(int i) { return m_store.parameter(i); }
  T* grad(int i) { return m_store.gradient(i); }

  int64_t m_K, m_H;
  Context m_ctx;
  ParameterStore<T> m_store;
  // Training workspaces for m_batch images of m_steps_reserved pixels (reserve()).
  int64_t m_batch = 0, m_steps_reserved = 0;
  DeviceBuffer<int32_t> m_tokens;             // (P + 1, B): inputs are rows 0 … P−1, targets rows 1 … P
  DeviceBuffer<T> m_act, m_dpre;              // (P, B, 4H)
  DeviceBuffer<T> m_hs, m_cs;                 // (P + 1, B, H)
  DeviceBuffer<T> m_hdrop;                    // (P, B, H): dropped h, then dh
  DeviceBuffer<T> m_logits, m_probs;          // (P·B, K); logits become dlogits
  DeviceBuffer<T> m_row_loss, m_ones;         // (P·B)
  DeviceBuffer<T> m_work;                     // (2, B, H)
  // complete()'s workspaces (reserve_sampling()): one step at a time.
  int64_t m_sample_batch = 0, m_sample_steps = 0;
  DeviceBuffer<int32_t> m_sample_tokens;      // (P + 1, B), as m_tokens
  DeviceBuffer<T> m_sample_state;             // (4, B, H): h and c, two of each (this step, the next)
  DeviceBuffer<T> m_sample_act;               // (B, 4H)
  DeviceBuffer<T> m_sample_logits, m_sample_weights;  // (B, K)
  DeviceBuffer<T> m_sample_ones;              // (B)
};

}  // namespace deepgen::cuda
