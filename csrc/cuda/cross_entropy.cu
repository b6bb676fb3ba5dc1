// Fused softmax cross-entropy per row of (rows x k) logits, as passes over a Row
// (row_access.cuh): m = max x and s = Σ e^(x − m) (and for probability targets, which need not
// sum to 1, their mass w = Σ t'), then log pⱼ = (xⱼ − m) − log s, writing gradⱼ = w·pⱼ − t'ⱼ
// while accumulating Σ t'ⱼ log pⱼ, with the smoothed target t' = (1−ε)t + ε/k (w = 1 for indices).
// An index target outside [0, k) yields NaN loss and gradient for its row (no host sync).
#include "row_access.cuh"

namespace xpgrad::cuda {
namespace {

template <typename T, typename S>
__global__ void __launch_bounds__(S::kThreads)
cross_entropy_kernel(const T* __restrict__ logits, const int64_t* __restrict__ target_index,
                     const T* __restrict__ target_prob, T* __restrict__ loss,
                     T* __restrict__ grad, int64_t rows, int64_t k, T smoothing, bool vec) {
  __shared__ RowScratch<T> scratch;
  const T on = T(1) - smoothing, off = smoothing / T(k);
  for (RowSlot<S> slot; slot.more(rows); slot.next()) {
    const int64_t at = slot.row * k, row_k = slot.k(rows, k);
    const Row<T, S, 1> row({logits + at}, row_k, slot.lane, vec, &scratch);
    const T* tr = target_prob ? target_prob + at : nullptr;
    const int64_t c = tr || row_k == 0 ? -1 : target_index[slot.row];
    const bool valid = tr || (c >= 0 && c < k);

    const T m = row.max();
    const T log_s = log_(row.sum([=](int64_t, T v) { return exp_(v - m); }));
    const T w = tr ? on * row.sum([=](int64_t j, T) { return tr[j]; }) + smoothing : T(1);
    Acc<T, 1> tlogp{{T(0)}};
    row.write(grad + at, [&](int64_t j, T v) {
      const T log_p = (v - m) - log_s;
      const T t = (tr ? on * tr[j] : (j == c ? on : T(0))) + off;
      if (tr || t != T(0)) tlogp.v[0] += t * log_p;  // an index target gathers: no 0·(−∞) off it
      return valid ? w * exp_(log_p) - t : T(NAN);
    });
    tlogp = row.group_sum(tlogp);
    if (slot.lane == 0 && row_k > 0) loss[slot.row] = valid ? -tlogp.v[0] : T(NAN);
  }
}

}  // namespace

template <typename T>
cudaError_t cross_entropy(const T* logits, const int64_t* target_index, const T* target_prob,
                          T* loss, T* grad, int64_t rows, int64_t k, double label_smoothing,
                          cudaStream_t stream) {
  const bool vec = rows_vectorizable(k, {logits, grad});
  return launch_rows<T, 1>(rows, k, [&](unsigned blocks, auto shape) {
    using S = decltype(shape);
    cross_entropy_kernel<T, S><<<blocks, S::kThreads, 0, stream>>>(
        logits, target_index, target_prob, loss, grad, rows, k, T(label_smoothing), vec);
  });
}

#define XPGRAD_INSTANTIATE(T)                                                                 \
  template cudaError_t cross_entropy<T>(const T*, const int64_t*, const T*, T*, T*, int64_t,   \
                                        int64_t, double, cudaStream_t);
XPGRAD_INSTANTIATE(float)
XPGRAD_INSTANTIATE(double)
#undef XPGRAD_INSTANTIATE

}  // namespace xpgrad::cuda
