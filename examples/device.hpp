// examples/device.hpp — the --device option the example programs share:
// cpu, or cuda where the program was built with deepgen::cuda.
#pragma once

#include <deepgen/error.hpp>

#include <CLI/CLI.hpp>

#include <string>

#if defined(DEEPGEN_WITH_CUDA)
#include <deepgen/cuda/check.hpp>
#endif

/// Add `--device cpu|cuda` to a subcommand.
inline void add_device_option(CLI::App* cmd, std::string& device) {
  cmd->add_option("--device", device, "cpu, or cuda (the GPU; needs a CUDA build)")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda"}));
}

/// For --device cuda: throw, with what to do, unless this build has CUDA and a GPU is usable.
inline void require_cuda_device() {
#if defined(DEEPGEN_WITH_CUDA)
  std::string why;
  DEEPGEN_CHECK(deepgen::cuda_device_available(&why), "--device cuda: no usable GPU (", why,
                "); check that nvidia-smi lists one, or use --device cpu");
#else
  DEEPGEN_CHECK(false, "--device cuda: this build has no CUDA (the CUDA toolkit was not found when it was "
                "configured); rebuild on a machine with the toolkit (cmake -DDEEPGEN_CUDA=ON) or use --device cpu");
#endif
}
