// cuda/vae.hpp — the lecture's VAE and autoencoder trained and scored on the
// GPU: the device counterpart of models/vae.hpp's train_step and evaluate,
// equation for equation (see that header for (1)–(6)).
//
// A cuda::VAE<T> holds the parameters, gradients and Adam moments in a
// cuda::ParameterStore, named and ordered as models::VAE's
// named_parameters(), plus the workspaces of the largest batch seen.
// models/vae_cuda.hpp copies a models::VAE and its optim::Adam here and back.
//
// One training step on B images of P pixels, on the context's stream:
//   encoder  onehot_linear_fwd (the one-hot image as P gathered weight
//            columns, kernels/vae.cu), then per layer ReLU and a
//            Linear: bias broadcast (a depth-1 GEMM) + one GEMM
//   code     VAE: mean and log-variance split out of the encoder output
//            (cudaMemcpy2D), reparam_kl_fwd with the noise of
//            Philox(seed, 2^40 + step), as the CPU draws it; AE: the output
//   decoder  Linear and ReLU layers; with colour_dim E > 0, the (B·P, E)
//            features times the colour embedding (one GEMM) plus the (P, K)
//            pixel bias broadcast over images (a depth-1 GEMM)
//   loss     softmax_cross_entropy_fwd over the B·P pixels; recon = Σ / B, KL = Σ / B
//            read back and checked finite before any gradient
//   backward the same layers in reverse: weight gradients as GEMMs over the
//            batch, bias gradients as GEMVs, ReLU masks, reparam_kl_bwd,
//            onehot_linear_bwd (a scatter into the one-hot layer's columns)
//   update   ParameterStore::clip_and_update (norm check, clipping, Adam)
//
// Plain C++ (no Eigen): defined in kernels/vae.cu.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "context.hpp"
#include "memory.hpp"
#include "parameters.hpp"

namespace deepgen::cuda {

/// The sizes of a VAE (models::VAEConfig without Eigen; models/vae_cuda.hpp converts).
struct VAELayout {
  ///@{
  /// As the models::VAEConfig member of the same name.
  int64_t pixels = 0, palette_size = 0, latent = 10;
  std::vector<int64_t> encoder_hidden{512, 256}, decoder_hidden{256, 512};
  ///@}
  int64_t colour_dim = 16;  ///< 0: the decoder gives the P·K logits directly
  bool variational = true;  ///< false: an autoencoder (no sampling, no KL)
};

/// Adam, clipping, and the step's own options.
struct VAEStepOptions : OptimizerOptions {
  double beta = 1.0;  ///< the KL's weight in (6)
  uint64_t seed = 0;  ///< the noise's Philox key
};

/// A batch's terms in nats per image (models::ELBOValues).
struct VAETerms {
  ///@{
  /// As models::ELBOValues: recon (4) and KL (5), nats per image.
  double recon = 0, kl = 0;
  ///@}
};

/// models::VAE (VAE or autoencoder) on the GPU: the training step and evaluate, on one Context.
template <typename T>
class VAE {
 public:
  /// Zero parameters of this layout: copy real ones in through parameters()
  /// (or models/vae_cuda.hpp's to_device). Throws deepgen::CudaError without
  /// a usable device.
  explicit VAE(const VAELayout& layout);

  /// The sizes it was built with.
  const VAELayout& layout() const { return m_layout; }
  ///@{
  /// The parameters, their gradients, Adam's moments and step count.
  ParameterStore<T>& parameters() { return m_store; }
  const ParameterStore<T>& parameters() const { return m_store; }
  ///@}

  /// Loss (6) and backward on B images (host, B × P colour indices in
  /// [0, K), checked), with the noise of Philox(seed, 2^40 + steps()): the
  /// terms of models::VAE::train_step's batch, every gradient left in the
  /// store (overwritten). No update.
  VAETerms forward_backward(const int32_t* images, int64_t B, double beta, uint64_t seed);

  /// One training step: forward_backward, clipping, Adam. A non-finite loss
  /// or gradient throws deepgen::Error before the weights change.
  VAETerms train_step(const int32_t* images, int64_t B, const VAEStepOptions& options);

  /// models::VAE::evaluate: the terms in nats per image over `count` images
  /// (host, count × P), `samples` noise draws per image (image i's draw j from
  /// Philox(seed, j·2³² + i)), in batches of `batch`.
  VAETerms evaluate(const int32_t* images, int64_t count, int64_t samples = 1, uint64_t seed = 0,
                    int64_t batch = 64);

  /// The stream and cuBLAS handle all of its work runs on.
  const Context& context() const { return m_ctx; }

 private:
  struct Layer {  // one Linear: its parameter indices and sizes
    int weight, bias;
    int64_t in, out;
  };
  void check_images(const int32_t* images, int64_t B, const char* where) const;
  void reserve(int64_t B);
  // The forward pass on m_images (uploaded), noise drawn from (seed, stream)
  // or, with given_noise, read from m_noise. Returns the batch's terms.
  VAETerms forward(int64_t B, uint64_t seed, uint64_t stream, bool given_noise);
  void backward(int64_t B, double beta);
  void linear_fwd(const Layer& l, const T* x, T* y, int64_t B);
  void linear_bwd(const Layer& l, const T* x, const T* dy, T* dx, int64_t B);
  T* hidden_layers_bwd(const std::vector<Layer>& layers, const std::vector<DeviceBuffer<T>>& r, T* dy,
                       T* const spare[2], int& next, int64_t B);

  VAELayout m_layout;
  Context m_ctx;
  ParameterStore<T> m_store;
  std::vector<Layer> m_encoder, m_decoder;  // m_encoder[0] is the one-hot layer
  int m_colours = -1, m_pixel_bias = -1;    // parameter indices, colour_dim > 0 only
  int64_t m_widest = 0;                     // the widest layer output: backward's scratch width
  // Workspaces for m_batch images (reserve()).
  int64_t m_batch = 0;
  DeviceBuffer<int32_t> m_images;                        // (B, P)
  std::vector<DeviceBuffer<T>> m_enc_z, m_enc_r;         // per encoder layer: output, ReLU of it
  std::vector<DeviceBuffer<T>> m_dec_z, m_dec_r;         // the same for the decoder
  DeviceBuffer<T> m_mean, m_logvar, m_noise, m_code;     // (B, D)
  DeviceBuffer<T> m_kl_row;                              // (B)
  DeviceBuffer<T> m_logits, m_probs, m_row_loss, m_ones; // (B·P, K) (empty if colour_dim = 0), (B·P, K), (B·P), (B·P)
  DeviceBuffer<T> m_grad_a, m_grad_b;                    // (B, widest layer output): backward's ping-pong
  DeviceBuffer<T> m_dcode, m_dmean, m_dlogvar;           // (B, D)
  DeviceBuffer<T> m_denc;                                // (B, encoder outputs)
};

}  // namespace deepgen::cuda
