// kernels/parameters.cu — cuda::ParameterStore (declared and explained in
// deepgen/cuda/parameters.hpp): the flat parameter, gradient and moment
// buffers, and the norm, clipping and Adam that end a training step.
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/launchers.hpp"
#include "deepgen/cuda/parameters.hpp"
#include "deepgen/detail/adam_rule.hpp"
#include "deepgen/error.hpp"
#include "blas.cuh"
#include "launch.cuh"

namespace deepgen::cuda {
namespace {

using namespace kernels;

// The store has no stream of its own: its host copies run on
// cudaStreamLegacy, named explicitly, which is ordered after the work of
// every blocking stream (a Context's) whatever --default-stream the program
// was built with, and are waited for. Checkpoint-time copies: no overlap needed.

template <typename T>
void copy_to_device(T* dst, const T* host, int64_t n) {
  DEEPGEN_CHECK(host != nullptr, "cuda::ParameterStore: the host pointer is null; pass an array of ", n,
                " elements");
  DEEPGEN_CUDA_CHECK(cudaMemcpyAsync(dst, host, size_t(n) * sizeof(T), cudaMemcpyHostToDevice, cudaStreamLegacy));
  DEEPGEN_CUDA_CHECK(cudaStreamSynchronize(cudaStreamLegacy));
}

template <typename T>
void copy_to_host(T* host, const T* src, int64_t n) {
  DEEPGEN_CHECK(host != nullptr, "cuda::ParameterStore: the host pointer is null; pass an array of ", n,
                " elements");
  DEEPGEN_CUDA_CHECK(cudaMemcpyAsync(host, src, size_t(n) * sizeof(T), cudaMemcpyDeviceToHost, cudaStreamLegacy));
  DEEPGEN_CUDA_CHECK(cudaStreamSynchronize(cudaStreamLegacy));
}

}  // namespace

template <typename T>
ParameterStore<T>::ParameterStore(std::vector<std::string> names, std::vector<std::vector<int64_t>> shapes)
    : m_names(std::move(names)), m_shapes(std::move(shapes)) {
  DEEPGEN_CHECK(!m_names.empty() && m_names.size() == m_shapes.size(), "cuda::ParameterStore: ", m_names.size(),
                " names for ", m_shapes.size(), " shapes; give one name per parameter");
  m_offsets.assign(1, 0);
  for (size_t i = 0; i < m_shapes.size(); ++i) {
    int64_t n = 1;
    for (int64_t d : m_shapes[i]) {
      DEEPGEN_CHECK(d > 0 && n <= (int64_t(1) << 40) / d, "cuda::ParameterStore: parameter '", m_names[i],
                    "' has an empty or oversized dimension ", d);
      n *= d;
    }
    m_offsets.push_back(m_offsets.back() + n);
  }
  const size_t n = size_t(total());
  m_params = DeviceBuffer<T>(n);
  m_grads = DeviceBuffer<T>(n);
  m_exp_avg = DeviceBuffer<T>(n);
  m_exp_avg_sq = DeviceBuffer<T>(n);
  for (auto* buf : {&m_params, &m_grads, &m_exp_avg, &m_exp_avg_sq})
    DEEPGEN_CUDA_CHECK(cudaMemsetAsync(buf->data(), 0, buf->bytes(), cudaStreamLegacy));
  DEEPGEN_CUDA_CHECK(cudaStreamSynchronize(cudaStreamLegacy));
  T* const ptrs[3] = {m_params.data(), m_exp_avg.data(), m_exp_avg_sq.data()};
  m_adam_ptrs = DeviceBuffer<T*>(3);
  m_adam_ptrs.upload(ptrs, 3);
  const T* grad_ptr = m_grads.data();
  m_adam_grad_ptr = DeviceBuffer<const T*>(1);
  m_adam_grad_ptr.upload(&grad_ptr, 1);
  const int64_t offsets[2] = {0, total()};
  m_adam_offsets = DeviceBuffer<int64_t>(2);
  m_adam_offsets.upload(offsets, 2);
}

void check_optimizer_options(const OptimizerOptions& o, const char* where) {
  DEEPGEN_CHECK(o.lr > 0 && o.eps > 0 && o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1 &&
                    o.weight_decay >= 0 && o.max_grad_norm >= 0,
                where, ": invalid options lr=", o.lr, " betas=(", o.beta1, ", ", o.beta2, ") eps=", o.eps,
                " weight_decay=", o.weight_decay, " max_grad_norm=", o.max_grad_norm,
                "; need lr > 0, eps > 0, 0 <= beta < 1, weight_decay >= 0, max_grad_norm >= 0");
}

template <typename T>
void ParameterStore<T>::check_index(int i) const {
  DEEPGEN_CHECK(i >= 0 && i < count(), "cuda::ParameterStore: parameter ", i, " does not exist; use 0 to ",
                count() - 1);
}

template <typename T>
int64_t ParameterStore<T>::offset(int i) const {
  check_index(i);
  return m_offsets[size_t(i)];
}

template <typename T>
const std::string& ParameterStore<T>::name(int i) const {
  check_index(i);
  return m_names[size_t(i)];
}

template <typename T>
const std::vector<int64_t>& ParameterStore<T>::shape(int i) const {
  check_index(i);
  return m_shapes[size_t(i)];
}

template <typename T>
int64_t ParameterStore<T>::numel(int i) const {
  const int64_t first = offset(i);  // checks i before m_offsets[i + 1] is read
  return m_offsets[size_t(i) + 1] - first;
}

template <typename T>
void ParameterStore<T>::set_parameter(int i, const T* host) {
  copy_to_device(m_params.data() + offset(i), host, numel(i));
}

template <typename T>
void ParameterStore<T>::get_parameter(int i, T* host) const {
  copy_to_host(host, m_params.data() + offset(i), numel(i));
}

template <typename T>
void ParameterStore<T>::get_gradient(int i, T* host) const {
  copy_to_host(host, m_grads.data() + offset(i), numel(i));
}

template <typename T>
void ParameterStore<T>::set_adam_moments(int i, const T* host_exp_avg, const T* host_exp_avg_sq) {
  copy_to_device(m_exp_avg.data() + offset(i), host_exp_avg, numel(i));
  copy_to_device(m_exp_avg_sq.data() + offset(i), host_exp_avg_sq, numel(i));
}

template <typename T>
void ParameterStore<T>::get_adam_moments(int i, T* host_exp_avg, T* host_exp_avg_sq) const {
  copy_to_host(host_exp_avg, m_exp_avg.data() + offset(i), numel(i));
  copy_to_host(host_exp_avg_sq, m_exp_avg_sq.data() + offset(i), numel(i));
}

template <typename T>
void ParameterStore<T>::set_steps(int64_t steps) {
  DEEPGEN_CHECK(steps >= 0, "cuda::ParameterStore::set_steps: ", steps, " is not a step count");
  m_step = steps;
}

template <typename T>
void ParameterStore<T>::zero_grad(const Context& ctx) {
  DEEPGEN_CUDA_CHECK(cudaMemsetAsync(m_grads.data(), 0, m_grads.bytes(), ctx.stream()));
}

template <typename T>
double ParameterStore<T>::clip_and_update(const Context& ctx, const OptimizerOptions& o, const char* where) {
  check_optimizer_options(o, where);
  const cublasHandle_t h = ctx.cublas();
  const double norm = double(nrm2<T>(h, total(), m_grads.data()));
  if (!std::isfinite(norm)) {
    std::vector<T> g;
    for (int i = 0; i < count(); ++i) {
      g.resize(size_t(numel(i)));
      get_gradient(i, g.data());
      for (T x : g)
        DEEPGEN_CHECK(std::isfinite(double(x)), "non-finite gradient in '", m_names[size_t(i)],
                      "' (NaN or inf): training diverged; lower the learning rate or clip gradients");
    }
    DEEPGEN_CHECK(false, "the global gradient norm overflowed to ", norm, "; lower the learning rate");
  }
  if (o.max_grad_norm > 0) {  // optim::clip_grad_norm
    const double factor = o.max_grad_norm / (norm + 1e-6);
    if (factor < 1) scal<T>(h, total(), T(factor), m_grads.data());
  }
  ++m_step;
  const auto s = detail::adam_scalars<T>(o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, m_step);
  adam_update_all<T>(m_adam_ptrs.data(), m_adam_grad_ptr.data(), m_adam_ptrs.data() + 1, m_adam_ptrs.data() + 2,
                     m_adam_offsets.data(), 1, total(), s, ctx.stream());
  ctx.sync();  // report an asynchronous fault at the step that caused it
  return norm;
}

template class ParameterStore<float>;
template class ParameterStore<double>;

}  // namespace deepgen::cuda
