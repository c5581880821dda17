// cuda/launchers.hpp — host entry points of the kernels in kernels/*.cu:
// the LSTM step (lstm.cu), softmax cross-entropy (softmax_cross_entropy.cu), Adam
// (adam.cu), the VAE's reparameterisation + KL (gaussian.cu), its one-hot first
// layer and ReLU (vae_layers.cu), and sampling (sampling.cu).
//
// Declarations only, in plain C++ (g++ compiles this header): the definitions,
// explicitly instantiated for float and double, live in the deepgen::cuda
// static library. All pointers are device pointers; all launches are
// asynchronous on `stream` (0 = the legacy default stream). Every launcher
// validates its arguments first and throws deepgen::Error (a remedy included)
// before touching the device, then checks the launch with cudaGetLastError().
//
// One PixelRNN time step on the GPU is two calls:
//   pre = h_prev · weight_hhᵀ                      cuBLAS GEMM, (B, 4H)
//   lstm_pointwise_fwd(pre, tokens, weight_ih, …)   gather + biases + gates + cell, one pass
// The one-hot input never becomes a matrix: its projection is column tokens[b]
// of weight_ih, added in the same pass (docs/architecture.md, "The LSTM");
// a multi-hot input (S tokens per row, a PixelRNN's 2-D context) is the sum of
// S such columns, and its gradient S scatters per row.
//
// Layouts (row-major, PyTorch's gate order i, f, g, o; see detail/lstm_gates.hpp):
//   pre, act, dpre        (B, 4H)   row b = [i | f | g | o], each block H wide
//   c_prev, c, h, dh, …   (B, H)
//   b_ih, b_hh            (4H)      bias_ih_l0, bias_hh_l0
//   weight_ih             (4H, I)   weight_ih_l0; column t is the projection of token t
//
// In-place use is allowed for the pairs (pre, act), (c_prev, c), (act, dpre) and
// (dc_next, dc_prev): each thread reads an element before it writes the same index.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "../detail/adam_rule.hpp"

namespace deepgen::cuda {

/// Forward of the pointwise LSTM step, for every batch row b and unit j:
///   a = pre[b] + b_ih + b_hh                                   (4H pre-activations)
///   act[b], c[b], h[b] = detail::lstm_unit_fwd(a, c_prev[b])   equations (1)–(6)
/// act keeps the activated gates (i, f, g, o) for backward.
/// Throws deepgen::Error for B <= 0, H <= 0 or a null pointer.
template <typename T>
void lstm_pointwise_fwd(const T* pre, const T* b_ih, const T* b_hh, const T* c_prev, T* act, T* c,
                        T* h, int64_t B, int64_t H, cudaStream_t stream);

/// The PixelRNN step: as above, plus the one-hot input projection fused in as a
/// gather, a += weight_ih[:, tokens[b]]. tokens (B) holds colour indices; a
/// negative token is the all-zeros input of step 0 and adds nothing. A token
/// >= I is a caller bug (validate colours on the host, where they are loaded):
/// the kernel never reads out of bounds for it but sets that row's act, c and h
/// to NaN, so the loss turns NaN and the finite-loss check reports it.
/// Throws deepgen::Error for B <= 0, H <= 0, I <= 0 or a null pointer.
template <typename T>
void lstm_pointwise_fwd(const T* pre, const int32_t* tokens, const T* weight_ih, const T* b_ih,
                        const T* b_hh, const T* c_prev, T* act, T* c, T* h, int64_t B, int64_t H,
                        int64_t I, cudaStream_t stream);

/// The multi-hot PixelRNN step (a 2-D context, pixel_context.hpp): as
/// above with S tokens per row, tokens (B, S), the input projection the sum
/// a += Σ_s weight_ih[:, tokens[b, s]] (negative tokens add nothing; any token
/// >= I makes the row NaN). S = 1 is the one-hot launcher above, same kernel.
/// Throws deepgen::Error for B, H, I or S <= 0 or a null pointer.
template <typename T>
void lstm_pointwise_fwd(const T* pre, const int32_t* tokens, const T* weight_ih, const T* b_ih,
                        const T* b_hh, const T* c_prev, T* act, T* c, T* h, int64_t B, int64_t H,
                        int64_t I, int64_t S, cudaStream_t stream);

/// Backward of the pointwise LSTM step (detail::lstm_unit_bwd per (b, j)).
///   act     (B, 4H) activated gates saved by the forward
///   c_prev  (B, H)  cell state entering the step;  c (B, H) cell state it produced
///   dh      (B, H)  total gradient on h (output head + next step's recurrence)
///   dc_next (B, H)  gradient on c from the next step (zeros at the last step)
/// Writes dpre (B, 4H), the gradient on the pre-activations — which is also the
/// gradient on both biases and on the recurrent GEMM's output — and dc_prev (B, H).
/// Overwrites (=) both outputs; accumulation over time happens in the GEMMs.
/// Throws deepgen::Error for B <= 0, H <= 0 or a null pointer.
template <typename T>
void lstm_pointwise_bwd(const T* act, const T* c_prev, const T* c, const T* dh, const T* dc_next,
                        T* dpre, T* dc_prev, int64_t B, int64_t H, cudaStream_t stream);

/// Gradient of the one-hot gather: for every row n with 0 <= tokens[n] < I,
///   dweight_ih[:, tokens[n]] += dpre[n, :]
/// tokens (N), dpre (N, H4), dweight_ih (H4, I). Accumulates (+=): zero
/// dweight_ih once per backward pass, then call this for all T·B rows at once.
/// Rows with a negative (or out-of-range) token contribute nothing.
/// Uses atomicAdd, so the order of the float additions, and hence the last bits
/// of the result, varies from run to run (nondeterministic summation order).
/// Throws deepgen::Error for N <= 0, H4 <= 0, I <= 0 or a null pointer.
template <typename T>
void onehot_scatter_add(const int32_t* tokens, const T* dpre, T* dweight_ih, int64_t N, int64_t H4,
                        int64_t I, cudaStream_t stream);

/// Gradient of the multi-hot gather: as above with S tokens per row, tokens
/// (N, S); every token 0 <= tokens[n, s] < I receives dpre[n, :] in its column
/// (the rest add nothing). S = 1 is the launcher above, same kernel.
/// Throws deepgen::Error for N, H4, I or S <= 0 or a null pointer.
template <typename T>
void onehot_scatter_add(const int32_t* tokens, const T* dpre, T* dweight_ih, int64_t N, int64_t H4,
                        int64_t I, int64_t S, cudaStream_t stream);

// ---- softmax cross-entropy (kernels/softmax_cross_entropy.cu) -------------------------------

/// Forward over N rows of K logits: probs[n] = softmax(logits[n]) and
/// row_loss[n] = −log probs[n, targets[n]], or 0 where targets[n] ==
/// ignore_index (padding; IGNORE_INDEX = −100 in config.hpp).
/// A target outside [0, K) makes that row's loss NaN. The mean over counted
/// rows is the caller's (sum row_loss, divide by the count it knows).
/// Throws deepgen::Error for N <= 0, K <= 0, N >= 2^31 or a null pointer.
template <typename T>
void softmax_cross_entropy_fwd(const T* logits, const int32_t* targets, T* probs, T* row_loss, int64_t N, int64_t K,
                               int32_t ignore_index, cudaStream_t stream);

/// Backward: dlogits = scale·(probs − onehot(targets)) per counted row, 0 in
/// ignored rows (overwrites). scale = the loss's gradient / counted rows.
template <typename T>
void softmax_cross_entropy_bwd(const T* probs, const int32_t* targets, T* dlogits, int64_t N, int64_t K, T scale,
                               int32_t ignore_index, cudaStream_t stream);

// ---- Adam over every parameter tensor (kernels/adam.cu) -------------------------------------

/// One launch for all tensors: params, grads, m, v are device arrays of
/// `tensors` device pointers; offsets (tensors + 1) the prefix sums of their
/// sizes (offsets[0] = 0, offsets[tensors] = total). Applies
/// detail::adam_update to every element with the step's constants s
/// (optim::Adam::scalars() or detail::adam_scalars).
template <typename T>
void adam_update_all(T* const* params, const T* const* grads, T* const* m, T* const* v, const int64_t* offsets,
                     int64_t tensors, int64_t total, const detail::AdamScalars<T>& s, cudaStream_t stream);

// ---- VAE: reparameterisation + KL (kernels/gaussian.cu) -------------------------------------

/// mean, logvar (B, D) → noise (B, D) = the first B·D normals of
/// Philox(seed, stream) (as fill_normal draws them on the CPU), code (B, D) =
/// mean + exp(logvar/2)·noise, kl_row (B) = each row's KL to N(0, I).
template <typename T>
void reparam_kl_fwd(const T* mean, const T* logvar, uint64_t seed, uint64_t stream, T* noise, T* code, T* kl_row,
                    int64_t B, int64_t D, cudaStream_t cuda_stream);

/// As reparam_kl_fwd, with the noise (B, D) given instead of drawn (an
/// evaluation's per-image streams, drawn on the host).
template <typename T>
void reparam_kl_fwd_noise(const T* mean, const T* logvar, const T* noise, T* code, T* kl_row, int64_t B, int64_t D,
                          cudaStream_t cuda_stream);

/// Backward: dmean, dlogvar (B, D) from dcode (B, D; nullptr: no gradient
/// through the code) and dkl, the gradient on every row's KL (overwrites).
template <typename T>
void reparam_kl_bwd(const T* mean, const T* logvar, const T* noise, const T* dcode, T dkl, T* dmean, T* dlogvar,
                    int64_t B, int64_t D, cudaStream_t stream);

// ---- the VAE's layers (kernels/vae_layers.cu) -----------------------------------------------

/// The one-hot first layer (ops/onehot_linear.hpp): images (B, P) of colours
/// in [0, K), weight (H, P·K) row-major, bias (H) → y (B, H) with
///   y[b, h] = bias[h] + Σ_p weight[h, p·K + images[b, p]]
/// One block per unit h, a warp per image, lanes over pixels: the sum's order
/// is fixed, so the result repeats bit for bit. A colour outside [0, K) makes
/// that y NaN (validate on the host, where the images are loaded).
template <typename T>
void onehot_linear_fwd(const int32_t* images, const T* weight, const T* bias, T* y, int64_t B, int64_t P, int64_t K,
                       int64_t H, cudaStream_t stream);

/// Its weight gradient: dweight[h, p·K + images[b, p]] += dy[b, h] for every
/// (b, p, h), ADDED to dweight (zero it first). One block per unit, each
/// thread owning whole pixels p, so no two threads touch one element: no
/// atomics, and a repeatable sum. Out-of-range colours add nothing. (The
/// bias gradient is Σ_b dy[b], a GEMV.)
template <typename T>
void onehot_linear_bwd(const int32_t* images, const T* dy, T* dweight, int64_t B, int64_t P, int64_t K, int64_t H,
                       cudaStream_t stream);

/// y = max(x, 0) elementwise (y == x allowed).
template <typename T>
void relu_fwd(const T* x, T* y, int64_t n, cudaStream_t stream);

/// dx = dy where y > 0, else 0, from the ReLU's output y (dx == dy allowed).
template <typename T>
void relu_bwd(const T* y, const T* dy, T* dx, int64_t n, cudaStream_t stream);

// ---- sampling (kernels/sampling.cu) ---------------------------------------------------------

/// One class per row of logits (B, K) into out (B): the likeliest (first
/// maximum) at temperature 0, else a draw from softmax(logits / temperature)
/// with uniform element `draw` of Philox(seed, stream + b) for row b — what
/// the CPU's sample_logits (top_k = 0) returns with Philox(seed, stream + b)
/// at its (draw + 1)-th uniform. weights (B, K) is scratch.
/// A row the CPU's draw would refuse (a NaN or infinite logit, all weights
/// zero) gets −1 in out: categorical_from_uniform (random.hpp) is the shared
/// draw and returns "no class" for it; callers turn −1 into an error.
/// Throws deepgen::Error for B <= 0, K <= 0, B or K >= 2^31, a temperature
/// check_sampling_temperature() refuses, or a null pointer.
template <typename T>
void sample_rows(const T* logits, int64_t B, int64_t K, double temperature, uint64_t seed, uint64_t stream,
                 uint64_t draw, T* weights, int32_t* out, cudaStream_t cuda_stream);

/// Throws deepgen::Error (naming `fn`) unless temperature is finite and >= 0:
/// the temperatures sample_rows and the CPU's sample_logits accept. Callers
/// that sample many steps call it before the first, so a bad temperature
/// fails before any work rather than in the middle of the loop.
void check_sampling_temperature(const char* fn, double temperature);

}  // namespace deepgen::cuda
