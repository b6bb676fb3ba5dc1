// softmax / log_softmax over the last axis of a (rows x k) array, forward and backward.
// A warp per row for k <= 1024, else a block per row (see row_launch). Forward reads the row
// twice: one online pass for the max m and s = Σ e^(x − m), one to write the output.
#include "common.cuh"

namespace xpgrad::cuda {
namespace {

template <typename T, int GROUP, bool LOG>
__global__ void __launch_bounds__(kThreads)
softmax_forward_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t rows, int64_t k) {
  __shared__ Acc<T, 2> scratch[kThreads / 32];
  const RowSlot<GROUP> slot;
  for (int64_t row = slot.first_row; row < rows; row += slot.row_stride) {
    const T* xr = x + row * k;
    T* yr = y + row * k;
    Acc<T, 2> a{{neg_inf<T>(), T(0)}};
    for (int64_t j = slot.lane; j < k; j += GROUP) online_max_sum(a, xr[j]);
    a = group_reduce<GROUP>(a, MaxSumOp<T, 2>{}, scratch);
    const T m = a.v[0], s = a.v[1];
    if constexpr (LOG) {  // (x − m) − log s
      const T log_s = log_(s);
      for (int64_t j = slot.lane; j < k; j += GROUP) yr[j] = (xr[j] - m) - log_s;
    } else {  // e^(x − m) / s
      for (int64_t j = slot.lane; j < k; j += GROUP) yr[j] = exp_(xr[j] - m) / s;
    }
  }
}

// softmax: gx = y ⊙ (gy − Σ gy⊙y);  log_softmax: gx = gy − e^y · Σ gy.
template <typename T, int GROUP, bool LOG>
__global__ void __launch_bounds__(kThreads)
softmax_backward_kernel(const T* __restrict__ y, const T* __restrict__ gy, T* __restrict__ gx,
                        int64_t rows, int64_t k) {
  __shared__ Acc<T, 1> scratch[kThreads / 32];
  const RowSlot<GROUP> slot;
  for (int64_t row = slot.first_row; row < rows; row += slot.row_stride) {
    const T* yr = y + row * k;
    const T* gr = gy + row * k;
    T* out = gx + row * k;
    Acc<T, 1> a{{T(0)}};
    for (int64_t j = slot.lane; j < k; j += GROUP) a.v[0] += LOG ? gr[j] : gr[j] * yr[j];
    const T s = group_reduce<GROUP>(a, SumOp<T, 1>{}, scratch).v[0];
    for (int64_t j = slot.lane; j < k; j += GROUP)
      out[j] = LOG ? gr[j] - exp_(yr[j]) * s : yr[j] * (gr[j] - s);
  }
}

template <bool LOG, typename T>
cudaError_t forward(const T* x, T* y, int64_t rows, int64_t k, cudaStream_t stream) {
  return launch_rows(rows, k, [&](const RowLaunch& r, auto group) {
    softmax_forward_kernel<T, decltype(group)::value, LOG>
        <<<unsigned(r.blocks), kThreads, 0, stream>>>(x, y, rows, k);
  });
}

template <bool LOG, typename T>
cudaError_t backward(const T* y, const T* gy, T* gx, int64_t rows, int64_t k, cudaStream_t stream) {
  return launch_rows(rows, k, [&](const RowLaunch& r, auto group) {
    softmax_backward_kernel<T, decltype(group)::value, LOG>
        <<<unsigned(r.blocks), kThreads, 0, stream>>>(y, gy, gx, rows, k);
  });
}

}  // namespace

template <typename T>
cudaError_t softmax_forward(const T* x, T* y, int64_t rows, int64_t k, bool log,
                            cudaStream_t stream) {
  return log ? forward<true>(x, y, rows, k, stream) : forward<false>(x, y, rows, k, stream);
}

template <typename T>
cudaError_t softmax_backward(const T* y, const T* gy, T* gx, int64_t rows, int64_t k, bool log,
                             cudaStream_t stream) {
  return log ? backward<true>(y, gy, gx, rows, k, stream) : backward<false>(y, gy, gx, rows, k, stream);
}

#define XPGRAD_INSTANTIATE(T)                                                                    \
  template cudaError_t softmax_forward<T>(const T*, T*, int64_t, int64_t, bool, cudaStream_t);    \
  template cudaError_t softmax_backward<T>(const T*, const T*, T*, int64_t, int64_t, bool,        \
                                           cudaStream_t);
XPGRAD_INSTANTIATE(float)
XPGRAD_INSTANTIATE(double)
#undef XPGRAD_INSTANTIATE

}  // namespace xpgrad::cuda
