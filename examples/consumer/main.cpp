// A program outside the deepgen tree, built against the installed package
// with find_package(deepgen): one training step of a tiny LSTM.
#include <deepgen/deepgen.hpp>

#include <cstdio>

int main() {
  using namespace deepgen;
  Philox rng(7);
  nn::LSTM<float> lstm(4, 8, rng);
  nn::Linear<float> head(8, 4, rng);
  const Tensor<int32_t> tokens({1, 3}, {NO_INPUT, 1, 2});
  const Tensor<int32_t> targets({3}, {1, 2, 3});
  Var<float> loss = softmax_cross_entropy(head(lstm.forward_onehot(tokens).output), targets);
  backward(loss);
  std::printf("loss %.4f\n", loss.value()[0]);
  return loss.value()[0] > 0 ? 0 : 1;
}
