// nn/lstm.hpp — LSTMCell (one step) and LSTM (a whole sequence), with
// PyTorch's parameter names, shapes, gate order (i, f, g, o) and init, so
// weights move between the two in both directions.
//
// Both run on the single lstm_sequence op (ops/lstm.hpp): a cell is a
// sequence of length one. Inputs are either dense (B, T, I), projected by one
// GEMM over all B·T rows, or one-hot token indices (B, T), projected by a
// column gather of weight_ih — never a GEMM with a one-hot matrix.
#pragma once

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include "../detail/bfloat16.hpp"
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
  /// Zero h and c for B sequences of H units.
  static LSTMState zeros(int64_t B, int64_t H) { return {Tensor<T>(Shape{B, H}), Tensor<T>(Shape{B, H})}; }
};

/// A whole-sequence LSTM layer, batch-first. Parameter names: weight_ih_l0
/// (4H, I), weight_hh_l0 (4H, H), bias_ih_l0 (4H), bias_hh_l0 (4H).
template <typename T>
class LSTM : public Module<T> {
 public:
  /// I = input_size, H = hidden_size; every weight and bias U(−1/√H, 1/√H) as in PyTorch.
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
  /// Indices (B, T, S): S per step, the input their multi-hot sum.
  LSTMOutput<T> forward_onehot(const Tensor<int32_t>& tokens, const Var<T>& h0 = Var<T>(),
                               const Var<T>& c0 = Var<T>()) const {
    return lstm_sequence_onehot(tokens, m_w.weight_ih, m_w.weight_hh, m_w.bias_ih, m_w.bias_hh, h0, c0);
  }

  /// I, the input width.
  int64_t input_size() const { return m_w.input_size(); }
  /// H, the number of hidden units.
  int64_t hidden_size() const { return m_w.hidden_size(); }
  /// weight_ih_l0, (4H, I): gates i, f, g, o stacked.
  const Var<T>& weight_ih() const { return m_w.weight_ih; }
  /// weight_hh_l0, (4H, H).
  const Var<T>& weight_hh() const { return m_w.weight_hh; }
  /// bias_ih_l0, (4H).
  const Var<T>& bias_ih() const { return m_w.bias_ih; }
  /// bias_hh_l0, (4H).
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
/// snapshots the weights once, keeps its workspaces, and records no graph.
/// Build it after training or loading: later changes to the LSTM's weights
/// are not seen.
///
/// Why its own weight layout: a step is h·W_hhᵀ followed by gate math that
/// needs unit j's four gates together. The units are split into one slice per
/// thread, and the weights are reordered so that each slice's gate rows
/// [i | f | g | o of its units] are contiguous. Each thread then runs its own
/// GEMM (a matrix-vector product at batch 1) over half of W_hh and finishes
/// its units' cell update with no synchronisation in between: one parallel
/// region per step, both cores streaming the 4 MiB of W_hh at batch 1, where
/// a plain matrix-vector product would use one.
///
/// With `bf16_weights` (float only) W_hh is kept in bfloat16
/// (detail/bfloat16.hpp): half the bytes per step, each product rounded as
/// that header says. The step is then no longer exact float32 arithmetic:
/// an option for sampling, off by default.
template <typename T>
class LSTMStepper {
 public:
  /// A snapshot of `lstm`'s weights in the stepper's layout; each step reads
  /// `slots` tokens per row (a multi-hot input, as forward_onehot's (B, T, S));
  /// `bf16_weights` keeps W_hh in bfloat16 (T = float only).
  explicit LSTMStepper(const LSTM<T>& lstm, int64_t slots = 1, bool bf16_weights = false)
      : m_hidden(lstm.hidden_size()), m_input(lstm.input_size()), m_slots(slots), m_bounds(deepgen::detail::unit_slice_bounds(m_hidden)) {
    DEEPGEN_CHECK(slots >= 1, "LSTMStepper: slots = ", slots, "; a step reads at least one token per row");
    DEEPGEN_CHECK(!bf16_weights || (std::is_same_v<T, float>), "LSTMStepper: bfloat16 weights need a float model; "
                  "this one is double");
    const int64_t H = m_hidden, G = 4 * H;
    const auto W_hh = lstm.weight_hh().value().matrix();
    const auto W_ih = lstm.weight_ih().value().matrix();
    const auto b = (lstm.bias_ih().value().vec() + lstm.bias_hh().value().vec()).eval();
    // from[to]: the PyTorch-order gate row that goes to row `to`
    const std::vector<int64_t> from = deepgen::detail::slice_order(m_bounds, H);
    const MatrixRM<T> W_ih_t = W_ih.transpose();
    m_weight_hh.resize(G, H);
    m_weight_ih_t.resize(m_input, G);
    m_bias.resize(G);
    for (int64_t to = 0; to < G; ++to) {
      m_weight_hh.row(to) = W_hh.row(from[size_t(to)]);
      m_bias[to] = b[from[size_t(to)]];
    }
    for (int64_t k = 0; k < m_input; ++k)
      for (int64_t to = 0; to < G; ++to) m_weight_ih_t(k, to) = W_ih_t(k, from[size_t(to)]);
    if constexpr (std::is_same_v<T, float>)
      if (bf16_weights) {
        m_weight_hh16 = deepgen::detail::Bf16Matrix(m_weight_hh.data(), G, H, H);
        m_weight_hh.resize(0, 0);  // only the bfloat16 copy is read
      }
  }

  /// True when W_hh is kept in bfloat16.
  bool bf16_weights() const { return m_weight_hh16.rows() > 0; }

  /// I, the number of input symbols.
  int64_t input_size() const { return m_input; }
  /// S, the tokens each row reads per step.
  int64_t slots() const { return m_slots; }
  /// H, the number of hidden units.
  int64_t hidden_size() const { return m_hidden; }

  /// Advance `state` (B rows) by one step with inputs tokens[b·S + s] in
  /// [0, I) or NO_INPUT. The new h and c are swapped into `state` (no copy).
  void step(const int32_t* tokens, LSTMState<T>& state) { step_impl(tokens, state, nullptr); }

  /// The same step, then logits = h'·W_outᵀ + b_out (B, K) for the new h, in
  /// the same parallel region: each thread projects a share of the K outputs
  /// once every slice of h' is written (one barrier, no second fork/join).
  /// This is the sampler's inner loop; at batch 1 the projection otherwise
  /// runs on one core beside an idle one.
  void step(const int32_t* tokens, LSTMState<T>& state, const Eigen::Ref<const MatrixRM<T>>& weight_out,
            const Eigen::Ref<const VectorX<T>>& bias_out, Eigen::Ref<MatrixRM<T>> logits) {
    DEEPGEN_CHECK(weight_out.cols() == hidden_size() && bias_out.size() == weight_out.rows() &&
                      logits.rows() == state.h.dim(0) && logits.cols() == weight_out.rows(),
                  "LSTMStepper::step: projection (", weight_out.rows(), ", ", weight_out.cols(), ") + bias (",
                  bias_out.size(), ") into logits (", logits.rows(), ", ", logits.cols(),
                  ") does not fit hidden size ", hidden_size(), " and batch ", state.h.dim(0));
    const Projection p{&weight_out, nullptr, &bias_out, &logits};
    step_impl(tokens, state, &p);
  }

  /// The same step and projection with W_out in bfloat16 (a bf16 stepper:
  /// the sampler's 16-bit option), h' rounded to bfloat16 for the product.
  void step(const int32_t* tokens, LSTMState<T>& state, const deepgen::detail::Bf16Matrix& weight_out16,
            const Eigen::Ref<const VectorX<T>>& bias_out, Eigen::Ref<MatrixRM<T>> logits) {
    DEEPGEN_CHECK(bf16_weights() && weight_out16.cols() == hidden_size() && bias_out.size() == weight_out16.rows() &&
                      logits.rows() == state.h.dim(0) && logits.cols() == weight_out16.rows(),
                  "LSTMStepper::step: bfloat16 projection (", weight_out16.rows(), ", ", weight_out16.cols(),
                  ") + bias (", bias_out.size(), ") into logits (", logits.rows(), ", ", logits.cols(),
                  ") does not fit hidden size ", hidden_size(), " and batch ", state.h.dim(0),
                  bf16_weights() ? "" : ", or the stepper was built without bf16_weights");
    const Projection p{nullptr, &weight_out16, &bias_out, &logits};
    step_impl(tokens, state, &p);
  }

 private:
  struct Projection {
    const Eigen::Ref<const MatrixRM<T>>* weight;         // float32 W_out, or
    const deepgen::detail::Bf16Matrix* weight16;        // bfloat16 W_out
    const Eigen::Ref<const VectorX<T>>* bias;
    Eigen::Ref<MatrixRM<T>>* logits;
  };

  void step_impl(const int32_t* tokens, LSTMState<T>& state, const Projection* proj) {
    const int64_t B = state.h.dim(0), H = hidden_size(), I = input_size(), G = 4 * H;
    DEEPGEN_CHECK(state.h.shape() == (Shape{B, H}) && state.c.shape() == (Shape{B, H}),
                  "LSTMStepper::step: state must be (B, ", H, ") but h is ", state.h.shape(), " and c is ",
                  state.c.shape());
    const int64_t S = m_slots;
    for (int64_t n = 0; n < B * S; ++n)
      DEEPGEN_CHECK(tokens[n] == NO_INPUT || (tokens[n] >= 0 && tokens[n] < I), "LSTMStepper::step: token ",
                    tokens[n], " of row ", n / S, " is out of range [0, ", I, ")");
    if (m_act.shape() != Shape{B, G}) {
      m_act = Tensor<T>::uninitialized(Shape{B, G});
      m_h_next = Tensor<T>::uninitialized(Shape{B, H});
      m_c_next = Tensor<T>::uninitialized(Shape{B, H});
    }
    const Eigen::Map<const MatrixRM<T>> h_prev(state.h.data(), B, H);
    const T* c_prev = state.c.data();
    const int slices = int(m_bounds.size()) - 1;
    const bool bf16 = bf16_weights();
    if constexpr (std::is_same_v<T, float>)
      if (bf16) m_weight_hh16.round_input(state.h.data(), B, H, m_h16);
    if (m_out16.size() < size_t(slices)) m_out16.resize(size_t(slices));
#if defined(_OPENMP)
#pragma omp parallel num_threads(slices)
#endif
    {
      const auto [tid, threads] = deepgen::detail::thread_in_team();
      for (int s = tid; s < slices; s += threads) {
        const int64_t j0 = m_bounds[size_t(s)], n = m_bounds[size_t(s) + 1] - j0;
        deepgen::detail::StridedMap<T> A(m_act.data() + 4 * j0, B, 4 * n, Eigen::OuterStride<>(G));
        // (1), rows [r0, r0 + nr) of the slice, float32 or bfloat16.
        auto product = [&](int64_t r0, int64_t nr) {
          if constexpr (std::is_same_v<T, float>)
            if (bf16) return m_weight_hh16.multiply(m_h16, B, 4 * j0 + r0, 4 * j0 + r0 + nr, A.data() + r0, G);
          A.middleCols(r0, nr).noalias() = h_prev * m_weight_hh.middleRows(4 * j0 + r0, nr).transpose();
        };
        if (B <= SMALL_BATCH) {
          // In chunks of rows, walked backwards on every other step: a core's
          // slice of W_hh (2 MiB for H = 512 on two cores, 1 MiB in bfloat16)
          // is about its L2's size, and a cyclic walk over a buffer that size
          // misses on every line of an LRU cache, while walking back over what
          // the last step read last finds much of it still there. Each row's
          // dot product is the same whichever order the chunks run in.
          const int64_t rows = 4 * n, chunks = (rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
          for (int64_t q = 0; q < chunks; ++q) {
            const int64_t r0 = (m_backwards ? chunks - 1 - q : q) * CHUNK_ROWS;
            product(r0, std::min(CHUNK_ROWS, rows - r0));
          }
        } else {
          product(0, 4 * n);
        }
        A.rowwise() += m_bias.segment(4 * j0, 4 * n).transpose();
        for (int64_t b = 0; b < B; ++b)
          for (int64_t k = 0; k < S; ++k)
            if (tokens[b * S + k] != NO_INPUT) A.row(b) += m_weight_ih_t.row(tokens[b * S + k]).segment(4 * j0, 4 * n);
        deepgen::detail::lstm_gates_forward<T>(A.data(), G, c_prev + j0, m_c_next.data() + j0,
                                               m_h_next.data() + j0, H, B, n);
      }
      if (proj) {
#if defined(_OPENMP)
#pragma omp barrier
#endif
        const int64_t K = proj->bias->size(), k0 = K * tid / threads, nk = K * (tid + 1) / threads - k0;
        auto out = proj->logits->middleCols(k0, nk);
        if (proj->weight16) {
          if constexpr (std::is_same_v<T, float>) {
            std::vector<uint16_t>& h16 = m_out16[size_t(tid)];  // each thread rounds h' for itself
            proj->weight16->round_input(m_h_next.data(), B, H, h16);
            proj->weight16->multiply(h16, B, k0, k0 + nk, out.data(), proj->logits->outerStride());
          }
        } else {
          out.noalias() =
              Eigen::Map<const MatrixRM<T>>(m_h_next.data(), B, H) * proj->weight->middleRows(k0, nk).transpose();
        }
        out.rowwise() += proj->bias->segment(k0, nk).transpose();
      }
    }
    std::swap(state.h, m_h_next);
    std::swap(state.c, m_c_next);
    m_backwards = !m_backwards;
  }

  // Batches up to this size read W_hh in alternating directions (step_impl);
  // larger ones reuse each row across the batch and run one GEMM per slice.
  static constexpr int64_t SMALL_BATCH = 4;
  static constexpr int64_t CHUNK_ROWS = 128;  // 256 KiB of W_hh at H = 512; 8 blocks of Bf16Matrix

  int64_t m_hidden, m_input, m_slots;
  std::vector<int64_t> m_bounds;
  MatrixRM<T> m_weight_hh;    // (4H, H), rows in slice order: [i | f | g | o] of each slice's units
  deepgen::detail::Bf16Matrix m_weight_hh16;         // the same in bfloat16 (bf16_weights; m_weight_hh then empty)
  std::vector<uint16_t> m_h16;                       // h rounded to bfloat16, padded rows
  std::vector<std::vector<uint16_t>> m_out16;        // per thread: h' rounded for the projection
  MatrixRM<T> m_weight_ih_t;  // (I, 4H), columns in the same order: a token selects one row
  VectorX<T> m_bias;          // b_ih + b_hh, same order
  Tensor<T> m_act, m_h_next, m_c_next;
  bool m_backwards = false;  // the direction of the next step's walk over W_hh
};

/// One LSTM step (h, c) → (h', c'), PyTorch's nn.LSTMCell. Parameter names:
/// weight_ih (4H, I), weight_hh (4H, H), bias_ih (4H), bias_hh (4H).
template <typename T>
class LSTMCell : public Module<T> {
 public:
  /// I = input_size, H = hidden_size; every weight and bias U(−1/√H, 1/√H) as in PyTorch.
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

  /// I, the input width.
  int64_t input_size() const { return m_w.input_size(); }
  /// H, the number of hidden units.
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
