// kernels/pixelrnn.cu — cuda::PixelRNN (declared and explained in
// deepgen/cuda/pixelrnn.hpp): training, scoring and sampling the PixelRNN on
// the GPU from the LSTM sequence, softmax, sampling and Adam kernels, cuBLAS,
// and one kernel of its own, the recomputed dropout mask.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

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

constexpr int32_t IGNORE_INDEX = -100;  // ops/softmax_cross_entropy.hpp's; no PixelRNN target uses it

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

// The CPU train step's dropout stream (models::PixelRNN::train_step).
uint64_t dropout_stream(int64_t step) { return uint64_t(1) << 40 | uint64_t(step); }

std::vector<std::vector<int64_t>> pixelrnn_shapes(int64_t K, int64_t H) {
  DEEPGEN_CHECK(K > 0 && H > 0 && K <= (int64_t(1) << 24) && H <= (int64_t(1) << 24),
                "cuda::PixelRNN: palette size ", K, " and hidden size ", H,
                " must be positive (and below 2^24); pass the model's sizes");
  // lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0, fc.weight, fc.bias
  return {{4 * H, K}, {4 * H, H}, {4 * H}, {4 * H}, {K, H}, {K}};
}
}  // namespace

template <typename T>
PixelRNN<T>::PixelRNN(int64_t palette_size, int64_t hidden_size)
    : m_K(palette_size),
      m_H(hidden_size),
      m_store({PARAMETER_NAMES.begin(), PARAMETER_NAMES.end()}, pixelrnn_shapes(palette_size, hidden_size)) {}

template <typename T>
void PixelRNN<T>::check_images(const int32_t* images, int64_t B, int64_t P, const char* where) const {
  DEEPGEN_CHECK(B > 0 && P > 0, where, ": need B > 0 images of P > 0 pixels, got B = ", B, ", P = ", P);
  DEEPGEN_CHECK(images != nullptr, where, ": the images pointer is null; pass B x P colour indices");
  detail::check_colours(images, B, P, P, m_K, where);
}

template <typename T>
void PixelRNN<T>::reserve(int64_t B, int64_t P) {
  if (B <= m_batch && P <= m_steps_reserved) return;
  const int64_t Bn = std::max(B, m_batch), Pn = std::max(P, m_steps_reserved), H = m_H, K = m_K;
  DEEPGEN_CHECK(Pn * Bn <= 0x7fffffff / std::max<int64_t>(4 * H, K), "cuda::PixelRNN: ", Bn, " images of ", Pn,
                " pixels exceed the 32-bit sizes cuBLAS takes; use smaller batches");
  m_ctx.sync();  // the old workspaces may still be in use
  const size_t N = size_t(Pn * Bn);
  m_tokens = DeviceBuffer<int32_t>(size_t((Pn + 1) * Bn));
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
  DEEPGEN_CHECK((Pn + 1) * Bn <= 0x7fffffff && Bn <= 0x7fffffff / std::max<int64_t>(4 * H, K),
                "cuda::PixelRNN::complete: ", Bn, " images of ", Pn,
                " pixels exceed the 32-bit sizes cuBLAS takes; complete them in smaller batches");
  m_ctx.sync();
  m_sample_tokens = DeviceBuffer<int32_t>(size_t((Pn + 1) * Bn));
  m_sample_state = DeviceBuffer<T>(size_t(4 * Bn * H));
  m_sample_act = DeviceBuffer<T>(size_t(Bn * 4 * H));
  m_sample_logits = DeviceBuffer<T>(size_t(Bn * K));
  m_sample_weights = DeviceBuffer<T>(size_t(Bn * K));
  m_sample_ones = device_ones<T>(size_t(Bn));
  m_sample_batch = Bn;
  m_sample_steps = Pn;
}

// tokens (P + 1, B) time-major: row 0 the all-zeros input (−1), row t + 1
// pixel t of every image. Rows 0 … P−1 are the inputs of steps 0 … P−1, rows
// 1 … P their targets.
namespace {
// The copy runs on the context's stream, after the kernels that may still read
// the old tokens, and is waited for before `seq` goes away.
void upload_sequence(const Context& ctx, const int32_t* images, int64_t B, int64_t P, int64_t first_rows,
                     int32_t* d_tokens) {
  std::vector<int32_t> seq(size_t((P + 1) * B), -1);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < first_rows; ++t) seq[size_t((t + 1) * B + b)] = images[b * P + t];
  DEEPGEN_CUDA_CHECK(cudaMemcpyAsync(d_tokens, seq.data(), seq.size() * sizeof(int32_t), cudaMemcpyHostToDevice,
                                     ctx.stream()));
  ctx.sync();
}
}  // namespace

template <typename T>
double PixelRNN<T>::forward(int64_t B, int64_t P, double dropout, uint64_t seed, uint64_t stream) {
  const int64_t H = m_H, K = m_K, N = P * B;
  const cublasHandle_t h = m_ctx.cublas();
  lstm_sequence_forward_onehot<T>(m_ctx, m_tokens.data(), param(0), param(1), param(2), param(3), nullptr, nullptr,
                                  B, P, H, K, m_act.data(), m_hs.data(), m_cs.data());
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
  softmax_xent_fwd<T>(m_logits.data(), m_tokens.data() + B, m_probs.data(), m_row_loss.data(), N, K, IGNORE_INDEX,
                      m_ctx.stream());
  return double(dot<T>(h, int(N), m_row_loss.data(), m_ones.data())) / double(N);
}

template <typename T>
void PixelRNN<T>::backward(int64_t B, int64_t P, double dropout, uint64_t seed, uint64_t stream) {
  const int64_t H = m_H, K = m_K, N = P * B;
  const cublasHandle_t h = m_ctx.cublas();
  T* dlogits = m_logits.data();  // the logits are spent
  softmax_xent_bwd<T>(m_probs.data(), m_tokens.data() + B, dlogits, N, K, T(1.0 / double(N)), IGNORE_INDEX,
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
                                   nullptr, nullptr, B, P, H, K, m_ones.data(), m_dpre.data(), m_work.data(),
                                   grad(0), grad(1), grad(2), grad(3), nullptr, nullptr);
}

template <typename T>
double PixelRNN<T>::forward_backward(const int32_t* images, int64_t B, int64_t P, double dropout, uint64_t seed) {
  const char* fn = "cuda::PixelRNN::forward_backward";
  check_images(images, B, P, fn);
  DEEPGEN_CHECK(dropout >= 0 && dropout < 1, fn, ": dropout rate ", dropout, " must be in [0, 1)");
  reserve(B, P);
  upload_sequence(m_ctx, images, B, P, P, m_tokens.data());
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
    upload_sequence(m_ctx, images + first * P, B, P, P, m_tokens.data());
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
  check_sampling_temperature(fn, temperature);  // sample_rows' own check, before the loop and any upload
  detail::check_colours(images, B, P, keep, m_K, fn);  // only the shown pixels must be colours
  if (keep == P) return;
  reserve_sampling(B, P);
  upload_sequence(m_ctx, images, B, P, keep, m_sample_tokens.data());
  const int64_t H = m_H, K = m_K, G = 4 * H;
  const cublasHandle_t h = m_ctx.cublas();
  // State slots: h and c of the current step in slot t % 2, the next in the other.
  T* hs[2] = {m_sample_state.data(), m_sample_state.data() + B * H};
  T* cs[2] = {m_sample_state.data() + 2 * B * H, m_sample_state.data() + 3 * B * H};
  DEEPGEN_CUDA_CHECK(cudaMemsetAsync(m_sample_state.data(), 0, m_sample_state.bytes(), m_ctx.stream()));
  T* a = m_sample_act.data();
  int32_t* tokens = m_sample_tokens.data();
  for (int64_t t = 0; t < P; ++t) {
    // Step t reads token row t (pixel t − 1) and gives h_{t+1}, whose logits predict pixel t.
    const int now = int(t % 2), next = 1 - now;
    gemm<T>(h, CUBLAS_OP_T, CUBLAS_OP_N, int(G), int(B), int(H), param(1), int(H), hs[now], int(H), T(0), a, int(G));
    lstm_pointwise_fwd<T>(a, tokens + t * B, param(0), param(2), param(3), cs[now], a, cs[next], hs[next], B, H, K,
                          m_ctx.stream());
    if (t < keep) continue;  // a shown pixel: nothing to draw
    gemm<T>(h, CUBLAS_OP_N, CUBLAS_OP_N, int(K), int(B), 1, param(5), int(K), m_sample_ones.data(), 1, T(0),
            m_sample_logits.data(), int(K));
    gemm<T>(h, CUBLAS_OP_T, CUBLAS_OP_N, int(K), int(B), int(H), param(4), int(H), hs[next], int(H), T(1),
            m_sample_logits.data(), int(K));
    sample_rows<T>(m_sample_logits.data(), B, K, temperature, seed, first_index, uint64_t(t - keep),
                   m_sample_weights.data(), tokens + (t + 1) * B, m_ctx.stream());
  }
  std::vector<int32_t> seq(size_t((P + 1) * B));
  DEEPGEN_CUDA_CHECK(cudaMemcpyAsync(seq.data(), tokens, seq.size() * sizeof(int32_t), cudaMemcpyDeviceToHost,
                                     m_ctx.stream()));
  m_ctx.sync();
  // Every drawn pixel is checked before any is written, so a refusal leaves
  // `images` as it came.
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = keep; t < P; ++t) {
      const int32_t c = seq[size_t((t + 1) * B + b)];
      // sample_rows gives −1 where the CPU's categorical draw refuses the row
      // with an error (a NaN or infinite logit, or no positive weight): so does this.
      DEEPGEN_CHECK(c >= 0 && c < m_K, fn, ": image ", b, ", pixel ", t, " has no colour to draw (a "
                    "probability is NaN or every one is zero: non-finite weights, or a temperature too small "
                    "for the float range); check the checkpoint, or use temperature 0 for the likeliest colour");
    }
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = keep; t < P; ++t) images[b * P + t] = seq[size_t((t + 1) * B + b)];
}

template class PixelRNN<float>;
template class PixelRNN<double>;

}  // namespace deepgen::cuda
