// models/pixelrnn.hpp — the lecture's PixelRNN: an LSTM reads a palette image
// pixel by pixel and predicts the next pixel's colour.
//
// Sequence convention (DESIGN.md): for an image of P pixels (row-major),
//   input at step t  = colour of pixel t−1, one-hot, as a column gather of
//                      lstm.weight_ih_l0; step 0 gets the all-zeros input
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

#include <vector>

#include <cmath>

#include "../detail/colours.hpp"
#include "../nn/linear.hpp"
#include "../nn/lstm.hpp"
#include "../ops/dropout.hpp"
#include "../ops/softmax_cross_entropy.hpp"
#include "../optim/adam.hpp"
#include "../optim/step.hpp"
#include "sampling.hpp"

namespace deepgen::models {

/// The lecture's PixelRNN: an LSTM over a palette image's pixels in raster order, predicting each
/// pixel's colour from the ones before (equations at the top of this header).
template <typename T>
class PixelRNN : public nn::Module<T> {
 public:
  /// palette_size K colours, hidden_size H cells; weights from `rng` (PyTorch's init).
  PixelRNN(int64_t palette_size, int64_t hidden_size, Philox& rng)
      : m_lstm(palette_size, hidden_size, rng), m_fc(hidden_size, palette_size, rng) {}

  /// K, the number of colours.
  int64_t palette_size() const { return m_lstm.input_size(); }
  /// H, the LSTM's hidden units.
  int64_t hidden_size() const { return m_lstm.hidden_size(); }
  /// The LSTM ("lstm.*" parameters).
  const nn::LSTM<T>& lstm() const { return m_lstm; }
  /// The output layer, H → K logits ("fc.*" parameters).
  const nn::Linear<T>& fc() const { return m_fc; }

  /// images (B, P) colour indices → logits (B, P, K), step t predicting pixel t.
  Var<T> logits(const Tensor<int32_t>& images) const {
    check_images(images, "PixelRNN::logits");
    return m_fc(m_lstm.forward_onehot(shift_right(images)).output);
  }

  /// Mean cross-entropy over every pixel of every image (nats per pixel).
  Var<T> loss(const Tensor<int32_t>& images) const {
    return softmax_cross_entropy(logits(images), images);
  }

  /// The training loss: as loss(), with dropout at rate `dropout` on the LSTM
  /// outputs before the colour head (a regulariser; 0 turns it off).
  Var<T> training_loss(const Tensor<int32_t>& images, double dropout_rate, Philox& rng) const {
    check_images(images, "PixelRNN::training_loss");
    const Var<T> h = m_lstm.forward_onehot(shift_right(images)).output;
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
    double total = 0;
    for (int64_t first = 0; first < count; first += batch) {
      const int64_t B = std::min(batch, count - first);
      Tensor<int32_t> images(Shape{B, P});
      std::copy_n(pixels + first * P, B * P, images.data());
      total += double(loss(images).value()[0]) * double(B);
    }
    return total / double(count);
  }

  /// Complete images from their first `keep` pixels. `images` (B, P): pixels
  /// at positions ≥ keep are ignored and overwritten. Image b draws from
  /// Philox(seed, first_index + b).
  Tensor<int32_t> complete(const Tensor<int32_t>& images, int64_t keep, const SamplingOptions& sampling,
                           uint64_t seed, uint64_t first_index = 0) const {
    check_images(images, "PixelRNN::complete");
    check_sampling(sampling);
    const int64_t B = images.dim(0), P = images.dim(1), K = palette_size();
    DEEPGEN_CHECK(keep >= 0 && keep <= P, "PixelRNN::complete: keep = ", keep, " pixels, but an image has ", P,
                  "; use 0 ≤ keep ≤ ", P);
    NoGradGuard no_grad;
    Tensor<int32_t> out = images;
    if (keep == P) return out;
    // Read the prefix once: steps 0..keep, whose last output predicts pixel `keep`.
    Tensor<int32_t> prefix(Shape{B, keep + 1});
    for (int64_t b = 0; b < B; ++b) {
      prefix.at(b, 0) = NO_INPUT;
      for (int64_t t = 0; t < keep; ++t) prefix.at(b, t + 1) = images.at(b, t);
    }
    const LSTMOutput<T> read = m_lstm.forward_onehot(prefix);
    nn::LSTMState<T> state{read.h_n.value(), read.c_n.value()};
    std::vector<Philox> rngs;
    for (int64_t b = 0; b < B; ++b) rngs.emplace_back(seed, first_index + uint64_t(b));
    std::vector<int32_t> next(static_cast<size_t>(B));
    std::vector<T> probs;
    nn::LSTMStepper<T> stepper(m_lstm);
    Tensor<T> logits(Shape{B, K});
    const auto W = m_fc.weight().value().matrix();
    const auto bias = m_fc.bias().value().vec().transpose();
    auto L = logits.matrix();
    L.noalias() = state.h.matrix() * W.transpose();
    L.rowwise() += bias;
    for (int64_t t = keep; t < P; ++t) {
      for (int64_t b = 0; b < B; ++b) {
        next[b] = sample_logits(logits.data() + b * K, K, sampling, rngs[b], probs);
        out.at(b, t) = next[b];
      }
      if (t + 1 < P) stepper.step(next.data(), state, W, bias.transpose(), L);  // and the next logits
    }
    return out;
  }

  /// Draw `count` new images of P pixels from scratch.
  Tensor<int32_t> sample(int64_t count, int64_t P, const SamplingOptions& sampling, uint64_t seed) const {
    DEEPGEN_CHECK(count > 0 && P > 0, "PixelRNN::sample: need count > 0 and P > 0, got ", count, " and ", P);
    return complete(Tensor<int32_t>(Shape{count, P}), 0, sampling, seed);
  }

  void collect_parameters(const std::string& prefix, nn::NamedParameters<T>& out) const override {
    m_lstm.collect_parameters(prefix + "lstm.", out);
    m_fc.collect_parameters(prefix + "fc.", out);
  }

 private:
  void check_images(const Tensor<int32_t>& images, const char* where) const {
    DEEPGEN_CHECK(images.rank() == 2 && images.dim(1) > 0, where, ": images must be (B, P) colour indices but have shape ",
                  images.shape());
    detail::check_colours(images.data(), images.dim(0), images.dim(1), images.dim(1), palette_size(), where);
  }

  /// Inputs for teacher forcing: step t sees pixel t−1; step 0 sees nothing.
  static Tensor<int32_t> shift_right(const Tensor<int32_t>& images) {
    const int64_t B = images.dim(0), P = images.dim(1);
    Tensor<int32_t> in(Shape{B, P});
    for (int64_t b = 0; b < B; ++b) {
      in.at(b, 0) = NO_INPUT;
      std::copy_n(images.data() + b * P, P - 1, in.data() + b * P + 1);
    }
    return in;
  }

  nn::LSTM<T> m_lstm;
  nn::Linear<T> m_fc;
};

}  // namespace deepgen::models
