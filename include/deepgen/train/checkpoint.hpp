// train/checkpoint.hpp — a model and its optimizer state on disk, for --resume.
//
// model.safetensors holds only the parameters under PyTorch's names, so
// PyTorch (and `eval`) read it as is. The Adam state goes to a sibling,
// model.optim.safetensors. Both carry the same "checkpoint" id in their
// metadata: the optimizer file is written first and the model file last, each
// atomically (temporary file, fsync, rename). A crash between the two would
// leave a model file whose optimizer state is gone, so the optimizer file
// being replaced is first renamed to model.optim.prev.safetensors: whatever
// the moment of a crash, one of the two optimizer files pairs with the model
// file on disk, and resume picks the one whose id matches (never a mix).
//
// It lives in train/ because it needs nn::Module and optim::Adam, which io/
// sits below; its functions keep their io:: names (io::save_checkpoint, …).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <system_error>

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

/// The parameters of `model` as name → tensor copies, in PyTorch's layout.
template <typename T>
std::map<std::string, Tensor<T>> parameter_tensors(const nn::Module<T>& model) {
  std::map<std::string, Tensor<T>> out;
  for (const auto& [name, p] : model.named_parameters()) out[name] = nn::file_layout(p, p.value());
  return out;
}

/// "dir/model.safetensors" → "dir/model.optim.prev.safetensors": the
/// optimizer state of the checkpoint before, kept until the next model file is written.
inline std::string previous_optimizer_path(const std::string& model_path) {
  const std::string path = optimizer_path(model_path);
  return path.substr(0, path.size() - std::string(".safetensors").size()) + ".prev.safetensors";
}

/// Write `state`, the optimizer state that belongs to the model file about to
/// be saved at `model_path` with the same `metadata` (and its "checkpoint"
/// id). The state it replaces moves to previous_optimizer_path first, since
/// the model file still on disk may be the one it belongs to.
template <typename T>
void save_optimizer_state(const std::string& model_path, const std::map<std::string, Tensor<T>>& state,
                          const std::map<std::string, std::string>& metadata) {
  DEEPGEN_CHECK(metadata.count("checkpoint"), "save_optimizer_state(", model_path,
                "): the metadata needs a 'checkpoint' id that the model file carries too");
  const std::string path = optimizer_path(model_path);
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    std::filesystem::rename(path, previous_optimizer_path(model_path), ec);  // atomic; replaces an older one
    DEEPGEN_CHECK(!ec, "cannot rename ", path, " to ", previous_optimizer_path(model_path), ": ", ec.message(),
                  "; the checkpoint was not saved, and the one on disk is unchanged");
  }
  save_safetensors<T>(path, state, metadata);
}

/// Save model and optimizer; `metadata` is stored in both files.
template <typename T>
void save_checkpoint(const std::string& model_path, const nn::Module<T>& model, const optim::Adam<T>& adam,
                     std::map<std::string, std::string> metadata) {
  metadata["checkpoint"] = std::to_string(adam.steps());
  save_optimizer_state<T>(model_path, adam.state(), metadata);
  save_safetensors<T>(model_path, parameter_tensors(model), metadata);  // last: the commit
}

/// The optimizer state that belongs to the model file `model_path`, whose
/// metadata is `model_metadata`: model.optim.safetensors, or, after a crash
/// between the two writes of a save, model.optim.prev.safetensors, which then
/// takes the first name again. `*source` gets the file's path (for error
/// messages). Refused, naming both files, when neither carries the model
/// file's "checkpoint" id.
template <typename T>
std::map<std::string, Tensor<T>> load_optimizer_state(const std::string& model_path,
                                                      const std::map<std::string, std::string>& model_metadata,
                                                      std::string* source = nullptr) {
  auto id = [](const std::map<std::string, std::string>& m) {
    auto it = m.find("checkpoint");
    return it == m.end() ? std::string("(none)") : it->second;
  };
  const std::string path = optimizer_path(model_path), previous = previous_optimizer_path(model_path);
  std::error_code ec;
  std::string found;  // the ids seen, for the message
  for (const std::string& candidate : {path, previous}) {
    // A missing file is skipped while the other may pair (a missing
    // model.optim.safetensors alone is reported by load_safetensors).
    if (!std::filesystem::exists(candidate, ec) && (candidate == previous || std::filesystem::exists(previous, ec)))
      continue;
    std::map<std::string, std::string> meta;
    auto state = load_safetensors<T>(candidate, &meta);
    if (id(meta) == id(model_metadata)) {
      if (candidate == previous) {
        // model.optim.safetensors is from a save that never wrote its model
        // file: put the state that pairs back under its name, so that the
        // next save keeps this one as the previous state, not the stale one.
        std::filesystem::rename(previous, path, ec);
        DEEPGEN_CHECK(!ec, "cannot rename ", previous, " to ", path, ": ", ec.message(),
                      "; both are left as they were");
      }
      if (source) *source = path;
      return state;
    }
    found += (found.empty() ? "" : ", ") + candidate + " is from step " + id(meta);
  }
  deepgen::detail::throw_error(__FILE__, __LINE__,
                               deepgen::detail::str("checkpoint mismatch: ", found, " but ", model_path,
                                                    " is from step ", id(model_metadata),
                                                    "; delete the model and optimizer files to restart, or resume "
                                                    "from a backup"));
}

/// Load the optimizer state that belongs to the model file `model_path`,
/// whose metadata is `model_metadata` (load_optimizer_state), into `adam`.
template <typename T>
void load_optimizer(const std::string& model_path, const std::map<std::string, std::string>& model_metadata,
                    optim::Adam<T>& adam) {
  std::string source;
  const auto state = load_optimizer_state<T>(model_path, model_metadata, &source);
  adam.load_state(state, source);
}

}  // namespace deepgen::io
