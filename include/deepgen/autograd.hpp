// autograd.hpp — reverse-mode automatic differentiation over coarse ops.
//
// A Var<T> is a shared handle to a Node: a value, its gradient, and — for an
// op's result — the parents and a closure that pushes the result's gradient
// into theirs. Ops are coarse on purpose (a whole LSTM sequence, a whole
// softmax-cross-entropy): the graph then has tens of nodes per training step,
// so its bookkeeping (shared_ptr, std::function) costs nothing next to the
// arithmetic, and each op can have one fused CPU path and one CUDA kernel.
//
// backward(loss) visits the graph in reverse topological order, so a node's
// gradient is complete (every use has contributed, accumulated with +=)
// before its closure runs. Leaves (parameters, inputs) accumulate across calls
// until zero_grad(), as in PyTorch; intermediate gradients start from zero on
// every backward().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "error.hpp"
#include "tensor.hpp"

namespace deepgen {

namespace detail {
/// Whether ops record the graph; per thread, so inference in one thread never
/// disables training in another.
inline bool& grad_mode() {
  thread_local bool enabled = true;
  return enabled;
}
}  // namespace detail

/// Inside this scope ops record nothing: for evaluation and sampling.
class NoGradGuard {
 public:
  NoGradGuard() : m_previous(detail::grad_mode()) { detail::grad_mode() = false; }
  ~NoGradGuard() { detail::grad_mode() = m_previous; }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool m_previous;
};

inline bool grad_enabled() { return detail::grad_mode(); }

template <typename T>
struct Node {
  Tensor<T> value;
  Tensor<T> grad;  ///< same shape as value once allocated; empty before
  bool requires_grad = false;
  std::vector<std::shared_ptr<Node>> parents;
  /// Reads this node's grad and accumulates into the parents' grads.
  std::function<void(Node&)> backward_fn;
  const char* op = "leaf";

  bool is_leaf() const { return !backward_fn; }
  /// The gradient buffer, allocated (zero) on first use.
  Tensor<T>& grad_buffer() {
    if (grad.shape() != value.shape()) grad = Tensor<T>(value.shape());
    return grad;
  }
};

/// A value in the graph: a parameter, an input, or an op's result.
template <typename T>
class Var {
 public:
  Var() = default;
  /// A leaf. Parameters pass requires_grad = true.
  explicit Var(Tensor<T> value, bool requires_grad = false) : m_node(std::make_shared<Node<T>>()) {
    m_node->value = std::move(value);
    m_node->requires_grad = requires_grad;
  }

  bool defined() const { return static_cast<bool>(m_node); }
  const Tensor<T>& value() const { return node().value; }
  /// Mutable access for optimizers and for loading weights.
  Tensor<T>& value() { return node().value; }
  const Shape& shape() const { return node().value.shape(); }
  bool requires_grad() const { return node().requires_grad; }
  /// The accumulated gradient (zeros if nothing has flowed here yet).
  const Tensor<T>& grad() const { return node().grad_buffer(); }
  Tensor<T>& grad() { return node().grad_buffer(); }
  void zero_grad() {
    if (m_node && !m_node->grad.empty()) m_node->grad.set_zero();
  }
  const char* op() const { return node().op; }

  Node<T>& node() const {
    DEEPGEN_CHECK(m_node, "Var: use of an undefined Var (default-constructed); assign it a value first");
    return *m_node;
  }
  const std::shared_ptr<Node<T>>& node_ptr() const { return m_node; }

  /// Build an op's result. It records parents and the closure only when grad
  /// mode is on and some parent needs a gradient; otherwise it is a plain value.
  static Var make(Tensor<T> value, std::vector<Var> parents, std::function<void(Node<T>&)> backward_fn,
                  const char* op) {
    Var out(std::move(value));
    out.m_node->op = op;
    if (!grad_enabled()) return out;
    bool any = false;
    for (const Var& p : parents) any = any || (p.defined() && p.requires_grad());
    if (!any) return out;
    out.m_node->requires_grad = true;
    for (Var& p : parents) out.m_node->parents.push_back(p.m_node);
    out.m_node->backward_fn = std::move(backward_fn);
    return out;
  }

 private:
  std::shared_ptr<Node<T>> m_node;
};

namespace detail {
/// Accumulate into a parent's gradient only if it wants one.
template <typename T, typename F>
void accumulate_grad(const std::shared_ptr<Node<T>>& parent, F&& add) {
  if (parent && parent->requires_grad) add(parent->grad_buffer());
}
}  // namespace detail

/// Backpropagate from a scalar (one-element) loss: every leaf that requires a
/// gradient receives d loss / d leaf, added to what it already holds.
template <typename T>
void backward(const Var<T>& loss) {
  DEEPGEN_CHECK(loss.value().numel() == 1, "backward: the loss must be a scalar (one element) but has shape ",
                loss.shape(), "; reduce it first, e.g. with sum() or mean()");
  DEEPGEN_CHECK(loss.requires_grad(), "backward: the loss does not depend on any Var with requires_grad; "
                "was it computed inside a NoGradGuard, or from constants only?");
  // Iterative post-order DFS: order[] lists each node after all its parents.
  std::vector<Node<T>*> order;
  std::unordered_set<Node<T>*> seen;
  std::vector<std::pair<Node<T>*, size_t>> stack{{&loss.node(), 0}};
  seen.insert(&loss.node());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->parents.size()) {
      Node<T>* p = node->parents[next++].get();  // null: an absent optional input
      if (p && p->requires_grad && seen.insert(p).second) stack.push_back({p, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  for (Node<T>* n : order)
    if (!n->is_leaf()) n->grad_buffer().set_zero();
  loss.node().grad_buffer().fill(T(1));
  for (auto it = order.rbegin(); it != order.rend(); ++it)
    if (!(*it)->is_leaf()) (*it)->backward_fn(**it);
}

}  // namespace deepgen
