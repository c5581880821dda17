// ops/matmul.hpp — matrix products: matmul (A·B) and linear (x·Wᵀ + b).
//
// linear is one op rather than matmul + add so that a layer costs one graph
// node and its bias gradient is summed in the same pass. x may have any rank
// ≥ 1: it is seen as rows × in (e.g. (B, T, H) → B·T rows), so the output
// projection of a whole sequence is one large GEMM.
#pragma once

#include "../autograd.hpp"

namespace deepgen {

/// (m, k) · (k, n) → (m, n).
template <typename T>
Var<T> matmul(const Var<T>& a, const Var<T>& b) {
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  DEEPGEN_CHECK(sa.rank() == 2 && sb.rank() == 2, "matmul: both operands must be matrices (rank 2) but got ",
                sa, " and ", sb);
  DEEPGEN_CHECK(sa[1] == sb[0], "matmul: inner dimensions differ: ", sa, " · ", sb, " (", sa[1], " != ", sb[0],
                "); transpose or reshape one operand");
  Tensor<T> out = Tensor<T>::uninitialized(Shape{sa[0], sb[1]});
  out.matrix().noalias() = a.value().matrix() * b.value().matrix();
  return Var<T>::make(std::move(out), {a, b}, [](Node<T>& self) {
    const auto& A = self.parents[0];
    const auto& B = self.parents[1];
    const auto dC = self.grad.matrix();
    detail::write_grad(
        A, [&](Tensor<T>& dA) { dA.matrix().noalias() = dC * B->value.matrix().transpose(); },
        [&](Tensor<T>& dA) { dA.matrix().noalias() += dC * B->value.matrix().transpose(); });
    detail::write_grad(
        B, [&](Tensor<T>& dB) { dB.matrix().noalias() = A->value.matrix().transpose() * dC; },
        [&](Tensor<T>& dB) { dB.matrix().noalias() += A->value.matrix().transpose() * dC; });
  }, "matmul");
}

/// y = x·Wᵀ + b with W (out, in) and b (out) as in PyTorch's nn.Linear.
/// x: (..., in) → y: (..., out). b may be an undefined Var (no bias).
template <typename T>
Var<T> linear(const Var<T>& x, const Var<T>& weight, const Var<T>& bias = Var<T>()) {
  const Shape& sx = x.shape();
  const Shape& sw = weight.shape();
  DEEPGEN_CHECK(sw.rank() == 2, "linear: weight must be (out, in) but has shape ", sw);
  DEEPGEN_CHECK(sx.rank() >= 1 && sx.cols() == sw[1], "linear: input ", sx, " does not match weight ", sw,
                ": the input's last dimension must equal in = ", sw[1]);
  if (bias.defined())
    DEEPGEN_CHECK(bias.shape() == Shape{sw[0]}, "linear: bias must be (", sw[0], ") for weight ", sw,
                  " but has shape ", bias.shape());
  std::vector<int64_t> dims = sx.dims();
  dims.back() = sw[0];
  Tensor<T> out = Tensor<T>::uninitialized(Shape(dims));
  auto Y = out.matrix();
  Y.noalias() = x.value().matrix() * weight.value().matrix().transpose();
  if (bias.defined()) Y.rowwise() += bias.value().vec().transpose();
  return Var<T>::make(std::move(out), {x, weight, bias}, [](Node<T>& self) {
    const auto dY = self.grad.matrix();
    const auto& X = self.parents[0];
    const auto& W = self.parents[1];
    detail::write_grad(
        X, [&](Tensor<T>& dX) { dX.matrix().noalias() = dY * W->value.matrix(); },
        [&](Tensor<T>& dX) { dX.matrix().noalias() += dY * W->value.matrix(); });
    detail::write_grad(
        W, [&](Tensor<T>& dW) { dW.matrix().noalias() = dY.transpose() * X->value.matrix(); },
        [&](Tensor<T>& dW) { dW.matrix().noalias() += dY.transpose() * X->value.matrix(); });
    if (self.parents.size() > 2)
      detail::accumulate_grad(self.parents[2], [&](Tensor<T>& db) { db.vec() += dY.colwise().sum().transpose(); });
  }, "linear");
}

}  // namespace deepgen
