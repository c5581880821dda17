// ops/onehot_linear.hpp — a Linear layer whose input is a one-hot image,
// computed as a sum of gathered weight columns.
//
// The VAE encoder reads a palette image x (B, P) with colours in [0, K). Its
// first layer is nn.Linear(P·K, H) applied to the flattened one-hot image:
//   (1) y[b] = Σ_p W[:, p·K + x[b, p]] + bias          (= onehot(x)·Wᵀ + bias)
//   (2) dW[:, p·K + x[b, p]] += dy[b]   for every (b, p);   dbias = Σ_b dy[b]
// For the Pokémon set that is P gathered columns per image instead of a
// 66,800-wide GEMM: 167× fewer multiply-adds, and no (B, P·K) one-hot matrix.
//
// W keeps PyTorch's (H, P·K) layout so checkpoints move both ways. A column of
// a row-major W is strided, so both directions walk W row by row (unit h
// outer): each row of P·K weights is read once per batch, and each unit's
// work is independent, so units are split across threads with no races.
#pragma once

#include <cstdint>
#include <vector>

#include "../autograd.hpp"
#include "../config.hpp"

namespace deepgen {

/// images (B, P) of class indices in [0, num_classes), weight (H, P·num_classes),
/// bias (H) or undefined → (B, H): equation (1). The images are data, not a
/// Var: they get no gradient.
template <typename T>
Var<T> onehot_linear(const Tensor<int32_t>& images, int64_t num_classes, const Var<T>& weight,
                     const Var<T>& bias = Var<T>()) {
  const Shape& sw = weight.shape();
  DEEPGEN_CHECK(images.rank() == 2 && images.dim(1) > 0, "onehot_linear: images must be (B, P) class indices but "
                "have shape ", images.shape());
  const int64_t B = images.dim(0), P = images.dim(1), K = num_classes;
  DEEPGEN_CHECK(K > 0, "onehot_linear: num_classes is ", K, "; it must be positive");
  DEEPGEN_CHECK(sw.rank() == 2 && sw[1] == P * K, "onehot_linear: weight ", sw, " does not match images ",
                images.shape(), " with ", K, " classes: it must be (H, P·K) = (H, ", P * K, ")");
  const int64_t H = sw[0];
  if (bias.defined())
    DEEPGEN_CHECK(bias.shape() == Shape{H}, "onehot_linear: bias must be (", H, ") for weight ", sw,
                  " but has shape ", bias.shape());
  // The flat column of every (b, p), checked once and shared with backward.
  std::vector<int64_t> cols(static_cast<size_t>(B * P));
  for (int64_t n = 0; n < B * P; ++n) {
    const int32_t k = images[n];
    DEEPGEN_CHECK(k >= 0 && k < K, "onehot_linear: class ", k, " at image ", n / P, ", position ", n % P,
                  " is out of range [0, ", K, "); check the data against the palette size");
    cols[static_cast<size_t>(n)] = (n % P) * K + k;
  }
  Tensor<T> out = Tensor<T>::uninitialized(Shape{B, H});
  const T* W = weight.value().data();
  const T* b0 = bias.defined() ? bias.value().data() : nullptr;
  T* Y = out.data();
  const int64_t* c = cols.data();
  DEEPGEN_PARALLEL_FOR
  for (int64_t h = 0; h < H; ++h) {
    const T* row = W + h * P * K;
    for (int64_t b = 0; b < B; ++b) {
      T acc = b0 ? b0[h] : T(0);
      for (int64_t p = 0; p < P; ++p) acc += row[c[b * P + p]];
      Y[b * H + h] = acc;
    }
  }
  return Var<T>::make(std::move(out), {weight, bias}, [cols = std::move(cols), B, P, K, H](Node<T>& self) {
    const T* dY = self.grad.data();
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dW) {
      T* G = dW.data();
      const int64_t* c = cols.data();
      DEEPGEN_PARALLEL_FOR
      for (int64_t h = 0; h < H; ++h) {
        T* row = G + h * P * K;
        for (int64_t b = 0; b < B; ++b) {
          const T g = dY[b * H + h];
          for (int64_t p = 0; p < P; ++p) row[c[b * P + p]] += g;
        }
      }
    });
    detail::accumulate_grad(self.parents[1], [&](Tensor<T>& db) {  // null when there is no bias
      db.vec() += self.grad.matrix().colwise().sum().transpose();
    });
  }, "onehot_linear");
}

}  // namespace deepgen
