// tests/cuda/pixelrnn.test.cpp — cuda::PixelRNN against models::PixelRNN:
// a whole training step (loss, every gradient, the updated weights, with and
// without dropout and clipping), the NLL, and sampling, for the lecture's
// context and the 2-D ones (above, above+position). The reference is the
// CPU model in double holding the same weights. Compiled by the host
// compiler (the CPU model is Eigen code) into the CUDA test binary.
//
// Without a device the GPU cases WARN and pass (DEEPGEN_REQUIRE_GPU=1 makes
// that a failure); the no-device error case runs everywhere.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/pixelrnn.hpp"
#include "deepgen/models/pixelrnn.hpp"
#include "deepgen/models/pixelrnn_cuda.hpp"

#include "cuda/model_support.hpp"
#include "cuda/support.hpp"

namespace {

using namespace deepgen;
using namespace deepgen::test::gpu;

constexpr int64_t K = 13, H = 24, B = 5, P = 12;  // awkward sizes, a 12-step BPTT

std::vector<int32_t> random_images(std::mt19937& rng, int64_t count, int64_t pixels) {
  std::uniform_int_distribution<int32_t> colour(0, int32_t(K - 1));
  std::vector<int32_t> images(size_t(count * pixels));
  for (auto& c : images) c = colour(rng);
  return images;
}

Tensor<int32_t> as_tensor(const std::vector<int32_t>& images, int64_t count, int64_t pixels) {
  Tensor<int32_t> t(Shape{count, pixels});
  std::copy(images.begin(), images.end(), t.data());
  return t;
}

/// The double CPU model with exactly the weights (and the configuration) of `model`.
template <typename T>
models::PixelRNN<double> in_double(const models::PixelRNN<T>& model) {
  Philox unused(0);
  models::PixelRNN<double> ref(model.config(), unused);
  copy_weights(model, ref);
  return ref;
}

/// A 2-D context's configuration for IMAGE_W × IMAGE_H = P-pixel images.
constexpr int64_t IMAGE_W = 4, IMAGE_H = 3;
static_assert(IMAGE_W * IMAGE_H == P, "the 2-D cases use the P-pixel images of the others");
models::PixelRNNConfig config_2d(models::PixelContext context) {
  return models::PixelRNNConfig{K, H, context, IMAGE_W, IMAGE_H};
}

/// Every weight of `model` times `factor`: larger weights make each step's
/// colour depend more on what it sees (the pixels above too), so a token
/// built wrong changes a greedy completion.
template <typename T>
void scale_weights(models::PixelRNN<T>& model, double factor) {
  for (auto& [name, p] : model.named_parameters()) {
    Var<T> q = p;
    for (int64_t n = 0; n < q.value().numel(); ++n) q.value()[n] = T(double(q.value()[n]) * factor);
  }
}

/// forward_backward on the GPU against models::PixelRNN::train_step's first
/// half on the double model `ref` (same dropout mask): the loss, then every
/// parameter's gradient, by relative error.
template <typename T>
void check_loss_and_gradients(cuda::PixelRNN<T>& gpu, models::PixelRNN<double>& ref, optim::Adam<double>& ref_adam,
                              const std::vector<int32_t>& images, const Tensor<int32_t>& batch, double dropout,
                              const cuda::PixelRNNStepOptions& opts) {
  const double loss = gpu.forward_backward(images.data(), batch.dim(0), batch.dim(1), dropout, opts.seed);
  ref_adam.zero_grad();
  Philox mask_rng(opts.seed, uint64_t(1) << 40 | uint64_t(ref_adam.steps()));
  const Var<double> ref_loss = ref.training_loss(batch, dropout, mask_rng);
  backward(ref_loss);
  INFO("loss gpu " << loss << " cpu " << ref_loss.value()[0]);
  CHECK(std::abs(loss - ref_loss.value()[0]) <= step_tolerance<T>() * ref_loss.value()[0]);
  const auto ref_params = ref.named_parameters();
  for (int i = 0; i < cuda::PixelRNN<T>::PARAMETERS; ++i) {
    std::vector<T> g(size_t(gpu.parameters().numel(i)), T(NAN));
    gpu.parameters().get_gradient(i, g.data());
    require_close(ref_params[size_t(i)].first.c_str(), g, flat(ref_params[size_t(i)].second.grad()),
                  step_tolerance<T>());
  }
}

}  // namespace

TEST_CASE("cuda::PixelRNN without a device: a CudaError that says what to do", "[cuda][pixelrnn]") {
  std::string why;
  if (cuda_device_available(&why)) {
    SUCCEED("a device is present; the no-device error cannot be provoked here");
    return;
  }
  try {
    cuda::PixelRNN<float> gpu(K, H);
    FAIL("constructing a cuda::PixelRNN without a device did not throw");
  } catch (const CudaError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("failed") != std::string::npos);
    CHECK(msg.find("check.hpp") == std::string::npos);  // names the caller's file:line, not the macro's
  }
}

TEMPLATE_TEST_CASE("cuda::PixelRNN: a training step equals the CPU model's", "[cuda][pixelrnn]", float, double) {
  if (gpu_missing()) return;
  using T = TestType;
  const double dropout = GENERATE(0.0, 0.3);
  const double clip = GENERATE(0.0, 0.05);  // 0.05 is below the first step's norm: clipping acts
  INFO("dropout " << dropout << ", clip " << clip);
  std::mt19937 rng = make_rng(31, int64_t(dropout * 10), int64_t(clip * 100));
  const std::vector<int32_t> images = random_images(rng, B, P);
  Philox init(rng());
  models::PixelRNN<T> model(K, H, init);
  // eps = 1e-3: the first Adam step is lr·g/(|g| + eps), smooth in g, so the
  // float and double updates agree to rounding even where g is near zero.
  cuda::PixelRNNStepOptions opts;
  opts.lr = 1e-2;
  opts.eps = 1e-3;
  opts.max_grad_norm = clip;
  opts.dropout = dropout;
  opts.seed = 77;
  optim::Adam<T> adam(model.named_parameters(), {opts.lr, opts.beta1, opts.beta2, opts.eps, opts.weight_decay});
  cuda::PixelRNN<T> gpu = models::to_device(model, &adam);

  models::PixelRNN<double> ref = in_double(model);
  optim::Adam<double> ref_adam(ref.named_parameters(), {opts.lr, opts.beta1, opts.beta2, opts.eps, opts.weight_decay});
  const Tensor<int32_t> batch = as_tensor(images, B, P);

  // Loss and gradients: models::PixelRNN::train_step's first half.
  check_loss_and_gradients(gpu, ref, ref_adam, images, batch, dropout, opts);
  const auto ref_params = ref.named_parameters();

  // The whole step, from the same starting point on both sides.
  gpu.parameters().set_steps(0);
  const double step_loss = gpu.train_step(images.data(), B, P, opts);
  const double ref_step_loss = ref.train_step(batch, ref_adam, clip, dropout, opts.seed);
  CHECK(std::abs(step_loss - ref_step_loss) <= step_tolerance<T>() * ref_step_loss);
  CHECK(gpu.parameters().steps() == 1);
  models::to_host(gpu, model, &adam);
  const auto params = model.named_parameters();
  for (size_t i = 0; i < params.size(); ++i)
    require_close(params[i].first.c_str(), elements(params[i].second.value()),
                  flat(ref_params[i].second.value()), step_tolerance<T>());
  CHECK(adam.steps() == 1);
}

TEMPLATE_TEST_CASE("cuda::PixelRNN: NLL over batches equals the CPU model's", "[cuda][pixelrnn]", float, double) {
  if (gpu_missing()) return;
  using T = TestType;
  std::mt19937 rng = make_rng(32, 0, 0);
  const int64_t count = 7;  // batches of 3: 3 + 3 + 1
  const std::vector<int32_t> images = random_images(rng, count, P);
  Philox init(rng());
  const models::PixelRNN<T> model(K, H, init);
  cuda::PixelRNN<T> gpu = models::to_device(model);
  const double got = gpu.nll(images.data(), count, P, 3);
  const double want = in_double(model).nll(images.data(), count, P, 3);
  INFO("gpu " << got << " cpu " << want);
  CHECK(std::abs(got - want) <= step_tolerance<T>() * want);
}

TEST_CASE("cuda::PixelRNN::complete: valid colours, the shown pixels kept, repeatable, the CPU's draws",
          "[cuda][pixelrnn][sampling]") {
  if (gpu_missing()) return;
  std::mt19937 rng = make_rng(33, 0, 0);
  const int64_t rows = 64;
  const std::vector<int32_t> images = random_images(rng, rows, P);
  Philox init(rng());
  const models::PixelRNN<float> model(K, H, init);
  cuda::PixelRNN<float> gpu = models::to_device(model);

  // From scratch, twice with one seed: the same colours, all in the palette.
  std::vector<int32_t> a(size_t(rows * P), -7), b(size_t(rows * P), -7);
  gpu.complete(a.data(), rows, P, 0, 1.0, 5);
  gpu.complete(b.data(), rows, P, 0, 1.0, 5);
  CHECK(a == b);
  for (int32_t c : a) REQUIRE((c >= 0 && c < K));

  // Completion keeps the shown rows.
  const int64_t keep = P / 2;
  std::vector<int32_t> done = images;
  gpu.complete(done.data(), rows, P, keep, 1.0, 5);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < keep; ++t) REQUIRE(done[size_t(r * P + t)] == images[size_t(r * P + t)]);

  // The last three pixels: draws 0, 1, 2 of each row's Philox stream, as the
  // CPU makes them, from probabilities equal to rounding. A row's colours
  // agree unless a uniform falls within rounding of a boundary (after which
  // the row goes its own way): allow two such rows.
  for (double temperature : {1.0, 0.0}) {
    INFO("temperature " << temperature);
    const int64_t shown = P - 3;
    std::vector<int32_t> tail = images;
    gpu.complete(tail.data(), rows, P, shown, temperature, 9, 100);
    const Tensor<int32_t> want = model.complete(as_tensor(images, rows, P), shown, {temperature, 0}, 9, 100);
    int64_t same = 0;
    for (int64_t r = 0; r < rows; ++r)
      same += std::equal(tail.begin() + r * P + shown, tail.begin() + (r + 1) * P, want.data() + r * P + shown);
    CHECK(same >= rows - 2);
  }
}

TEST_CASE("cuda::PixelRNN: to_device then to_host gives back every weight and Adam's state", "[cuda][pixelrnn]") {
  if (gpu_missing()) return;
  Philox init(3);
  models::PixelRNN<float> model(K, H, init);
  optim::Adam<float> adam(model.named_parameters(), {1e-3});
  std::mt19937 rng = make_rng(34, 0, 0);
  const std::vector<int32_t> images = random_images(rng, B, P);
  model.train_step(as_tensor(images, B, P), adam, 1.0);  // non-zero moments, step 1
  const cuda::PixelRNN<float> gpu = models::to_device(model, &adam);
  CHECK(gpu.parameters().steps() == 1);
  Philox other(4);
  models::PixelRNN<float> back(K, H, other);
  optim::Adam<float> back_adam(back.named_parameters(), {1e-3});
  models::to_host(gpu, back, &back_adam);
  const auto want = model.named_parameters(), got = back.named_parameters();
  for (size_t i = 0; i < want.size(); ++i) {
    INFO(want[i].first);
    CHECK(got[i].second.value().vec() == want[i].second.value().vec());
  }
  const auto want_state = adam.state(), got_state = back_adam.state();
  for (const auto& [name, t] : want_state) {
    INFO(name);
    CHECK(got_state.at(name).vec() == t.vec());
  }
}

TEST_CASE("cuda::PixelRNN: bad images and options are refused before any work", "[cuda][pixelrnn]") {
  if (gpu_missing()) return;
  cuda::PixelRNN<float> gpu(K, H);
  std::vector<int32_t> images(size_t(B * P), 1);
  images[7] = int32_t(K);  // one colour past the palette
  CHECK_THROWS_WITH(gpu.forward_backward(images.data(), B, P, 0, 0),
                    Catch::Contains("colour 13 at image 0, pixel 7 is outside the palette [0, 13)"));
  images[7] = 0;
  CHECK_THROWS_WITH(gpu.forward_backward(images.data(), B, P, 1.0, 0), Catch::Contains("dropout rate 1"));
  cuda::PixelRNNStepOptions bad;
  bad.lr = -1;
  CHECK_THROWS_WITH(gpu.train_step(images.data(), B, P, bad), Catch::Contains("need lr > 0"));
  CHECK(gpu.parameters().steps() == 0);
  CHECK_THROWS_WITH(gpu.complete(images.data(), B, P, P + 1, 1.0, 0), Catch::Contains("use 0 <= keep <= 12"));
  // NaN output biases: the loss is not finite, and the step stops before any
  // update; every probability is NaN, so sampling has no colour to draw.
  const std::vector<float> fc_bias(size_t(K), NAN);
  gpu.parameters().set_parameter(5, fc_bias.data());
  CHECK_THROWS_WITH(gpu.train_step(images.data(), B, P, {}), Catch::Contains("nan at step 1"));
  CHECK(gpu.parameters().steps() == 0);
  std::vector<float> weight_hh(size_t(gpu.parameters().numel(1)), 1.f);
  gpu.parameters().get_parameter(1, weight_hh.data());
  CHECK(std::all_of(weight_hh.begin(), weight_hh.end(), [](float w) { return w == 0.f; }));  // untouched zeros
  CHECK_THROWS_WITH(gpu.complete(images.data(), B, P, 2, 1.0, 0), Catch::Contains("has no colour to draw"));
  CHECK_THROWS_WITH(gpu.complete(images.data(), B, P, 2, -1.0, 0), Catch::Contains("temperature -1 is invalid"));
}

TEST_CASE("cuda::PixelRNN::complete: one NaN output bias is refused as on the CPU; a bad temperature before any work",
          "[cuda][pixelrnn][sampling]") {
  if (gpu_missing()) return;
  std::mt19937 rng = make_rng(36, 0, 0);
  const std::vector<int32_t> images = random_images(rng, B, P);
  Philox init(rng());
  models::PixelRNN<float> model(K, H, init);
  // One NaN among the K output biases: every row's logits are partly NaN.
  for (auto& [name, p] : model.named_parameters())
    if (name == "fc.bias") {
      Var<float> q = p;
      q.value()[3] = NAN;
    }
  cuda::PixelRNN<float> gpu = models::to_device(model);
  for (double temperature : {1.0, 0.5}) {
    INFO("temperature " << temperature);
    CHECK_THROWS_WITH(model.complete(as_tensor(images, B, P), 2, {temperature, 0}, 3), Catch::Contains("is nan"));
    std::vector<int32_t> got = images;
    CHECK_THROWS_WITH(gpu.complete(got.data(), B, P, 2, temperature, 3), Catch::Contains("has no colour to draw"));
    CHECK(got == images);  // nothing written before the refusal
  }
  // A temperature sample_rows would refuse fails before the first step: no
  // pixel written, the workspaces not even reserved.
  std::vector<int32_t> got = images;
  cuda::PixelRNN<float> fresh = models::to_device(models::PixelRNN<float>(K, H, init));
  for (double bad : {double(INFINITY), double(NAN), -0.5}) {
    INFO("temperature " << bad);
    CHECK_THROWS_WITH(fresh.complete(got.data(), B, P, 2, bad, 3),
                      Catch::Contains("cuda::PixelRNN::complete: temperature") && Catch::Contains("is invalid"));
  }
  CHECK(got == images);
  // A huge finite temperature the CPU accepts is accepted (equal weights), not rejected mid-loop.
  CHECK_NOTHROW(fresh.complete(got.data(), B, P, 2, 1e35, 3));
  for (int32_t c : got) CHECK((c >= 0 && c < K));
}

TEST_CASE("cuda::PixelRNN: training on the GPU follows the CPU's, step by step and to a similar NLL",
          "[cuda][pixelrnn][training]") {
  if (gpu_missing()) return;
  // Striped 8×8 images with 10% noise: learnable, so the NLL moves far (from
  // log 13 ≈ 2.57 to about 0.9 on the CPU in 10 epochs).
  constexpr int64_t side = 8, pixels = side * side, train = 64, held_out = 16, batch = 8, epochs = 10;
  std::mt19937 rng = make_rng(35, 0, 0);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<int32_t> images(size_t((train + held_out) * pixels));
  for (int64_t i = 0; i < train + held_out; ++i)
    for (int64_t p = 0; p < pixels; ++p)
      images[size_t(i * pixels + p)] = u(rng) < 0.1 ? int32_t(u(rng) * K) : int32_t((p % side / 2 + i) % K);
  cuda::PixelRNNStepOptions opts;
  opts.lr = 2e-2;
  opts.eps = 1e-3;  // smooth in the gradient (see the single-step case), so the two devices track
  opts.dropout = 0.2;
  opts.seed = 12;
  Philox init(11);
  models::PixelRNN<float> cpu(K, H, init);
  optim::Adam<float> adam(cpu.named_parameters(), {opts.lr, opts.beta1, opts.beta2, opts.eps, opts.weight_decay});
  cuda::PixelRNN<float> gpu = models::to_device(cpu, &adam);
  auto step_both = [&](int64_t first) {
    const int32_t* x = images.data() + first * pixels;
    cpu.train_step(as_tensor(std::vector<int32_t>(x, x + batch * pixels), batch, pixels), adam,
                   opts.max_grad_norm, opts.dropout, opts.seed);
    gpu.train_step(x, batch, pixels, opts);
  };

  // The first epoch's 8 steps (dropout masks, clipping, Adam) keep the weights
  // equal to float rounding.
  for (int64_t first = 0; first < train; first += batch) step_both(first);
  models::PixelRNN<float> from_gpu(K, H, init);
  models::to_host(gpu, from_gpu);
  const auto want = cpu.named_parameters(), got = from_gpu.named_parameters();
  for (size_t i = 0; i < want.size(); ++i)
    require_close(want[i].first.c_str(),
                  elements(got[i].second.value()),
                  flat(want[i].second.value()), 1e-4);

  // Over many steps the two runs separate as any two float orderings do (a
  // one-ulp change to one weight moves this NLL by up to ~0.02 on the CPU
  // alone), so the end is compared loosely: both learn, and end near each other.
  for (int64_t e = 1; e < epochs; ++e)
    for (int64_t first = 0; first < train; first += batch) step_both(first);
  const int32_t* test = images.data() + train * pixels;
  const double cpu_nll = cpu.nll(test, held_out, pixels), gpu_nll = gpu.nll(test, held_out, pixels);
  INFO("held-out NLL after " << epochs << " epochs: CPU " << cpu_nll << ", GPU " << gpu_nll);
  CHECK(cpu_nll < 1.5);
  CHECK(gpu_nll < 1.5);
  CHECK(std::abs(cpu_nll - gpu_nll) <= 0.1);
}

// ---- the 2-D contexts (pixel_context.hpp) ------------------------------------------

TEMPLATE_TEST_CASE("cuda::PixelRNN with a 2-D context: loss, every gradient and the step equal the CPU model's",
                   "[cuda][pixelrnn][context]", float, double) {
  if (gpu_missing()) return;
  using T = TestType;
  const models::PixelContext context = GENERATE(models::PixelContext::above, models::PixelContext::above_position);
  const double dropout = GENERATE(0.0, 0.3);
  INFO("context " << models::context_name(context) << ", dropout " << dropout);
  std::mt19937 rng = make_rng(37, int64_t(context), int64_t(dropout * 10));
  const std::vector<int32_t> images = random_images(rng, B, P);
  Philox init(rng());
  models::PixelRNN<T> model(config_2d(context), init);
  cuda::PixelRNNStepOptions opts;
  opts.lr = 1e-2;
  opts.eps = 1e-3;  // smooth in g: see the lecture model's case
  opts.max_grad_norm = 0.05;
  opts.dropout = dropout;
  opts.seed = 78;
  optim::Adam<T> adam(model.named_parameters(), {opts.lr, opts.beta1, opts.beta2, opts.eps, opts.weight_decay});
  cuda::PixelRNN<T> gpu = models::to_device(model, &adam);
  CHECK(gpu.config().context == context);
  CHECK((gpu.parameters().shape(0) == std::vector<int64_t>{4 * H, model.config().input_size()}));

  // Poison: a larger batch of other images first, so the workspaces and the
  // gradient buffer hold stale values the real call must overwrite.
  const std::vector<int32_t> other = random_images(rng, B + 2, P);
  gpu.forward_backward(other.data(), B + 2, P, dropout, opts.seed + 1);

  models::PixelRNN<double> ref = in_double(model);
  optim::Adam<double> ref_adam(ref.named_parameters(), {opts.lr, opts.beta1, opts.beta2, opts.eps, opts.weight_decay});
  const Tensor<int32_t> batch = as_tensor(images, B, P);
  check_loss_and_gradients(gpu, ref, ref_adam, images, batch, dropout, opts);
  const auto ref_params = ref.named_parameters();

  // The whole step (clipping acts at 0.05), then the weights back to the CPU model.
  gpu.parameters().set_steps(0);
  const double step_loss = gpu.train_step(images.data(), B, P, opts);
  const double ref_step_loss = ref.train_step(batch, ref_adam, opts.max_grad_norm, dropout, opts.seed);
  CHECK(std::abs(step_loss - ref_step_loss) <= step_tolerance<T>() * ref_step_loss);
  models::to_host(gpu, model, &adam);
  const auto params = model.named_parameters();
  for (size_t i = 0; i < params.size(); ++i)
    require_close(params[i].first.c_str(), elements(params[i].second.value()), flat(ref_params[i].second.value()),
                  step_tolerance<T>());
}

TEMPLATE_TEST_CASE("cuda::PixelRNN with a 2-D context: NLL over batches equals the CPU model's",
                   "[cuda][pixelrnn][context]", float, double) {
  if (gpu_missing()) return;
  using T = TestType;
  const models::PixelContext context = GENERATE(models::PixelContext::above, models::PixelContext::above_position);
  INFO("context " << models::context_name(context));
  std::mt19937 rng = make_rng(38, int64_t(context), 0);
  const int64_t count = 7;  // batches of 3: 3 + 3 + 1
  const std::vector<int32_t> images = random_images(rng, count, P);
  Philox init(rng());
  const models::PixelRNN<T> model(config_2d(context), init);
  cuda::PixelRNN<T> gpu = models::to_device(model);
  const double got = gpu.nll(images.data(), count, P, 3);
  const double want = in_double(model).nll(images.data(), count, P, 3);
  INFO("gpu " << got << " cpu " << want);
  CHECK(std::abs(got - want) <= step_tolerance<T>() * want);
}

TEMPLATE_TEST_CASE("cuda::PixelRNN::complete with a 2-D context: the CPU's completion, the kept pixels kept",
                   "[cuda][pixelrnn][context][sampling]", float, double) {
  if (gpu_missing()) return;
  using T = TestType;
  const models::PixelContext context = GENERATE(models::PixelContext::above, models::PixelContext::above_position);
  INFO("context " << models::context_name(context));
  std::mt19937 rng = make_rng(39, int64_t(context), 0);
  const int64_t rows = 64;
  const std::vector<int32_t> images = random_images(rng, rows, P);
  Philox init(rng());
  models::PixelRNN<T> model(config_2d(context), init);
  scale_weights(model, 4.0);
  cuda::PixelRNN<T> gpu = models::to_device(model);
  // keep 0: from scratch; 1: every above token of rows 1 … built on the
  // device from drawn pixels; W + 1: kept pixels above the first drawn ones;
  // P − 1: one pixel, no token built on the device.
  for (int64_t keep : {int64_t(0), int64_t(1), IMAGE_W + 1, P - 1}) {
    for (double temperature : {0.0, 1.0}) {
      INFO("keep " << keep << ", temperature " << temperature);
      std::vector<int32_t> got = images;
      std::fill(got.begin(), got.end(), poison<int32_t>());  // the pixels to draw: never read
      for (int64_t r = 0; r < rows; ++r) std::copy_n(images.begin() + r * P, keep, got.begin() + r * P);
      gpu.complete(got.data(), rows, P, keep, temperature, 9, 100);
      const Tensor<int32_t> want = model.complete(as_tensor(images, rows, P), keep, {temperature, 0}, 9, 100);
      int64_t same = 0;
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t t = 0; t < keep; ++t) REQUIRE(got[size_t(r * P + t)] == images[size_t(r * P + t)]);
        for (int64_t t = keep; t < P; ++t) REQUIRE((got[size_t(r * P + t)] >= 0 && got[size_t(r * P + t)] < K));
        same += std::equal(got.begin() + r * P, got.begin() + (r + 1) * P, want.data() + r * P);
      }
      // Equal probabilities to rounding: in double every row agrees; in float
      // a uniform (or a near tie at temperature 0) within rounding of a
      // boundary sends a row its own way: allow two such rows.
      if (std::is_same<T, double>::value) CHECK(same == rows);
      else CHECK(same >= rows - 2);
    }
  }
}

TEST_CASE("cuda::PixelRNN with a 2-D context: images of another size are refused before any work",
          "[cuda][pixelrnn][context]") {
  const models::PixelContext context = GENERATE(models::PixelContext::above, models::PixelContext::above_position);
  INFO("context " << models::context_name(context));
  // A configuration the CPU model refuses is refused here too, before any CUDA call (so also without a GPU).
  CHECK_THROWS_WITH(cuda::PixelRNN<float>(models::PixelRNNConfig{K, H, context, 0, 3}),
                    Catch::Contains("cuda::PixelRNN: the '") && Catch::Contains("needs the image size"));
  if (gpu_missing()) return;
  cuda::PixelRNN<float> gpu(config_2d(context));
  const int64_t wrong = P - 2;  // not 4 x 3
  std::vector<int32_t> images(size_t(B * wrong), 1);
  const std::string said = std::string("pixels but this model's '") + models::context_name(context) +
                           "' context reads 4 x 3 images";
  CHECK_THROWS_WITH(gpu.forward_backward(images.data(), B, wrong, 0, 0),
                    Catch::Contains("cuda::PixelRNN::forward_backward: images have 10") && Catch::Contains(said));
  CHECK_THROWS_WITH(gpu.train_step(images.data(), B, wrong, {}), Catch::Contains(said));
  CHECK(gpu.parameters().steps() == 0);
  CHECK_THROWS_WITH(gpu.nll(images.data(), B, wrong), Catch::Contains(said));
  const std::vector<int32_t> before = images;
  CHECK_THROWS_WITH(gpu.complete(images.data(), B, wrong, 2, 1.0, 0), Catch::Contains(said));
  CHECK(images == before);
}
