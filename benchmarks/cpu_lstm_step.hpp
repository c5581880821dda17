// cpu_lstm_step.hpp — the CPU LSTM step as bench_cpu and bench_lstm_cuda both
// time it: nn::LSTMStepper at batch B, one-hot input. The caller sets the
// row's counters.
#pragma once

#include <deepgen/deepgen.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

/// Time one LSTM step (`input_size` one-hot inputs, `hidden` cells) at batch B.
inline void time_cpu_lstm_step(benchmark::State& state, int64_t B, int64_t input_size, int64_t hidden) {
  using namespace deepgen;
  Philox rng(1);
  nn::LSTM<float> lstm(input_size, hidden, rng);
  nn::LSTMStepper<float> stepper(lstm);
  nn::LSTMState<float> s{Tensor<float>(Shape{B, hidden}), Tensor<float>(Shape{B, hidden})};
  fill_uniform(s.h, rng, -1.f, 1.f);
  fill_uniform(s.c, rng, -1.f, 1.f);
  std::vector<int32_t> tokens(static_cast<size_t>(B));
  for (auto& t : tokens) t = int32_t(rng.uniform_int(input_size));
  stepper.step(tokens.data(), s);  // warm-up: first touch of the stepper's buffers
  // The state runs on from step to step; saturated gates cost the same time.
  for (auto _ : state) {
    stepper.step(tokens.data(), s);
    benchmark::DoNotOptimize(s.h.data());
  }
}
