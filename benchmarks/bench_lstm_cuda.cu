// bench_lstm_cuda — the PixelRNN's LSTM on the GPU (H = 512 cells, a one-hot
// input of I = K = 167 colours, float), deepgen's fused path beside two
// references measured in the same binary and run:
//
//   fused    deepgen: a cuBLAS GEMM h·W_hhᵀ, then lstm_pointwise_fwd, which adds
//            column tokens[b] of W_ih (the one-hot input as a gather), both biases,
//            the gates, c and h in one pass. Backward: lstm_pointwise_bwd, GEMMs
//            for dh_prev and dW_hh, GEMVs for the biases, onehot_scatter_add for
//            dW_ih. Sequences: cuda::lstm_sequence_forward/backward_onehot.
//   unfused  the same step written plainly: the one-hot input as a dense (B, I)
//            matrix through a cuBLAS GEMM x·W_ihᵀ, the recurrent GEMM, then one
//            simple kernel each for the biases, the gate nonlinearities, c and h
//            (below, one thread per element, nothing deliberately slow). Backward
//            likewise: one kernel each through h, c and the nonlinearities, GEMVs
//            for the biases and dense GEMMs for dh_prev, dW_hh and dW_ih.
//   cudnn    cuDNN's LSTM (v8/v9 API: cudnnRNNForward, cudnnRNNBackwardData_v8,
//            cudnnRNNBackwardWeights_v8) on the dense one-hot input, the same
//            weights copied into its weight space. CUDNN_RNN_ALGO_STANDARD,
//            CUDNN_FMA_MATH: true FP32 like cuBLAS's default SGEMM (cuDNN's
//            DEFAULT_MATH may pick TF32 tensor cores on Ampere and later, which
//            would compare a lower-precision product); should cuDNN refuse FMA
//            math for the RNN, DEFAULT_MATH is used and the first lines say so.
//            Built only where CMake finds cuDNN (DEEPGEN_BENCH_CUDNN).
//   cpu      the CPU rows (lstm_cuda_cpu_rows.cpp), for scale.
//
// Rows, named workload/variant/B:
//   lstm_step_fwd/{fused,unfused,cudnn,cpu}/{1,16,64,256}
//   lstm_step_fwdbwd/{fused,unfused,cudnn}/{1,16,64,256}
//   lstm_seq400_fwdbwd/{fused,cudnn}/{1,64}
//   sample400/fused/{1,64}, sample400/cpu/1
//
// What a row does (the same for every variant of it; FLOP and byte counts in
// lstm_cuda_rows.hpp):
//   lstm_step_fwd     one step forward: h_prev, c_prev (B, H) and B tokens (the
//                     dense one-hot x (B, I) for unfused and cudnn, built once
//                     outside the timing) → h, c. cuDNN runs in inference mode;
//                     fused and unfused write the gates as well.
//   lstm_step_fwdbwd  one training step of the cell: the forward (cuDNN in training
//                     mode, keeping its reserve space), then from upstream
//                     gradients dh, dc (B, H) on h and c: dh_prev, dc_prev and
//                     fresh (overwritten) dW_ih, dW_hh, db_ih, db_hh. cuDNN also
//                     computes the input gradient dx (B, I): its API has no way to
//                     skip it.
//   lstm_seq400_fwdbwd  a whole 400-step sequence, zero initial state, an
//                     upstream gradient on every h_t, forward and backpropagation
//                     through time, fresh weight gradients. cuDNN: one
//                     cudnnRNNForward over seqLength 400, then backward data and
//                     weights. (No unfused sequence row.)
//   sample400/fused/B cuda::PixelRNN<float>::complete(images, B, 400, keep = 0,
//                     temperature 1, seed): drawing B images from scratch,
//                     including the output layer (h·fc.weightᵀ + bias), the
//                     per-row categorical draw on the device, the token upload
//                     and the download of the images. Random weights.
//
// Timing: GPU rows use manual time measured with CUDA events on the work's
// stream, the stop event waited for before the clock is read. A step is a few
// microseconds, so a timed iteration enqueues STEP_BATCH = 10 identical steps
// back to back (as a sequence loop would) and reports elapsed / 10: the
// per-step cost when launches are pipelined. Sequence rows time one call per
// iteration; sampling rows time the synchronous complete() with the host clock.
// One untimed warm-up call precedes the loop; cuDNN descriptors, weight copies
// and buffers are made once per row, outside the timing. Every row is repeated
// REPETITIONS = 5 times; the console shows the median of each (the JSON of
// --benchmark_out=FILE holds mean, median, stddev and cv) and, at the end, one
// table: median ms per call, and fused's speedup over the faster GPU reference.
//
// Before timing anything, a self-check runs one step (B = 16) of every variant
// and one 400-step sequence (B = 8) of fused and cudnn on the same inputs and
// compares every output and gradient with the fused path (‖a − b‖ / ‖b‖): it
// verifies the unfused kernels and the cuDNN weight layout and gate order this
// file assumes (a cuDNN mismatch also leaves the cudnn rows out). A mismatch, or a row that fails, makes the exit
// status 1. Without a GPU only the CPU rows run and the exit status is 0.
//
//   bench_lstm_cuda [--benchmark_filter=REGEX] [--benchmark_min_time=0.05s] ...
#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <unistd.h>

#if DEEPGEN_BENCH_CUDNN
#include <cudnn.h>
#if CUDNN_MAJOR < 8
#error "bench_lstm_cuda uses cuDNN's v8 RNN API (cudnnRNNForward); configure without cuDNN or install cuDNN >= 8"
#endif
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "deepgen/cuda/check.hpp"
#include "deepgen/cuda/context.hpp"
#include "deepgen/cuda/launchers.hpp"
#include "deepgen/cuda/lstm_sequence.hpp"
#include "deepgen/cuda/memory.hpp"
#include "deepgen/cuda/pixelrnn.hpp"
#include "deepgen/error.hpp"
#include "deepgen/allocator.hpp"
#include "../kernels/blas.cuh"
#include "lstm_cuda_rows.hpp"

#if DEEPGEN_BENCH_CUDNN
/// Evaluate a cuDNN call; throw deepgen::CudaError unless it returns CUDNN_STATUS_SUCCESS.
#define DEEPGEN_CUDNN_CHECK(call)                                                            \
  do {                                                                                       \
    const cudnnStatus_t deepgen_cudnn_status_ = (call);                                      \
    if (deepgen_cudnn_status_ != CUDNN_STATUS_SUCCESS)                                       \
      ::deepgen::detail::throw_cuda_error(                                                   \
          #call, __FILE__, __LINE__,                                                         \
          ::deepgen::detail::str(cudnnGetErrorString(deepgen_cudnn_status_), " (cuDNN ",     \
                                 cudnnGetVersion(), ")"));                                   \
  } while (0)
#endif

namespace deepgen_bench {
namespace {

using deepgen::cuda::DeviceBuffer;

constexpr int STEP_BATCH = 10;           // steps enqueued per timed iteration of a step row
constexpr int64_t CHECK_STEP_B = 16;     // self-check batch of the one-step comparison
constexpr double STEP_TOLERANCE = 1e-3;  // ‖a − b‖/‖b‖ allowed between variants (FP32, other sum orders)
#if DEEPGEN_BENCH_CUDNN
constexpr int64_t CHECK_SEQ_B = 8;  // self-check batch of the 400-step comparison (cuDNN against fused)
constexpr double SEQ_TOLERANCE = 5e-3;
#endif

bool g_row_failed = false;  // a GPU row threw: exit status 1
#if DEEPGEN_BENCH_CUDNN
bool g_cudnn_rows = true;                      // false when cuDNN failed its setup or self-check
cudnnMathType_t g_cudnn_math = CUDNN_FMA_MATH;  // CUDNN_DEFAULT_MATH if cuDNN refuses FMA math for the RNN
#endif

// ---- host data ------------------------------------------------------------------------

std::vector<float> uniform(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

std::vector<int32_t> random_tokens(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, int32_t(I) - 1);
  std::vector<int32_t> v(n);
  for (auto& t : v) t = dist(rng);
  return v;
}

/// Row r of the result is the one-hot encoding of tokens[r] (rows × I).
std::vector<float> one_hot(const std::vector<int32_t>& tokens) {
  std::vector<float> x(tokens.size() * size_t(I), 0.f);
  for (size_t r = 0; r < tokens.size(); ++r) x[r * size_t(I) + size_t(tokens[r])] = 1.f;
  return x;
}

template <typename T>
DeviceBuffer<T> to_device(const std::vector<T>& v) {
  DeviceBuffer<T> d(v.size());
  d.upload(v.data(), v.size());
  return d;
}

std::vector<float> to_host(const float* device, size_t n) {
  std::vector<float> v(n);
  if (n) DEEPGEN_CUDA_CHECK(cudaMemcpy(v.data(), device, n * sizeof(float), cudaMemcpyDeviceToHost));
  return v;
}

// ---- the GPU, the shared weights ---------------------------------------------------------

/// One stream + cuBLAS handle (and cuDNN handle) for every GPU row, and the LSTM's
/// parameters in PyTorch's layout: weight_ih (4H, I), weight_hh (4H, H), bias_ih,
/// bias_hh (4H), drawn from U(−1/√H, 1/√H) as PyTorch initialises them.
struct Gpu {
  deepgen::cuda::Context ctx;
  DeviceBuffer<float> w_ih, w_hh, b_ih, b_hh;
#if DEEPGEN_BENCH_CUDNN
  cudnnHandle_t cudnn = nullptr;
#endif

  Gpu() {
    const float k = 1.f / std::sqrt(float(H));
    w_ih = to_device(uniform(size_t(G * I), -k, k, 11));
    w_hh = to_device(uniform(size_t(G * H), -k, k, 12));
    b_ih = to_device(uniform(size_t(G), -k, k, 13));
    b_hh = to_device(uniform(size_t(G), -k, k, 14));
#if DEEPGEN_BENCH_CUDNN
    DEEPGEN_CUDNN_CHECK(cudnnCreate(&cudnn));
    try {
      DEEPGEN_CUDNN_CHECK(cudnnSetStream(cudnn, ctx.stream()));
    } catch (...) {
      cudnnDestroy(cudnn);
      throw;
    }
#endif
  }
  Gpu(const Gpu&) = delete;
  Gpu& operator=(const Gpu&) = delete;
  ~Gpu() {
#if DEEPGEN_BENCH_CUDNN
    if (cudnn && cudnnDestroy(cudnn) != CUDNN_STATUS_SUCCESS)
      std::fprintf(stderr, "bench_lstm_cuda: cudnnDestroy failed\n");
#endif
  }
  cudaStream_t stream() const { return ctx.stream(); }
  cublasHandle_t cublas() const { return ctx.cublas(); }
};

std::unique_ptr<Gpu> g_gpu;

// Row-major products are written as cuBLAS's column-major ones (a row-major
// (r × c) buffer read column-major is its (c × r) transpose) through the
// library's own gemm (kernels/blas.cuh): C (m × n) = op(A)·op(B) + β·C.
using deepgen::cuda::kernels::gemm;

/// db (4H) = Σ over the B rows of dpre (B, 4H): dpre read column-major is (4H × B).
void bias_grad(cublasHandle_t h, const float* dpre, const float* ones, int64_t B, float* db) {
  const float one = 1.f, zero = 0.f;
  DEEPGEN_CUBLAS_CHECK(cublasSgemv(h, CUBLAS_OP_N, int(G), int(B), &one, dpre, int(G), ones, 1, &zero, db, 1));
}

// ---- the unfused step's kernels: one simple pass each, one thread per element ------------

constexpr int THREADS = 256;
unsigned blocks_for(int64_t n) { return unsigned(std::min<int64_t>((n + THREADS - 1) / THREADS, 65535)); }

#define BENCH_GRID_STRIDE(idx, n) \
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < (n); idx += int64_t(gridDim.x) * blockDim.x)

__device__ float sigmoidf_(float x) { return 1.f / (1.f + expf(-x)); }

// pre (B, 4H) += b_ih + b_hh, per row
__global__ void add_biases_kernel(float* pre, const float* b_ih, const float* b_hh, int64_t B) {
  BENCH_GRID_STRIDE(idx, B * G) {
    const int64_t k = idx % G;
    pre[idx] += b_ih[k] + b_hh[k];
  }
}

// in place: σ on the i, f, o blocks of each row, tanh on the g block
__global__ void gate_activations_kernel(float* a, int64_t B) {
  BENCH_GRID_STRIDE(idx, B * G) {
    const int64_t q = (idx % G) / H;
    a[idx] = q == 2 ? tanhf(a[idx]) : sigmoidf_(a[idx]);
  }
}

// c = f ⊙ c_prev + i ⊙ g
__global__ void cell_kernel(const float* act, const float* c_prev, float* c, int64_t B) {
  BENCH_GRID_STRIDE(idx, B * H) {
    const int64_t b = idx / H, j = idx - b * H;
    const float* row = act + b * G;
    c[idx] = row[H + j] * c_prev[idx] + row[j] * row[2 * H + j];
  }
}

// h = o ⊙ tanh(c)
__global__ void hidden_kernel(const float* act, const float* c, float* h, int64_t B) {
  BENCH_GRID_STRIDE(idx, B * H) {
    const int64_t b = idx / H, j = idx - b * H;
    h[idx] = act[b * G + 3 * H + j] * tanhf(c[idx]);
  }
}

// Backward through h = o ⊙ tanh(c): d_o = dh ⊙ tanh(c); dc_total = dc + dh ⊙ o ⊙ (1 − tanh²(c)).
__global__ void hidden_bwd_kernel(const float* act, const float* c, const float* dh, const float* dc, float* dact,
                                  float* dc_total, int64_t B) {
  BENCH_GRID_STRIDE(idx, B * H) {
    const int64_t b = idx / H, j = idx - b * H;
    const float tc = tanhf(c[idx]), o = act[b * G + 3 * H + j];
    dact[b * G + 3 * H + j] = dh[idx] * tc;
    dc_total[idx] = dc[idx] + dh[idx] * o * (1.f - tc * tc);
  }
}

// Backward through c = f ⊙ c_prev + i ⊙ g: d_i = dc·g, d_f = dc·c_prev, d_g = dc·i, dc_prev = dc·f.
__global__ void cell_bwd_kernel(const float* act, const float* c_prev, const float* dc_total, float* dact,
                                float* dc_prev, int64_t B) {
  BENCH_GRID_STRIDE(idx, B * H) {
    const int64_t b = idx / H, j = idx - b * H;
    const float* row = act + b * G;
    float* drow = dact + b * G;
    const float d = dc_total[idx];
    drow[j] = d * row[2 * H + j];
    drow[H + j] = d * c_prev[idx];
    drow[2 * H + j] = d * row[j];
    dc_prev[idx] = d * row[H + j];
  }
}

// Backward through the nonlinearities: dpre = dact ⊙ σ'(·) = dact·a(1 − a), or dact·(1 − g²) for g.
__global__ void gate_activations_bwd_kernel(const float* act, const float* dact, float* dpre, int64_t B) {
  BENCH_GRID_STRIDE(idx, B * G) {
    const int64_t q = (idx % G) / H;
    const float a = act[idx];
    dpre[idx] = dact[idx] * (q == 2 ? 1.f - a * a : a * (1.f - a));
  }
}

// ---- one step's data -------------------------------------------------------------------------

/// Inputs, outputs and scratch of one step at batch B, filled from seeds that
/// depend on B only, so every variant's copy holds the same inputs.
struct StepData {
  int64_t B;
  std::vector<int32_t> host_tokens;
  DeviceBuffer<int32_t> tokens;          // (B) colour of each row
  DeviceBuffer<float> x;                 // (B, I) the same, one-hot (unfused, cudnn)
  DeviceBuffer<float> h_prev, c_prev;    // (B, H) state entering the step
  DeviceBuffer<float> dh, dc;            // (B, H) upstream gradients on h and c
  DeviceBuffer<float> h, c;              // (B, H) outputs
  DeviceBuffer<float> dh_prev, dc_prev;  // (B, H) gradients on the incoming state
  DeviceBuffer<float> act, dact, dpre;   // (B, 4H) gates, their gradients, pre-activation gradients
  DeviceBuffer<float> dc_total, ones;    // (B, H) scratch; (B) ones for the bias GEMVs
  DeviceBuffer<float> dx;                // (B, I) cuDNN's input gradient
  DeviceBuffer<float> dw_ih, dw_hh, db_ih, db_hh;

  explicit StepData(int64_t batch)
      : B(batch), host_tokens(random_tokens(size_t(B), uint32_t(100 + B))), tokens(to_device(host_tokens)),
        x(to_device(one_hot(host_tokens))), h_prev(to_device(uniform(size_t(B * H), -1, 1, uint32_t(200 + B)))),
        c_prev(to_device(uniform(size_t(B * H), -1, 1, uint32_t(300 + B)))),
        dh(to_device(uniform(size_t(B * H), -1, 1, uint32_t(400 + B)))),
        dc(to_device(uniform(size_t(B * H), -1, 1, uint32_t(500 + B)))), h(size_t(B * H)), c(size_t(B * H)),
        dh_prev(size_t(B * H)), dc_prev(size_t(B * H)), act(size_t(B * G)), dact(size_t(B * G)), dpre(size_t(B * G)),
        dc_total(size_t(B * H)), ones(to_device(std::vector<float>(size_t(B), 1.f))), dx(size_t(B * I)),
        dw_ih(size_t(G * I)), dw_hh(size_t(G * H)), db_ih(size_t(G)), db_hh(size_t(G)) {}
};

// ---- fused (deepgen) -------------------------------------------------------------------------

void fused_fwd(const Gpu& g, StepData& s) {
  // act (B × 4H) = h_prev · W_hhᵀ; column-major: actᵀ = W_hh·h_prevᵀ, W_hh read column-major is W_hhᵀ.
  gemm<float>(g.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, G, s.B, H, g.w_hh.data(), H, s.h_prev.data(), H,
              0.f, s.act.data(), G);
  // gather + biases + gates + c + h, in place on act
  deepgen::cuda::lstm_pointwise_fwd<float>(s.act.data(), s.tokens.data(), g.w_ih.data(), g.b_ih.data(),
                                           g.b_hh.data(), s.c_prev.data(), s.act.data(), s.c.data(), s.h.data(), s.B,
                                           H, I, g.stream());
}

void fused_bwd(const Gpu& g, StepData& s) {
  deepgen::cuda::lstm_pointwise_bwd<float>(s.act.data(), s.c_prev.data(), s.c.data(), s.dh.data(), s.dc.data(),
                                           s.dpre.data(), s.dc_prev.data(), s.B, H, g.stream());
  // dh_prev (B × H) = dpre (B × 4H) · W_hh (4H × H); column-major: dh_prevᵀ = W_hhᵀ·dpreᵀ.
  gemm<float>(g.cublas(), CUBLAS_OP_N, CUBLAS_OP_N, H, s.B, G, g.w_hh.data(), H, s.dpre.data(), G,
              0.f, s.dh_prev.data(), H);
  // dW_hh (4H × H) = dpreᵀ · h_prev; column-major: dW_hhᵀ (H × 4H) = h_prevᵀ·dpre.
  gemm<float>(g.cublas(), CUBLAS_OP_N, CUBLAS_OP_T, H, G, s.B, s.h_prev.data(), H, s.dpre.data(), G,
              0.f, s.dw_hh.data(), H);
  bias_grad(g.cublas(), s.dpre.data(), s.ones.data(), s.B, s.db_ih.data());
  bias_grad(g.cublas(), s.dpre.data(), s.ones.data(), s.B, s.db_hh.data());
  // dW_ih: zero, then scatter-add row b of dpre into column tokens[b].
  DEEPGEN_CUDA_CHECK(cudaMemsetAsync(s.dw_ih.data(), 0, s.dw_ih.bytes(), g.stream()));
  deepgen::cuda::onehot_scatter_add<float>(s.tokens.data(), s.dpre.data(), s.dw_ih.data(), s.B, G, I, g.stream());
}

// ---- unfused (plain) ---------------------------------------------------------------------------

void unfused_fwd(const Gpu& g, StepData& s) {
  // act (B × 4H) = x · W_ihᵀ (dense one-hot), then += h_prev · W_hhᵀ.
  gemm<float>(g.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, G, s.B, I, g.w_ih.data(), I, s.x.data(), I, 0.f, s.act.data(), G);
  gemm<float>(g.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, G, s.B, H, g.w_hh.data(), H, s.h_prev.data(), H,
              1.f, s.act.data(), G);
  add_biases_kernel<<<blocks_for(s.B * G), THREADS, 0, g.stream()>>>(s.act.data(), g.b_ih.data(), g.b_hh.data(), s.B);
  DEEPGEN_CUDA_CHECK_LAUNCH();
  gate_activations_kernel<<<blocks_for(s.B * G), THREADS, 0, g.stream()>>>(s.act.data(), s.B);
  DEEPGEN_CUDA_CHECK_LAUNCH();
  cell_kernel<<<blocks_for(s.B * H), THREADS, 0, g.stream()>>>(s.act.data(), s.c_prev.data(), s.c.data(), s.B);
  DEEPGEN_CUDA_CHECK_LAUNCH();
  hidden_kernel<<<blocks_for(s.B * H), THREADS, 0, g.stream()>>>(s.act.data(), s.c.data(), s.h.data(), s.B);
  DEEPGEN_CUDA_CHECK_LAUNCH();
}

void unfused_bwd(const Gpu& g, StepData& s) {
  hidden_bwd_kernel<<<blocks_for(s.B * H), THREADS, 0, g.stream()>>>(s.act.data(), s.c.data(), s.dh.data(),
                                                                       s.dc.data(), s.dact.data(),
                                                                       s.dc_total.data(), s.B);
  DEEPGEN_CUDA_CHECK_LAUNCH();
  cell_bwd_kernel<<<blocks_for(s.B * H), THREADS, 0, g.stream()>>>(s.act.data(), s.c_prev.data(),
                                                                     s.dc_total.data(), s.dact.data(),
                                                                     s.dc_prev.data(), s.B);
  DEEPGEN_CUDA_CHECK_LAUNCH();
  gate_activations_bwd_kernel<<<blocks_for(s.B * G), THREADS, 0, g.stream()>>>(s.act.data(), s.dact.data(),
                                                                                 s.dpre.data(), s.B);
  DEEPGEN_CUDA_CHECK_LAUNCH();
  bias_grad(g.cublas(), s.dpre.data(), s.ones.data(), s.B, s.db_ih.data());
  bias_grad(g.cublas(), s.dpre.data(), s.ones.data(), s.B, s.db_hh.data());
  gemm<float>(g.cublas(), CUBLAS_OP_N, CUBLAS_OP_N, H, s.B, G, g.w_hh.data(), H, s.dpre.data(), G,
              0.f, s.dh_prev.data(), H);
  gemm<float>(g.cublas(), CUBLAS_OP_N, CUBLAS_OP_T, H, G, s.B, s.h_prev.data(), H, s.dpre.data(), G,
              0.f, s.dw_hh.data(), H);
  // dW_ih (4H × I) = dpreᵀ · x, dense; column-major: dW_ihᵀ (I × 4H) = xᵀ·dpre.
  gemm<float>(g.cublas(), CUBLAS_OP_N, CUBLAS_OP_T, I, G, s.B, s.x.data(), I, s.dpre.data(), G, 0.f, s.dw_ih.data(), I);
}

// ---- cuDNN -------------------------------------------------------------------------------------

#if DEEPGEN_BENCH_CUDNN
/// One owned cuDNN descriptor, destroyed on every path.
template <typename D, cudnnStatus_t (*Destroy)(D)>
struct CudnnDesc {
  D d = nullptr;
  CudnnDesc() = default;
  CudnnDesc(const CudnnDesc&) = delete;
  CudnnDesc& operator=(const CudnnDesc&) = delete;
  ~CudnnDesc() {
    if (d) Destroy(d);
  }
};
using TensorDesc = CudnnDesc<cudnnTensorDescriptor_t, cudnnDestroyTensorDescriptor>;

/// cuDNN's single-layer unidirectional LSTM over T steps of batch B, holding the
/// benchmark's weights. Data layout CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED with
/// every sequence of length T: x (T, B, I) and y (T, B, H), time-major like
/// deepgen's. hx, cx, hy, cy, dhx, dcx, dhy, dcy are (1, B, H) and may be null
/// (zeros in, nothing out).
class CudnnLstm {
 public:
  CudnnLstm(const Gpu& g, int64_t B, int64_t T, cudnnForwardMode_t mode) : m_h(g.cudnn), m_mode(mode) {
    DEEPGEN_CUDNN_CHECK(cudnnCreateDropoutDescriptor(&m_dropout.d));
    // No dropout (one layer has none anyway): no state buffer is needed.
    DEEPGEN_CUDNN_CHECK(cudnnSetDropoutDescriptor(m_dropout.d, m_h, 0.f, nullptr, 0, 0));
    DEEPGEN_CUDNN_CHECK(cudnnCreateRNNDescriptor(&m_rnn.d));
    DEEPGEN_CUDNN_CHECK(cudnnSetRNNDescriptor_v8(m_rnn.d, CUDNN_RNN_ALGO_STANDARD, CUDNN_LSTM, CUDNN_RNN_DOUBLE_BIAS,
                                                 CUDNN_UNIDIRECTIONAL, CUDNN_LINEAR_INPUT, CUDNN_DATA_FLOAT,
                                                 CUDNN_DATA_FLOAT, g_cudnn_math, int32_t(I), int32_t(H),
                                                 int32_t(H) /* projSize = H: no projection */, 1, m_dropout.d,
                                                 CUDNN_RNN_PADDED_IO_ENABLED /* admits the unpacked layout */));
    const std::vector<int> lengths(static_cast<size_t>(B), static_cast<int>(T));
    DEEPGEN_CUDNN_CHECK(cudnnCreateRNNDataDescriptor(&m_x.d));
    DEEPGEN_CUDNN_CHECK(cudnnSetRNNDataDescriptor(m_x.d, CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED,
                                                  int(T), int(B), int(I), lengths.data(), nullptr));
    DEEPGEN_CUDNN_CHECK(cudnnCreateRNNDataDescriptor(&m_y.d));
    DEEPGEN_CUDNN_CHECK(cudnnSetRNNDataDescriptor(m_y.d, CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED,
                                                  int(T), int(B), int(H), lengths.data(), nullptr));
    DEEPGEN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&m_state.d));
    const int dims[3] = {1, int(B), int(H)}, strides[3] = {int(B * H), int(H), 1};
    DEEPGEN_CUDNN_CHECK(cudnnSetTensorNdDescriptor(m_state.d, CUDNN_DATA_FLOAT, 3, dims, strides));
    m_seq = to_device(std::vector<int32_t>(size_t(B), int32_t(T)));  // devSeqLengths: read by kernels, on the device

    DEEPGEN_CUDNN_CHECK(cudnnGetRNNWeightSpaceSize(m_h, m_rnn.d, &m_wbytes));
    DEEPGEN_CUDNN_CHECK(cudnnGetRNNTempSpaceSizes(m_h, m_rnn.d, m_mode, m_x.d, &m_work_bytes, &m_reserve_bytes));
    m_w = DeviceBuffer<unsigned char>(m_wbytes);
    m_dw = DeviceBuffer<unsigned char>(m_mode == CUDNN_FWD_MODE_TRAINING ? m_wbytes : 0);
    m_work = DeviceBuffer<unsigned char>(m_work_bytes);
    m_reserve = DeviceBuffer<unsigned char>(m_mode == CUDNN_FWD_MODE_TRAINING ? m_reserve_bytes : 0);
    if (m_mode != CUDNN_FWD_MODE_TRAINING) m_reserve_bytes = 0;
    DEEPGEN_CUDA_CHECK(cudaMemset(m_w.data(), 0, m_wbytes));  // padding, if cuDNN leaves any, holds zeros

    // The same parameters as the fused and unfused paths. PyTorch's weight_ih is
    // four (H, I) gate blocks i, f, g, o on top of each other; cuDNN's linear
    // layers 0–3 are the input matrices (and biases) of the gates i, f, g (its
    // "new memory"), o, and 4–7 the recurrent ones, each an (H, in) row-major
    // matrix (checked in lin_layer): block q of weight_ih is linear layer q, of
    // weight_hh linear layer 4 + q, of bias_ih/bias_hh the biases of those.
    for (int q = 0; q < 4; ++q) {
      const LinLayer in = lin_layer(m_w.data(), q), rec = lin_layer(m_w.data(), 4 + q);
      copy_d2d(in.m, g.w_ih.data() + q * H * I, H * I);
      copy_d2d(in.b, g.b_ih.data() + q * H, H);
      copy_d2d(rec.m, g.w_hh.data() + q * H * H, H * H);
      copy_d2d(rec.b, g.b_hh.data() + q * H, H);
    }
    DEEPGEN_CUDA_CHECK(cudaDeviceSynchronize());
  }

  /// x → y (and hy, cy): one cudnnRNNForward over all T steps.
  void forward(const float* x, const float* hx, const float* cx, float* y, float* hy, float* cy) {
    DEEPGEN_CUDNN_CHECK(cudnnRNNForward(m_h, m_rnn.d, m_mode, m_seq.data(), m_x.d, x, m_y.d, y, m_state.d, hx, hy,
                                        m_state.d, cx, cy, m_wbytes, m_w.data(), m_work_bytes, m_work.data(),
                                        m_reserve_bytes, m_reserve.data()));
  }

  /// After a training-mode forward: dx, dhx, dcx from dy, dhy, dcy
  /// (cudnnRNNBackwardData_v8), then fresh weight gradients: cuDNN only adds
  /// (CUDNN_WGRAD_MODE_ADD), so the gradient space is zeroed first.
  void backward(const float* x, const float* y, const float* dy, const float* hx, const float* cx, const float* dhy,
                const float* dcy, float* dx, float* dhx, float* dcx, cudaStream_t stream) {
    DEEPGEN_CHECK(m_mode == CUDNN_FWD_MODE_TRAINING, "CudnnLstm::backward needs a training-mode instance");
    DEEPGEN_CUDNN_CHECK(cudnnRNNBackwardData_v8(m_h, m_rnn.d, m_seq.data(), m_y.d, y, dy, m_x.d, dx, m_state.d, hx,
                                                dhy, dhx, m_state.d, cx, dcy, dcx, m_wbytes, m_w.data(),
                                                m_work_bytes, m_work.data(), m_reserve_bytes, m_reserve.data()));
    DEEPGEN_CUDA_CHECK(cudaMemsetAsync(m_dw.data(), 0, m_wbytes, stream));
    DEEPGEN_CUDNN_CHECK(cudnnRNNBackwardWeights_v8(m_h, m_rnn.d, CUDNN_WGRAD_MODE_ADD, m_seq.data(), m_x.d, x,
                                                   m_state.d, hx, m_y.d, y, m_wbytes, m_dw.data(), m_work_bytes,
                                                   m_work.data(), m_reserve_bytes, m_reserve.data()));
  }

  /// The last backward's weight gradients, in PyTorch's layout (synchronous copies).
  void gradients(std::vector<float>& dw_ih, std::vector<float>& dw_hh, std::vector<float>& db_ih,
                 std::vector<float>& db_hh) const {
    dw_ih.assign(size_t(G * I), 0.f);
    dw_hh.assign(size_t(G * H), 0.f);
    db_ih.assign(size_t(G), 0.f);
    db_hh.assign(size_t(G), 0.f);
    DEEPGEN_CUDA_CHECK(cudaDeviceSynchronize());
    for (int q = 0; q < 4; ++q) {
      const LinLayer in = lin_layer(m_dw.data(), q), rec = lin_layer(m_dw.data(), 4 + q);
      copy_d2h(dw_ih.data() + q * H * I, in.m, H * I);
      copy_d2h(db_ih.data() + q * H, in.b, H);
      copy_d2h(dw_hh.data() + q * H * H, rec.m, H * H);
      copy_d2h(db_hh.data() + q * H, rec.b, H);
    }
  }

 private:
  struct LinLayer {
    float* m;  // (H, in) row-major
    float* b;  // (H)
  };

  /// Where linear layer `lin` (0–7) of pseudo-layer 0 lies in `space` (the
  /// weights or their gradients), its shape checked against an (H, in)
  /// row-major matrix, in = I for 0–3 and H for 4–7.
  LinLayer lin_layer(const void* space, int lin) const {
    TensorDesc mdesc, bdesc;
    DEEPGEN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&mdesc.d));
    DEEPGEN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&bdesc.d));
    void* m = nullptr;
    void* b = nullptr;
    DEEPGEN_CUDNN_CHECK(cudnnGetRNNWeightParams(m_h, m_rnn.d, 0, m_wbytes, space, lin, mdesc.d, &m, bdesc.d, &b));
    DEEPGEN_CHECK(m != nullptr && b != nullptr, "cudnnGetRNNWeightParams gave no matrix or bias for linear layer ",
                  lin);
    const int64_t in = lin < 4 ? I : H;
    check_shape(mdesc.d, lin, "matrix", {H, in});
    check_shape(bdesc.d, lin, "bias", {H});
    return {static_cast<float*>(m), static_cast<float*>(b)};
  }

  /// The descriptor's dimensions, leading and trailing 1s dropped, must be `want`
  /// with packed row-major strides, else the copy in the constructor would
  /// scramble the weights: throw with what cuDNN reported.
  static void check_shape(cudnnTensorDescriptor_t desc, int lin, const char* what, std::vector<int64_t> want) {
    cudnnDataType_t type;
    int nd = 0, dims[8] = {}, strides[8] = {};
    DEEPGEN_CUDNN_CHECK(cudnnGetTensorNdDescriptor(desc, 8, &type, &nd, dims, strides));
    std::vector<int64_t> got_dims, got_strides;
    for (int k = 0; k < nd; ++k) {
      if (dims[k] == 1) continue;
      got_dims.push_back(dims[k]);
      got_strides.push_back(strides[k]);
    }
    std::vector<int64_t> want_strides(want.size(), 1);
    for (size_t k = want.size(); k-- > 1;) want_strides[k - 1] = want_strides[k] * want[k];
    if (type == CUDNN_DATA_FLOAT && got_dims == want && got_strides == want_strides) return;
    std::string shape;
    for (int k = 0; k < nd; ++k) shape += deepgen::detail::str(k ? ", " : "", dims[k], "/", strides[k]);
    DEEPGEN_CHECK(false, "cuDNN lays out the ", what, " of LSTM linear layer ", lin, " as dims/strides [", shape,
                  "], data type ", int(type), "; this benchmark copies PyTorch's row-major (H, in) gate blocks and "
                  "expects (H = ", H, ", in = ", (want.size() > 1 ? want[1] : 1), ") packed row-major floats");
  }

  static void copy_d2d(float* dst, const float* src, int64_t n) {
    DEEPGEN_CUDA_CHECK(cudaMemcpy(dst, src, size_t(n) * sizeof(float), cudaMemcpyDeviceToDevice));
  }
  static void copy_d2h(float* dst, const float* src, int64_t n) {
    DEEPGEN_CUDA_CHECK(cudaMemcpy(dst, src, size_t(n) * sizeof(float), cudaMemcpyDeviceToHost));
  }

  cudnnHandle_t m_h;
  cudnnForwardMode_t m_mode;
  CudnnDesc<cudnnDropoutDescriptor_t, cudnnDestroyDropoutDescriptor> m_dropout;
  CudnnDesc<cudnnRNNDescriptor_t, cudnnDestroyRNNDescriptor> m_rnn;
  CudnnDesc<cudnnRNNDataDescriptor_t, cudnnDestroyRNNDataDescriptor> m_x, m_y;
  TensorDesc m_state;
  DeviceBuffer<int32_t> m_seq;
  size_t m_wbytes = 0, m_work_bytes = 0, m_reserve_bytes = 0;
  DeviceBuffer<unsigned char> m_w, m_dw, m_work, m_reserve;
};

/// One step through cuDNN: seqLength 1, y = h, cy = c; backward from dy = dh (no
/// separate gradient on hy, which for one step is the same h) and dcy = dc.
struct CudnnStep {
  StepData s;
  CudnnLstm rnn;
  CudnnStep(const Gpu& g, int64_t B, cudnnForwardMode_t mode) : s(B), rnn(g, B, 1, mode) {}
  void fwd() { rnn.forward(s.x.data(), s.h_prev.data(), s.c_prev.data(), s.h.data(), nullptr, s.c.data()); }
  void bwd(cudaStream_t stream) {
    rnn.backward(s.x.data(), s.h.data(), s.dh.data(), s.h_prev.data(), s.c_prev.data(), nullptr, s.dc.data(),
                 s.dx.data(), s.dh_prev.data(), s.dc_prev.data(), stream);
  }
};
#endif  // DEEPGEN_BENCH_CUDNN

// ---- a 400-step sequence -------------------------------------------------------------------------

/// Inputs and buffers of a T-step sequence at batch B (seeds depend on B only).
/// `fused` allocates what lstm_sequence_*_onehot need, else what cuDNN needs.
struct SeqData {
  int64_t B, T;
  DeviceBuffer<int32_t> tokens;  // (T, B), time-major
  DeviceBuffer<float> dy;        // (T, B, H) upstream gradient on every h_t
  // fused
  DeviceBuffer<float> act, dpre, hs, cs, work, ones, dw_ih, dw_hh, db_ih, db_hh;
  // cudnn
  DeviceBuffer<float> x, y, dx;

  SeqData(int64_t batch, int64_t steps, bool fused) : B(batch), T(steps) {
    const std::vector<int32_t> host_tokens = random_tokens(size_t(T * B), uint32_t(600 + B));
    tokens = to_device(host_tokens);
    dy = to_device(uniform(size_t(T * B * H), -1, 1, uint32_t(700 + B)));
    if (fused) {
      act = DeviceBuffer<float>(size_t(T * B * G));
      dpre = DeviceBuffer<float>(size_t(T * B * G));
      hs = DeviceBuffer<float>(size_t((T + 1) * B * H));
      cs = DeviceBuffer<float>(size_t((T + 1) * B * H));
      work = DeviceBuffer<float>(size_t(2 * B * H));
      ones = to_device(std::vector<float>(size_t(T * B), 1.f));
      dw_ih = DeviceBuffer<float>(size_t(G * I));
      dw_hh = DeviceBuffer<float>(size_t(G * H));
      db_ih = DeviceBuffer<float>(size_t(G));
      db_hh = DeviceBuffer<float>(size_t(G));
    } else {
      x = to_device(one_hot(host_tokens));
      y = DeviceBuffer<float>(size_t(T * B * H));
      dx = DeviceBuffer<float>(size_t(T * B * I));
    }
  }
};

void fused_seq_fwdbwd(const Gpu& g, SeqData& d) {
  deepgen::cuda::lstm_sequence_forward_onehot<float>(g.ctx, d.tokens.data(), g.w_ih.data(), g.w_hh.data(),
                                                     g.b_ih.data(), g.b_hh.data(), nullptr, nullptr, d.B, d.T, H, I,
                                                     d.act.data(), d.hs.data(), d.cs.data());
  // The backward adds into the gradient buffers: zero them for fresh gradients.
  for (DeviceBuffer<float>* grad : {&d.dw_ih, &d.dw_hh, &d.db_ih, &d.db_hh})
    DEEPGEN_CUDA_CHECK(cudaMemsetAsync(grad->data(), 0, grad->bytes(), g.stream()));
  deepgen::cuda::lstm_sequence_backward_onehot<float>(
      g.ctx, d.tokens.data(), g.w_hh.data(), d.act.data(), d.hs.data(), d.cs.data(), d.dy.data(), nullptr, nullptr,
      d.B, d.T, H, I, d.ones.data(), d.dpre.data(), d.work.data(), d.dw_ih.data(), d.dw_hh.data(), d.db_ih.data(),
      d.db_hh.data(), nullptr, nullptr);
}

#if DEEPGEN_BENCH_CUDNN
struct CudnnSeq {
  SeqData d;
  CudnnLstm rnn;
  CudnnSeq(const Gpu& g, int64_t B, int64_t T) : d(B, T, false), rnn(g, B, T, CUDNN_FWD_MODE_TRAINING) {}
  void fwdbwd(cudaStream_t stream) {
    rnn.forward(d.x.data(), nullptr, nullptr, d.y.data(), nullptr, nullptr);
    rnn.backward(d.x.data(), d.y.data(), d.dy.data(), nullptr, nullptr, nullptr, nullptr, d.dx.data(), nullptr,
                 nullptr, stream);
  }
};
#endif

// ---- timing ----------------------------------------------------------------------------------------

/// A pair of CUDA events, destroyed on every path.
struct Events {
  cudaEvent_t start = nullptr, stop = nullptr;
  Events() {
    DEEPGEN_CUDA_CHECK(cudaEventCreate(&start));
    const cudaError_t err = cudaEventCreate(&stop);
    if (err != cudaSuccess) {
      cudaEventDestroy(start);
      DEEPGEN_CUDA_CHECK(err);
    }
  }
  Events(const Events&) = delete;
  Events& operator=(const Events&) = delete;
  ~Events() {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
  }
};

/// Time `work` on `stream`: one untimed warm-up call, then per benchmark
/// iteration `calls` calls between two events, the stop event waited for; the
/// iteration's time is the elapsed device time / calls.
template <typename Work>
void time_on_stream(benchmark::State& state, cudaStream_t stream, int calls, Work&& work) {
  Events ev;
  work();
  DEEPGEN_CUDA_CHECK(cudaStreamSynchronize(stream));
  for (auto _ : state) {
    DEEPGEN_CUDA_CHECK(cudaEventRecord(ev.start, stream));
    for (int i = 0; i < calls; ++i) work();
    DEEPGEN_CUDA_CHECK(cudaEventRecord(ev.stop, stream));
    DEEPGEN_CUDA_CHECK(cudaEventSynchronize(ev.stop));
    float ms = 0;
    DEEPGEN_CUDA_CHECK(cudaEventElapsedTime(&ms, ev.start, ev.stop));
    state.SetIterationTime(double(ms) * 1e-3 / calls);
  }
}

/// A row's fixture (buffers, descriptors, models) is built on the row's first
/// call and kept while the same row runs again (Google Benchmark calls a row's
/// function once per probe of the iteration count and once per repetition);
/// the previous row's fixture is freed first, so one row's memory is held at a time.
struct FixtureCache {
  std::string key;
  std::shared_ptr<void> object;
} g_fixture;

template <typename T, typename... Args>
T& fixture(const std::string& key, Args&&... args) {
  if (g_fixture.key != key || !g_fixture.object) {
    g_fixture.object.reset();
    g_fixture.key.clear();
    g_fixture.object = std::make_shared<T>(std::forward<Args>(args)...);
    g_fixture.key = key;
  }
  return *static_cast<T*>(g_fixture.object.get());
}

/// Run a GPU row; an exception (a CUDA, cuBLAS or cuDNN error) skips the row
/// with its message and makes the exit status 1.
template <typename Body>
void guarded(benchmark::State& state, Body&& body) {
  try {
    body(state);
  } catch (const std::exception& e) {
    g_row_failed = true;
    g_fixture.object.reset();  // a failed row's buffers may be in any state
    g_fixture.key.clear();
    state.SkipWithError(e.what());
  }
}

// ---- rows -----------------------------------------------------------------------------------------

void step_row(benchmark::State& state, const std::string& name, int64_t B, const std::string& variant, bool bwd) {
  Gpu& g = *g_gpu;
  if (variant == "fused" || variant == "unfused") {
    StepData& s = fixture<StepData>(name, B);
    const bool fused = variant == "fused";
    time_on_stream(state, g.stream(), STEP_BATCH, [&] {
      if (fused) fused_fwd(g, s);
      else unfused_fwd(g, s);
      if (bwd) {
        if (fused) fused_bwd(g, s);
        else unfused_bwd(g, s);
      }
    });
  } else {
#if DEEPGEN_BENCH_CUDNN
    CudnnStep& cs =
        fixture<CudnnStep>(name, g, B, bwd ? CUDNN_FWD_MODE_TRAINING : CUDNN_FWD_MODE_INFERENCE);
    time_on_stream(state, g.stream(), STEP_BATCH, [&] {
      cs.fwd();
      if (bwd) cs.bwd(g.stream());
    });
#endif
  }
  if (bwd) set_rates(state, step_fwdbwd_flops(B), step_fwdbwd_bytes(B));
  else set_rates(state, step_fwd_flops(B), step_fwd_bytes(B));
}

void seq_row(benchmark::State& state, const std::string& name, int64_t B, const std::string& variant) {
  Gpu& g = *g_gpu;
  if (variant == "fused") {
    SeqData& d = fixture<SeqData>(name, B, STEPS, true);
    time_on_stream(state, g.stream(), 1, [&] { fused_seq_fwdbwd(g, d); });
  } else {
#if DEEPGEN_BENCH_CUDNN
    CudnnSeq& cs = fixture<CudnnSeq>(name, g, B, STEPS);
    time_on_stream(state, g.stream(), 1, [&] { cs.fwdbwd(g.stream()); });
#endif
  }
  set_rates(state, seq_fwdbwd_flops(B, STEPS), seq_fwdbwd_bytes(B, STEPS));
}

/// cuda::PixelRNN<float> (K = I colours, H cells) with random weights, and B images' worth of host memory.
struct Sampler {
  deepgen::cuda::PixelRNN<float> model;
  std::vector<int32_t> images;
  Sampler(int64_t B) : model(I, H), images(size_t(B * STEPS), 0) {
    const float k = 1.f / std::sqrt(float(H));
    auto& params = model.parameters();
    for (int i = 0; i < params.count(); ++i)
      params.set_parameter(i, uniform(size_t(params.numel(i)), -k, k, uint32_t(800 + i)).data());
  }
};

void sample_row(benchmark::State& state, const std::string& name, int64_t B) {
  Sampler& smp = fixture<Sampler>(name, B);
  uint64_t seed = 0;
  smp.model.complete(smp.images.data(), B, STEPS, 0, 1.0, seed++);  // warm-up
  for (auto _ : state) {
    // complete() is synchronous (it waits for the device and downloads the
    // images), so the host clock around it measures the whole call.
    const auto t0 = std::chrono::steady_clock::now();
    smp.model.complete(smp.images.data(), B, STEPS, 0, 1.0, seed++);
    const auto t1 = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
  set_rates(state, sample_flops(B, STEPS), sample_bytes(B, STEPS));
}

// min_time: the recorded time each repetition aims for (0: the command
// line's --benchmark_min_time). A step row records a tenth of the time it
// spends (STEP_BATCH steps per iteration, the time per step), so it asks for
// a tenth of the usual 0.5 s: otherwise its 5 repetitions would take 25 s of
// real time each, and the 24 step rows most of a 10-minute GPU session.
template <typename Fn>
void add_gpu_row(const std::string& name, benchmark::TimeUnit unit, double min_time, Fn fn) {
  auto* row = benchmark::RegisterBenchmark(name.c_str(), [name, fn](benchmark::State& state) {
    guarded(state, [&](benchmark::State& st) { fn(st, name); });
  });
  row->UseManualTime()->Unit(unit)->Repetitions(REPETITIONS)->ReportAggregatesOnly(true);
  if (min_time > 0) row->MinTime(min_time);
}

std::vector<std::string> gpu_variants() {
#if DEEPGEN_BENCH_CUDNN
  if (g_cudnn_rows) return {"fused", "unfused", "cudnn"};
#endif
  return {"fused", "unfused"};
}

void register_gpu_rows() {
  for (const bool bwd : {false, true}) {
    const std::string workload = bwd ? "lstm_step_fwdbwd" : "lstm_step_fwd";
    for (const int64_t B : {1, 16, 64, 256})
      for (const std::string& v : gpu_variants())
        add_gpu_row(workload + "/" + v + "/" + std::to_string(B), benchmark::kMicrosecond, 0.5 / STEP_BATCH,
                    [B, v, bwd](benchmark::State& st, const std::string& name) { step_row(st, name, B, v, bwd); });
  }
  for (const int64_t B : {1, 64})
    for (const std::string& v : gpu_variants()) {
      if (v == "unfused") continue;
      add_gpu_row("lstm_seq400_fwdbwd/" + v + "/" + std::to_string(B), benchmark::kMillisecond, 0,
                  [B, v](benchmark::State& st, const std::string& name) { seq_row(st, name, B, v); });
    }
  for (const int64_t B : {1, 64})
    add_gpu_row("sample400/fused/" + std::to_string(B), benchmark::kMillisecond, 0,
                [B](benchmark::State& st, const std::string& name) { sample_row(st, name, B); });
}

// ---- the self-check ----------------------------------------------------------------------------------

/// ‖a − b‖₂ / ‖b‖₂ (the absolute norm when b is zero).
double rel_err(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double num = 0, den = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    const double d = double(a[k]) - double(b[k]);
    num += d * d;
    den += double(b[k]) * double(b[k]);
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

using Outputs = std::vector<std::pair<std::string, std::vector<float>>>;

/// Compare `got` with `want` output by output; print one line; true when all are within tol.
bool compare(const char* what, const Outputs& got, const Outputs& want, double tol) {
  bool ok = true;
  std::string line;
  for (size_t k = 0; k < got.size(); ++k) {
    const double e = rel_err(got[k].second, want[k].second);
    ok = ok && e <= tol;  // NaN fails
    char buf[64];
    std::snprintf(buf, sizeof buf, " %s %.1e", got[k].first.c_str(), e);
    line += buf;
  }
  std::printf("self-check %-28s rel. error vs fused:%s  %s\n", what, line.c_str(), ok ? "ok" : "MISMATCH");
  return ok;
}

/// A step's state outputs, then its weight gradients (fused and unfused keep them in StepData).
Outputs state_outputs(const StepData& s) {
  const auto n = size_t(s.B * H);
  return {{"h", to_host(s.h.data(), n)},
          {"c", to_host(s.c.data(), n)},
          {"dh_prev", to_host(s.dh_prev.data(), n)},
          {"dc_prev", to_host(s.dc_prev.data(), n)}};
}

Outputs step_outputs(const StepData& s) {
  Outputs out = state_outputs(s);
  out.push_back({"dW_ih", to_host(s.dw_ih.data(), size_t(G * I))});
  out.push_back({"dW_hh", to_host(s.dw_hh.data(), size_t(G * H))});
  out.push_back({"db_ih", to_host(s.db_ih.data(), size_t(G))});
  out.push_back({"db_hh", to_host(s.db_hh.data(), size_t(G))});
  return out;
}

/// Run one part of the self-check; an exception counts as a failure, with its message.
template <typename Part>
bool check_part(const char* what, Part&& part) {
  try {
    return part();
  } catch (const std::exception& e) {
    std::printf("self-check %-28s FAILED: %s\n", what, e.what());
    return false;
  }
}

#if DEEPGEN_BENCH_CUDNN
/// Choose cuDNN's math type: CUDNN_FMA_MATH (strict FP32) if cuDNN accepts it
/// for this RNN, else CUDNN_DEFAULT_MATH (which may use TF32 tensor cores; said
/// so). False when neither builds: the cudnn rows are left out.
bool choose_cudnn_math() {
  for (const cudnnMathType_t math : {CUDNN_FMA_MATH, CUDNN_DEFAULT_MATH}) {
    g_cudnn_math = math;
    try {
      CudnnLstm probe(*g_gpu, 1, 1, CUDNN_FWD_MODE_TRAINING);
      std::printf("bench_lstm_cuda: cuDNN %zu, %s\n", cudnnGetVersion(),
                  math == CUDNN_FMA_MATH ? "CUDNN_FMA_MATH (FP32 FMA, no TF32: like cuBLAS's SGEMM)"
                                         : "CUDNN_DEFAULT_MATH (cuDNN refused FMA math: it may use TF32 tensor "
                                           "cores, a lower-precision product than the other variants)");
      return true;
    } catch (const std::exception& e) {
      std::printf("bench_lstm_cuda: cuDNN LSTM setup with %s failed: %s\n",
                  math == CUDNN_FMA_MATH ? "CUDNN_FMA_MATH" : "CUDNN_DEFAULT_MATH", e.what());
    }
  }
  return false;
}
#endif

/// One step (B = 16) and one 400-step sequence (B = 8) of every variant on the
/// same inputs, outputs and gradients compared with the fused path; prints one
/// line per comparison. Returns false on a mismatch or an error; a failing
/// cuDNN part also leaves the cudnn rows out.
bool self_check() {
  Gpu& g = *g_gpu;
  Outputs want;
  if (!check_part("fused step, B=16", [&] {
        StepData fused(CHECK_STEP_B);
        fused_fwd(g, fused);
        fused_bwd(g, fused);
        g.ctx.sync();
        want = step_outputs(fused);
        return true;
      }))
    return false;
  bool ok = check_part("unfused step, B=16", [&] {
    StepData plain(CHECK_STEP_B);
    unfused_fwd(g, plain);
    unfused_bwd(g, plain);
    g.ctx.sync();
    return compare("unfused step, B=16", step_outputs(plain), want, STEP_TOLERANCE);
  });
#if DEEPGEN_BENCH_CUDNN
  if (!g_cudnn_rows) return ok;
  const bool cudnn_ok = check_part("cudnn step, B=16", [&] {
    CudnnStep cs(g, CHECK_STEP_B, CUDNN_FWD_MODE_TRAINING);
    cs.fwd();
    cs.bwd(g.stream());
    g.ctx.sync();
    Outputs got = state_outputs(cs.s);
    std::vector<float> dw_ih, dw_hh, db_ih, db_hh;
    cs.rnn.gradients(dw_ih, dw_hh, db_ih, db_hh);
    got.push_back({"dW_ih", dw_ih});
    got.push_back({"dW_hh", dw_hh});
    got.push_back({"db_ih", db_ih});
    got.push_back({"db_hh", db_hh});
    return compare("cudnn step, B=16", got, want, STEP_TOLERANCE);
  }) && check_part("cudnn 400-step seq, B=8", [&] {
    SeqData fd(CHECK_SEQ_B, STEPS, true);
    fused_seq_fwdbwd(g, fd);
    g.ctx.sync();
    const auto n = size_t(CHECK_SEQ_B * H);
    const Outputs seq_want = {{"h_T", to_host(fd.hs.data() + STEPS * CHECK_SEQ_B * H, n)},
                              {"dW_ih", to_host(fd.dw_ih.data(), size_t(G * I))},
                              {"dW_hh", to_host(fd.dw_hh.data(), size_t(G * H))},
                              {"db_ih", to_host(fd.db_ih.data(), size_t(G))}};
    CudnnSeq cs(g, CHECK_SEQ_B, STEPS);
    cs.fwdbwd(g.stream());
    g.ctx.sync();
    std::vector<float> dw_ih, dw_hh, db_ih, db_hh;
    cs.rnn.gradients(dw_ih, dw_hh, db_ih, db_hh);
    const Outputs seq_got = {{"h_T", to_host(cs.d.y.data() + (STEPS - 1) * CHECK_SEQ_B * H, n)},
                             {"dW_ih", dw_ih},
                             {"dW_hh", dw_hh},
                             {"db_ih", db_ih}};
    return compare("cudnn 400-step seq, B=8", seq_got, seq_want, SEQ_TOLERANCE);
  });
  if (!cudnn_ok) {
    // A cuDNN that computes something else (or nothing) would time meaningless rows.
    g_cudnn_rows = false;
    std::printf("bench_lstm_cuda: the cudnn rows are left out (self-check failed)\n");
  }
  ok = ok && cudnn_ok;
#endif
  return ok;
}

// ---- the report ----------------------------------------------------------------------------------------

// Google Benchmark 1.7 marks a failed run with Run::error_occurred, 1.8 with Run::skipped.
template <typename R>
auto run_failed(const R& r, int) -> decltype(bool(r.error_occurred)) {
  return r.error_occurred;
}
template <typename R>
bool run_failed(const R& r, long) {
  return bool(r.skipped);
}

// Google Benchmark 1.8 added State::skipped() and time suffixes ("0.05s") for
// --benchmark_min_time; 1.7 takes plain seconds.
template <typename S>
constexpr auto has_time_suffixes(int) -> decltype(std::declval<S&>().skipped(), bool()) {
  return true;
}
template <typename S>
constexpr bool has_time_suffixes(long) {
  return false;
}

double to_ms(double t, benchmark::TimeUnit unit) {
  switch (unit) {
    case benchmark::kNanosecond: return t * 1e-6;
    case benchmark::kMicrosecond: return t * 1e-3;
    case benchmark::kMillisecond: return t;
    default: return t * 1e3;  // kSecond
  }
}

/// The console reporter, showing only each row's median (or its single run
/// without repetitions), and collecting those times for the closing table.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  SummaryReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> shown;
    for (const Run& r : runs) {
      const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      if (r.run_type == Run::RT_Aggregate && !median) continue;
      shown.push_back(r);
      if (run_failed(r, 0)) continue;
      Entry& e = m_rows[r.run_name.function_name];
      if (e.median && !median) continue;  // a median beats single runs
      e = {to_ms(r.GetAdjustedRealTime(), r.time_unit), median};
      if (std::find(m_order.begin(), m_order.end(), r.run_name.function_name) == m_order.end())
        m_order.push_back(r.run_name.function_name);
    }
    if (!shown.empty()) ConsoleReporter::ReportRuns(shown);
  }

  /// One line per (workload, B): median ms per call of each variant, and how
  /// much faster fused is than the faster GPU reference (unfused or cudnn).
  void print_summary() const {
    struct Line {
      std::string workload;
      int64_t B;
      std::map<std::string, double> ms;
    };
    std::vector<Line> lines;
    for (const std::string& name : m_order) {
      const size_t a = name.find('/'), b = name.rfind('/');
      if (a == std::string::npos || a == b) continue;
      const std::string workload = name.substr(0, a), variant = name.substr(a + 1, b - a - 1);
      const int64_t B = std::atoll(name.c_str() + b + 1);
      auto it = std::find_if(lines.begin(), lines.end(),
                             [&](const Line& l) { return l.workload == workload && l.B == B; });
      if (it == lines.end()) it = lines.insert(lines.end(), Line{workload, B, {}});
      it->ms[variant] = m_rows.at(name).ms;
    }
    if (lines.empty()) return;
    // Workloads in the order they ran, batch sizes ascending within each.
    std::vector<std::string> workloads;
    for (const Line& l : lines)
      if (std::find(workloads.begin(), workloads.end(), l.workload) == workloads.end()) workloads.push_back(l.workload);
    const auto rank = [&](const Line& l) {
      return std::make_pair(std::find(workloads.begin(), workloads.end(), l.workload) - workloads.begin(), l.B);
    };
    std::stable_sort(lines.begin(), lines.end(), [&](const Line& x, const Line& y) { return rank(x) < rank(y); });
    std::printf("\nbench_lstm_cuda summary: %s ms per call (step rows: per step); "
                "speedup = best GPU reference / fused\n",
                m_rows.empty() || !m_rows.begin()->second.median ? "single-run" : "median");
    std::printf("%-20s %5s %11s %11s %11s %11s  %s\n", "workload", "B", "fused", "unfused", "cudnn", "cpu",
                "speedup");
    for (const Line& l : lines) {
      auto cell = [&](const char* v) {
        const auto it = l.ms.find(v);
        return it == l.ms.end() ? std::string("-") : fmt(it->second);
      };
      std::string speedup = "-";
      const auto fused = l.ms.find("fused");
      double best = INFINITY;
      std::string best_name;
      for (const char* ref : {"unfused", "cudnn"}) {
        const auto it = l.ms.find(ref);
        if (it != l.ms.end() && it->second < best) {
          best = it->second;
          best_name = ref;
        }
      }
      if (fused != l.ms.end() && std::isfinite(best) && fused->second > 0) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.2fx vs %s", best / fused->second, best_name.c_str());
        speedup = buf;
      }
      std::printf("%-20s %5lld %11s %11s %11s %11s  %s\n", l.workload.c_str(), static_cast<long long>(l.B),
                  cell("fused").c_str(), cell("unfused").c_str(), cell("cudnn").c_str(), cell("cpu").c_str(),
                  speedup.c_str());
    }
  }

 private:
  static std::string fmt(double ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", ms);
    return buf;
  }
  struct Entry {
    double ms = 0;
    bool median = false;
  };
  std::map<std::string, Entry> m_rows;
  std::vector<std::string> m_order;  // first appearance
};

}  // namespace
}  // namespace deepgen_bench

int main(int argc, char** argv) {
  using namespace deepgen_bench;
  deepgen::keep_freed_memory();  // the CPU rows' buffers (as bench_cpu)
  // Google Benchmark 1.7 rejects "--benchmark_min_time=0.05s"; 1.8 wants the suffix.
  std::vector<std::string> args(argv, argv + argc);
  if (!has_time_suffixes<benchmark::State>(0)) {
    const std::string flag = "--benchmark_min_time=";
    for (std::string& a : args)
      if (a.rfind(flag, 0) == 0 && a.size() > flag.size() && a.back() == 's') a.pop_back();
  }
  std::vector<char*> arg_ptrs;
  for (std::string& a : args) arg_ptrs.push_back(a.data());
  arg_ptrs.push_back(nullptr);
  int arg_count = argc;
  benchmark::Initialize(&arg_count, arg_ptrs.data());
  if (benchmark::ReportUnrecognizedArguments(arg_count, arg_ptrs.data())) return 1;

  int status = 0;
  std::string why;
  if (!deepgen::cuda_device_available(&why)) {
    std::printf("bench_lstm_cuda: no CUDA device (%s): the GPU rows are skipped, only the CPU rows run\n",
                why.c_str());
  } else {
    try {
      g_gpu = std::make_unique<Gpu>();
      int device = 0;
      cudaDeviceProp prop{};
      DEEPGEN_CUDA_CHECK(cudaGetDevice(&device));
      DEEPGEN_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
      std::printf("bench_lstm_cuda: %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
#if DEEPGEN_BENCH_CUDNN
      if (!choose_cudnn_math()) {
        g_cudnn_rows = false;
        status = 1;
        std::printf("bench_lstm_cuda: the cudnn rows are left out (no cuDNN LSTM could be set up)\n");
      }
#else
      std::printf("bench_lstm_cuda: built without cuDNN (CMake found no cudnn.h/libcudnn): no cudnn rows\n");
#endif
      if (!self_check()) status = 1;
      register_gpu_rows();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_lstm_cuda: GPU setup or self-check failed: %s\n", e.what());
      status = 1;
      g_gpu.reset();
    }
  }
  register_cpu_rows();

  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_summary();
  g_fixture.object.reset();  // device memory goes before the context and the runtime
  g_gpu.reset();
  benchmark::Shutdown();
  if (g_row_failed) status = 1;
  return status;
}
