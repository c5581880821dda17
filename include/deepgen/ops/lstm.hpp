// ops/lstm.hpp — a whole LSTM sequence as one autograd op.
//
// The input projection x·W_ihᵀ is NOT part of this op: the caller computes it
// for all T·B rows at once, as one GEMM (linear) or, for one-hot inputs, as a
// column gather (gather_columns). What is left is the only truly sequential
// work, the recurrence:
//
//   (1) a_t = xproj_t + b_ih + b_hh + h_{t-1}·W_hhᵀ      (B, 4H), gates i|f|g|o
//   (2) i, f, g, o, c_t, h_t = lstm_unit_fwd(a_t, c_{t-1})  (detail/lstm_gates.hpp)
//
// Forward keeps the activated gates of every step and every c_t and h_t —
// exactly what backward needs. Backward runs backpropagation through time
// with one small GEMM per step (dh_{t-1} = da_t·W_hh) and then computes the
// weight gradients of the whole sequence as single large GEMMs over all T·B
// rows (the cuDNN RNN paper's trick): dW_hh = Σ_t da_tᵀ·h_{t-1} is one
// (4H × T·B)·(T·B × H) product.
//
// Saved tensors are time-major (T, B, ·) so each step reads contiguous rows;
// the output is batch-first (B, T, H) like PyTorch's batch_first=True.
#pragma once

#include <memory>

#include "../autograd.hpp"
#include "../detail/lstm_gates.hpp"

namespace deepgen {

template <typename T>
struct LSTMOutput {
  Var<T> output;  ///< (B, T, H): h_1 … h_T
  Var<T> h_n;     ///< (B, H): h_T
  Var<T> c_n;     ///< (B, H): c_T
};

namespace detail {

/// One LSTM step on the CPU for B rows, equations (1)–(2).
/// x: input projections, row b at x + b·x_stride (nullptr: no input);
/// bias: b_ih + b_hh (4H); act: (B, 4H) output gates; c, h: (B, H) outputs.
template <typename T>
void lstm_step_forward(const T* x, int64_t x_stride, const T* h_prev, const T* c_prev,
                       const Eigen::Ref<const MatrixRM<T>>& weight_hh, const T* bias, T* act, T* c, T* h,
                       int64_t B, int64_t H) {
  const int64_t G = 4 * H;
  Eigen::Map<MatrixRM<T>> A(act, B, G);
  A.noalias() = Eigen::Map<const MatrixRM<T>>(h_prev, B, H) * weight_hh.transpose();
  for (int64_t b = 0; b < B; ++b) {
    T* a = act + b * G;
    const T* xb = x ? x + b * x_stride : nullptr;
    for (int64_t k = 0; k < G; ++k) a[k] += bias[k] + (xb ? xb[k] : T(0));
    for (int64_t j = 0; j < H; ++j) lstm_unit_fwd(a, a, H, j, c_prev[b * H + j], &c[b * H + j], &h[b * H + j]);
  }
}

template <typename T>
struct LSTMContext {
  int64_t B = 0, T_ = 0, H = 0;
  Tensor<T> act;  // (T, B, 4H) activated gates
  Tensor<T> cs;   // (T+1, B, H): c_0 … c_T
  Tensor<T> hs;   // (T+1, B, H): h_0 … h_T
  Tensor<T> dh_n, dc_n;  // (B, H): gradients arriving through h_n and c_n
};

}  // namespace detail

/// Run an LSTM over a sequence. xproj: (B, T, 4H) input projections without
/// bias; weight_hh (4H, H); bias_ih, bias_hh (4H); h0, c0: (B, H) or undefined
/// for zeros. Parameter layout and gate order are PyTorch's.
template <typename T>
LSTMOutput<T> lstm_sequence(const Var<T>& xproj, const Var<T>& weight_hh, const Var<T>& bias_ih,
                            const Var<T>& bias_hh, const Var<T>& h0 = Var<T>(), const Var<T>& c0 = Var<T>()) {
  const Shape& sw = weight_hh.shape();
  DEEPGEN_CHECK(sw.rank() == 2 && sw[0] == 4 * sw[1] && sw[1] > 0, "lstm_sequence: weight_hh must be (4H, H) but has shape ", sw);
  const int64_t H = sw[1], G = 4 * H;
  const Shape& sx = xproj.shape();
  DEEPGEN_CHECK(sx.rank() == 3 && sx[2] == G, "lstm_sequence: input projection must be (B, T, 4H) = (B, T, ", G,
                ") for weight_hh ", sw, " but has shape ", sx);
  check_shape(bias_ih.shape(), Shape{G}, "lstm_sequence: bias_ih");
  check_shape(bias_hh.shape(), Shape{G}, "lstm_sequence: bias_hh");
  const int64_t B = sx[0], steps = sx[1];
  if (h0.defined()) check_shape(h0.shape(), Shape{B, H}, "lstm_sequence: h0");
  if (c0.defined()) check_shape(c0.shape(), Shape{B, H}, "lstm_sequence: c0");

  auto ctx = std::make_shared<detail::LSTMContext<T>>();
  ctx->B = B;
  ctx->T_ = steps;
  ctx->H = H;
  ctx->act = Tensor<T>(Shape{steps, B, G});
  ctx->cs = Tensor<T>(Shape{steps + 1, B, H});
  ctx->hs = Tensor<T>(Shape{steps + 1, B, H});
  if (h0.defined()) std::copy(h0.value().begin(), h0.value().end(), ctx->hs.data());
  if (c0.defined()) std::copy(c0.value().begin(), c0.value().end(), ctx->cs.data());
  VectorX<T> bias = bias_ih.value().vec() + bias_hh.value().vec();
  const auto Whh = weight_hh.value().matrix();
  for (int64_t t = 0; t < steps; ++t) {
    detail::lstm_step_forward<T>(xproj.value().data() + t * G, steps * G, ctx->hs.data() + t * B * H,
                                 ctx->cs.data() + t * B * H, Whh, bias.data(), ctx->act.data() + t * B * G,
                                 ctx->cs.data() + (t + 1) * B * H, ctx->hs.data() + (t + 1) * B * H, B, H);
  }
  Tensor<T> y(Shape{B, steps, H});
  for (int64_t t = 0; t < steps; ++t)
    for (int64_t b = 0; b < B; ++b)
      std::copy_n(ctx->hs.data() + ((t + 1) * B + b) * H, H, y.data() + (b * steps + t) * H);

  LSTMOutput<T> out;
  out.output = Var<T>::make(std::move(y), {xproj, weight_hh, bias_ih, bias_hh, h0, c0}, [ctx](Node<T>& self) {
    const int64_t B = ctx->B, steps = ctx->T_, H = ctx->H, G = 4 * H;
    const auto Whh = self.parents[1]->value.matrix();
    Tensor<T> dpre(Shape{steps, B, G});
    MatrixRM<T> dh_next = MatrixRM<T>::Zero(B, H);
    MatrixRM<T> dc = MatrixRM<T>::Zero(B, H);
    if (!ctx->dh_n.empty()) dh_next = ctx->dh_n.matrix();
    if (!ctx->dc_n.empty()) dc = ctx->dc_n.matrix();
    const T* dy = self.grad.data();
    for (int64_t t = steps - 1; t >= 0; --t) {
      const T* act = ctx->act.data() + t * B * G;
      const T* c_prev = ctx->cs.data() + t * B * H;
      const T* c = ctx->cs.data() + (t + 1) * B * H;
      T* da = dpre.data() + t * B * G;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t j = 0; j < H; ++j) {
          const int64_t n = b * H + j;
          const T dh = dy[(b * steps + t) * H + j] + dh_next(b, j);
          detail::lstm_unit_bwd(act + b * G, H, j, c_prev[n], c[n], dh, dc(b, j), da + b * G, &dc(b, j));
        }
      dh_next.noalias() = Eigen::Map<const MatrixRM<T>>(da, B, G) * Whh;  // through (1)
    }
    const auto dA = dpre.matrix(steps * B, G);
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dx) {
      for (int64_t t = 0; t < steps; ++t)
        for (int64_t b = 0; b < B; ++b) {
          const T* src = dpre.data() + (t * B + b) * G;
          T* dst = dx.data() + (b * steps + t) * G;
          for (int64_t k = 0; k < G; ++k) dst[k] += src[k];
        }
    });
    detail::accumulate_grad(self.parents[1], [&](Tensor<T>& dW) {
      dW.matrix().noalias() += dA.transpose() * ctx->hs.matrix((steps + 1) * B, H).topRows(steps * B);
    });
    if ((self.parents[2] && self.parents[2]->requires_grad) || (self.parents[3] && self.parents[3]->requires_grad)) {
      const VectorX<T> db = dA.colwise().sum().transpose();
      detail::accumulate_grad(self.parents[2], [&](Tensor<T>& g) { g.vec() += db; });
      detail::accumulate_grad(self.parents[3], [&](Tensor<T>& g) { g.vec() += db; });
    }
    detail::accumulate_grad(self.parents[4], [&](Tensor<T>& g) { g.matrix() += dh_next; });
    detail::accumulate_grad(self.parents[5], [&](Tensor<T>& g) { g.matrix() += dc; });
    ctx->dh_n = Tensor<T>();
    ctx->dc_n = Tensor<T>();
  }, "lstm_sequence");

  // h_n and c_n are views of the saved state; their gradients are handed to
  // the sequence node (which runs after them in backward) through ctx.
  auto last = [&](const Tensor<T>& all, Tensor<T> detail::LSTMContext<T>::*grad_slot, const char* op) {
    Tensor<T> v(Shape{B, H});
    std::copy_n(all.data() + steps * B * H, B * H, v.data());
    return Var<T>::make(std::move(v), {out.output}, [ctx, grad_slot](Node<T>& self) {
      Tensor<T>& slot = (*ctx).*grad_slot;
      if (slot.empty()) slot = Tensor<T>(self.value.shape());
      slot.vec() += self.grad.vec();
    }, op);
  };
  out.h_n = last(ctx->hs, &detail::LSTMContext<T>::dh_n, "lstm_h_n");
  out.c_n = last(ctx->cs, &detail::LSTMContext<T>::dc_n, "lstm_c_n");
  return out;
}

}  // namespace deepgen
