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
//
// "Zero" is lazy: zero_grad() and the start of backward() only mark a
// gradient as zero (its buffer is kept, contents stale). The first op to write
// it then assigns instead of adding (detail::write_grad): a weight gradient
// is one GEMM written straight into the buffer, with no memset before it and
// no read of zeros inside it; that is tens of MiB per step for the
// lecture-shaped VAE. Anything that reads a gradient through grad() or
// accumulate_grad(), and every backward closure, sees real zeros, written at
// that moment.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "error.hpp"
#include "detail/parallel.hpp"
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

/// False inside a NoGradGuard: ops then record no graph.
inline bool grad_enabled() { return detail::grad_mode(); }

/// One value in the autograd graph, with its gradient and the closure that backpropagates it (Var holds one).
template <typename T>
struct Node {
  /// The forward value.
  Tensor<T> value;
  Tensor<T> grad;  ///< same shape as value once allocated; empty before
  /// True for parameters and for results that depend on one.
  bool requires_grad = false;
  /// The inputs of the op that made this node.
  std::vector<std::shared_ptr<Node>> parents;
  /// Reads this node's grad and accumulates into the parents' grads.
  std::function<void(Node&)> backward_fn;
  /// The name of that op ("leaf" for parameters and inputs).
  const char* op = "leaf";

  /// True while `grad` counts as all zeros whatever its buffer holds.
  bool grad_is_zero = false;
  /// True for a rank-2 parameter kept in memory as the transpose of its
  /// PyTorch layout because its op reads it faster that way (nn::OneHotLinear).
  /// Checkpoints and optimizer state still see the PyTorch layout
  /// (nn::file_layout, nn::storage_layout in nn/module.hpp).
  bool stored_transposed = false;

  /// True for parameters and inputs (no backward function).
  bool is_leaf() const { return !backward_fn; }
  /// The gradient buffer with real contents (zeros if nothing was written
  /// since it was last marked zero), allocated on first use.
  Tensor<T>& grad_buffer() {
    if (grad.shape() != value.shape()) {
      grad = Tensor<T>(value.shape());
    } else if (grad_is_zero) {
      T* g = grad.data();
      detail::parallel_chunks(grad.numel(), [g](int64_t b, int64_t e) { std::fill(g + b, g + e, T(0)); });
    }
    grad_is_zero = false;
    return grad;
  }
  /// Mark the gradient zero without touching its buffer (see the top of this header).
  void mark_grad_zero() {
    if (!grad.empty()) grad_is_zero = true;
  }
};

/// A value in the graph: a parameter, an input, or an op's result.
template <typename T>
class Var {
 public:
  /// An undefined Var (defined() is false) to assign later.
  Var() = default;
  /// A leaf. Parameters pass requires_grad = true.
  explicit Var(Tensor<T> value, bool requires_grad = false) : m_node(std::make_shared<Node<T>>()) {
    m_node->value = std::move(value);
    m_node->requires_grad = requires_grad;
  }

  /// True once the Var holds a node.
  bool defined() const { return static_cast<bool>(m_node); }
  /// The forward value.
  const Tensor<T>& value() const { return node().value; }
  /// Mutable access for optimizers and for loading weights.
  Tensor<T>& value() { return node().value; }
  /// The shape of the value.
  const Shape& shape() const { return node().value.shape(); }
  /// True when gradients flow to this Var.
  bool requires_grad() const { return node().requires_grad; }
  /// The accumulated gradient (zeros if nothing has flowed here yet).
  const Tensor<T>& grad() const { return node().grad_buffer(); }
  /// The accumulated gradient, writable.
  Tensor<T>& grad() { return node().grad_buffer(); }
  /// Marks the gradient zero (without touching its buffer).
  void zero_grad() {
    if (m_node) m_node->mark_grad_zero();
  }
  /// The name of the op that made this Var ("leaf" for parameters and inputs).
  const char* op() const { return node().op; }
  /// True when value() is the transpose of the PyTorch layout (see Node::stored_transposed).
  bool stored_transposed() const { return node().stored_transposed; }

  /// The graph node; throws if the Var is undefined.
  Node<T>& node() const {
    DEEPGEN_CHECK(m_node, "Var: use of an undefined Var (default-constructed); assign it a value first");
    return *m_node;
  }
  /// The graph node, shared (null if undefined).
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

/// Contribute to a parent's gradient: `assign(g)` must overwrite every
/// element of g (the parent's gradient was zero: no memset, no read of it),
/// `add(g)` adds to what g holds. Only if the parent wants a gradient.
template <typename T, typename Assign, typename Add>
void write_grad(const std::shared_ptr<Node<T>>& parent, Assign&& assign, Add&& add) {
  if (!parent || !parent->requires_grad) return;
  if (parent->grad.shape() != parent->value.shape()) {
    parent->grad = Tensor<T>::uninitialized(parent->value.shape());
    assign(parent->grad);
  } else if (parent->grad_is_zero) {
    assign(parent->grad);
  } else {
    add(parent->grad);
  }
  parent->grad_is_zero = false;
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
    if (!n->is_leaf()) {
      if (n->grad.shape() != n->value.shape()) n->grad = Tensor<T>::uninitialized(n->value.shape());
      n->grad_is_zero = true;
    }
  loss.node().grad_buffer().fill(T(1));
  for (auto it = order.rbegin(); it != order.rend(); ++it)
    if (!(*it)->is_leaf()) {
      // A gradient no use wrote is zero; it still runs, since a multi-output
      // op (the LSTM's output, h_n, c_n) may do its parents' work in a node
      // whose own output gradient is zero.
      (*it)->grad_buffer();
      (*it)->backward_fn(**it);
    }
}

}  // namespace deepgen
