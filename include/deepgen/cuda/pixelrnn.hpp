// cuda/pixelrnn.hpp — the PixelRNN trained, scored and sampled on the GPU:
// the device counterpart of models/pixelrnn.hpp, step for step, in each of
// its contexts (pixel_context.hpp: the lecture's previous pixel, or
// also the row above, and the pixel's position).
//
// A cuda::PixelRNN<T> holds, in device memory, the six parameters in
// PyTorch's order (PARAMETER_NAMES; models::PixelRNN's named_parameters()
// order), their gradients and Adam's two moments (a cuda::ParameterStore),
// plus the workspaces of the largest batch seen. The CPU model stays the home
// of the weights: models/pixelrnn_cuda.hpp copies a models::PixelRNN and its
// optim::Adam here and back (for checkpoints), with names and shapes checked.
//
// A step reads S = config().slots() tokens (1, 4 or 6), each one column of
// lstm.weight_ih_l0 (4H, config().input_size()); the host builds every
// training step's tokens with PixelRNNConfig::step_tokens, the CPU model's
// function, and uploads them with the targets (the pixels) beside them. A 2-D
// context's images must be width × height pixels; others are refused.
//
// One training step (train_step), on the CUDA stream, for B images of P
// pixels, N = P·B rows in time-major order (row t·B + b is image b, step t):
//   1. lstm_sequence_forward_onehot: T = P steps of one GEMM + the fused step
//      (the gather of the S columns of each row's tokens, summed)
//   2. dropout on h (the CPU's mask, element for element: Philox(seed, 2^40 |
//      step) word (b·P + t)·H + j), one kernel that recomputes the mask
//      instead of storing it, so backward is the same kernel again
//   3. logits = ones·fc.biasᵀ + h·fc.weightᵀ: two cuBLAS GEMMs (the first of
//      depth 1 broadcasts the bias), (N, K)
//   4. softmax_cross_entropy_fwd; the loss = Σ row losses / N, read back and checked
//      finite before any gradient is computed (as optim::backward_and_step)
//   5. softmax_cross_entropy_bwd, then fc's gradients as two GEMMs and a GEMV over all
//      N rows, dh = dlogits·fc.weight, dropout backward, and
//      lstm_sequence_backward_onehot (which scatters each of the S tokens)
//   6. ParameterStore::clip_and_update: ‖g‖₂ over every gradient (one
//      cublasNrm2), checked finite, scaled to max_grad_norm when above it
//      (PyTorch's clip_grad_norm_), then adam_update_all over the one buffer
// Two values travel to the host per step (the loss and the norm): the
// finiteness checks need them, and they cost a few microseconds.
//
// Sampling and completion (complete) run the recurrence one step at a time
// with the sampled colours kept on the device, so nothing crosses to the host
// until the end. The tokens of steps 0 … keep read kept pixels only and are
// built on the host; after that, for context previous the token read at step
// t is the pixel sample_rows wrote at step t − 1 (into the token row itself),
// and for a 2-D context one small kernel per drawn pixel writes it into the
// device copy of the images and builds step t + 1's tokens from them with
// PixelRNNConfig::step_tokens (DEEPGEN_HD: the CPU's function on the device).
// Kept pixels are never written. Row b draws from Philox(seed, first_index +
// b), one uniform per sampled pixel, as models::PixelRNN::complete does.
//
// Plain C++ (no Eigen): this header compiles with g++ and nvcc; the
// definitions live in kernels/pixelrnn.cu, instantiated for float and double.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "../pixel_context.hpp"
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

  /// The lecture's model (context previous): palette_size K colours,
  /// hidden_size H cells. Parameters start at zero: copy real ones in through
  /// parameters() (or models/pixelrnn_cuda.hpp's to_device). Throws
  /// deepgen::CudaError without a usable device.
  PixelRNN(int64_t palette_size, int64_t hidden_size);

  /// A PixelRNN of any context (checked as the CPU model checks it; throws
  /// deepgen::Error otherwise): lstm.weight_ih_l0 is (4H, config.input_size()).
  /// Parameters start at zero, as above.
  explicit PixelRNN(const models::PixelRNNConfig& config);

  /// Sizes and context.
  const models::PixelRNNConfig& config() const { return m_config; }
  /// K, the number of colours.
  int64_t palette_size() const { return m_config.palette_size; }
  /// H, the LSTM's hidden units.
  int64_t hidden_size() const { return m_config.hidden_size; }
  /// The parameters, their gradients, Adam's moments and step count.
  ///@{
  ParameterStore<T>& parameters() { return m_store; }
  const ParameterStore<T>& parameters() const { return m_store; }
  ///@}

  /// Forward and backward on B images of P pixels (host, B × P colour indices
  /// in [0, K), checked; a 2-D context needs P = width · height): returns the
  /// mean cross-entropy (nats per pixel) and leaves every parameter's
  /// gradient in the gradient buffer (overwritten), the values of models::PixelRNN::training_loss + backward with the
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
  /// with top_k = 0 (a 2-D context: P = width · height). keep = 0 draws new
  /// images; the kept pixels are never written. Needs one step's workspace
  /// (not the training one), so any batch that fits the CPU fits here.
  void complete(int32_t* images, int64_t B, int64_t P, int64_t keep, double temperature, uint64_t seed,
                uint64_t first_index = 0);

  /// The stream and cuBLAS handle all of its work runs on.
  const Context& context() const { return m_ctx; }

 private:
  void check_size(int64_t P, const char* where) const;  // a 2-D context's P = width · height
  void check_images(const int32_t* images, int64_t B, int64_t P, const char* where) const;
  void reserve(int64_t B, int64_t P);           // grow the training workspaces for (B, P)
  void reserve_sampling(int64_t B, int64_t P);  // grow complete()'s
  double forward(int64_t B, int64_t P, double dropout, uint64_t seed, uint64_t stream);  // after upload
  void backward(int64_t B, int64_t P, double dropout, uint64_t seed, uint64_t stream);
  T* param(int i) { return m_store.parameter(i); }
  T* grad(int i) { return m_store.gradient(i); }

  models::PixelRNNConfig m_config;
  int64_t m_K, m_H, m_S;  // palette size, hidden size, tokens per step (config().slots())
  Context m_ctx;
  ParameterStore<T> m_store;
  // Training workspaces for m_batch images of m_steps_reserved pixels (reserve()).
  int64_t m_batch = 0, m_steps_reserved = 0;
  DeviceBuffer<int32_t> m_tokens;             // inputs (P, B, S), then targets (P, B)
  DeviceBuffer<T> m_act, m_dpre;              // (P, B, 4H)
  DeviceBuffer<T> m_hs, m_cs;                 // (P + 1, B, H)
  DeviceBuffer<T> m_hdrop;                    // (P, B, H): dropped h, then dh
  DeviceBuffer<T> m_logits, m_probs;          // (P·B, K); logits become dlogits
  DeviceBuffer<T> m_row_loss, m_ones;         // (P·B)
  DeviceBuffer<T> m_work;                     // (2, B, H)
  // complete()'s workspaces (reserve_sampling()): one step at a time.
  int64_t m_sample_batch = 0, m_sample_steps = 0;
  DeviceBuffer<int32_t> m_sample_tokens;      // (P + 1, B, S): step t's tokens in row t
  DeviceBuffer<int32_t> m_sample_images;      // (B, P), the images being drawn (2-D contexts only)
  DeviceBuffer<int32_t> m_sample_drawn;       // (B), the pixel just drawn (2-D contexts only)
  DeviceBuffer<T> m_sample_state;             // (4, B, H): h and c, two of each (this step, the next)
  DeviceBuffer<T> m_sample_act;               // (B, 4H)
  DeviceBuffer<T> m_sample_logits, m_sample_weights;  // (B, K)
  DeviceBuffer<T> m_sample_ones;              // (B)
};

}  // namespace deepgen::cuda
