// lstm_cuda_cpu_rows.cpp — the CPU rows of bench_lstm_cuda, so the binary
// measures something on any machine and the GPU rows have a CPU figure beside
// them. Compiled by the host compiler (they need Eigen); registered from
// bench_lstm_cuda.cu's main(). Shapes, FLOP and byte counts: lstm_cuda_rows.hpp.
//
//   lstm_step_fwd/cpu/B  one LSTM step forward, one-hot input, batch B
//                        (nn::LSTMStepper, as bench_cpu's lstm_step rows)
//   sample400/cpu/1      drawing one 400-pixel image from scratch with the CPU
//                        models::PixelRNN (LSTM + output layer + sampling)
#include <deepgen/deepgen.hpp>
#include <deepgen/models/pixelrnn.hpp>

#include <string>
#include <vector>

#include "cpu_lstm_step.hpp"
#include "lstm_cuda_rows.hpp"

namespace deepgen_bench {
namespace {

using namespace deepgen;

void cpu_step_fwd(benchmark::State& state, int64_t B) {
  time_cpu_lstm_step(state, B, I, H);
  set_rates(state, step_fwd_flops(B), step_fwd_bytes(B));
}

void cpu_sample(benchmark::State& state, int64_t B) {
  Philox rng(1);
  const models::PixelRNN<float> model(I, H, rng);
  uint64_t seed = 0;
  benchmark::DoNotOptimize(model.sample(B, STEPS, {}, seed++));  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(model.sample(B, STEPS, {}, seed++));
  set_rates(state, sample_flops(B, STEPS), sample_bytes(B, STEPS));
}

}  // namespace

void register_cpu_rows() {
  for (const int64_t B : {1, 16, 64, 256}) {
    benchmark::RegisterBenchmark(("lstm_step_fwd/cpu/" + std::to_string(B)).c_str(),
                                 [B](benchmark::State& s) { cpu_step_fwd(s, B); })
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond)
        ->Repetitions(REPETITIONS)
        ->ReportAggregatesOnly(true);
  }
  benchmark::RegisterBenchmark("sample400/cpu/1", [](benchmark::State& s) { cpu_sample(s, 1); })
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond)
      ->Repetitions(REPETITIONS)
      ->ReportAggregatesOnly(true);
}

}  // namespace deepgen_bench
