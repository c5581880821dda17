// train/module_task.hpp — the half of a train::Task that every nn::Module
// trained with Adam writes the same way: checkpoints and resume.
//
// model.safetensors holds the parameters under their PyTorch names and
// model.optim.safetensors the Adam state (train/checkpoint.hpp), both written
// atomically; best.safetensors holds the parameters only. A task derives
// from ModuleTask and adds its batches, its step and its report.
#pragma once

#include <string>

#include "checkpoint.hpp"
#include "../io/safetensors.hpp"
#include "../nn/module.hpp"
#include "../optim/adam.hpp"
#include "loop.hpp"

namespace deepgen::train {

/// A train::Task whose model is an nn::Module<T> trained by an optim::Adam<T>.
template <typename T>
class ModuleTask : public Task {
 public:
  /// The task saves and loads `model` and `adam`; both must outlive it.
  ModuleTask(nn::Module<T>& model, optim::Adam<T>& adam) : m_module(model), m_adam(adam) {}

  /// Parameters (and, `with_optimizer`, the Adam state beside them) to `path`.
  void save(const std::string& path, const Metadata& meta, bool with_optimizer) override {
    if (with_optimizer)
      io::save_checkpoint(path, m_module, m_adam, meta);
    else
      io::save_safetensors<T>(path, io::parameter_tensors(m_module), meta);
  }

  /// Parameters and Adam state from the checkpoint `path`, names and shapes checked.
  Metadata load(const std::string& path) override {
    Metadata meta;
    const auto tensors = io::load_safetensors<T>(path, &meta);
    m_module.load_parameters(tensors, path);
    io::load_optimizer(path, meta, m_adam);
    return meta;
  }

 protected:
  nn::Module<T>& m_module;  ///< the model being trained
  optim::Adam<T>& m_adam;   ///< its optimizer
};

}  // namespace deepgen::train
