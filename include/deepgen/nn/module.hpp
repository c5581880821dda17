// nn/module.hpp — named parameters, PyTorch style.
//
// A module lists its parameters by name ("weight", "bias") and its children's
// under a prefix ("fc.weight", "lstm.weight_ih_l0"), exactly the names
// PyTorch's state_dict() uses, so checkpoints move between the two. A Var is
// a shared handle, so the list holds handles to the module's own parameters:
// an optimizer that updates them updates the module. A parameter may be kept
// in memory as the transpose of PyTorch's layout where its op reads it faster
// so (Var::stored_transposed); file_layout() gives what checkpoints hold.
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../autograd.hpp"

namespace deepgen::nn {

/// Parameters with their PyTorch names ("fc.weight"), in a fixed order.
template <typename T>
using NamedParameters = std::vector<std::pair<std::string, Var<T>>>;

namespace detail {
/// The transpose of a rank-2 tensor, as a new tensor.
template <typename T>
Tensor<T> transposed(const Tensor<T>& t) {
  DEEPGEN_ASSERT(t.rank() == 2);
  Tensor<T> out = Tensor<T>::uninitialized(Shape{t.dim(1), t.dim(0)});
  out.matrix() = t.matrix().transpose();
  return out;
}
}  // namespace detail

/// The shape parameter `p` has in checkpoints (its PyTorch shape), whatever
/// its layout in memory (Var::stored_transposed).
template <typename T>
Shape file_shape(const Var<T>& p) {
  const Shape& s = p.shape();
  return p.stored_transposed() ? Shape{s[1], s[0]} : s;
}

/// `t`, a tensor laid out as parameter `p` is in memory (its value, a
/// gradient, an Adam moment), in the PyTorch layout that files hold.
template <typename T>
Tensor<T> file_layout(const Var<T>& p, const Tensor<T>& t) {
  return p.stored_transposed() ? detail::transposed(t) : t;
}

/// `t`, a tensor in parameter `p`'s PyTorch layout (from a file), laid out
/// as `p` is in memory: file_layout's inverse, which is file_layout itself
/// (a transpose undoes itself).
template <typename T>
Tensor<T> storage_layout(const Var<T>& p, const Tensor<T>& t) {
  return file_layout(p, t);
}

/// The base of every layer and model: parameters listed by their PyTorch names.
template <typename T>
class Module {
 public:
  virtual ~Module() = default;

  /// Every parameter with its full name, in a fixed order.
  NamedParameters<T> named_parameters() const {
    NamedParameters<T> out;
    collect_parameters("", out);
    return out;
  }

  /// Appends this module's parameters, each name prefixed by `prefix`.
  virtual void collect_parameters(const std::string& prefix, NamedParameters<T>& out) const = 0;

  /// Marks every parameter's gradient zero.
  void zero_grad() {
    for (auto& [name, p] : named_parameters()) p.zero_grad();
  }

  /// The number of scalars over all parameters.
  int64_t parameter_count() const {
    int64_t n = 0;
    for (const auto& [name, p] : named_parameters()) n += p.value().numel();
    return n;
  }

  /// Copy values from named tensors (such as a loaded checkpoint). Every
  /// parameter must be present with its exact shape and finite values; the
  /// error names the tensor, both shapes or the bad value, and the source.
  void load_parameters(const std::map<std::string, Tensor<T>>& tensors, const std::string& source = "tensors") {
    auto params = named_parameters();
    for (auto& [name, p] : params) {
      auto it = tensors.find(name);
      if (it == tensors.end()) {
        std::string have;
        for (const auto& [k, v] : tensors) have += (have.empty() ? "" : ", ") + k;
        DEEPGEN_CHECK(false, source, ": parameter '", name, "' is missing (present: ", have,
                      "); the file was saved from a different model");
      }
      DEEPGEN_CHECK(it->second.shape() == file_shape(p), source, ": parameter '", name, "' has shape ",
                    it->second.shape(), " but the model expects ", file_shape(p),
                    "; build the model with the sizes the file was trained with");
      // A NaN or infinite weight would only show up later as 'nan' losses or
      // blank samples; refuse it here, where the file and tensor are known.
      const Tensor<T>& t = it->second;
      for (int64_t i = 0; i < t.numel(); ++i)
        DEEPGEN_CHECK(std::isfinite(t[i]), source, ": parameter '", name, "' holds ", t[i], " at element ", i,
                      "; every weight must be finite (the file is damaged or was saved from a diverged run): "
                      "use an earlier checkpoint");
    }
    for (auto& [name, p] : params) p.value() = storage_layout(p, tensors.at(name));
  }

 protected:
  /// Appends parameter `v` to `out` as prefix + name (for collect_parameters).
  static void add(NamedParameters<T>& out, const std::string& prefix, const char* name, const Var<T>& v) {
    out.emplace_back(prefix + name, v);
  }
};

}  // namespace deepgen::nn
