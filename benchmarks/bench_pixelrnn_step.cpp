// bench_pixelrnn_step — the PixelRNN training step (forward, backward, Adam)
// on the lecture's shapes (K = 167 colours, H = 512, 400-pixel sequences),
// and the recurrent GEMM alone as the machine's practical ceiling for it.
//
// FLOPs per training step, counting multiply-adds as 2:
//   recurrence forward  2·B·T·4H·H   backward dh: 2·B·T·4H·H   dW_hh: 2·B·T·4H·H
//   output layer        2·B·T·H·K forward, 4·B·T·H·K backward
// The pointwise gate math and the one-hot gather are not counted.
#include <deepgen/models/pixelrnn.hpp>

#include <benchmark/benchmark.h>
#include <malloc.h>

using namespace deepgen;

namespace {
constexpr int64_t K = 167, H = 512, P = 400;

double step_flops(int64_t B) {
  return 3.0 * 2 * B * P * 4 * H * H + 6.0 * B * P * H * K;
}

void BM_pixelrnn_train_step(benchmark::State& state) {
  const int64_t B = state.range(0);
  Philox rng(1);
  models::PixelRNN<float> model(K, H, rng);
  optim::Adam<float> adam(model.named_parameters());
  Tensor<int32_t> images(Shape{B, P});
  for (auto& v : images) v = static_cast<int32_t>(rng.uniform_int(K));
  model.train_step(images, adam, 1.0);  // warm-up: first-touch of every buffer
  for (auto _ : state) benchmark::DoNotOptimize(model.train_step(images, adam, 1.0));
  state.counters["GFLOP/s"] = benchmark::Counter(step_flops(B), benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
  state.counters["pixels/s"] = benchmark::Counter(double(B * P), benchmark::Counter::kIsIterationInvariantRate);
}

// The per-step recurrent product h·W_hhᵀ alone, (B × H)·(H × 4H): what the
// recurrence could reach if nothing else cost anything.
void BM_recurrent_gemm(benchmark::State& state) {
  const int64_t B = state.range(0);
  const MatrixRM<float> h = MatrixRM<float>::Random(B, H), W = MatrixRM<float>::Random(4 * H, H);
  MatrixRM<float> out(B, 4 * H);
  for (auto _ : state) {
    out.noalias() = h * W.transpose();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * B * H * 4 * H, benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}
}  // namespace

BENCHMARK(BM_pixelrnn_train_step)->Arg(32)->Arg(64)->Unit(benchmark::kMillisecond)->Repetitions(5)
    ->ReportAggregatesOnly(true)->UseRealTime();
BENCHMARK(BM_recurrent_gemm)->Arg(16)->Arg(32)->Arg(64)->Unit(benchmark::kMicrosecond)->Repetitions(5)
    ->ReportAggregatesOnly(true)->UseRealTime();

int main(int argc, char** argv) {
  mallopt(M_MMAP_THRESHOLD, 256 << 20);  // keep freed buffers: no page faults per step
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
