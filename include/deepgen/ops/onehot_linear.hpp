// ops/onehot_linear.hpp — a Linear layer whose input is a one-hot image,
// computed as a sum of gathered weight rows.
//
// The VAE encoder reads a palette image x (B, P) with colours in [0, K). Its
// first layer is nn.Linear(P·K, H) applied to the flattened one-hot image,
// whose weight W (H, P·K) this op takes transposed, as Wᵀ (P·K, H):
//   (1) y[b] = Σ_p Wᵀ[p·K + x[b, p]] + bias        (= onehot(x)·W ᵀ + bias)
//   (2) dWᵀ[p·K + x[b, p]] += dy[b]   for every (b, p);   dbias = Σ_b dy[b]
// For the Pokémon set that is P gathered rows per image instead of a
// 66,800-wide GEMM: 167× fewer multiply-adds, and no (B, P·K) one-hot matrix.
//
// Why transposed: in PyTorch's (H, P·K) layout one input column is H values
// P·K apart, so gathering 64 × 400 columns touches every cache line of the
// 137 MB matrix, forward and again in the scatter backward. In Wᵀ each
// (pixel, colour) is one contiguous row of H: a batch reads and writes only
// the rows it uses (a few MB; the background colour repeats). nn::OneHotLinear
// keeps Wᵀ in memory and PyTorch's layout in checkpoints.
//
// Threads split the H columns, so each thread owns a slice of every row:
// the backward scatter has no races, and the sums are added in the same
// order on any thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "../autograd.hpp"
#include "../config.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace deepgen {

namespace detail {
/// Column slices of H for the threads of onehot_linear: multiples of 16
/// (whole cache lines of float), as many as there are threads.
inline int64_t onehot_slices(int64_t H) {
  int64_t threads = 1;
#if defined(_OPENMP)
  threads = omp_get_max_threads();
#endif
  return std::max<int64_t>(1, std::min<int64_t>(threads, H / 16));
}
}  // namespace detail

/// images (B, P) of class indices in [0, num_classes), weight_t (P·num_classes, H)
/// = Wᵀ, bias (H) or undefined → (B, H): equation (1). The images are data,
/// not a Var: they get no gradient.
template <typename T>
Var<T> onehot_linear(const Tensor<int32_t>& images, int64_t num_classes, const Var<T>& weight_t,
                     const Var<T>& bias = Var<T>()) {
  const Shape& sw = weight_t.shape();
  DEEPGEN_CHECK(images.rank() == 2 && images.dim(1) > 0, "onehot_linear: images must be (B, P) class indices but "
                "have shape ", images.shape());
  const int64_t B = images.dim(0), P = images.dim(1), K = num_classes;
  DEEPGEN_CHECK(K > 0, "onehot_linear: num_classes is ", K, "; it must be positive");
  DEEPGEN_CHECK(sw.rank() == 2 && sw[0] == P * K, "onehot_linear: weight_t ", sw, " does not match images ",
                images.shape(), " with ", K, " classes: it must be Wᵀ, (P·K, H) = (", P * K, ", H)");
  const int64_t H = sw[1];
  if (bias.defined())
    DEEPGEN_CHECK(bias.shape() == Shape{H}, "onehot_linear: bias must be (", H, ") for weight_t ", sw,
                  " but has shape ", bias.shape());
  // The row of every (b, p), checked once and shared with backward.
  std::vector<int64_t> rows(static_cast<size_t>(B * P));
  for (int64_t n = 0; n < B * P; ++n) {
    const int32_t k = images[n];
    DEEPGEN_CHECK(k >= 0 && k < K, "onehot_linear: class ", k, " at image ", n / P, ", position ", n % P,
                  " is out of range [0, ", K, "); check the data against the palette size");
    rows[static_cast<size_t>(n)] = ((n % P) * K + k) * H;
  }
  Tensor<T> out = Tensor<T>::uninitialized(Shape{B, H});
  const T* W = weight_t.value().data();
  const T* b0 = bias.defined() ? bias.value().data() : nullptr;
  T* Y = out.data();
  const int64_t* r = rows.data();
  const int64_t slices = detail::onehot_slices(H);
  DEEPGEN_PARALLEL_FOR
  for (int64_t s = 0; s < slices; ++s) {
    const int64_t h0 = (H * s / slices) / 16 * 16, h1 = s + 1 == slices ? H : (H * (s + 1) / slices) / 16 * 16;
    for (int64_t b = 0; b < B; ++b) {
      T* y = Y + b * H;
      if (b0)
        std::copy(b0 + h0, b0 + h1, y + h0);
      else
        std::fill(y + h0, y + h1, T(0));
      for (int64_t p = 0; p < P; ++p) {
        const T* w = W + r[b * P + p];
        for (int64_t h = h0; h < h1; ++h) y[h] += w[h];
      }
    }
  }
  return Var<T>::make(std::move(out), {weight_t, bias}, [rows = std::move(rows), B, P, H, slices](Node<T>& self) {
    const T* dY = self.grad.data();
    detail::accumulate_grad(self.parents[0], [&](Tensor<T>& dW) {
      T* G = dW.data();
      const int64_t* r = rows.data();
      DEEPGEN_PARALLEL_FOR
      for (int64_t s = 0; s < slices; ++s) {
        const int64_t h0 = (H * s / slices) / 16 * 16, h1 = s + 1 == slices ? H : (H * (s + 1) / slices) / 16 * 16;
        for (int64_t n = 0; n < B * P; ++n) {
          T* g = G + r[n];
          const T* dy = dY + (n / P) * H;
          for (int64_t h = h0; h < h1; ++h) g[h] += dy[h];
        }
      }
    });
    detail::accumulate_grad(self.parents[1], [&](Tensor<T>& db) {  // null when there is no bias
      db.vec() += self.grad.matrix().colwise().sum().transpose();
    });
  }, "onehot_linear");
}

}  // namespace deepgen
