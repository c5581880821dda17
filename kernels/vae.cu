// kernels/vae.cu — cuda::VAE (declared and explained in
// deepgen/cuda/vae.hpp): the VAE's training step and evaluation on the GPU
// from cuBLAS, the one-hot layer and ReLU kernels, reparameterisation + KL,
// softmax cross-entropy and the ParameterStore's Adam.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "deepgen/config.hpp"  // IGNORE_INDEX
#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/launchers.hpp"
#include "deepgen/cuda/vae.hpp"
#include "deepgen/detail/colours.hpp"
#include "deepgen/error.hpp"
#include "deepgen/random.hpp"
#include "blas.cuh"
#include "launch.cuh"

namespace deepgen::cuda {
namespace {

using namespace kernels;

// IGNORE_INDEX (config.hpp): no colour uses it.

// The CPU train step's noise stream (models::VAE::train_step).
uint64_t noise_stream(int64_t step) { return (uint64_t(1) << 40) + uint64_t(step); }

void check_layout(const VAELayout& l) {
  DEEPGEN_CHECK(l.pixels > 0 && l.palette_size > 0 && l.latent > 0 && l.colour_dim >= 0,
                "cuda::VAE: pixels = ", l.pixels, ", palette_size = ", l.palette_size, ", latent = ", l.latent,
                ", colour_dim = ", l.colour_dim, "; take them from the model (models/vae_cuda.hpp does)");
  for (int64_t w : l.encoder_hidden) DEEPGEN_CHECK(w > 0, "cuda::VAE: encoder width ", w, " is not positive");
  for (int64_t w : l.decoder_hidden) DEEPGEN_CHECK(w > 0, "cuda::VAE: decoder width ", w, " is not positive");
}

// The widths of the encoder's layers (P·K one-hot inputs, the hidden widths,
// 2D or D outputs) and the decoder's (D, the hidden widths, P·E features or
// P·K logits): models::VAE's.
struct MlpWidths {
  std::vector<int64_t> encoder, decoder;
};

MlpWidths mlp_widths(const VAELayout& l) {
  check_layout(l);
  const int64_t P = l.pixels, K = l.palette_size, E = l.colour_dim;
  MlpWidths w;
  w.encoder.push_back(P * K);
  w.encoder.insert(w.encoder.end(), l.encoder_hidden.begin(), l.encoder_hidden.end());
  w.encoder.push_back(l.variational ? 2 * l.latent : l.latent);
  w.decoder.push_back(l.latent);
  w.decoder.insert(w.decoder.end(), l.decoder_hidden.begin(), l.decoder_hidden.end());
  w.decoder.push_back(P * (E > 0 ? E : K));
  return w;
}

// The parameters of models::VAE, named, shaped and ordered as its named_parameters().
template <typename T>
ParameterStore<T> vae_parameters(const VAELayout& l) {
  const MlpWidths w = mlp_widths(l);
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  auto mlp = [&](const std::string& prefix, const std::vector<int64_t>& widths) {
    for (size_t i = 0; i + 1 < widths.size(); ++i) {
      names.push_back(prefix + std::to_string(2 * i) + ".weight");
      shapes.push_back({widths[i + 1], widths[i]});
      names.push_back(prefix + std::to_string(2 * i) + ".bias");
      shapes.push_back({widths[i + 1]});
    }
  };
  mlp("encoder.", w.encoder);
  mlp("decoder.", w.decoder);
  if (l.colour_dim > 0) {
    names.push_back("decoder.colours.weight");
    shapes.push_back({l.palette_size, l.colour_dim});
    names.push_back("decoder.pixel_bias");
    shapes.push_back({l.pixels, l.palette_size});
  }
  return ParameterStore<T>(std::move(names), std::move(shapes));
}

template <typename T>
void copy_columns(const T* src, int64_t src_cols, T* dst, int64_t dst_cols, int64_t rows, int64_t cols,
                  cudaStream_t stream) {  // rows × cols, row-major, between row pitches
  DEEPGEN_CUDA_CHECK(cudaMemcpy2DAsync(dst, size_t(dst_cols) * sizeof(T), src, size_t(src_cols) * sizeof(T),
                                       size_t(cols) * sizeof(T), size_t(rows), cudaMemcpyDeviceToDevice, stream));
}

}  // namespace

template <typename T>
VAE<T>::VAE(const VAELayout& layout) : m_layout(layout), m_store(vae_parameters<T>(layout)) {
  int index = 0;  // parameters come in (weight, bias) pairs, encoder first
  auto layers = [&](std::vector<Layer>& out, const std::vector<int64_t>& widths) {
    for (size_t i = 0; i + 1 < widths.size(); ++i) {
      out.push_back({index, index + 1, widths[i], widths[i + 1]});
      index += 2;
      m_widest = std::max(m_widest, widths[i + 1]);
    }
  };
  const MlpWidths w = mlp_widths(layout);
  layers(m_encoder, w.encoder);
  layers(m_decoder, w.decoder);
  if (layout.colour_dim > 0) {
    m_colours = index;
    m_pixel_bias = index + 1;
  }
}

template <typename T>
void VAE<T>::check_images(const int32_t* images, int64_t B, const char* where) const {
  const int64_t P = m_layout.pixels, K = m_layout.palette_size;
  DEEPGEN_CHECK(B > 0 && images != nullptr, where, ": need B > 0 images (host, B x ", P, " colours), got B = ", B);
  detail::check_colours(images, B, P, P, K, where);
}

template <typename T>
void VAE<T>::reserve(int64_t B) {
  if (B <= m_batch) return;
  const int64_t P = m_layout.pixels, K = m_layout.palette_size, D = m_layout.latent;
  DEEPGEN_CHECK(B * P <= 0x7fffffff && B * m_widest <= 0x7fffffff && B * P * K <= (int64_t(1) << 40),
                "cuda::VAE: a batch of ", B, " images exceeds the 32-bit sizes cuBLAS takes; use smaller batches");
  m_ctx.sync();  // the old workspaces may still be in use
  const size_t b = size_t(B);
  m_images = DeviceBuffer<int32_t>(b * size_t(P));
  auto activations = [&](const std::vector<Layer>& layers, std::vector<DeviceBuffer<T>>& z,
                         std::vector<DeviceBuffer<T>>& r) {
    z.clear();
    r.clear();
    for (size_t i = 0; i < layers.size(); ++i) {
      z.emplace_back(b * size_t(layers[i].out));
      if (i + 1 < layers.size()) r.emplace_back(b * size_t(layers[i].out));  // the next layer's input
    }
  };
  activations(m_encoder, m_enc_z, m_enc_r);
  activations(m_decoder, m_dec_z, m_dec_r);
  for (auto* buf : {&m_mean, &m_logvar, &m_noise, &m_code, &m_dcode, &m_dmean, &m_dlogvar})
    *buf = DeviceBuffer<T>(b * size_t(D));
  m_kl_row = DeviceBuffer<T>(b);
  // The (B, P·K) logits of the colour-embedding output only: with
  // colour_dim = 0 the decoder's last layer writes them and this stays empty.
  m_logits = m_layout.colour_dim > 0 ? DeviceBuffer<T>(b * size_t(P * K)) : DeviceBuffer<T>();
  m_probs = DeviceBuffer<T>(b * size_t(P * K));
  m_row_loss = DeviceBuffer<T>(b * size_t(P));
  m_ones = device_ones<T>(b * size_t(P));
  m_grad_a = DeviceBuffer<T>(b * size_t(m_widest));
  m_grad_b = DeviceBuffer<T>(b * size_t(m_widest));
  m_denc = DeviceBuffer<T>(b * size_t(m_encoder.back().out));
  m_batch = B;
}

// y (B × out) = x (B × in) · Wᵀ + bias; column-major: yᵀ = W·xᵀ, with row-major
// W (out × in) read column-major as Wᵀ, hence op T. The bias goes in first as
// the depth-1 product bias (out × 1) · ones (1 × B).
template <typename T>
void VAE<T>::linear_fwd(const Layer& l, const T* x, T* y, int64_t B) {
  const cublasHandle_t h = m_ctx.cublas();
  gemm<T>(h, CUBLAS_OP_N, CUBLAS_OP_N, int(l.out), int(B), 1, m_store.parameter(l.bias), int(l.out), m_ones.data(), 1,
          T(0), y, int(l.out));
  gemm<T>(h, CUBLAS_OP_T, CUBLAS_OP_N, int(l.out), int(B), int(l.in), m_store.parameter(l.weight), int(l.in), x,
          int(l.in), T(1), y, int(l.out));
}

// From dy (B × out): dW (out × in) = dyᵀ·x, column-major (in × out) = xᵀ·dy;
// db = Σ_b dy, dy read column-major as (out × B); dx (B × in) = dy·W,
// column-major (in × B) = Wᵀ·dyᵀ (skipped when dx is null). The gradient
// buffers were zeroed; dW is written (β = 0), db added to.
template <typename T>
void VAE<T>::linear_bwd(const Layer& l, const T* x, const T* dy, T* dx, int64_t B) {
  const cublasHandle_t h = m_ctx.cublas();
  gemm<T>(h, CUBLAS_OP_N, CUBLAS_OP_T, int(l.in), int(l.out), int(B), x, int(l.in), dy, int(l.out), T(0),
          m_store.gradient(l.weight), int(l.in));
  gemv_add<T>(h, int(l.out), int(B), dy, int(l.out), m_ones.data(), m_store.gradient(l.bias));
  if (dx)
    gemm<T>(h, CUBLAS_OP_N, CUBLAS_OP_N, int(l.in), int(B), int(l.out), m_store.parameter(l.weight), int(l.in), dy,
            int(l.out), T(0), dx, int(l.in));
}

// Backward through layers[last] … layers[1] of an MLP from dy, the gradient
// on the last layer's output: dx of layer i is the gradient on ReLU's output
// r[i − 1], masked into the gradient on z[i − 1]. The gradients alternate
// between the two spare buffers (spare[next] first). Returns the gradient on
// layers[0]'s output.
template <typename T>
T* VAE<T>::hidden_layers_bwd(const std::vector<Layer>& layers, const std::vector<DeviceBuffer<T>>& r, T* dy,
                             T* const spare[2], int& next, int64_t B) {
  for (size_t i = layers.size(); i-- > 1;) {
    T* dx = spare[next];
    next = 1 - next;
    linear_bwd(layers[i], r[i - 1].data(), dy, dx, B);
    relu_bwd<T>(r[i - 1].data(), dx, dx, B * layers[i - 1].out, m_ctx.stream());
    dy = dx;
  }
  return dy;
}

template <typename T>
VAETerms VAE<T>::forward(int64_t B, uint64_t seed, uint64_t stream, bool given_noise) {
  const int64_t P = m_layout.pixels, K = m_layout.palette_size, D = m_layout.latent, E = m_layout.colour_dim;
  const cudaStream_t s = m_ctx.stream();
  const cublasHandle_t h = m_ctx.cublas();
  // (1) the encoder: the one-hot layer, then ReLU + Linear per layer.
  const Layer& first = m_encoder[0];
  onehot_linear_fwd<T>(m_images.data(), m_store.parameter(first.weight), m_store.parameter(first.bias),
                       m_enc_z[0].data(), B, P, K, first.out, s);
  for (size_t i = 1; i < m_encoder.size(); ++i) {
    relu_fwd<T>(m_enc_z[i - 1].data(), m_enc_r[i - 1].data(), B * m_encoder[i - 1].out, s);
    linear_fwd(m_encoder[i], m_enc_r[i - 1].data(), m_enc_z[i].data(), B);
  }
  const T* enc = m_enc_z.back().data();
  // (2) the code: m + exp(s/2)·e and each row's KL for a VAE; the output itself for an AE.
  const T* code = enc;
  if (m_layout.variational) {
    copy_columns<T>(enc, 2 * D, m_mean.data(), D, B, D, s);
    copy_columns<T>(enc + D, 2 * D, m_logvar.data(), D, B, D, s);
    if (given_noise)
      reparam_kl_fwd_noise<T>(m_mean.data(), m_logvar.data(), m_noise.data(), m_code.data(), m_kl_row.data(), B, D,
                              s);
    else
      reparam_kl_fwd<T>(m_mean.data(), m_logvar.data(), seed, stream, m_noise.data(), m_code.data(),
                        m_kl_row.data(), B, D, s);
    code = m_code.data();
  }
  // (3) the decoder, then the logits.
  linear_fwd(m_decoder[0], code, m_dec_z[0].data(), B);
  for (size_t i = 1; i < m_decoder.size(); ++i) {
    relu_fwd<T>(m_dec_z[i - 1].data(), m_dec_r[i - 1].data(), B * m_decoder[i - 1].out, s);
    linear_fwd(m_decoder[i], m_dec_r[i - 1].data(), m_dec_z[i].data(), B);
  }
  const T* logits = m_dec_z.back().data();  // (B, P·K) when colour_dim = 0
  if (E > 0) {
    // logits (B·P × K) = features (B·P × E) · Cᵀ + the (P, K) pixel bias of
    // every image: first bias (P·K × 1) · ones (1 × B), then the product.
    gemm<T>(h, CUBLAS_OP_N, CUBLAS_OP_N, int(P * K), int(B), 1, m_store.parameter(m_pixel_bias), int(P * K),
            m_ones.data(), 1, T(0), m_logits.data(), int(P * K));
    gemm<T>(h, CUBLAS_OP_T, CUBLAS_OP_N, int(K), int(B * P), int(E), m_store.parameter(m_colours), int(E), logits,
            int(E), T(1), m_logits.data(), int(K));
    logits = m_logits.data();
  }
  // (4), (5): Σ over the B·P pixels and the B rows, per image.
  softmax_cross_entropy_fwd<T>(logits, m_images.data(), m_probs.data(), m_row_loss.data(), B * P, K, IGNORE_INDEX, s);
  VAETerms t;
  t.recon = double(dot<T>(h, int(B * P), m_row_loss.data(), m_ones.data())) / double(B);
  if (m_layout.variational) t.kl = double(dot<T>(h, int(B), m_kl_row.data(), m_ones.data())) / double(B);
  return t;
}

template <typename T>
void VAE<T>::backward(int64_t B, double beta) {
  const int64_t P = m_layout.pixels, K = m_layout.palette_size, D = m_layout.latent, E = m_layout.colour_dim;
  const cudaStream_t s = m_ctx.stream();
  const cublasHandle_t h = m_ctx.cublas();
  m_store.zero_grad(m_ctx);
  // d recon / d logits = (p − onehot)/B per pixel row (recon is Σ_pixels / B).
  T* dlogits = E > 0 ? m_logits.data() : m_dec_z.back().data();  // the logits are spent
  softmax_cross_entropy_bwd<T>(m_probs.data(), m_images.data(), dlogits, B * P, K, T(1.0 / double(B)), IGNORE_INDEX, s);
  T* dy = dlogits;  // the gradient on the current layer's output
  T* spare[2] = {m_grad_a.data(), m_grad_b.data()};
  int next = 0;
  if (E > 0) {
    const T* features = m_dec_z.back().data();  // (B·P, E)
    // C (K × E) = dlogitsᵀ · features; column-major (E × K) = featuresᵀ · dlogits.
    gemm<T>(h, CUBLAS_OP_N, CUBLAS_OP_T, int(E), int(K), int(B * P), features, int(E), dlogits, int(K), T(0),
            m_store.gradient(m_colours), int(E));
    // pixel bias (P·K) = Σ_b dlogits[b]: dlogits read column-major is (P·K × B).
    gemv_add<T>(h, int(P * K), int(B), dlogits, int(P * K), m_ones.data(), m_store.gradient(m_pixel_bias));
    // dfeatures (B·P × E) = dlogits · C; column-major (E × B·P) = Cᵀ · dlogitsᵀ.
    T* dfeatures = spare[next];
    next = 1 - next;
    gemm<T>(h, CUBLAS_OP_N, CUBLAS_OP_N, int(E), int(B * P), int(K), m_store.parameter(m_colours), int(E), dlogits,
            int(K), T(0), dfeatures, int(E));
    dy = dfeatures;
  }
  dy = hidden_layers_bwd(m_decoder, m_dec_r, dy, spare, next, B);
  const T* code = m_layout.variational ? m_code.data() : m_enc_z.back().data();
  // The gradient on the code, then on the encoder's output.
  T* denc = m_layout.variational ? m_dcode.data() : m_denc.data();
  linear_bwd(m_decoder[0], code, dy, denc, B);
  if (m_layout.variational) {
    // (6): loss = recon + β·mean_b KL_b, so each row's KL has gradient β/B.
    reparam_kl_bwd<T>(m_mean.data(), m_logvar.data(), m_noise.data(), m_dcode.data(), T(beta / double(B)),
                      m_dmean.data(), m_dlogvar.data(), B, D, s);
    copy_columns<T>(m_dmean.data(), D, m_denc.data(), 2 * D, B, D, s);
    copy_columns<T>(m_dlogvar.data(), D, m_denc.data() + D, 2 * D, B, D, s);
  }
  dy = hidden_layers_bwd(m_encoder, m_enc_r, m_denc.data(), spare, next, B);
  const Layer& first = m_encoder[0];
  onehot_linear_bwd<T>(m_images.data(), dy, m_store.gradient(first.weight), B, P, K, first.out, s);
  gemv_add<T>(h, int(first.out), int(B), dy, int(first.out), m_ones.data(), m_store.gradient(first.bias));
}

template <typename T>
VAETerms VAE<T>::forward_backward(const int32_t* images, int64_t B, double beta, uint64_t seed) {
  const char* fn = "cuda::VAE::forward_backward";
  check_images(images, B, fn);
  DEEPGEN_CHECK(beta >= 0 && std::isfinite(beta), fn, ": beta = ", beta, " must be finite and >= 0 (1 gives the ELBO)");
  reserve(B);
  m_images.upload(images, size_t(B * m_layout.pixels), m_ctx.stream());
  const int64_t step = m_store.steps();
  const VAETerms t = forward(B, seed, noise_stream(step), false);
  const double loss = t.recon + beta * t.kl;
  DEEPGEN_CHECK(std::isfinite(loss), "cuda::VAE: the loss is ", loss, " at step ", step + 1,
                " (training diverged); lower the learning rate or the gradient clip");
  backward(B, beta);
  return t;
}

template <typename T>
VAETerms VAE<T>::train_step(const int32_t* images, int64_t B, const VAEStepOptions& o) {
  const char* fn = "cuda::VAE::train_step";
  check_optimizer_options(o, fn);
  const VAETerms t = forward_backward(images, B, o.beta, o.seed);
  m_store.clip_and_update(m_ctx, o, fn);
  return t;
}

template <typename T>
VAETerms VAE<T>::evaluate(const int32_t* images, int64_t count, int64_t samples, uint64_t seed, int64_t batch) {
  const char* fn = "cuda::VAE::evaluate";
  DEEPGEN_CHECK(count > 0 && samples > 0 && batch > 0, fn, ": need count, samples and batch >= 1, got ", count,
                ", ", samples, ", ", batch);
  check_images(images, count, fn);
  const int64_t P = m_layout.pixels, D = m_layout.latent;
  reserve(std::min(batch, count));
  VAETerms sum;
  std::vector<T> noise;
  for (int64_t first = 0; first < count; first += batch) {
    const int64_t B = std::min(batch, count - first);
    m_images.upload(images + first * P, size_t(B * P), m_ctx.stream());
    const int64_t draws = m_layout.variational ? samples : 1;
    for (int64_t j = 0; j < draws; ++j) {
      if (m_layout.variational) {  // image i's draw j: elements 0 … D−1 of Philox(seed, j·2³² + i)
        noise.resize(size_t(B * D));
        for (int64_t b = 0; b < B; ++b)
          for (int64_t d = 0; d < D; ++d)
            noise[size_t(b * D + d)] = philox_normal_at<T>(seed, (uint64_t(j) << 32) + uint64_t(first + b), uint64_t(d));
        m_noise.upload(noise.data(), noise.size(), m_ctx.stream());
      }
      const VAETerms t = forward(B, 0, 0, true);
      sum.recon += t.recon * double(B) / double(draws);
      sum.kl += t.kl * double(B) / double(draws);
    }
  }
  return {sum.recon / double(count), sum.kl / double(count)};
}

template class VAE<float>;
template class VAE<double>;

}  // namespace deepgen::cuda
