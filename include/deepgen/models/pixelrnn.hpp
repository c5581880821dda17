// models/pixelrnn.hpp — the lecture's PixelRNN: an LSTM reads a palette image
// pixel by pixel and predicts the next pixel's colour; optionally it also
// sees the row above (pixel_context.hpp).
//
// Sequence convention (docs/pixelrnn.md, "The model"): for an image of P pixels (row-major),
//   input at step t  = colour of pixel t−1, one-hot, as a column gather of
//                      lstm.weight_ih_l0; step 0 gets the all-zeros input;
//                      a 2-D context adds the pixels above pixel t (and its
//                      position), each a gather from its own block of columns
//   output at step t = logits of pixel t, fc(h_t)
// Loss = mean cross-entropy over all positions; NLL is reported in nats per
// pixel.
//
// Parameter names are PyTorch's for nn.LSTM(K, H, batch_first=True) followed
// by nn.Linear(H, K): lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0,
// lstm.bias_hh_l0, fc.weight, fc.bias.
//
// Completion and sampling carry the LSTM state step by step: a prefix is read
// once by the sequence op, then each new pixel costs one step, never a re-run
// of the sequence.
#pragma once

#include <cmath>
#include <type_traits>
#include <vector>

#include "../detail/colours.hpp"
#include "../nn/linear.hpp"
#include "../nn/lstm.hpp"
#include "../ops/dropout.hpp"
#include "../ops/softmax_cross_entropy.hpp"
#include "../optim/adam.hpp"
#include "../optim/step.hpp"
#include "../pixel_context.hpp"
#include "../sampling.hpp"

namespace deepgen::models {

/// The lecture's PixelRNN: an LSTM over a palette image's pixels in raster order, predicting each
/// pixel's colour from the ones before (equations at the top of this header), optionally seeing
/// the row above (PixelRNNConfig::context).
template <typename T>
class PixelRNN : public nn::Module<T> {
 public:
  /// The lecture's model: palette_size K colours, hidden_size H cells, the previous pixel as input;
  /// weights from `rng` (PyTorch's init).
  PixelRNN(int64_t palette_size, int64_t hidden_size, Philox& rng)
      : PixelRNN(PixelRNNConfig{palette_size, hidden_size, PixelContext::previous, 0, 0}, rng) {}

  /// A PixelRNN of any context (checked); weights from `rng` (PyTorch's init).
  PixelRNN(const PixelRNNConfig& config, Philox& rng)
      : m_config(checked(config)), m_lstm(config.input_size(), config.hidden_size, rng),
        m_fc(config.hidden_size, config.palette_size, rng) {}

  /// Sizes and context.
  const PixelRNNConfig& config() const { return m_config; }
  /// K, the number of colours.
  int64_t palette_size() const { return m_config.palette_size; }
  /// H, the LSTM's hidden units.
  int64_t hidden_size() const { return m_lstm.hidden_size(); }
  /// The LSTM ("lstm.*" parameters).
  const nn::LSTM<T>& lstm() const { return m_lstm; }
  /// The output layer, H → K logits ("fc.*" parameters).
  const nn::Linear<T>& fc() const { return m_fc; }

  /// images (B, P) colour indices → logits (B, P, K), step t predicting pixel t.
  Var<T> logits(const Tensor<int32_t>& images) const {
    check_images(images, "PixelRNN::logits");
    return m_fc(m_lstm.forward_onehot(inputs(images, images.dim(1))).output);
  }

  /// Mean cross-entropy over every pixel of every image (nats per pixel).
  Var<T> loss(const Tensor<int32_t>& images) const {
    return softmax_cross_entropy(logits(images), images);
  }

  /// The training loss: as loss(), with dropout at rate `dropout` on the LSTM
  /// outputs before the colour head (a regulariser; 0 turns it off).
  Var<T> training_loss(const Tensor<int32_t>& images, double dropout_rate, Philox& rng) const {
    check_images(images, "PixelRNN::training_loss");
    const Var<T> h = m_lstm.forward_onehot(inputs(images, images.dim(1))).output;
    return softmax_cross_entropy(m_fc(dropout(h, dropout_rate, rng)), images);
  }

  /// One optimisation step on a batch: loss (with dropout at `dropout_rate`,
  /// its mask drawn from Philox(seed, step) so a resumed run repeats it),
  /// backward, gradient clipping to max_grad_norm (0: none), Adam. Returns the
  /// batch loss. A non-finite loss or gradient throws before the weights
  /// change, so nothing saved is lost.
  double train_step(const Tensor<int32_t>& images, optim::Adam<T>& adam, double max_grad_norm,
                    double dropout_rate = 0, uint64_t seed = 0) const {
    const auto params = this->named_parameters();
    adam.zero_grad();
    Philox rng(seed, uint64_t(1) << 40 | uint64_t(adam.steps()));
    const Var<T> l = training_loss(images, dropout_rate, rng);
    optim::backward_and_step(l, params, adam, max_grad_norm, "PixelRNN::train_step");
    return l.value()[0];
  }

  /// Negative log-likelihood in nats per pixel over `count` images stored
  /// back to back in `pixels` (count × P), evaluated in batches without a graph.
  double nll(const int32_t* pixels, int64_t count, int64_t P, int64_t batch = 64) const {
    DEEPGEN_CHECK(count > 0 && P > 0 && batch > 0, "PixelRNN::nll: need images, got count=", count, " P=", P);
    NoGradGuard no_grad;
    return batched_mean(pixels, count, P, batch, [&](const Tensor<int32_t>& images) { return loss(images).value()[0]; });
  }

  /// The NLL in nats per pixel over `count` images stored back to back in
  /// `pixels` (count × P), computed step by step with the sampler's
  /// arithmetic (LSTMStepper) instead of the sequence op: with bf16_weights,
  /// the likelihood that sampling with that option draws from. Without, it
  /// equals nll() up to float rounding.
  double stepwise_nll(const int32_t* pixels, int64_t count, int64_t P, bool bf16_weights = false,
                      int64_t batch = 64) const {
    DEEPGEN_CHECK(count > 0 && P > 0 && batch > 0, "PixelRNN::stepwise_nll: need images, got count=", count, " P=", P);
    NoGradGuard no_grad;
    return batched_mean(pixels, count, P, batch,
                        [&](const Tensor<int32_t>& images) { return stepwise_batch_nll(images, bf16_weights); });
  }

  /// Complete images from their first `keep` pixels. `images` (B, P): pixels
  /// at positions ≥ keep are ignored and overwritten. Image b draws from
  /// Philox(seed, first_index + b).
  Tensor<int32_t> complete(const Tensor<int32_t>& images, int64_t keep, const SamplingOptions& sampling,
                           uint64_t seed, uint64_t first_index = 0) const {
    DEEPGEN_CHECK(images.rank() == 2 && images.dim(1) > 0, "PixelRNN::complete: images must be (B, P) colour "
                  "indices but have shape ", images.shape());
    const int64_t B = images.dim(0), P = images.dim(1), K = palette_size(), S = m_config.slots();
    DEEPGEN_CHECK(keep >= 0 && keep <= P, "PixelRNN::complete: keep = ", keep, " pixels, but an image has ", P,
                  "; use 0 ≤ keep ≤ ", P);
    check_images(images, "PixelRNN::complete", keep);  // pixels past `keep` are overwritten: any value will do
    check_sampling(sampling);
    NoGradGuard no_grad;
    Tensor<int32_t> out = images;
    if (keep == P) return out;
    // Read the kept pixels once: steps 0..keep, whose last output predicts pixel `keep`.
    const LSTMOutput<T> read = m_lstm.forward_onehot(inputs(images, keep + 1));
    nn::LSTMState<T> state{read.h_n.value(), read.c_n.value()};
    std::vector<Philox> rngs;
    for (int64_t b = 0; b < B; ++b) rngs.emplace_back(seed, first_index + uint64_t(b));
    std::vector<int32_t> next(static_cast<size_t>(B * S));  // the next step's tokens, S per image
    std::vector<T> probs;
    Stepper stepper(*this, sampling.bf16_weights);
    Tensor<T> logits(Shape{B, K});
    auto L = logits.matrix();
    L.noalias() = state.h.matrix() * m_fc.weight().value().matrix().transpose();
    L.rowwise() += m_fc.bias().value().vec().transpose();
    for (int64_t t = keep; t < P; ++t) {
      for (int64_t b = 0; b < B; ++b) {
        out.at(b, t) = sample_logits(logits.data() + b * K, K, sampling, rngs[b], probs);
        if (t + 1 < P) m_config.step_tokens(out.data() + b * P, t + 1, next.data() + b * S);  // reads pixels ≤ t
      }
      if (t + 1 < P) stepper.step(next.data(), state, L);  // and the next logits
    }
    return out;
  }

  /// Draw `count` new images of P pixels from scratch (a 2-D context model: P = width · height).
  Tensor<int32_t> sample(int64_t count, int64_t P, const SamplingOptions& sampling, uint64_t seed) const {
    DEEPGEN_CHECK(count > 0 && P > 0, "PixelRNN::sample: need count > 0 and P > 0, got ", count, " and ", P);
    return complete(Tensor<int32_t>(Shape{count, P}), 0, sampling, seed);
  }

  void collect_parameters(const std::string& prefix, nn::NamedParameters<T>& out) const override {
    m_lstm.collect_parameters(prefix + "lstm.", out);
    m_fc.collect_parameters(prefix + "fc.", out);
  }

 private:
  static const PixelRNNConfig& checked(const PixelRNNConfig& c) {
    c.check("PixelRNN");
    return c;
  }

  /// Throws unless `images` is (B, P) with colours in [0, K) at pixels [0, shown) (all: shown < 0),
  /// and, for a 2-D context, P = width · height.
  void check_images(const Tensor<int32_t>& images, const char* where, int64_t shown = -1) const {
    DEEPGEN_CHECK(images.rank() == 2 && images.dim(1) > 0, where, ": images must be (B, P) colour indices but have shape ",
                  images.shape());
    const int64_t P = images.dim(1);
    if (m_config.two_dimensional())
      DEEPGEN_CHECK(P == m_config.width * m_config.height, where, ": images have ", P, " pixels but this model's '",
                    context_name(m_config.context), "' context reads ", m_config.width, " × ", m_config.height,
                    " images; use images of the size it was trained on");
    detail::check_colours(images.data(), images.dim(0), P, shown < 0 ? P : shown, palette_size(), where);
  }

  /// The tokens of steps 0 … steps−1 of every image (B, steps, S): step t
  /// sees pixels before t only (teacher forcing when steps = P).
  Tensor<int32_t> inputs(const Tensor<int32_t>& images, int64_t steps) const {
    const int64_t B = images.dim(0), P = images.dim(1), S = m_config.slots();
    Tensor<int32_t> in(Shape{B, steps, S});
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < steps; ++t) m_config.step_tokens(images.data() + b * P, t, in.data() + (b * steps + t) * S);
    return in;
  }

  /// The mean over `count` images (count × P at `pixels`) of per_batch(images),
  /// a batch's mean, taken over batches of at most `batch` images.
  template <typename F>
  static double batched_mean(const int32_t* pixels, int64_t count, int64_t P, int64_t batch, F&& per_batch) {
    double total = 0;
    for (int64_t first = 0; first < count; first += batch) {
      const int64_t B = std::min(batch, count - first);
      Tensor<int32_t> images(Shape{B, P});
      std::copy_n(pixels + first * P, B * P, images.data());
      total += double(per_batch(images)) * double(B);
    }
    return total / double(count);
  }

  /// stepwise_nll of one batch (B, P): teacher forcing through the Stepper.
  double stepwise_batch_nll(const Tensor<int32_t>& images, bool bf16_weights) const {
    check_images(images, "PixelRNN::stepwise_nll");
    const int64_t B = images.dim(0), P = images.dim(1), K = palette_size(), S = m_config.slots();
    nn::LSTMState<T> state = nn::LSTMState<T>::zeros(B, hidden_size());
    Stepper stepper(*this, bf16_weights);
    std::vector<int32_t> tokens(static_cast<size_t>(B * S));
    Tensor<T> logits(Shape{B, K});
    double total = 0;
    for (int64_t t = 0; t < P; ++t) {
      for (int64_t b = 0; b < B; ++b) m_config.step_tokens(images.data() + b * P, t, tokens.data() + b * S);
      stepper.step(tokens.data(), state, logits.matrix());
      for (int64_t b = 0; b < B; ++b) {
        const auto row = logits.matrix().row(b).template cast<double>();
        const double top = row.maxCoeff();
        total += std::log((row.array() - top).exp().sum()) + top - row(images.at(b, t));
      }
    }
    return total / double(B * P);
  }

  /// The sampler's step with the output layer: the LSTM stepper and fc,
  /// both float32 or both bfloat16.
  class Stepper {
   public:
    Stepper(const PixelRNN& model, bool bf16_weights)
        : m_model(model), m_lstm(model.m_lstm, model.m_config.slots(), bf16_weights) {
      if constexpr (std::is_same_v<T, float>)
        if (bf16_weights) {
          const Tensor<T>& W = model.m_fc.weight().value();
          m_fc16 = deepgen::detail::Bf16Matrix(W.data(), W.dim(0), W.dim(1), W.dim(1));
        }
    }
    /// Advance `state` by one step on `tokens` (B·S) and write the new logits (B, K).
    void step(const int32_t* tokens, nn::LSTMState<T>& state, Eigen::Ref<MatrixRM<T>> logits) {
      const auto bias = m_model.m_fc.bias().value().vec();
      if (m_fc16.rows() > 0)
        m_lstm.step(tokens, state, m_fc16, bias, logits);
      else
        m_lstm.step(tokens, state, m_model.m_fc.weight().value().matrix(), bias, logits);
    }

   private:
    const PixelRNN& m_model;
    nn::LSTMStepper<T> m_lstm;
    deepgen::detail::Bf16Matrix m_fc16;  // fc.weight in bfloat16, empty for float32
  };

  PixelRNNConfig m_config;
  nn::LSTM<T> m_lstm;
  nn::Linear<T> m_fc;
};

}  // namespace deepgen::models
