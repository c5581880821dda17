// examples/device.hpp — the --device option the example programs share:
// cpu, or cuda where the program was built with deepgen::cuda; and the
// training task whose steps run there.
#pragma once

#include <deepgen/error.hpp>
#include <deepgen/optim/adam.hpp>
#include <deepgen/train/module_task.hpp>

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <utility>

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

/// Where a program's work runs: the CPU model itself (--device cpu), or a
/// copy of it on the GPU (--device cuda) made by the model's to_device()
/// (models/pixelrnn_cuda.hpp, models/vae_cuda.hpp: the program includes its
/// own before this header). A program derives its engine from this and adds the calls it needs,
/// each going to m_gpu when there is one and to m_model otherwise.
/// to_host() brings the GPU's weights and Adam state back before a checkpoint.
template <typename Model>
class DeviceModel {
 public:
  DeviceModel(const std::string& device, Model& model, deepgen::optim::Adam<float>* adam) : m_model(model) {
    if (device == "cpu") return;
    require_cuda_device();
#if defined(DEEPGEN_WITH_CUDA)
    m_gpu = std::make_unique<Gpu>(to_device(model, adam));  // found by argument-dependent lookup
#else
    (void)adam;
#endif
  }

  /// Adam steps taken, wherever the training runs.
  int64_t steps(const deepgen::optim::Adam<float>& adam) const {
#if defined(DEEPGEN_WITH_CUDA)
    if (m_gpu) return m_gpu->parameters().steps();
#endif
    return adam.steps();
  }

  /// Make the CPU model (and `adam`) hold what the GPU trained.
  void to_host(deepgen::optim::Adam<float>& adam) {
#if defined(DEEPGEN_WITH_CUDA)
    if (m_gpu) deepgen::models::to_host(*m_gpu, m_model, &adam);
#endif
    (void)adam;
  }

 protected:
  Model& m_model;
#if defined(DEEPGEN_WITH_CUDA)
  using Gpu = decltype(to_device(std::declval<const Model&>()));
  std::unique_ptr<Gpu> m_gpu;
#endif
};

/// A train::ModuleTask whose work runs on the --device engine (a
/// DeviceModel): engine() is made on first use, after a resume has loaded
/// the weights it copies to the GPU, and save() brings the GPU's weights and
/// Adam state home first.
template <typename Engine, typename Model>
class DeviceTask : public deepgen::train::ModuleTask<float> {
 public:
  DeviceTask(std::string device, Model& model, deepgen::optim::Adam<float>& adam)
      : ModuleTask(model, adam), m_model(model), m_device(std::move(device)) {
    if (m_device != "cpu") require_cuda_device();  // refuse before loading or training anything
  }

  void save(const std::string& path, const deepgen::train::Metadata& meta, bool with_optimizer) override {
    if (m_engine) m_engine->to_host(m_adam);
    ModuleTask::save(path, meta, with_optimizer);
  }

  deepgen::train::Metadata load(const std::string& path) override {
    m_engine.reset();  // its GPU copy would hold the weights from before
    return ModuleTask::load(path);
  }

 protected:
  Engine& engine() {
    if (!m_engine) m_engine = std::make_unique<Engine>(m_device, m_model, &m_adam);
    return *m_engine;
  }

  Model& m_model;  ///< the CPU model: the one saved and loaded

 private:
  std::string m_device;
  std::unique_ptr<Engine> m_engine;
};
