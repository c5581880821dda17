// nn/lstm.hpp — LSTMCell (one step) and LSTM (a whole sequence), with
// PyTorch's parameter names, shapes, gate order (i, f, g, o) and init, so
// weights move between the two in both directions.
//
// Both run on the single lstm_sequence op (ops/lstm.hpp): a cell is a
// sequence of length one. Inputs are either dense (B, T, I), projected by one
// GEMM over all B·T rows, or one-hot token indices (B, T), projected by a
// column gather of weight_ih — never a GEMM with a one-hot matrix.
#pragma once

#include <cmath>
#include <utility>

#include "../ops/embedding.hpp"
#include "../ops/lstm.hpp"
#include "../ops/matmul.hpp"
#include "../ops/reshape.hpp"
#include "../random.hpp"
#include "module.hpp"

namespace deepgen::nn {

namespace detail {
// The four LSTM parameters, U(−1/√H, 1/√H) as in PyTorch.
template <typename T>
struct LSTMWeights {
  Var<T> weight_ih, weight_hh, bias_ih, bias_hh;

  LSTMWeights(int64_t input_size, int64_t hidden_size, Philox& rng) {
    DEEPGEN_CHECK(input_size > 0 && hidden_size > 0, "LSTM: sizes must be positive, got input_size=", input_size,
                  " hidden_size=", hidden_size);
    const T bound = T(1) / std::sqrt(T(hidden_size));
    auto init = [&](Shape s) {
      Tensor<T> t(s);
      fill_uniform(t, rng, -bound, bound);
      return Var<T>(std::move(t), true);
    };
    const int64_t G = 4 * hidden_size;
    weight_ih = init({G, input_size});
    weight_hh = init({G, hidden_size});
    bias_ih = init({G});
    bias_hh = init({G});
  }
  int64_t input_size() const { return weight_ih.shape()[1]; }
  int64_t hidden_size() const { return weight_hh.shape()[1]; }
};
}  // namespace detail

/// The recurrent state of B sequences.
template <typename T>
struct LSTMState {
  Tensor<T> h;  ///< (B, H)
  Tensor<T> c;  ///< (B, H)
  static LSTMState zeros(int64_t B, int64_t H) { return {Tensor<T>(Shape{B, H}), Tensor<T>(Shape{B, H})}; }
};

/// A whole-sequence LSTM layer, batch-first. Parameter names: weight_ih_l0
/// (4H, I), weight_hh_l0 (4H, H), bias_ih_l0 (4H), bias_hh_l0 (4H).
template <typename T>
class LSTM : public Module<T> {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, Philox& rng) : m_w(input_size, hidden_size, rng) {}

  /// Dense input x (B, T, I) → all hidden states (B, T, H) and the last (h, c).
  LSTMOutput<T> operator()(const Var<T>& x, const Var<T>& h0 = Var<T>(), const Var<T>& c0 = Var<T>()) const {
    DEEPGEN_CHECK(x.shape().rank() == 3 && x.shape()[2] == input_size(), "LSTM: input must be (B, T, ",
                  input_size(), ") but has shape ", x.shape());
    const Var<T> xproj = linear(x, m_w.weight_ih);
    return lstm_sequence(xproj, m_w.weight_hh, m_w.bias_ih, m_w.bias_hh, h0, c0);
  }

  /// One-hot input given as indices (B, T) in [0, I), or NO_INPUT for a zero
  /// vector. Equal to operator() on the one-hot matrix, without building it.
  LSTMOutput<T> forward_onehot(const Tensor<int32_t>& tokens, const Var<T>& h0 = Var<T>(),
                               const Var<T>& c0 = Var<T>()) const {
    return lstm_sequence_onehot(tokens, m_w.weight_ih, m_w.weight_hh, m_w.bias_ih, m_w.bias_hh, h0, c0);
  }

  int64_t input_size() const { return m_w.input_size(); }
  int64_t hidden_size() const { return m_w.hidden_size(); }
  const Var<T>& weight_ih() const { return m_w.weight_ih; }
  const Var<T>& weight_hh() const { return m_w.weight_hh; }
  const Var<T>& bias_ih() const { return m_w.bias_ih; }
  const Var<T>& bias_hh() const { return m_w.bias_hh; }

  void collect_parameters(const std::string& prefix, NamedParameters<T>& out) const override {
    this->add(out, prefix, "weight_ih_l0", m_w.weight_ih);
    this->add(out, prefix, "weight_hh_l0", m_w.weight_hh);
    this->add(out, prefix, "bias_ih_l0", m_w.bias_ih);
    this->add(out, prefix, "bias_hh_l0", m_w.bias_hh);
  }

 private:
  detail::LSTMWeights<T> m_w;
};

/// Inference with one-hot inputs, one step at a time (sampling, completion):
/// snapshots the weights it needs (W_ihᵀ, b_ih + b_hh) once, keeps its
/// workspaces, and records no graph. Build it after training or loading:
/// later changes to the LSTM's weights are not seen.
template <typename T>
class LSTMStepper {
 public:
  explicit LSTMStepper(const LSTM<T>& lstm)
      : m_weight_hh(lstm.weight_hh().value()),
        m_weight_ih_t(lstm.weight_ih().value().matrix().transpose()),
        m_bias(lstm.bias_ih().value().vec() + lstm.bias_hh().value().vec()) {}

  int64_t input_size() const { return m_weight_ih_t.rows(); }
  int64_t hidden_size() const { return m_weight_hh.dim(1); }

  /// Advance `state` (B rows) by one step with inputs tokens[b] in [0, I) or NO_INPUT.
  void step(const int32_t* tokens, LSTMState<T>& state) {
    const int64_t B = state.h.dim(0), H = hidden_size(), I = input_size();
    DEEPGEN_CHECK(state.h.shape() == (Shape{B, H}) && state.c.shape() == (Shape{B, H}),
                  "LSTMStepper::step: state must be (B, ", H, ") but h is ", state.h.shape(), " and c is ",
                  state.c.shape());
    for (int64_t b = 0; b < B; ++b)
      DEEPGEN_CHECK(tokens[b] == NO_INPUT || (tokens[b] >= 0 && tokens[b] < I), "LSTMStepper::step: token ",
                    tokens[b], " of row ", b, " is out of range [0, ", I, ")");
    if (m_act.shape() != Shape{B, 4 * H}) m_act = Tensor<T>::uninitialized(Shape{B, 4 * H});
    m_h_prev = state.h;
    m_c_prev = state.c;
    deepgen::detail::StepInput<T> in;
    in.tokens = tokens;
    in.token_stride = 1;
    in.weight_ih_t = m_weight_ih_t.data();
    deepgen::detail::lstm_step_forward<T>(in, m_h_prev.data(), m_c_prev.data(), m_weight_hh.matrix(),
                                          m_bias.data(), m_act.data(), state.c.data(), state.h.data(), B, H);
  }

 private:
  Tensor<T> m_weight_hh;
  MatrixRM<T> m_weight_ih_t;  // (I, 4H): a token selects one contiguous row
  VectorX<T> m_bias;
  Tensor<T> m_act, m_h_prev, m_c_prev;
};

/// One LSTM step (h, c) → (h', c'), PyTorch's nn.LSTMCell. Parameter names:
/// weight_ih (4H, I), weight_hh (4H, H), bias_ih (4H), bias_hh (4H).
template <typename T>
class LSTMCell : public Module<T> {
 public:
  LSTMCell(int64_t input_size, int64_t hidden_size, Philox& rng) : m_w(input_size, hidden_size, rng) {}

  /// x (B, I), h and c (B, H) (undefined: zeros) → (h', c').
  std::pair<Var<T>, Var<T>> operator()(const Var<T>& x, const Var<T>& h = Var<T>(), const Var<T>& c = Var<T>()) const {
    DEEPGEN_CHECK(x.shape().rank() == 2 && x.shape()[1] == input_size(), "LSTMCell: input must be (B, ",
                  input_size(), ") but has shape ", x.shape());
    const int64_t B = x.shape()[0];
    const Var<T> xproj = reshape(linear(x, m_w.weight_ih), Shape{B, 1, 4 * hidden_size()});
    LSTMOutput<T> out = lstm_sequence(xproj, m_w.weight_hh, m_w.bias_ih, m_w.bias_hh, h, c);
    return {out.h_n, out.c_n};
  }

  int64_t input_size() const { return m_w.input_size(); }
  int64_t hidden_size() const { return m_w.hidden_size(); }

  void collect_parameters(const std::string& prefix, NamedParameters<T>& out) const override {
    this->add(out, prefix, "weight_ih", m_w.weight_ih);
    this->add(out, prefix, "weight_hh", m_w.weight_hh);
    this->add(out, prefix, "bias_ih", m_w.bias_ih);
    this->add(out, prefix, "bias_hh", m_w.bias_hh);
  }

 private:
  detail::LSTMWeights<T> m_w;
};

}  // namespace deepgen::nn
