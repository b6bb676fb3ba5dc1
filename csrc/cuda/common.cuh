// Device helpers shared by the kernels: per-dtype math, activation formulas, grid-stride
// elementwise launches and warp/block reductions of small fixed-size accumulators.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "xpgrad/cuda_kernels.h"
#include "xpgrad/cuda_launch.h"

namespace xpgrad::cuda {

// Overloads so one template serves float and double without silent promotion to double.
__device__ __forceinline__ float exp_(float x) { return expf(x); }
__device__ __forceinline__ double exp_(double x) { return exp(x); }
__device__ __forceinline__ float log_(float x) { return logf(x); }
__device__ __forceinline__ double log_(double x) { return log(x); }
__device__ __forceinline__ float expm1_(float x) { return expm1f(x); }
__device__ __forceinline__ double expm1_(double x) { return expm1(x); }
__device__ __forceinline__ float tanh_(float x) { return tanhf(x); }
__device__ __forceinline__ double tanh_(double x) { return tanh(x); }
__device__ __forceinline__ float sqrt_(float x) { return sqrtf(x); }
__device__ __forceinline__ double sqrt_(double x) { return sqrt(x); }
__device__ __forceinline__ float abs_(float x) { return fabsf(x); }
__device__ __forceinline__ double abs_(double x) { return fabs(x); }
__device__ __forceinline__ float fma_(float a, float b, float c) { return fmaf(a, b, c); }
__device__ __forceinline__ double fma_(double a, double b, double c) { return fma(a, b, c); }
__device__ __forceinline__ float max_(float a, float b) { return fmaxf(a, b); }
__device__ __forceinline__ double max_(double a, double b) { return fmax(a, b); }
// max(a, b) that keeps a NaN of either (numpy.maximum, torch.amax), where fmax would drop it:
// for state that must not heal silently (Adamax's u, a loss clamped at 0).
template <typename T> __device__ __forceinline__ T max_keep_nan(T a, T b) { return a > b || a != a ? a : b; }

template <typename T> __device__ __forceinline__ T neg_inf() { return -INFINITY; }

// σ(x) = 1/(1+e^(−x)), written with e^(−|x|) so neither branch overflows.
template <typename T> __device__ __forceinline__ T sigmoid_(T x) {
  const T e = exp_(-abs_(x));
  return x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

// The fusable activations of a linear epilogue, and their derivative from the output y.
template <typename T> __device__ __forceinline__ T activate(T v, Act act) {
  switch (act) {
    case Act::Relu: return v < T(0) ? T(0) : v;  // NaN and −0 pass, as in PyTorch
    case Act::Sigmoid: return sigmoid_(v);
    case Act::Tanh: return tanh_(v);
    default: return v;
  }
}

template <typename T> __device__ __forceinline__ T activate_grad_from_output(T y, T gy, Act act) {
  switch (act) {
    case Act::Relu: return y <= T(0) ? T(0) : gy;  // a NaN passes gy, as PyTorch's threshold_backward
    case Act::Sigmoid: return gy * y * (T(1) - y);
    case Act::Tanh: return gy * ((T(1) - y) * (T(1) + y));  // 1 − y², uncancelled near |y| = 1
    default: return gy;
  }
}

// ---- elementwise: f(i) for i in [0, n), grid-stride so any n works with a capped grid ---------
template <typename F> __global__ void for_each_kernel(int64_t n, F f) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) f(i);
}

template <typename F> cudaError_t for_each(int64_t n, cudaStream_t stream, F f) {
  const int64_t blocks = blocks_1d(n);
  if (blocks == 0) return cudaSuccess;
  for_each_kernel<<<unsigned(blocks), kThreads, 0, stream>>>(n, f);
  return cudaGetLastError();
}

// ---- reductions of N values at once (e.g. max and sum in one sweep) ------------------------
template <typename T, int N> struct Acc {
  T v[N];
};

template <typename T, int N> __device__ __forceinline__ Acc<T, N> shfl_xor(Acc<T, N> a, int lane_mask) {
#pragma unroll
  for (int i = 0; i < N; ++i) a.v[i] = __shfl_xor_sync(0xffffffffu, a.v[i], lane_mask);
  return a;
}

template <typename T, int N> struct SumOp {
  __device__ Acc<T, N> operator()(Acc<T, N> a, const Acc<T, N>& b) const {
#pragma unroll
    for (int i = 0; i < N; ++i) a.v[i] += b.v[i];
    return a;
  }
};

// Elementwise max; with KeepNan a NaN wins (numpy.max), as sparsemax's threshold needs,
// otherwise NaNs are skipped (fmax).
template <typename T, int N, bool KeepNan = false> struct MaxOp {
  __device__ Acc<T, N> operator()(Acc<T, N> a, const Acc<T, N>& b) const {
#pragma unroll
    for (int i = 0; i < N; ++i) a.v[i] = KeepNan ? max_keep_nan(a.v[i], b.v[i]) : max_(a.v[i], b.v[i]);
    return a;
  }
};

// Reduce over the GROUP threads that share a row: aligned lanes of a warp (GROUP <= 32, no
// barrier) or the whole block (GROUP = blockDim.x; `scratch` holds one value per warp). Every
// thread gets the result.
template <int GROUP, typename T, int N, typename Op>
__device__ __forceinline__ Acc<T, N> group_reduce(Acc<T, N> a, Op op, Acc<T, N>* scratch) {
#pragma unroll
  for (int o = (GROUP < 32 ? GROUP : 32) / 2; o > 0; o >>= 1) a = op(a, shfl_xor(a, o));
  if constexpr (GROUP > 32) {
    const int warp = threadIdx.x / 32;
    if (threadIdx.x % 32 == 0) scratch[warp] = a;
    __syncthreads();
    a = scratch[0];
    for (int w = 1; w < GROUP / 32; ++w) a = op(a, scratch[w]);
    __syncthreads();  // scratch is reused by the next reduction
  }
  return a;
}

}  // namespace xpgrad::cuda
