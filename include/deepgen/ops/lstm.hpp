// ops/lstm.hpp — a whole LSTM sequence as one autograd op.
//
// The recurrence is the only truly sequential work of an LSTM:
//
//   (1) a_t = x_t·W_ihᵀ + b_ih + b_hh + h_{t-1}·W_hhᵀ     (B, 4H), gates i|f|g|o
//   (2) i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
//   (3) c_t = f ⊙ c_{t-1} + i ⊙ g
//   (4) h_t = o ⊙ tanh(c_t)
//
// The input term x_t·W_ihᵀ comes in one of two ways:
//   - dense: the caller passes xproj (B, T, 4H), computed for all T·B rows
//     at once by one GEMM (linear);
//   - one-hot: the caller passes token indices (B, T) and weight_ih; the op
//     adds column tokens[b, t] of W_ih inside the step — no (B, T, 4H)
//     projection is ever built (for the PixelRNN that is 100 MB per batch of
//     32 that would be written, read and zeroed again for its gradient), and
//     its gradient is a scatter-add of the gate gradients. Indices (B, T, S)
//     give S tokens per step, a multi-hot input (the sum of S one-hot
//     vectors): S column gathers, e.g. the PixelRNN's previous pixel and the
//     pixels above it, each in its own block of columns.
//
// Forward keeps the activated gates of every step and every c_t and h_t —
// exactly what backward needs. Backward runs backpropagation through time with
// one small GEMM per step (dh_{t-1} = da_t·W_hh) and computes the weight
// gradients of the whole sequence as single large GEMMs over all T·B rows
// (the cuDNN RNN paper's trick): dW_hh = Σ_t da_tᵀ·h_{t-1} is one
// (4H × T·B)·(T·B × H) product.
//
// The pointwise math (2)–(4) runs over whole (B, H) blocks with Eigen's
// vectorised σ and tanh. It is the same arithmetic as the per-unit
// DEEPGEN_HD functions of detail/lstm_gates.hpp that the CUDA kernel calls;
// tests/ops/lstm.test.cpp checks the two agree.
//
// Saved tensors are time-major (T, B, ·) so each step reads contiguous rows;
// the output is batch-first (B, T, H) like PyTorch's batch_first=True.
#pragma once

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "../autograd.hpp"
#include "../detail/lstm_gates.hpp"
#include "embedding.hpp"

namespace deepgen {

/// What lstm_sequence returns: every step's hidden state and the final state.
template <typename T>
struct LSTMOutput {
  Var<T> output;  ///< (B, T, H): h_1 … h_T
  Var<T> h_n;     ///< (B, H): h_T
  Var<T> c_n;     ///< (B, H): c_T
};

namespace detail {

template <typename T>
using StridedMap = Eigen::Map<MatrixRM<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <typename T>
using ConstStridedMap = Eigen::Map<const MatrixRM<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

/// The input term of one step for B rows: either dense rows of projections
/// (row b at x + b·x_stride) or `slots` one-hot tokens per row
/// (tokens[b·token_stride + s], NO_INPUT meaning none), each selecting a row
/// of W_ihᵀ (I, 4H); a row's input term is the sum of its selected rows.
template <typename T>
struct StepInput {
  const T* x = nullptr;
  int64_t x_stride = 0;
  const int32_t* tokens = nullptr;
  int64_t token_stride = 0;
  int64_t slots = 1;
  const T* weight_ih_t = nullptr;
};

/// Equations (2)–(4) for B rows of n units: A (B, 4n, row stride lda) holds
/// the pre-activations [i | f | g | o] and is activated in place; c_prev, c
/// and h are (B, n) with row stride ldc (a slice of wider rows is allowed).
template <typename T>
void lstm_gates_forward(T* act, int64_t lda, const T* c_prev, T* c, T* h, int64_t ldc, int64_t B, int64_t n) {
  StridedMap<T> A(act, B, 4 * n, Eigen::OuterStride<>(lda));
  auto I = A.leftCols(n).array();
  auto F = A.middleCols(n, n).array();
  auto Gt = A.middleCols(2 * n, n).array();
  auto O = A.rightCols(n).array();
  I = I.logistic();  // (2)
  F = F.logistic();
  Gt = Gt.tanh();
  O = O.logistic();
  StridedMap<T> C(c, B, n, Eigen::OuterStride<>(ldc));
  C.array() = F * ConstStridedMap<T>(c_prev, B, n, Eigen::OuterStride<>(ldc)).array() + I * Gt;  // (3)
  StridedMap<T>(h, B, n, Eigen::OuterStride<>(ldc)).array() = O * C.array().tanh();             // (4)
}

/// One LSTM step on the CPU for B rows, equations (1)–(4).
/// bias: b_ih + b_hh (4H); act: (B, 4H) activated gates out; c, h: (B, H) out.
template <typename T>
void lstm_step_forward(const StepInput<T>& in, const T* h_prev, const T* c_prev,
                       const Eigen::Ref<const MatrixRM<T>>& weight_hh, const T* bias, T* act, T* c, T* h,
                       int64_t B, int64_t H) {
  const int64_t G = 4 * H;
  Eigen::Map<MatrixRM<T>> A(act, B, G);
  A.noalias() = Eigen::Map<const MatrixRM<T>>(h_prev, B, H) * weight_hh.transpose();  // (1)
  A.rowwise() += Eigen::Map<const VectorX<T>>(bias, G).transpose();
  if (in.x) A += ConstStridedMap<T>(in.x, B, G, Eigen::OuterStride<>(in.x_stride));
  if (in.tokens)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < in.slots; ++s) {
        const int32_t k = in.tokens[b * in.token_stride + s];
        if (k != NO_INPUT) A.row(b) += Eigen::Map<const VectorX<T>>(in.weight_ih_t + k * G, G).transpose();
      }
  lstm_gates_forward<T>(act, G, c_prev, c, h, H, B, H);
}

/// Backward of one step for B rows and the units [j0, j0 + n) of H.
/// act: the step's activated gates (B, 4H), PyTorch's order; c_prev, c:
/// (B, H); dh: total gradient on h_t of these units (B, n); dc: on input the
/// gradient on c_t of these units from the next step, on output the gradient
/// on c_{t-1}; da: (B, 4H), these units' four gate columns written.
template <typename T>
void lstm_units_backward(const T* act, const T* c_prev, const T* c, const Eigen::Ref<const MatrixRM<T>>& dh,
                         Eigen::Ref<MatrixRM<T>> dc, T* da, int64_t B, int64_t H, int64_t j0, int64_t n) {
  const Eigen::OuterStride<> gates(4 * H), units(H);
  const auto I = ConstStridedMap<T>(act + j0, B, n, gates).array();
  const auto F = ConstStridedMap<T>(act + H + j0, B, n, gates).array();
  const auto Gt = ConstStridedMap<T>(act + 2 * H + j0, B, n, gates).array();
  const auto O = ConstStridedMap<T>(act + 3 * H + j0, B, n, gates).array();
  const auto TC = ConstStridedMap<T>(c + j0, B, n, units).array().tanh().eval();
  const auto DH = dh.array();
  dc.array() += DH * O * (T(1) - TC * TC);  // through (4) into c_t
  const auto DC = dc.array();
  StridedMap<T>(da + j0, B, n, gates).array() = DC * Gt * I * (T(1) - I);  // (3) → i
  StridedMap<T>(da + H + j0, B, n, gates).array() =
      DC * ConstStridedMap<T>(c_prev + j0, B, n, units).array() * F * (T(1) - F);  // → f
  StridedMap<T>(da + 2 * H + j0, B, n, gates).array() = DC * I * (T(1) - Gt * Gt);  // → g
  StridedMap<T>(da + 3 * H + j0, B, n, gates).array() = DH * TC * O * (T(1) - O);   // (4) → o
  dc.array() *= F;  // (3) → c_{t-1}
}

/// Backward of one step for B rows and all H units (lstm_units_backward).
template <typename T>
void lstm_step_backward(const T* act, const T* c_prev, const T* c, const Eigen::Ref<const MatrixRM<T>>& dh,
                        Eigen::Ref<MatrixRM<T>> dc, T* da, int64_t B, int64_t H) {
  lstm_units_backward<T>(act, c_prev, c, dh, dc, da, B, H, 0, H);
}

/// Unit boundaries of the slices the threads split H into: multiples of 16
/// units (whole cache lines), at least 64 units each, one slice per thread
/// (a single slice [0, H) without OpenMP or for H < 128).
inline std::vector<int64_t> unit_slice_bounds(int64_t H) {
  int64_t slices = 1;
#if defined(_OPENMP)
  slices = std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), H / 64));
#endif
  std::vector<int64_t> bounds{0};
  for (int64_t s = 1; s < slices; ++s) bounds.push_back(std::min(H, (H * s / slices + 8) / 16 * 16));
  bounds.push_back(H);
  return bounds;
}

/// (this thread's number, the threads of the team) inside a parallel region; (0, 1) without OpenMP.
inline std::pair<int, int> thread_in_team() {
#if defined(_OPENMP)
  return {omp_get_thread_num(), omp_get_num_threads()};
#else
  return {0, 1};
#endif
}

/// Sequences shorter than this run the batch split (lstm_sequence_impl).
constexpr int64_t MIN_STEPS_FOR_UNIT_SLICES = 8;

/// The unit slices a sequence of `steps` steps runs on: unit_slice_bounds(H),
/// or the single slice [0, H) (the batch split) below MIN_STEPS_FOR_UNIT_SLICES,
/// since the split first copies W_hh (and W_ih) into slice order: worth it
/// over a sequence, not for the one-step read that starts a sampler.
inline std::vector<int64_t> recurrence_unit_slices(int64_t H, int64_t steps) {
  return steps >= MIN_STEPS_FOR_UNIT_SLICES ? unit_slice_bounds(H) : std::vector<int64_t>{0, H};
}

/// The gate rows of a (4H, ·) weight in slice order: row `to` of the
/// reordered weight is row from[to] of PyTorch's [i | f | g | o], so that
/// each slice's four gates of its units are contiguous.
inline std::vector<int64_t> slice_order(const std::vector<int64_t>& bounds, int64_t H) {
  std::vector<int64_t> from;
  for (size_t s = 0; s + 1 < bounds.size(); ++s)
    for (int64_t g = 0; g < 4; ++g)
      for (int64_t j = bounds[s]; j < bounds[s + 1]; ++j) from.push_back(g * H + j);
  return from;
}

/// How many independent slices of the batch run the recurrence in parallel
/// when H is too small to split (unit_slice_bounds gives one slice). Rows of
/// a batch never interact, so each thread runs all T steps on its own rows
/// with single-threaded GEMMs and no barrier per step.
inline int64_t batch_slices(int64_t B) {
#if defined(_OPENMP)
  constexpr int64_t MIN_ROWS = 8;  // below this a slice's GEMM is too thin to be worth a thread
  return std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), B / MIN_ROWS));
#else
  (void)B;
  return 1;
#endif
}

template <typename T>
struct LSTMContext {
  int64_t B = 0, T_ = 0, H = 0, S = 1;
  bool onehot = false;
  Tensor<int32_t> tokens;  // (B, T, S) for the one-hot input
  Tensor<T> act;           // (T, B, 4H) activated gates
  Tensor<T> cs;            // (T+1, B, H): c_0 … c_T
  Tensor<T> hs;            // (T+1, B, H): h_0 … h_T
  Tensor<T> dh_n, dc_n;    // (B, H): gradients arriving through h_n and c_n
};

// The recurrence split by units, for H large enough (unit_slice_bounds):
// each thread owns a slice of the hidden units and runs, at every step, the
// product of the whole batch's h_{t-1} with its units' four gate rows of
// W_hh, then their gate math; one barrier per step hands h_t to all. Its
// per-step GEMM is (B × H)·(H × 4n), where splitting the batch instead gives
// each thread (B/2 × H)·(H × 4H): at the PixelRNN's B = 64, H = 512 the
// former runs at ~116 GFLOP/s on one core of the build machine, the latter
// at ~90 (Eigen packs all of W_hh for every product, for half the rows).

/// Forward over all steps into ctx.act / cs / hs (ctx's layout). `input` is
/// W_ih (4H, I) for a one-hot sequence (ctx.onehot, tokens in ctx.tokens), or
/// the dense projections (B, T, 4H).
template <typename T>
void lstm_forward_unit_slices(LSTMContext<T>& ctx, const std::vector<int64_t>& bounds, const Tensor<T>& input,
                              const Eigen::Ref<const MatrixRM<T>>& Whh, const VectorX<T>& bias) {
  const int64_t B = ctx.B, steps = ctx.T_, H = ctx.H, G = 4 * H, S = ctx.S;
  const int slices = int(bounds.size()) - 1;
  const std::vector<int64_t> from = slice_order(bounds, H);
  MatrixRM<T> w(G, H);  // W_hh, rows in slice order
  VectorX<T> b(G);
  for (int64_t to = 0; to < G; ++to) {
    w.row(to) = Whh.row(from[size_t(to)]);
    b[to] = bias[from[size_t(to)]];
  }
  MatrixRM<T> wih_t;  // (I, 4H) W_ihᵀ, columns in slice order: a token selects one row
  if (ctx.onehot) {
    const auto W_ih = input.matrix();
    wih_t.resize(W_ih.cols(), G);
    for (int64_t to = 0; to < G; ++to) wih_t.col(to) = W_ih.row(from[size_t(to)]).transpose();
  }
  const T* x = input.data();
#if defined(_OPENMP)
#pragma omp parallel num_threads(slices)
#endif
  {
    const auto [tid, threads] = thread_in_team();
    MatrixRM<T> a;
    for (int64_t t = 0; t < steps; ++t) {
      const Eigen::Map<const MatrixRM<T>> h_prev(ctx.hs.data() + t * B * H, B, H);
      for (int s = tid; s < slices; s += threads) {
        const int64_t j0 = bounds[size_t(s)], n = bounds[size_t(s) + 1] - j0;
        a.noalias() = h_prev * w.middleRows(4 * j0, 4 * n).transpose();  // (1), (B, 4n)
        a.rowwise() += b.segment(4 * j0, 4 * n).transpose();
        for (int64_t r = 0; r < B; ++r) {
          if (ctx.onehot) {
            for (int64_t k = 0; k < S; ++k) {
              const int32_t tok = ctx.tokens[(r * steps + t) * S + k];
              if (tok != NO_INPUT) a.row(r) += wih_t.row(tok).segment(4 * j0, 4 * n);
            }
          } else {
            for (int64_t g = 0; g < 4; ++g)
              a.row(r).segment(g * n, n) += Eigen::Map<const VectorX<T>>(x + (r * steps + t) * G + g * H + j0, n).transpose();
          }
        }
        lstm_gates_forward<T>(a.data(), 4 * n, ctx.cs.data() + t * B * H + j0, ctx.cs.data() + (t + 1) * B * H + j0,
                              ctx.hs.data() + (t + 1) * B * H + j0, H, B, n);  // (2)–(4)
        T* act = ctx.act.data() + t * B * G;  // the activated gates, back in PyTorch's order for backward
        for (int64_t r = 0; r < B; ++r)
          for (int64_t g = 0; g < 4; ++g) std::copy_n(a.data() + r * 4 * n + g * n, n, act + r * G + g * H + j0);
      }
#if defined(_OPENMP)
#pragma omp barrier
#endif
    }
  }
}

/// Backpropagation through time split by units: per step, each thread's
/// units' gate gradients, a barrier (the next product needs all of da_t),
/// then dh_{t-1} of its own units, da_t·W_hh[:, its units]. dpre (T, B, 4H)
/// gets every step's da; dh_next and dc (B, H) carry in the gradients from
/// beyond the last step and carry out those on h_0 and c_0.
template <typename T>
void lstm_backward_unit_slices(const LSTMContext<T>& ctx, const std::vector<int64_t>& bounds, const T* grad,
                               const Eigen::Ref<const MatrixRM<T>>& Whh, T* dpre, MatrixRM<T>& dh_next,
                               MatrixRM<T>& dc) {
  const int64_t B = ctx.B, steps = ctx.T_, H = ctx.H, G = 4 * H;
  const int slices = int(bounds.size()) - 1;
#if defined(_OPENMP)
#pragma omp parallel num_threads(slices)
#endif
  {
    const auto [tid, threads] = thread_in_team();
    MatrixRM<T> dh;
    for (int64_t t = steps - 1; t >= 0; --t) {
      for (int s = tid; s < slices; s += threads) {
        const int64_t j0 = bounds[size_t(s)], n = bounds[size_t(s) + 1] - j0;
        dh = ConstStridedMap<T>(grad + t * H + j0, B, n, Eigen::OuterStride<>(steps * H)) +
             dh_next.middleCols(j0, n);
        lstm_units_backward<T>(ctx.act.data() + t * B * G, ctx.cs.data() + t * B * H, ctx.cs.data() + (t + 1) * B * H,
                               dh, dc.middleCols(j0, n), dpre + t * B * G, B, H, j0, n);
      }
#if defined(_OPENMP)
#pragma omp barrier
#endif
      for (int s = tid; s < slices; s += threads) {
        const int64_t j0 = bounds[size_t(s)], n = bounds[size_t(s) + 1] - j0;
        dh_next.middleCols(j0, n).noalias() = Eigen::Map<const MatrixRM<T>>(dpre + t * B * G, B, G) *
                                              Whh.middleCols(j0, n);  // through (1)
      }
    }
  }
}

// The op behind both public entry points. parents[0] is xproj (dense) or
// weight_ih (one-hot, ctx->tokens set).
template <typename T>
LSTMOutput<T> lstm_sequence_impl(std::shared_ptr<LSTMContext<T>> ctx, const Var<T>& input, const Var<T>& weight_hh,
                                 const Var<T>& bias_ih, const Var<T>& bias_hh, const Var<T>& h0, const Var<T>& c0) {
  const int64_t B = ctx->B, steps = ctx->T_, H = ctx->H, G = 4 * H;
  const bool onehot = ctx->onehot;
  check_shape(bias_ih.shape(), Shape{G}, "lstm_sequence: bias_ih");
  check_shape(bias_hh.shape(), Shape{G}, "lstm_sequence: bias_hh");
  if (h0.defined()) check_shape(h0.shape(), Shape{B, H}, "lstm_sequence: h0");
  if (c0.defined()) check_shape(c0.shape(), Shape{B, H}, "lstm_sequence: c0");

  ctx->act = Tensor<T>::uninitialized(Shape{steps, B, G});
  ctx->cs = Tensor<T>::uninitialized(Shape{steps + 1, B, H});
  ctx->hs = Tensor<T>::uninitialized(Shape{steps + 1, B, H});
  auto init = [&](const Var<T>& v, Tensor<T>& all) {
    if (v.defined())
      std::copy(v.value().begin(), v.value().end(), all.data());
    else
      std::fill_n(all.data(), B * H, T(0));
  };
  init(h0, ctx->hs);
  init(c0, ctx->cs);
  const VectorX<T> bias = bias_ih.value().vec() + bias_hh.value().vec();
  const auto Whh = weight_hh.value().matrix();
  const std::vector<int64_t> bounds = recurrence_unit_slices(H, steps);
  if (bounds.size() > 2) {
    lstm_forward_unit_slices<T>(*ctx, bounds, input.value(), Whh, bias);
  } else {
    MatrixRM<T> weight_ih_t;
    StepInput<T> in;
    if (onehot) {
      weight_ih_t = input.value().matrix().transpose();  // (I, 4H): a token selects one contiguous row
      in.tokens = ctx->tokens.data();
      in.token_stride = steps * ctx->S;
      in.slots = ctx->S;
      in.weight_ih_t = weight_ih_t.data();
    } else {
      in.x_stride = steps * G;
    }
    const int64_t slices = batch_slices(B);
    DEEPGEN_PARALLEL_FOR
    for (int64_t s = 0; s < slices; ++s) {
      const int64_t b0 = B * s / slices, nb = B * (s + 1) / slices - b0;  // rows [b0, b0 + nb)
      StepInput<T> rows = in;
      for (int64_t t = 0; t < steps; ++t) {
        if (onehot)
          rows.tokens = ctx->tokens.data() + (b0 * steps + t) * ctx->S;
        else
          rows.x = input.value().data() + b0 * steps * G + t * G;
        const int64_t r = t * B + b0;  // first row of the slice at step t, time-major
        lstm_step_forward<T>(rows, ctx->hs.data() + r * H, ctx->cs.data() + r * H, Whh, bias.data(),
                             ctx->act.data() + r * G, ctx->cs.data() + (r + B) * H, ctx->hs.data() + (r + B) * H,
                             nb, H);
      }
    }
  }
  Tensor<T> y = Tensor<T>::uninitialized(Shape{B, steps, H});
  for (int64_t t = 0; t < steps; ++t)
    for (int64_t b = 0; b < B; ++b)
      std::copy_n(ctx->hs.data() + ((t + 1) * B + b) * H, H, y.data() + (b * steps + t) * H);

  LSTMOutput<T> out;
  out.output = Var<T>::make(std::move(y), {input, weight_hh, bias_ih, bias_hh, h0, c0}, [ctx, onehot](Node<T>& self) {
    const int64_t B = ctx->B, steps = ctx->T_, H = ctx->H, G = 4 * H;
    const auto Whh = self.parents[1]->value.matrix();
    Tensor<T> dpre = Tensor<T>::uninitialized(Shape{steps, B, G});
    MatrixRM<T> dh_next = MatrixRM<T>::Zero(B, H);
    MatrixRM<T> dc = MatrixRM<T>::Zero(B, H);
    if (!ctx->dh_n.empty()) dh_next = ctx->dh_n.matrix();
    if (!ctx->dc_n.empty()) dc = ctx->dc_n.matrix();
    const std::vector<int64_t> bounds = recurrence_unit_slices(H, steps);
    if (bounds.size() > 2) {
      lstm_backward_unit_slices<T>(*ctx, bounds, self.grad.data(), Whh, dpre.data(), dh_next, dc);
    } else {
      const int64_t slices = batch_slices(B);
      DEEPGEN_PARALLEL_FOR
      for (int64_t s = 0; s < slices; ++s) {
        const int64_t b0 = B * s / slices, nb = B * (s + 1) / slices - b0;
        MatrixRM<T> dh(nb, H);
        for (int64_t t = steps - 1; t >= 0; --t) {
          const int64_t r = t * B + b0;
          dh = ConstStridedMap<T>(self.grad.data() + (b0 * steps + t) * H, nb, H, Eigen::OuterStride<>(steps * H)) +
               dh_next.middleRows(b0, nb);
          T* da = dpre.data() + r * G;
          lstm_step_backward<T>(ctx->act.data() + r * G, ctx->cs.data() + r * H, ctx->cs.data() + (r + B) * H, dh,
                                dc.middleRows(b0, nb), da, nb, H);
          dh_next.middleRows(b0, nb).noalias() = Eigen::Map<const MatrixRM<T>>(da, nb, G) * Whh;  // through (1)
        }
      }
    }
    const auto dA = dpre.matrix(steps * B, G);
    accumulate_grad(self.parents[0], [&](Tensor<T>& g) {
      if (onehot) {  // scatter-add into the columns of W_ih, via its transpose's rows
        MatrixRM<T> gt = MatrixRM<T>::Zero(g.dim(1), G);
        const int64_t S = ctx->S;
        for (int64_t t = 0; t < steps; ++t)
          for (int64_t b = 0; b < B; ++b)
            for (int64_t s = 0; s < S; ++s) {
              const int32_t k = ctx->tokens[(b * steps + t) * S + s];
              if (k != NO_INPUT) gt.row(k) += dA.row(t * B + b);
            }
        g.matrix() += gt.transpose();
      } else {
        for (int64_t b = 0; b < B; ++b)
          StridedMap<T>(g.data() + b * steps * G, steps, G, Eigen::OuterStride<>(G)) +=
              ConstStridedMap<T>(dpre.data() + b * G, steps, G, Eigen::OuterStride<>(B * G));
      }
    });
    accumulate_grad(self.parents[1], [&](Tensor<T>& dW) {
      dW.matrix().noalias() += dA.transpose() * ctx->hs.matrix((steps + 1) * B, H).topRows(steps * B);
    });
    if ((self.parents[2] && self.parents[2]->requires_grad) || (self.parents[3] && self.parents[3]->requires_grad)) {
      const VectorX<T> db = dA.colwise().sum().transpose();
      accumulate_grad(self.parents[2], [&](Tensor<T>& g) { g.vec() += db; });
      accumulate_grad(self.parents[3], [&](Tensor<T>& g) { g.vec() += db; });
    }
    accumulate_grad(self.parents[4], [&](Tensor<T>& g) { g.matrix() += dh_next; });
    accumulate_grad(self.parents[5], [&](Tensor<T>& g) { g.matrix() += dc; });
    ctx->dh_n = Tensor<T>();
    ctx->dc_n = Tensor<T>();
  }, "lstm_sequence");

  // h_n and c_n are copies of the saved state; their gradients are handed to
  // the sequence node (which runs after them in backward) through ctx.
  auto last = [&](const Tensor<T>& all, Tensor<T> LSTMContext<T>::*grad_slot, const char* op) {
    Tensor<T> v(Shape{B, H});
    std::copy_n(all.data() + steps * B * H, B * H, v.data());
    return Var<T>::make(std::move(v), {out.output}, [ctx, grad_slot](Node<T>& self) {
      Tensor<T>& slot = (*ctx).*grad_slot;
      if (slot.empty()) slot = Tensor<T>(self.value.shape());
      slot.vec() += self.grad.vec();
    }, op);
  };
  out.h_n = last(ctx->hs, &LSTMContext<T>::dh_n, "lstm_h_n");
  out.c_n = last(ctx->cs, &LSTMContext<T>::dc_n, "lstm_c_n");
  return out;
}

template <typename T>
std::shared_ptr<LSTMContext<T>> lstm_context(int64_t B, int64_t steps, const Var<T>& weight_hh) {
  const Shape& sw = weight_hh.shape();
  DEEPGEN_CHECK(sw.rank() == 2 && sw[1] > 0 && sw[0] == 4 * sw[1],
                "lstm_sequence: weight_hh must be (4H, H) but has shape ", sw);
  auto ctx = std::make_shared<LSTMContext<T>>();
  ctx->B = B;
  ctx->T_ = steps;
  ctx->H = sw[1];
  return ctx;
}

}  // namespace detail

/// Run an LSTM over a sequence of dense inputs. xproj: (B, T, 4H), the input
/// projections x·W_ihᵀ without bias; weight_hh (4H, H); bias_ih, bias_hh (4H);
/// h0, c0: (B, H), or undefined for zeros. Layout and gate order are PyTorch's.
template <typename T>
LSTMOutput<T> lstm_sequence(const Var<T>& xproj, const Var<T>& weight_hh, const Var<T>& bias_ih,
                            const Var<T>& bias_hh, const Var<T>& h0 = Var<T>(), const Var<T>& c0 = Var<T>()) {
  const Shape& sx = xproj.shape();
  DEEPGEN_CHECK(sx.rank() == 3, "lstm_sequence: input projection must be (B, T, 4H) but has shape ", sx);
  auto ctx = detail::lstm_context(sx[0], sx[1], weight_hh);
  DEEPGEN_CHECK(sx[2] == 4 * ctx->H, "lstm_sequence: input projection must be (B, T, 4H) = (B, T, ", 4 * ctx->H,
                ") for weight_hh ", weight_hh.shape(), " but has shape ", sx);
  return detail::lstm_sequence_impl(ctx, xproj, weight_hh, bias_ih, bias_hh, h0, c0);
}

/// Run an LSTM over one-hot inputs given as indices: tokens (B, T) in [0, I)
/// or NO_INPUT (the all-zeros input); weight_ih (4H, I). Equal to
/// lstm_sequence(one_hot(tokens)·W_ihᵀ, …) without building either matrix.
/// Tokens (B, T, S) give S per step: the input is the sum of their one-hot
/// vectors (a multi-hot vector; a repeated token counts twice).
template <typename T>
LSTMOutput<T> lstm_sequence_onehot(const Tensor<int32_t>& tokens, const Var<T>& weight_ih, const Var<T>& weight_hh,
                                   const Var<T>& bias_ih, const Var<T>& bias_hh, const Var<T>& h0 = Var<T>(),
                                   const Var<T>& c0 = Var<T>()) {
  DEEPGEN_CHECK(tokens.rank() == 2 || (tokens.rank() == 3 && tokens.dim(2) > 0),
                "lstm_sequence_onehot: tokens must be (B, T) or (B, T, S) with S ≥ 1, but have shape ", tokens.shape());
  auto ctx = detail::lstm_context(tokens.dim(0), tokens.dim(1), weight_hh);
  ctx->S = tokens.rank() == 3 ? tokens.dim(2) : 1;
  const Shape& si = weight_ih.shape();
  DEEPGEN_CHECK(si.rank() == 2 && si[0] == 4 * ctx->H, "lstm_sequence_onehot: weight_ih must be (4H, I) = (",
                4 * ctx->H, ", I) for weight_hh ", weight_hh.shape(), " but has shape ", si);
  detail::check_indices(tokens, si[1], true, "lstm_sequence_onehot", si);
  ctx->onehot = true;
  ctx->tokens = tokens;
  return detail::lstm_sequence_impl(ctx, weight_ih, weight_hh, bias_ih, bias_hh, h0, c0);
}

}  // namespace deepgen
