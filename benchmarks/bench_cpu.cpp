// bench_cpu — deepgen's CPU workloads on the lecture's shapes (K = 167
// colours, H = 512 LSTM cells, 400-pixel images), each beside a reference
// measured in the same binary:
//
//   lstm_step/B        one LSTM step forward, one-hot input, batch B
//   lstm_step_plain/B  the same step written plainly: the one-hot input as a
//                      dense (B, K) matrix through a GEMM, the recurrent GEMM,
//                      then separate passes for bias, σ/tanh, c and h
//   train_step/64      a PixelRNN training step: forward, backward, Adam
//   sample/B           drawing B images of 400 pixels from scratch
//   sample_bf16/B      the same with the 16-bit option (W_hh and fc.weight in
//                      bfloat16; SamplingOptions::bf16_weights)
//   complete_test      completing 40 images from their top half (the TEST set's size)
//   train_step_2d/64, sample_2d/B, sample_2d_bf16/B
//                      the same for the PixelRNN that also sees the row above
//                      and its position: the example program's default,
//                      above+position with 256 cells
//   vae_step/64        a training step of the lecture-shaped VAE (one-hot
//                      400×167 → 512 → 256 → 2×10; 10 → 256 → 512 → 400×167)
//   vae_step_default/64  the same for deepgen's default VAE (colour_dim 16)
//   gemm/2048          a 2048² single-precision GEMM through Eigen: the
//                      machine's practical ceiling, so every row can be read
//                      as a fraction of it
//
// Every row reports time and GFLOP/s. FLOPs count multiply-adds as 2 and only
// the matrix products (the work any implementation must do); the per-row
// formulas are next to each benchmark. benchmarks/compare_pytorch.py runs this
// binary beside the same workloads in PyTorch.
#include <deepgen/deepgen.hpp>
#include <deepgen/allocator.hpp>
#include <deepgen/models/pixelrnn.hpp>
#include <deepgen/models/vae.hpp>

#include <benchmark/benchmark.h>

#include "cpu_lstm_step.hpp"

using namespace deepgen;

namespace {
constexpr int64_t K = 167, H = 512, P = 400, G = 4 * H;

void set_gflops(benchmark::State& state, double flops) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

Tensor<int32_t> random_images(int64_t B, Philox& rng) {
  Tensor<int32_t> images(Shape{B, P});
  for (auto& v : images) v = static_cast<int32_t>(rng.uniform_int(K));
  return images;
}

// ---- 1. one LSTM step ---------------------------------------------------------------
// FLOPs: 2·B·H·4H (h·W_hhᵀ); the one-hot input adds no multiply.
double lstm_step_flops(int64_t B) { return 2.0 * B * H * G; }

void BM_lstm_step(benchmark::State& state) {
  const int64_t B = state.range(0);
  time_cpu_lstm_step(state, B, K, H);
  set_gflops(state, lstm_step_flops(B));
}

void BM_lstm_step_plain(benchmark::State& state) {
  const int64_t B = state.range(0);
  const MatrixRM<float> W_ih = MatrixRM<float>::Random(G, K), W_hh = MatrixRM<float>::Random(G, H);
  const VectorX<float> b_ih = VectorX<float>::Random(G), b_hh = VectorX<float>::Random(G);
  const MatrixRM<float> h = MatrixRM<float>::Random(B, H), c = MatrixRM<float>::Random(B, H);
  MatrixRM<float> x = MatrixRM<float>::Zero(B, K);
  Philox rng(2);
  for (int64_t b = 0; b < B; ++b) x(b, int64_t(rng.uniform_int(K))) = 1;
  MatrixRM<float> gates(B, G), c_new(B, H), h_new(B, H);
  for (auto _ : state) {
    gates.noalias() = x * W_ih.transpose();
    gates.noalias() += h * W_hh.transpose();
    gates.rowwise() += b_ih.transpose();
    gates.rowwise() += b_hh.transpose();
    gates.leftCols(2 * H) = gates.leftCols(2 * H).array().logistic().matrix();
    gates.middleCols(2 * H, H) = gates.middleCols(2 * H, H).array().tanh().matrix();
    gates.rightCols(H) = gates.rightCols(H).array().logistic().matrix();
    c_new = gates.middleCols(H, H).cwiseProduct(c) + gates.leftCols(H).cwiseProduct(gates.middleCols(2 * H, H));
    h_new = gates.rightCols(H).cwiseProduct(c_new.array().tanh().matrix());
    benchmark::DoNotOptimize(h_new.data());
  }
  set_gflops(state, lstm_step_flops(B));
}

// The lecture's model (previous pixel, 512 cells) and the example program's
// default (above+position, 256 cells) on 20 × 20 images.
models::PixelRNNConfig lecture_config() { return {K, H, models::PixelContext::previous, 0, 0}; }
models::PixelRNNConfig default_2d_config() { return {K, 256, models::PixelContext::above_position, 20, 20}; }

// ---- 2. PixelRNN training step ----------------------------------------------------------
// FLOPs: recurrence 3·2·B·P·4H·H (forward h·W_hhᵀ, backward dh, dW_hh) and the
// output layer 2·B·P·H·K forward + 4·B·P·H·K backward: 174 GFLOP at B = 64
// and H = 512. The inputs are gathers (1 or 6 per step), no multiply.
double train_step_flops(int64_t B, int64_t hidden) {
  return 3.0 * 2 * B * P * 4 * hidden * hidden + 6.0 * B * P * hidden * K;
}

void train_step(benchmark::State& state, const models::PixelRNNConfig& config) {
  const int64_t B = state.range(0);
  Philox rng(1);
  models::PixelRNN<float> model(config, rng);
  optim::Adam<float> adam(model.named_parameters());
  const Tensor<int32_t> images = random_images(B, rng);
  model.train_step(images, adam, 1.0);  // warm-up: first touch of every buffer
  for (auto _ : state) benchmark::DoNotOptimize(model.train_step(images, adam, 1.0));
  set_gflops(state, train_step_flops(B, config.hidden_size));
  state.counters["pixels/s"] = benchmark::Counter(double(B * P), benchmark::Counter::kIsIterationInvariantRate);
}
void BM_train_step(benchmark::State& state) { train_step(state, lecture_config()); }
void BM_train_step_2d(benchmark::State& state) { train_step(state, default_2d_config()); }

// ---- 3. sampling and completion ---------------------------------------------------------
// FLOPs per generated or read pixel: 2·4H·H (recurrence) + 2·H·K (output layer).
double pixel_flops(int64_t hidden = H) { return 2.0 * 4 * hidden * hidden + 2.0 * hidden * K; }

void sample(benchmark::State& state, const models::PixelRNNConfig& config, bool bf16) {
  const int64_t B = state.range(0);
  Philox rng(1);
  const models::PixelRNN<float> model(config, rng);
  SamplingOptions options;
  options.bf16_weights = bf16;
  uint64_t seed = 0;
  for (auto _ : state) benchmark::DoNotOptimize(model.sample(B, P, options, seed++));
  set_gflops(state, double(B * P) * pixel_flops(config.hidden_size));
}
void BM_sample(benchmark::State& state) { sample(state, lecture_config(), false); }
void BM_sample_bf16(benchmark::State& state) { sample(state, lecture_config(), true); }
void BM_sample_2d(benchmark::State& state) { sample(state, default_2d_config(), false); }
void BM_sample_2d_bf16(benchmark::State& state) { sample(state, default_2d_config(), true); }

void BM_complete_test(benchmark::State& state) {
  Philox rng(1);
  const models::PixelRNN<float> model(K, H, rng);
  const Tensor<int32_t> images = random_images(40, rng);
  uint64_t seed = 0;
  for (auto _ : state) benchmark::DoNotOptimize(model.complete(images, P / 2, {}, seed++));
  set_gflops(state, 40.0 * P * pixel_flops());
}

// ---- 4. VAE training step ---------------------------------------------------------------
// FLOPs: every dense layer in → out costs 2·B·in·out forward and 4·B·in·out
// backward (2·B·in·out without the input gradient of the first decoder
// layer's input, counted anyway: it is small). The encoder's one-hot first
// layer is a gather-sum: B·P·512 additions forward, no multiply, counted as 0.
double vae_step_flops(const models::VAEConfig& c, int64_t B) {
  std::vector<int64_t> widths = c.encoder_hidden;
  widths.push_back(c.encoder_outputs());
  double macs = 0;
  for (size_t i = 1; i < widths.size(); ++i) macs += double(widths[i - 1] * widths[i]);
  std::vector<int64_t> dec{c.latent};
  dec.insert(dec.end(), c.decoder_hidden.begin(), c.decoder_hidden.end());
  dec.push_back(c.colour_dim > 0 ? c.pixels * c.colour_dim : c.pixels * c.palette_size);
  for (size_t i = 1; i < dec.size(); ++i) macs += double(dec[i - 1] * dec[i]);
  if (c.colour_dim > 0) macs += double(c.pixels * c.colour_dim * c.palette_size);  // features × colour embedding
  return 6.0 * B * macs;
}

void vae_step(benchmark::State& state, const models::VAEConfig& config) {
  const int64_t B = state.range(0);
  Philox rng(1);
  models::VAE<float> model(config, rng);
  optim::Adam<float> adam(model.named_parameters());
  const Tensor<int32_t> images = random_images(B, rng);
  model.train_step(images, adam, 0.0);  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(model.train_step(images, adam, 0.0));
  set_gflops(state, vae_step_flops(config, B));
}
void BM_vae_step(benchmark::State& state) { vae_step(state, models::VAEConfig::lecture(P, K)); }
void BM_vae_step_default(benchmark::State& state) { vae_step(state, models::VAEConfig::standard(P, K)); }

// ---- 5. the ceiling ---------------------------------------------------------------------
void BM_gemm(benchmark::State& state) {
  const int64_t N = state.range(0);
  const MatrixRM<float> a = MatrixRM<float>::Random(N, N), b = MatrixRM<float>::Random(N, N);
  MatrixRM<float> out(N, N);
  for (auto _ : state) {
    out.noalias() = a * b;
    benchmark::DoNotOptimize(out.data());
  }
  set_gflops(state, 2.0 * N * N * N);
}
}  // namespace

#define DEEPGEN_BENCH(fn) BENCHMARK(fn)->Repetitions(5)->ReportAggregatesOnly(true)->UseRealTime()
DEEPGEN_BENCH(BM_lstm_step)->Arg(1)->Arg(16)->Arg(64)->Arg(256)->Unit(benchmark::kMicrosecond);
DEEPGEN_BENCH(BM_lstm_step_plain)->Arg(1)->Arg(16)->Arg(64)->Arg(256)->Unit(benchmark::kMicrosecond);
DEEPGEN_BENCH(BM_train_step)->Arg(64)->Unit(benchmark::kMillisecond)->Iterations(2);
DEEPGEN_BENCH(BM_sample)->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond);
DEEPGEN_BENCH(BM_sample_bf16)->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond);
DEEPGEN_BENCH(BM_train_step_2d)->Arg(64)->Unit(benchmark::kMillisecond)->Iterations(2);
DEEPGEN_BENCH(BM_sample_2d)->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond);
DEEPGEN_BENCH(BM_sample_2d_bf16)->Arg(1)->Unit(benchmark::kMillisecond);
DEEPGEN_BENCH(BM_complete_test)->Unit(benchmark::kMillisecond);
DEEPGEN_BENCH(BM_vae_step)->Arg(64)->Unit(benchmark::kMillisecond);
DEEPGEN_BENCH(BM_vae_step_default)->Arg(64)->Unit(benchmark::kMillisecond);
DEEPGEN_BENCH(BM_gemm)->Arg(2048)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  // Keep freed memory in the process, as the example programs do: a fresh
  // multi-MiB buffer otherwise costs page faults on every step.
  keep_freed_memory();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
