// nn layers: PyTorch names and shapes, forward on hand-computed cases,
// gradient checks through the modules (double), and the one-hot paths
// against the dense ones.
#include <deepgen/nn/embedding.hpp>
#include <deepgen/nn/linear.hpp>
#include <deepgen/nn/lstm.hpp>
#include <deepgen/nn/mlp.hpp>
#include <deepgen/ops/softmax_cross_entropy.hpp>

#include "support/gradcheck.hpp"

using namespace deepgen;
using deepgen::test::check_gradients;
using deepgen::test::random_indices;
using deepgen::test::random_tensor;
using deepgen::test::relative_error;
using deepgen::test::weighted_sum;
using Catch::Contains;
using V = Var<double>;

namespace {
std::vector<std::string> names_of(const nn::NamedParameters<double>& params) {
  std::vector<std::string> out;
  for (const auto& [name, p] : params) out.push_back(name);
  return out;
}
std::vector<V> vars_of(const nn::NamedParameters<double>& params) {
  std::vector<V> out;
  for (const auto& [name, p] : params) out.push_back(p);
  return out;
}
Tensor<double> one_hot(const Tensor<int32_t>& idx, int64_t K) {
  std::vector<int64_t> dims = idx.shape().dims();
  dims.push_back(K);
  Tensor<double> out{Shape(dims)};
  for (int64_t n = 0; n < idx.numel(); ++n)
    if (idx[n] != NO_INPUT) out[n * K + idx[n]] = 1;
  return out;
}
}  // namespace

TEST_CASE("nn::Linear: names, init bounds, forward, gradients", "[nn][gradcheck]") {
  Philox rng(Catch::rngSeed());
  nn::Linear<double> fc(4, 3, rng);
  REQUIRE(names_of(fc.named_parameters()) == std::vector<std::string>{"weight", "bias"});
  CHECK(fc.weight().shape() == Shape{3, 4});
  for (double w : fc.weight().value()) REQUIRE(std::abs(w) <= 0.5);  // 1/√4
  V x(random_tensor({2, 4}), true);
  const MatrixRM<double> ref = (x.value().matrix() * fc.weight().value().matrix().transpose()).rowwise() +
                               fc.bias().value().vec().transpose();
  CHECK((fc(x).value().matrix() - ref).norm() == 0.0);
  auto params = vars_of(fc.named_parameters());
  params.push_back(x);
  check_gradients([&] { return weighted_sum(fc(x)); }, params);
  REQUIRE_THROWS_WITH(nn::Linear<double>(0, 3, rng), Contains("positive"));
}

TEST_CASE("nn::MLP: nn.Sequential names and gradients", "[nn][gradcheck]") {
  Philox rng(Catch::rngSeed());
  nn::MLP<double> mlp({5, 8, 6, 2}, nn::Activation::tanh, rng);
  REQUIRE(names_of(mlp.named_parameters()) ==
          std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"});
  CHECK(mlp.parameter_count() == 5 * 8 + 8 + 8 * 6 + 6 + 6 * 2 + 2);
  V x(random_tensor({3, 5}), true);
  auto params = vars_of(mlp.named_parameters());
  params.push_back(x);
  check_gradients([&] { return weighted_sum(mlp(x)); }, params);
  nn::MLP<double> relu_mlp({5, 7, 2}, nn::Activation::relu, rng);
  check_gradients([&] { return weighted_sum(relu_mlp(x)); }, vars_of(relu_mlp.named_parameters()));
}

TEST_CASE("nn::Embedding: lookup, gradients, bad indices", "[nn][gradcheck]") {
  Philox rng(Catch::rngSeed());
  nn::Embedding<double> emb(6, 3, rng);
  const Tensor<int32_t> idx({2, 2}, {5, 0, 5, 1});
  const Tensor<double> e = emb(idx).value();
  for (int k = 0; k < 3; ++k) CHECK(e.at(0, 0, k) == emb.weight().value().at(5, k));
  check_gradients([&] { return weighted_sum(emb(idx)); }, {emb.weight()});
  REQUIRE_THROWS_WITH(emb(Tensor<int32_t>({1}, 6)), Contains("index 6") && Contains("[0, 6)"));
  REQUIRE_THROWS_WITH(emb(Tensor<int32_t>({1}, -3)), Contains("index -3"));
}

TEST_CASE("nn::LSTM: PyTorch names and shapes", "[nn][lstm]") {
  Philox rng(Catch::rngSeed());
  nn::LSTM<double> lstm(167, 16, rng);
  const auto params = lstm.named_parameters();
  REQUIRE(names_of(params) == std::vector<std::string>{"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"});
  CHECK(params[0].second.shape() == Shape{64, 167});
  CHECK(params[1].second.shape() == Shape{64, 16});
  CHECK(params[2].second.shape() == Shape{64});
  std::vector<std::pair<std::string, V>> prefixed;
  lstm.collect_parameters("lstm.", prefixed);
  CHECK(prefixed[0].first == "lstm.weight_ih_l0");
}

TEST_CASE("nn::LSTM: one-hot gather path equals the dense one-hot path", "[nn][lstm][gradcheck]") {
  Philox rng(Catch::rngSeed());
  const int64_t B = 3, T = 5, K = 6, H = 4;
  nn::LSTM<double> lstm(K, H, rng);
  Tensor<int32_t> tokens = random_indices({B, T}, 0, K);
  for (int64_t b = 0; b < B; ++b) tokens.at(b, 0) = NO_INPUT;  // the PixelRNN's step 0
  const auto sparse = lstm.forward_onehot(tokens);
  const auto dense = lstm(V(one_hot(tokens, K)));
  CHECK(relative_error(sparse.output.value(), dense.output.value()) < 1e-15);
  check_gradients([&] { return weighted_sum(lstm.forward_onehot(tokens).output); }, vars_of(lstm.named_parameters()));
  V x(one_hot(tokens, K), true);
  check_gradients([&] { return weighted_sum(lstm(x).h_n); }, {x});
  REQUIRE_THROWS_WITH(lstm(V(random_tensor({B, T, K + 1}))), Contains("(B, T, 6)") && Contains("[3, 5, 7]"));
  REQUIRE_THROWS_WITH(lstm.forward_onehot(Tensor<int32_t>({1, 2}, {0, K})), Contains("index 6"));
}

TEST_CASE("nn::LSTMStepper: carries the same state as the sequence op", "[nn][lstm]") {
  Philox rng(Catch::rngSeed());
  // H = 7: one slice. H = 130: a slice per thread where there are two or
  // more threads, with unequal slices (64 and 66 units), at batch 1 and 4.
  const int64_t H = GENERATE(7, 130), B = GENERATE(1, 4);
  const int64_t T = 6, K = 5;
  nn::LSTM<double> lstm(K, H, rng);
  Tensor<int32_t> tokens = random_indices({B, T}, 0, K);
  for (int64_t b = 0; b < B; ++b) tokens.at(b, 0) = NO_INPUT;
  const Tensor<double> ref = lstm.forward_onehot(tokens).output.value();
  auto state = nn::LSTMState<double>::zeros(B, H);
  nn::LSTMStepper<double> stepper(lstm);
  for (int64_t t = 0; t < T; ++t) {
    std::vector<int32_t> step(B);
    for (int64_t b = 0; b < B; ++b) step[b] = tokens.at(b, t);
    stepper.step(step.data(), state);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j) REQUIRE(state.h.at(b, j) == Approx(ref.at(b, t, j)).epsilon(1e-12).margin(1e-14));
  }
  // The final cell state too: h alone could hide a wrongly ordered gate.
  Tensor<int32_t> all = tokens;
  const auto seq = lstm.forward_onehot(all);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < H; ++j) REQUIRE(state.c.at(b, j) == Approx(seq.c_n.value().at(b, j)).epsilon(1e-12).margin(1e-14));
}

TEST_CASE("nn::LSTMStepper: S tokens per step carry the same state as the sequence op", "[nn][lstm]") {
  Philox rng(Catch::rngSeed());
  const int64_t H = GENERATE(7, 130), B = 3, T = 5, S = 4, K = 9;
  nn::LSTM<double> lstm(K, H, rng);
  Tensor<int32_t> tokens = random_indices({B, T, S}, 0, K);
  tokens.at(0, 0, 0) = NO_INPUT;
  tokens.at(2, 1, 3) = NO_INPUT;
  const auto seq = lstm.forward_onehot(tokens);
  auto state = nn::LSTMState<double>::zeros(B, H);
  nn::LSTMStepper<double> stepper(lstm, S);
  CHECK(stepper.slots() == S);
  for (int64_t t = 0; t < T; ++t) {
    std::vector<int32_t> step(B * S);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < S; ++s) step[b * S + s] = tokens.at(b, t, s);
    stepper.step(step.data(), state);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j)
        REQUIRE(state.h.at(b, j) == Approx(seq.output.value().at(b, t, j)).epsilon(1e-12).margin(1e-14));
  }
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < H; ++j) REQUIRE(state.c.at(b, j) == Approx(seq.c_n.value().at(b, j)).epsilon(1e-12).margin(1e-14));
  std::vector<int32_t> bad(B * S, 0);
  bad[B * S - 1] = int32_t(K);
  REQUIRE_THROWS_WITH(stepper.step(bad.data(), state), Contains("token 9 of row 2"));
  REQUIRE_THROWS_WITH(nn::LSTMStepper<double>(lstm, 0), Contains("slots = 0"));
}

TEST_CASE("nn::LSTMCell: equals one LSTM step; gradients", "[nn][lstm][gradcheck]") {
  Philox rng(Catch::rngSeed());
  const int64_t B = 2, I = 3, H = 4;
  nn::LSTMCell<double> cell(I, H, rng);
  REQUIRE(names_of(cell.named_parameters()) == std::vector<std::string>{"weight_ih", "weight_hh", "bias_ih", "bias_hh"});
  V x(random_tensor({B, I}), true), h(random_tensor({B, H}), true), c(random_tensor({B, H}), true);
  auto params = vars_of(cell.named_parameters());
  // Three chained steps: gradients must flow through the carried (h, c).
  auto unroll = [&] {
    auto [h1, c1] = cell(x, h, c);
    auto [h2, c2] = cell(x, h1, c1);
    auto [h3, c3] = cell(x, h2, c2);
    return add(weighted_sum(h3, 1), weighted_sum(c3, 2));
  };
  params.insert(params.end(), {x, h, c});
  check_gradients(unroll, params);
  REQUIRE_THROWS_WITH(cell(V(random_tensor({B, I + 1}))), Contains("(B, 3)") && Contains("[2, 4]"));
}

TEST_CASE("nn::Module: load_parameters checks names and shapes", "[nn][errors]") {
  Philox rng(1);
  nn::Linear<double> fc(3, 2, rng);
  std::map<std::string, Tensor<double>> good{{"weight", random_tensor({2, 3})}, {"bias", random_tensor({2})}};
  fc.load_parameters(good);
  CHECK(fc.weight().value().at(1, 2) == good["weight"].at(1, 2));
  auto missing = good;
  missing.erase("bias");
  REQUIRE_THROWS_WITH(fc.load_parameters(missing, "model.safetensors"),
                      Contains("model.safetensors") && Contains("'bias' is missing"));
  auto wrong = good;
  wrong["weight"] = random_tensor({3, 3});
  REQUIRE_THROWS_WITH(fc.load_parameters(wrong), Contains("[3, 3]") && Contains("[2, 3]"));
}

TEST_CASE("nn::Module: load_parameters refuses NaN and infinite weights, naming file and tensor",
          "[nn][errors]") {
  Philox rng(1);
  nn::Linear<double> fc(3, 2, rng);
  const Tensor<double> before = fc.weight().value();
  for (double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
    std::map<std::string, Tensor<double>> tensors{{"weight", random_tensor({2, 3})}, {"bias", random_tensor({2})}};
    tensors["bias"][1] = bad;
    REQUIRE_THROWS_WITH(fc.load_parameters(tensors, "run/model.safetensors"),
                        Contains("run/model.safetensors") && Contains("parameter 'bias'") &&
                            Contains("at element 1") && Contains("must be finite"));
    // Refused before any parameter changed.
    CHECK(fc.weight().value().at(1, 2) == before.at(1, 2));
  }
}
