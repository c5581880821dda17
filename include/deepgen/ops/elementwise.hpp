// ops/elementwise.hpp — add (with row broadcast), mul, scale and the
// activations relu, tanh, sigmoid.
//
// Activations save their output, not their input: each derivative is a
// function of the output (tanh' = 1 − y², σ' = y(1 − y), relu' = [y > 0]),
// so backward needs no second copy.
#pragma once

#include "../autograd.hpp"
#include "../detail/math.hpp"

namespace deepgen {

/// a + b for equal shapes, or b a row vector (shape [a.cols]) added to every
/// row of a — the bias case.
template <typename T>
Var<T> add(const Var<T>& a, const Var<T>& b) {
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  const bool broadcast = sa != sb;
  DEEPGEN_CHECK(!broadcast || (sb.rank() == 1 && sb[0] == sa.cols()), "add: shapes ", sa, " and ", sb,
                " are not compatible; they must be equal, or the second must be (", sa.cols(),
                ") to be added to every row");
  Tensor<T> out = a.value();
  if (broadcast)
    out.matrix().rowwise() += b.value().vec().transpose();
  else
    out.vec() += b.value().vec();
  return Var<T>::make(std::move(out), {a, b}, [broadcast](Node<T>& self) {
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& da) { da.vec() += self.grad.vec(); });
    detail::accumulate_grad(self.parents[1], [&](Tensor<T>& db) {
      if (broadcast)
        db.vec() += self.grad.matrix().colwise().sum().transpose();
      else
        db.vec() += self.grad.vec();
    });
  }, "add");
}

/// x (B, T, D) + y (B, D): row b of y added at every step of sequence b —
/// e.g. a code's contribution to every step of a decoder's input.
template <typename T>
Var<T> add_per_sequence(const Var<T>& x, const Var<T>& y) {
  const Shape& sx = x.shape();
  DEEPGEN_CHECK(sx.rank() == 3, "add_per_sequence: x must be (B, T, D) but has shape ", sx);
  check_shape(y.shape(), Shape{sx[0], sx[2]}, "add_per_sequence: y (one row per sequence)");
  const int64_t B = sx[0], T_ = sx[1], D = sx[2];
  Tensor<T> out = x.value();
  for (int64_t b = 0; b < B; ++b)
    out.matrix(B * T_, D).middleRows(b * T_, T_).rowwise() += y.value().matrix().row(b);
  return Var<T>::make(std::move(out), {x, y}, [B, T_, D](Node<T>& self) {
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dx) { dx.vec() += self.grad.vec(); });
    detail::accumulate_grad(self.parents[1], [&](Tensor<T>& dy) {
      for (int64_t b = 0; b < B; ++b)
        dy.matrix().row(b) += self.grad.matrix(B * T_, D).middleRows(b * T_, T_).colwise().sum();
    });
  }, "add_per_sequence");
}

/// Elementwise a ⊙ b, equal shapes.
template <typename T>
Var<T> mul(const Var<T>& a, const Var<T>& b) {
  check_shape(b.shape(), a.shape(), "mul: second operand");
  Tensor<T> out(a.shape());
  out.vec() = a.value().vec().cwiseProduct(b.value().vec());
  return Var<T>::make(std::move(out), {a, b}, [](Node<T>& self) {
    const auto& A = self.parents[0];
    const auto& B = self.parents[1];
    detail::accumulate_grad(A, [&](Tensor<T>& da) { da.vec() += self.grad.vec().cwiseProduct(B->value.vec()); });
    detail::accumulate_grad(B, [&](Tensor<T>& db) { db.vec() += self.grad.vec().cwiseProduct(A->value.vec()); });
  }, "mul");
}

/// s · a for a constant s.
template <typename T>
Var<T> scale(const Var<T>& a, T s) {
  Tensor<T> out(a.shape());
  out.vec() = a.value().vec() * s;
  return Var<T>::make(std::move(out), {a}, [s](Node<T>& self) {
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& da) { da.vec() += s * self.grad.vec(); });
  }, "scale");
}

namespace detail {
// An activation y = f(x) whose derivative is a function of y alone.
template <typename T, typename Fwd, typename DyDx>
Var<T> activation(const Var<T>& x, Fwd fwd, DyDx dydx, const char* op) {
  Tensor<T> out(x.shape());
  const T* in = x.value().data();
  T* y = out.data();
  for (int64_t i = 0, n = out.numel(); i < n; ++i) y[i] = fwd(in[i]);
  return Var<T>::make(std::move(out), {x}, [dydx](Node<T>& self) {
    accumulate_grad(self.parents[0], [&](Tensor<T>& dx) {
      const T* y = self.value.data();
      const T* dy = self.grad.data();
      T* g = dx.data();
      for (int64_t i = 0, n = dx.numel(); i < n; ++i) g[i] += dy[i] * dydx(y[i]);
    });
  }, op);
}
}  // namespace detail

/// max(x, 0), elementwise.
template <typename T>
Var<T> relu(const Var<T>& x) {
  return detail::activation(x, [](T v) { return v > T(0) ? v : T(0); },
                            [](T y) { return y > T(0) ? T(1) : T(0); }, "relu");
}

/// tanh(x), elementwise.
template <typename T>
Var<T> tanh(const Var<T>& x) {
  return detail::activation(x, [](T v) { return detail::tanh_(v); }, [](T y) { return T(1) - y * y; }, "tanh");
}

/// 1 / (1 + exp(−x)), elementwise.
template <typename T>
Var<T> sigmoid(const Var<T>& x) {
  return detail::activation(x, [](T v) { return detail::sigmoid_(v); }, [](T y) { return y * (T(1) - y); },
                            "sigmoid");
}

}  // namespace deepgen
