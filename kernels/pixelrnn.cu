// kernels/pixelrnn.cu — cuda::PixelRNN (declared and explained in
// deepgen/cuda/pixelrnn.hpp): training, scoring and sampling the PixelRNN on
// the GPU from the LSTM sequence, softmax, sampling and Adam kernels, cuBLAS,
// and two kernels of its own: the recomputed dropout mask, and the placing of
// a drawn pixel (with the next step's tokens) for a 2-D context's sampling.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "deepgen/config.hpp"  // IGNORE_INDEX
#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/launchers.hpp"
#include "deepgen/cuda/lstm_sequence.hpp"
#include "deepgen/cuda/pixelrnn.hpp"
#include "deepgen/detail/colours.hpp"
#include "deepgen/error.hpp"
#include "deepgen/random.hpp"
#include "blas.cuh"
#include "launch.cuh"

namespace deepgen::cuda {
namespace {

using namespace kernels;

// IGNORE_INDEX (config.hpp): no PixelRNN target uses it.

// y = x·mask for x (P, B, H) time-major, where mask is the CPU dropout's
// (ops/dropout.hpp) for the batch-major (B, P, H) tensor: element n = (b·P +
// t)·H + j is kept, scaled by keep_scale, when u32 n of Philox(seed, stream)
// is at least `threshold`. The mask is recomputed, never stored: backward
// runs this same kernel on the gradient. In place (x == y) is fine.
template <typename T>
__global__ void dropout_time_major_kernel(const T* x, T* y, int64_t P, int64_t B, int64_t H, uint64_t seed,
                                          uint64_t stream, uint64_t threshold, T keep_scale) {
  DEEPGEN_GRID_STRIDE(idx, P * B * H) {
    const int64_t j = idx % H, row = idx / H, b = row % B, t = row / B;
    const uint64_t n = uint64_t((b * P + t) * H + j);
    y[idx] = philox_u32_at(seed, stream, n) >= threshold ? x[idx] * keep_scale : T(0);
  }
}

template <typename T>
void dropout_time_major(const T* x, T* y, int64_t P, int64_t B, int64_t H, double rate, uint64_t seed,
                        uint64_t stream, cudaStream_t cuda_stream) {
  const uint64_t threshold = static_cast<uint64_t>(rate * 4294967296.0);  // as ops/dropout.hpp
  const T keep_scale = T(1 / (1 - rate));
  dropout_time_major_kernel<T><<<grid_for(P * B * H), THREADS, 0, cuda_stream>>>(x, y, P, B, H, seed, stream,
                                                                                  threshold, keep_scale);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

// A 2-D context's sampling, after sample_rows drew pixel t of every image
// into drawn (B): write it into images (B, P), then build step t + 1's S
// tokens from that image's pixels 0 … t into next_tokens (B, S) with the CPU
// model's own PixelRNNConfig::step_tokens (none after the last pixel). One
// thread per image; it reads back only what it wrote.
__global__ void place_pixel_kernel(const int32_t* drawn, int32_t* images, int32_t* next_tokens, int64_t B,
                                   int64_t P, int64_t t, models::PixelRNNConfig config) {
  DEEPGEN_GRID_STRIDE(b, B) {
    int32_t* image = images + b * P;
    image[t] = drawn[b];
    if (t + 1 < P) config.step_tokens(image, t + 1, next_tokens + b * config.slots());
  }
}

void place_pixel(const int32_t* drawn, int32_t* images, int32_t* next_tokens, int64_t B, int64_t P, int64_t t,
                 const models::PixelRNNConfig& config, cudaStream_t stream) {
  place_pixel_kernel<<<grid_for(B), THREADS, 0, stream>>>(drawn, images, next_tokens, B, P, t, config);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

// The CPU train step's dropout stream (models::PixelRNN::train_step).
uint64_t dropout_stream(int64_t step) { return uint64_t(1) << 40 | uint64_t(step); }

const models::PixelRNNConfig& checked(const models::PixelRNNConfig& c) {
  c.check("cuda::PixelRNN");
  return c;
}

std::vector<std::vector<int64_t>> pixelrnn_shapes(const models::PixelRNNConfig& c) {
  const int64_t K = c.palette_size, H = c.hidden_size;
  // lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0, fc.weight, fc.bias
  return {{4 * H, c.input_size()}, {4 * H, H}, {4 * H}, {4 * H}, {K, H}, {K}};
}
}  // namespace

template <typename T>
PixelRNN<T>::PixelRNN(int64_t palette_size, int64_t hidden_size)
    : PixelRNN(models::PixelRNNConfig{palette_size, hidden_size, models::PixelContext::previous, 0, 0}) {}

template <typename T>
PixelRNN<T>::PixelRNN(const models::PixelRNNConfig& config)
    : m_config(checked(config)),
      m_K(config.palette_size),
      m_H(config.hidden_size),
      m_S(config.slots()),
      m_store({PARAMETER_NAMES.begin(), PARAMETER_NAMES.end()}, pixelrnn_shapes(config)) {}

template <typename T>
void PixelRNN<T>::check_size(int64_t P, const char* where) const {
  if (m_config.two_dimensional())
    DEEPGEN_CHECK(P == m_config.width * m_config.height, where, ": images have ", P, " pixels but this model's '",
                  models::context_name(m_config.context), "' context reads ", m_config.width, " x ",
                  m_config.height, " images; use images of the size it was trained on");
}

template <typename T>
void PixelRNN<T>::check_images(const int32_t* images, int64_t B, int64_t P, const char* where) const {
  DEEPGEN_CHECK(B > 0 && P > 0, where, ": need B > 0 images of P > 0 pixels, got B = ", B, ", P = ", P);
  DEEPGEN_CHECK(images != nullptr, where, ": the images pointer is null; pass B x P colour indices");
  check_size(P, where);
  detail::check_colours(images, B, P, P, m_K, where);
}

template <typename T>
void PixelRNN<T>::reserve(int64_t B, int64_t P) {
  if (B <= m_batch && P <= m_steps_reserved) return;
  const int64_t Bn = std::max(B, m_batch), Pn = std::max(P, m_steps_reserved), H = m_H, K = m_K;
  DEEPGEN_CHECK(Pn * Bn <= 0x7fffffff / std::max<int64_t>({4 * H, K, m_S + 1}), "cuda::PixelRNN: ", Bn,
                " images of ", Pn, " pixels exceed the 32-bit sizes cuBLAS takes; use smaller batches");
  m_ctx.sync();  // the old workspaces may still be in use
  const size_t N = size_t(Pn * Bn);
  m_tokens = DeviceBuffer<int32_t>(N * size_t(m_S + 1));
  m_act = DeviceBuffer<T>(N * size_t(4 * H));
  m_dpre = DeviceBuffer<T>(N * size_t(4 * H));
  m_hs = DeviceBuffer<T>(size_t((Pn + 1) * Bn * H));
  m_cs = DeviceBuffer<T>(size_t((Pn + 1) * Bn * H));
  m_hdrop = DeviceBuffer<T>(N * size_t(H));
  m_logits = DeviceBuffer<T>(N * size_t(K));
  m_probs = DeviceBuffer<T>(N * size_t(K));
  m_row_loss = DeviceBuffer<T>(N);
  m_ones = device_ones<T>(N);
  m_work = DeviceBuffer<T>(size_t(2 * Bn * H));
  m_batch = Bn;
  m_steps_reserved = Pn;
}

template <typename T>
void PixelRNN<T>::reserve_sampling(int64_t B, int64_t P) {
  if (B <= m_sample_batch && P <= m_sample_steps) return;
  const int64_t Bn = std::max(B, m_sample_batch), Pn = std::max(P, m_sample_steps), H = m_H, K = m_K;
  DEEPGEN_CHECK((Pn + 1) * Bn <= 0x7fffffff / m_S && Bn <= 0x7fffffff / std::max<int64_t>(4 * H, K),
                "cuda::PixelRNN::complete: ", Bn, " images of ", Pn,
                " pixels exceed the 32-bit sizes cuBLAS takes; complete them in smaller batches");
  m_ctx.sync();
  m_sample_tokens = DeviceBuffer<int32_t>(size_t((Pn + 1) * Bn * m_S));
  if (m_config.two_dimensional()) {
    m_sample_images = DeviceBuffer<int32_t>(size_t(Pn * Bn));
    m_sample_drawn = DeviceBuffer<int32_t>(size_t(Bn));
  }
  m_sample_state = DeviceBuffer<T>(size_t(4 * Bn * H));
  m_sample_act = DeviceBuffer<T>(size_t(Bn * 4 * H));
  m_sample_logits = DeviceBuffer<T>(size_t(Bn * K));
  m_sample_weights = DeviceBuffer<T>(size_t(Bn * K));
  m_sample_ones = device_ones<T>(size_t(Bn));
  m_sample_batch = Bn;
  m_sample_steps = Pn;
}

// tokens (rows, B, S) time-major: row t the S tokens of step t of every
// image (models::PixelRNNConfig::step_tokens, the CPU model's: for context
// previous, row 0 is the all-zeros input −1 and row t + 1 pixel t) for the
// first `steps` rows, NO_INPUT after them; then, with `targets`, (P, B) the
// pixels themselves, step t's targets. Training uploads rows = steps = P
// with targets; completion rows = P + 1, steps = keep + 1 (the steps that
// read kept pixels only), no targets.
namespace {
// The copy runs on the context's stream, after the kernels that may still read
// the old tokens, and is waited for before the host copy goes away.
void upload(const Context& ctx, const std::vector<int32_t>& host, int32_t* device) {
  DEEPGEN_CUDA_CHECK(cudaMemcpyAsync(device, host.data(), host.size() * sizeof(int32_t), cudaMemcpyHostToDevice,
                                     ctx.stream()));
  ctx.sync();
}

void upload_sequence(const Context& ctx, const models::PixelRNNConfig& config, const int32_t* images, int64_t B,
                     int64_t P, int64_t steps, int64_t rows, bool targets, int32_t* d_tokens) {
  const int64_t S = config.slots();
  std::vector<int32_t> seq(size_t(rows * B * S + (targets ? P * B : 0)), NO_INPUT);
  for (int64_t t = 0; t < steps; ++t)
    for (int64_t b = 0; b < B; ++b) config.step_tokens(images + b * P, t, seq.data() + (t * B + b) * S);
  if (targets)
    for (int64_t t = 0; t < P; ++t)
      for (int64_t b = 0; b < B; ++b) seq[size_t(rows * B * S + t * B + b)] = images[b * P + t];
  upload(ctx, seq, d_tokens);
}
}  // namespace

template <typename T>
double PixelRNN<T>::forward(int64_t B, int64_t P, double dropout, uint64_t seed, uint64_t stream) {
  const int64_t H = m_H, K = m_K, N = P * B;
  const cublasHandle_t h = m_ctx.cublas();
  const int32_t* targets = m_tokens.data() + N * m_S;  // after the inputs (upload_sequence)
  lstm_sequence_forward_onehot<T>(m_ctx, m_tokens.data(), param(0), param(1), param(2), param(3), nullptr, nullptr,
                                  B, P, H, m_config.input_size(), m_S, m_act.data(), m_hs.data(), m_cs.data());
  const T* out = m_hs.data() + B * H;  // h_1 … h_P: (P, B, H) = (N, H)
  if (dropout > 0) {
    dropout_time_major<T>(out, m_hdrop.data(), P, B, H, dropout, seed, stream, m_ctx.stream());
    out = m_hdrop.data();
  }
  // logits (N × K row-major) = column-major (K × N): first fc.bias broadcast
  // to every row (bias (K × 1) · ones (1 × N)), then += fc.weight · outᵀ.
  gemm<T>(h, CUBLAS_OP_N, CUBLAS_OP_N, int(K), int(N), 1, param(5), int(K), m_ones.data(), 1, T(0), m_logits.data(),
          int(K));
  gemm<T>(h, CUBLAS_OP_T, CUBLAS_OP_N, int(K), int(N), int(H), param(4), int(H), out, int(H), T(1), m_logits.data(),
          int(K));
  softmax_cross_entropy_fwd<T>(m_logits.data(), targets, m_probs.data(), m_row_loss.data(), N, K, IGNORE_INDEX,
                               m_ctx.stream());
  return double(dot<T>(h, int(N), m_row_loss.data(), m_ones.data())) / double(N);
}

template <typename T>
void PixelRNN<T>::backward(int64_t B, int64_t P, double dropout, uint64_t seed, uint64_t stream) {
  const int64_t H = m_H, K = m_K, N = P * B;
  const cublasHandle_t h = m_ctx.cublas();
  T* dlogits = m_logits.data();  // the logits are spent
  const int32_t* targets = m_tokens.data() + N * m_S;
  softmax_cross_entropy_bwd<T>(m_probs.data(), targets, dlogits, N, K, T(1.0 / double(N)), IGNORE_INDEX,
                               m_ctx.stream());
  m_store.zero_grad(m_ctx);
  const T* out = dropout > 0 ? m_hdrop.data() : m_hs.data() + B * H;
  // fc.weight (K × H) = dlogitsᵀ · out; column-major: (H × K) = outᵀ · dlogits.
  gemm<T>(h, CUBLAS_OP_N, CUBLAS_OP_T, int(H), int(K), int(N), out, int(H), dlogits, int(K), T(0), grad(4), int(H));
  // fc.bias (K) = Σ_rows dlogits: dlogits read column-major is (K × N).
  gemv_add<T>(h, int(K), int(N), dlogits, int(K), m_ones.data(), grad(5));
  // dh (N × H) = dlogits · fc.weight; column-major: (H × N) = fc.weightᵀ · dlogitsᵀ.
  // Written over the dropped outputs, which the GEMM above has already read
  // (one stream: in order).
  T* dh = m_hdrop.data();
  gemm<T>(h, CUBLAS_OP_N, CUBLAS_OP_N, int(H), int(N), int(K), param(4), int(H), dlogits, int(K), T(0), dh, int(H));
  if (dropout > 0) dropout_time_major<T>(dh, dh, P, B, H, dropout, seed, stream, m_ctx.stream());
  lstm_sequence_backward_onehot<T>(m_ctx, m_tokens.data(), param(1), m_act.data(), m_hs.data(), m_cs.data(), dh,
                                   nullptr, nullptr, B, P, H, m_config.input_size(), m_S, m_ones.data(),
                                   m_dpre.data(), m_work.data(), grad(0), grad(1), grad(2), grad(3), nullptr,
                                   nullptr);
}

template <typename T>
double PixelRNN<T>::forward_backward(const int32_t* images, int64_t B, int64_t P, double dropout, uint64_t seed) {
  const char* fn = "cuda::PixelRNN::forward_backward";
  check_images(images, B, P, fn);
  DEEPGEN_CHECK(dropout >= 0 && dropout < 1, fn, ": dropout rate ", dropout, " must be in [0, 1)");
  reserve(B, P);
  upload_sequence(m_ctx, m_config, images, B, P, P, P, true, m_tokens.data());
  const int64_t step = m_store.steps();
  const double loss = forward(B, P, dropout, seed, dropout_stream(step));
  DEEPGEN_CHECK(std::isfinite(loss), "cuda::PixelRNN: the loss is ", loss, " at step ", step + 1,
                " (training diverged); lower the learning rate or the gradient clip");
  backward(B, P, dropout, seed, dropout_stream(step));
  return loss;
}

template <typename T>
double PixelRNN<T>::train_step(const int32_t* images, int64_t B, int64_t P, const PixelRNNStepOptions& o) {
  const char* fn = "cuda::PixelRNN::train_step";
  check_optimizer_options(o, fn);
  const double loss = forward_backward(images, B, P, o.dropout, o.seed);
  m_store.clip_and_update(m_ctx, o, fn);
  return loss;
}

template <typename T>
double PixelRNN<T>::nll(const int32_t* images, int64_t count, int64_t P, int64_t batch) {
  const char* fn = "cuda::PixelRNN::nll";
  DEEPGEN_CHECK(count > 0 && P > 0 && batch > 0, fn, ": need images, got count=", count, " P=", P,
                " batch=", batch);
  check_images(images, count, P, fn);
  reserve(std::min(batch, count), P);
  double total = 0;
  for (int64_t first = 0; first < count; first += batch) {
    const int64_t B = std::min(batch, count - first);
    upload_sequence(m_ctx, m_config, images + first * P, B, P, P, P, true, m_tokens.data());
    total += forward(B, P, 0, 0, 0) * double(B);
  }
  return total / double(count);
}

template <typename T>
void PixelRNN<T>::complete(int32_t* images, int64_t B, int64_t P, int64_t keep, double temperature, uint64_t seed,
                           uint64_t first_index) {
  const char* fn = "cuda::PixelRNN::complete";
  DEEPGEN_CHECK(B > 0 && P > 0 && images != nullptr, fn, ": need B > 0 images of P > 0 pixels (host, B x P), got B = ",
                B, ", P = ", P);
  DEEPGEN_CHECK(keep >= 0 && keep <= P, fn, ": keep = ", keep, " pixels, but an image has ", P, "; use 0 <= keep <= ",
                P);
  check_size(P, fn);
  check_sampling_temperature(fn, temperature);  // sample_rows' own check, before the loop and any upload
  detail::check_colours(images, B, P, keep, m_K, fn);  // only the shown pixels must be colours
  if (keep == P) return;
  reserve_sampling(B, P);
  // Steps 0 … keep read kept pixels only; the later steps' tokens are made on the device.
  upload_sequence(m_ctx, m_config, images, B, P, keep + 1, P + 1, false, m_sample_tokens.data());
  const bool two_d = m_config.two_dimensional();
  if (two_d) {  // the images being drawn: the kept pixels, NO_INPUT where a pixel is still to draw
    std::vector<int32_t> shown(size_t(B * P), NO_INPUT);
    for (int64_t b = 0; b < B; ++b) std::copy_n(images + b * P, keep, shown.begin() + b * P);
    upload(m_ctx, shown, m_sample_images.data());
  }
  const int64_t H = m_H, K = m_K, G = 4 * H, S = m_S, I = m_config.input_size();
  const cublasHandle_t h = m_ctx.cublas();
  // State slots: h and c of the current step in slot t % 2, the next in the other.
  T* hs[2] = {m_sample_state.data(), m_sample_state.data() + B * H};
  T* cs[2] = {m_sample_state.data() + 2 * B * H, m_sample_state.data() + 3 * B * H};
  DEEPGEN_CUDA_CHECK(cudaMemsetAsync(m_sample_state.data(), 0, m_sample_state.bytes(), m_ctx.stream()));
  T* a = m_sample_act.data();
  int32_t* tokens = m_sample_tokens.data();
  for (int64_t t = 0; t < P; ++t) {
    // Step t reads token row t (pixel t − 1, and for a 2-D context the pixels
    // above pixel t) and gives h_{t+1}, whose logits predict pixel t.
    const int now = int(t % 2), next = 1 - now;
    gemm<T>(h, CUBLAS_OP_T, CUBLAS_OP_N, int(G), int(B), int(H), param(1), int(H), hs[now], int(H), T(0), a, int(G));
    lstm_pointwise_fwd<T>(a, tokens + t * B * S, param(0), param(2), param(3), cs[now], a, cs[next], hs[next], B, H, I,
                          S, m_ctx.stream());
    if (t < keep) continue;  // a shown pixel: nothing to draw
    gemm<T>(h, CUBLAS_OP_N, CUBLAS_OP_N, int(K), int(B), 1, param(5), int(K), m_sample_ones.data(), 1, T(0),
            m_sample_logits.data(), int(K));
    gemm<T>(h, CUBLAS_OP_T, CUBLAS_OP_N, int(K), int(B), int(H), param(4), int(H), hs[next], int(H), T(1),
            m_sample_logits.data(), int(K));
    if (!two_d) {  // pixel t is step t + 1's token: drawn straight into its row
      sample_rows<T>(m_sample_logits.data(), B, K, temperature, seed, first_index, uint64_t(t - keep),
                     m_sample_weights.data(), tokens + (t + 1) * B, m_ctx.stream());
    } else {
      sample_rows<T>(m_sample_logits.data(), B, K, temperature, seed, first_index, uint64_t(t - keep),
                     m_sample_weights.data(), m_sample_drawn.data(), m_ctx.stream());
      place_pixel(m_sample_drawn.data(), m_sample_images.data(), tokens + (t + 1) * B * S, B, P, t, m_config,
                  m_ctx.stream());
    }
  }
  // Pixel t of image b: seq[(t + 1)·B + b] (the token rows) for context
  // previous, seq[b·P + t] (the images) for a 2-D context.
  std::vector<int32_t> seq(size_t(two_d ? B * P : (P + 1) * B));
  DEEPGEN_CUDA_CHECK(cudaMemcpyAsync(seq.data(), two_d ? m_sample_images.data() : tokens,
                                     seq.size() * sizeof(int32_t), cudaMemcpyDeviceToHost, m_ctx.stream()));
  m_ctx.sync();
  const auto drawn = [&](int64_t b, int64_t t) { return seq[size_t(two_d ? b * P + t : (t + 1) * B + b)]; };
  // Every drawn pixel is checked before any is written, so a refusal leaves
  // `images` as it came.
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = keep; t < P; ++t) {
      const int32_t c = drawn(b, t);
      // sample_rows gives −1 where the CPU's categorical draw refuses the row
      // with an error (a NaN or infinite logit, or no positive weight): so does this.
      DEEPGEN_CHECK(c >= 0 && c < m_K, fn, ": image ", b, ", pixel ", t, " has no colour to draw (a "
                    "probability is NaN or every one is zero: non-finite weights, or a temperature too small "
                    "for the float range); check the checkpoint, or use temperature 0 for the likeliest colour");
    }
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = keep; t < P; ++t) images[b * P + t] = drawn(b, t);
}

template class PixelRNN<float>;
template class PixelRNN<double>;

}  // namespace deepgen::cuda
