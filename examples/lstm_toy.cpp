// lstm_toy — the smallest complete use of deepgen: an LSTM learns to continue
// a repeating sequence of symbols, and its loss falls.
//
// The sequence 0 1 2 … 7 0 1 2 … is fed one symbol per step (one-hot, as a
// column gather); the model predicts the next symbol. Untrained, the loss is
// ln 8 = 2.08 nats. After one symbol the rest of a row is determined, so the
// only loss left is the first guess of each row (4 rows, 4 start phases):
// ln 4 / 24 = 0.058 nats per step, which the LSTM approaches.
#include <deepgen/deepgen.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc > 1) {  // it takes nothing: say so rather than ignore what was given
    std::fprintf(stderr, "error: lstm_toy takes no arguments (got '%s'); run it as: lstm_toy\n", argv[1]);
    return 1;
  }
  using namespace deepgen;
  const int64_t K = 8, H = 32, B = 4, T = 24;
  Philox rng(42);
  nn::LSTM<float> lstm(K, H, rng);
  nn::Linear<float> head(H, K, rng);
  auto params = lstm.named_parameters();
  for (auto& p : head.named_parameters()) params.push_back(p);
  optim::Adam<float> adam(params, {0.01});

  // Each row starts at a different phase; inputs are targets shifted right.
  Tensor<int32_t> inputs(Shape{B, T}), targets(Shape{B, T});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      targets.at(b, t) = static_cast<int32_t>((b * 3 + t) % K);
      inputs.at(b, t) = t == 0 ? NO_INPUT : targets.at(b, t - 1);
    }
  for (int step = 0; step <= 200; ++step) {
    adam.zero_grad();
    Var<float> loss = softmax_cross_entropy(head(lstm.forward_onehot(inputs).output), targets);
    backward(loss);
    optim::clip_grad_norm(params, 5.0);
    adam.step();
    if (step % 25 == 0) std::printf("step %3d  loss %.4f nats\n", step, loss.value()[0]);
  }
  return 0;
}
