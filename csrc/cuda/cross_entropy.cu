// Fused softmax cross-entropy per row of (rows x k) logits: loss and gradient in two passes.
// Pass 1: online max m and s = Σ e^(x − m). Pass 2: log pⱼ = (xⱼ − m) − log s, write
// gradⱼ = pⱼ − t'ⱼ and accumulate Σ t'ⱼ log pⱼ, with the smoothed target t' = (1−ε)t + ε/k.
// An index target outside [0, k) yields NaN loss and gradient for its row (no host sync).
#include "common.cuh"

namespace xpgrad::cuda {
namespace {

template <typename T, int GROUP>
__global__ void __launch_bounds__(kThreads)
cross_entropy_kernel(const T* __restrict__ logits, const int64_t* __restrict__ target_index,
                     const T* __restrict__ target_prob, T* __restrict__ loss,
                     T* __restrict__ grad, int64_t rows, int64_t k, T smoothing) {
  __shared__ Acc<T, 2> scratch2[kThreads / 32];
  __shared__ Acc<T, 1> scratch1[kThreads / 32];
  const RowSlot<GROUP> slot;
  const T on = T(1) - smoothing, off = smoothing / T(k);
  for (int64_t row = slot.first_row; row < rows; row += slot.row_stride) {
    const T* xr = logits + row * k;
    const T* tr = target_prob ? target_prob + row * k : nullptr;
    T* gr = grad + row * k;
    const int64_t c = tr ? -1 : target_index[row];
    const bool valid = tr || (c >= 0 && c < k);

    Acc<T, 2> a{{neg_inf<T>(), T(0)}};
    for (int64_t j = slot.lane; j < k; j += GROUP) online_max_sum(a, xr[j]);
    a = group_reduce<GROUP>(a, MaxSumOp<T, 2>{}, scratch2);
    const T m = a.v[0], log_s = log_(a.v[1]);

    Acc<T, 1> tlogp{{T(0)}};
    for (int64_t j = slot.lane; j < k; j += GROUP) {
      const T log_p = (xr[j] - m) - log_s;
      const T t = (tr ? on * tr[j] : (j == c ? on : T(0))) + off;
      tlogp.v[0] += t * log_p;
      gr[j] = valid ? exp_(log_p) - t : T(NAN);
    }
    tlogp = group_reduce<GROUP>(tlogp, SumOp<T, 1>{}, scratch1);
    if (slot.lane == 0) loss[row] = valid ? -tlogp.v[0] : T(NAN);
  }
}

}  // namespace

template <typename T>
cudaError_t cross_entropy(const T* logits, const int64_t* target_index, const T* target_prob,
                          T* loss, T* grad, int64_t rows, int64_t k, double label_smoothing,
                          cudaStream_t stream) {
  return launch_rows(rows, k, [&](const RowLaunch& r, auto group) {
    cross_entropy_kernel<T, decltype(group)::value><<<unsigned(r.blocks), kThreads, 0, stream>>>(
        logits, target_index, target_prob, loss, grad, rows, k, T(label_smoothing));
  });
}

#define XPGRAD_INSTANTIATE(T)                                                                 \
  template cudaError_t cross_entropy<T>(const T*, const int64_t*, const T*, T*, T*, int64_t,   \
                                        int64_t, double, cudaStream_t);
XPGRAD_INSTANTIATE(float)
XPGRAD_INSTANTIATE(double)
#undef XPGRAD_INSTANTIATE

}  // namespace xpgrad::cuda
