// train/checkpoint.hpp — a model and its optimizer state on disk, for --resume.
//
// model.safetensors holds only the parameters under PyTorch's names, so
// PyTorch (and `eval`) read it as is. The Adam state goes to a sibling,
// model.optim.safetensors. Both carry the same "checkpoint" id in their
// metadata: the optimizer file is written first and the model file last, each
// atomically (temporary file, fsync, rename), so a crash between the two
// leaves ids that differ, and resume says so instead of mixing two states.
//
// It lives in train/ because it needs nn::Module and optim::Adam, which io/
// sits below; its functions keep their io:: names (io::save_checkpoint, …).
#pragma once

#include <map>
#include <string>

#include "../nn/module.hpp"
#include "../optim/adam.hpp"
#include "../io/safetensors.hpp"

namespace deepgen::io {

/// "dir/model.safetensors" → "dir/model.optim.safetensors".
inline std::string optimizer_path(const std::string& model_path) {
  const std::string ext = ".safetensors";
  const bool has_ext = model_path.size() > ext.size() &&
                       model_path.compare(model_path.size() - ext.size(), ext.size(), ext) == 0;
  return (has_ext ? model_path.substr(0, model_path.size() - ext.size()) : model_path) + ".optim" + ext;
}

/// The parameters of `model` as name → tensor copies.
template <typename T>
std::map<std::string, Tensor<T>> parameter_tensors(const nn::Module<T>& model) {
  std::map<std::string, Tensor<T>> out;
  for (const auto& [name, p] : model.named_parameters()) out[name] = p.value();
  return out;
}

/// Save model and optimizer; `metadata` is stored in both files.
template <typename T>
void save_checkpoint(const std::string& model_path, const nn::Module<T>& model, const optim::Adam<T>& adam,
                     std::map<std::string, std::string> metadata) {
  metadata["checkpoint"] = std::to_string(adam.steps());
  save_safetensors<T>(optimizer_path(model_path), adam.state(), metadata);
  save_safetensors<T>(model_path, parameter_tensors(model), metadata);
}

/// Load the optimizer state that belongs to the model file `model_path`,
/// whose metadata is `model_metadata`.
template <typename T>
void load_optimizer(const std::string& model_path, const std::map<std::string, std::string>& model_metadata,
                    optim::Adam<T>& adam) {
  const std::string path = optimizer_path(model_path);
  std::map<std::string, std::string> meta;
  const auto state = load_safetensors<T>(path, &meta);
  auto id = [](const std::map<std::string, std::string>& m) {
    auto it = m.find("checkpoint");
    return it == m.end() ? std::string("(none)") : it->second;
  };
  DEEPGEN_CHECK(id(meta) == id(model_metadata), "checkpoint mismatch: ", path, " is from step ", id(meta), " but ",
                model_path, " is from step ", id(model_metadata),
                " (a run was interrupted while saving); delete both files to restart, or resume from a backup");
  adam.load_state(state, path);
}

}  // namespace deepgen::io
