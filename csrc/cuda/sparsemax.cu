// Sparsemax over the last axis of (rows x k): p = max(z − τ, 0) with Σ p = 1, z = x − max x.
// τ is found without sorting: f(τ) = Σ max(zⱼ − τ, 0) is decreasing with f(−1) ≥ 1 = f(τ*) and
// f(0) = 0, so a few bisection steps on [−1, 0] give τ_lo ≤ τ*; then the exact refinement
// τ ← (Σ_{z>τ} z − 1) / |{z > τ}| increases monotonically to τ* without passing it (Michelot),
// stopping when the support stops shrinking. Rows are re-read each step, so a block keeps its
// rows in shared memory when they fit (sparsemax_cache_bytes).
#include "common.cuh"

namespace xpgrad::cuda {
namespace {

constexpr int kBisectSteps = 12;  // leaves few z in (τ_lo, τ*]; refinement makes τ exact

template <typename T> struct Threshold {
  T max;  // z = x − max
  T tau;
};

template <int GROUP, typename T>
__device__ Threshold<T> sparsemax_threshold(const T* x, int64_t k, int lane, Acc<T, 2>* scratch) {
  Acc<T, 2> a{{neg_inf<T>(), T(0)}};
  for (int64_t j = lane; j < k; j += GROUP) a.v[0] = max_(a.v[0], x[j]);
  const T xmax = group_reduce<GROUP>(a, MaxOp<T, 2>{}, scratch).v[0];

  T lo = T(-1), hi = T(0);
  for (int step = 0; step < kBisectSteps; ++step) {
    const T mid = T(0.5) * (lo + hi);
    Acc<T, 2> f{{T(0), T(0)}};
    for (int64_t j = lane; j < k; j += GROUP) f.v[0] += max_(x[j] - xmax - mid, T(0));
    f = group_reduce<GROUP>(f, SumOp<T, 2>{}, scratch);
    (f.v[0] >= T(1) ? lo : hi) = mid;
  }
  T tau = lo, support = T(k) + T(1);
  for (;;) {  // ends: the support size strictly decreases until it is stable
    Acc<T, 2> s{{T(0), T(0)}};
    for (int64_t j = lane; j < k; j += GROUP) {
      const T z = x[j] - xmax;
      if (z > tau) {
        s.v[0] += z;
        s.v[1] += T(1);
      }
    }
    s = group_reduce<GROUP>(s, SumOp<T, 2>{}, scratch);
    if (!(s.v[1] < support)) break;  // also stops on NaN rows
    support = s.v[1];
    tau = (s.v[0] - T(1)) / support;
  }
  return {xmax, tau};
}

// The row this group works on: a copy in dynamic shared memory when `cache`, else global.
template <int GROUP, typename T>
__device__ const T* stage_row(const T* row, int64_t k, bool cache, unsigned char* smem, int lane) {
  if (!cache) return row;
  T* c = reinterpret_cast<T*>(smem) + int64_t(threadIdx.x / GROUP) * k;
  group_sync<GROUP>();  // previous row fully consumed
  for (int64_t j = lane; j < k; j += GROUP) c[j] = row[j];
  group_sync<GROUP>();
  return c;
}

template <typename T, int GROUP>
__global__ void __launch_bounds__(kThreads)
sparsemax_forward_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t rows, int64_t k,
                         bool cache) {
  __shared__ Acc<T, 2> scratch[kThreads / 32];
  extern __shared__ __align__(16) unsigned char row_cache[];
  const RowSlot<GROUP> slot;
  for (int64_t row = slot.first_row; row < rows; row += slot.row_stride) {
    const T* xr = stage_row<GROUP>(x + row * k, k, cache, row_cache, slot.lane);
    const Threshold<T> th = sparsemax_threshold<GROUP>(xr, k, slot.lane, scratch);
    T* yr = y + row * k;
    for (int64_t j = slot.lane; j < k; j += GROUP) yr[j] = max_(xr[j] - th.max - th.tau, T(0));
  }
}

// On the support S = {y > 0}: gx = gy − mean_S(gy); zero elsewhere.
template <typename T, int GROUP>
__global__ void __launch_bounds__(kThreads)
sparsemax_backward_kernel(const T* __restrict__ y, const T* __restrict__ gy, T* __restrict__ gx,
                          int64_t rows, int64_t k) {
  __shared__ Acc<T, 2> scratch[kThreads / 32];
  const RowSlot<GROUP> slot;
  for (int64_t row = slot.first_row; row < rows; row += slot.row_stride) {
    const T* yr = y + row * k;
    const T* gr = gy + row * k;
    Acc<T, 2> s{{T(0), T(0)}};
    for (int64_t j = slot.lane; j < k; j += GROUP)
      if (yr[j] > T(0)) {
        s.v[0] += gr[j];
        s.v[1] += T(1);
      }
    s = group_reduce<GROUP>(s, SumOp<T, 2>{}, scratch);
    const T mean = s.v[0] / s.v[1];
    T* out = gx + row * k;
    for (int64_t j = slot.lane; j < k; j += GROUP) out[j] = yr[j] > T(0) ? gr[j] - mean : T(0);
  }
}

// Sparsemax loss (Martins & Astudillo 2016, eq. 14), q = one-hot or t / max(Σt, 1e-12):
// L = max(0, −q·z + ½ Σ_S (z² − τ²) + ½‖q‖²), grad = p − q. Bad index: NaN loss and row.
template <typename T, int GROUP>
__global__ void __launch_bounds__(kThreads)
sparsemax_loss_kernel(const T* __restrict__ logits, const int64_t* __restrict__ target_index,
                      const T* __restrict__ target_multi, T* __restrict__ loss,
                      T* __restrict__ grad, int64_t rows, int64_t k, bool cache) {
  __shared__ Acc<T, 2> scratch[kThreads / 32];
  __shared__ Acc<T, 3> scratch3[kThreads / 32];
  extern __shared__ __align__(16) unsigned char row_cache[];
  const RowSlot<GROUP> slot;
  for (int64_t row = slot.first_row; row < rows; row += slot.row_stride) {
    const T* xr = stage_row<GROUP>(logits + row * k, k, cache, row_cache, slot.lane);
    const T* tr = target_multi ? target_multi + row * k : nullptr;
    const int64_t c = tr ? -1 : target_index[row];
    const bool valid = tr || (c >= 0 && c < k);
    const Threshold<T> th = sparsemax_threshold<GROUP>(xr, k, slot.lane, scratch);

    T q_norm = T(1);
    if (tr) {
      Acc<T, 2> t{{T(0), T(0)}};
      for (int64_t j = slot.lane; j < k; j += GROUP) t.v[0] += tr[j];
      q_norm = max_(group_reduce<GROUP>(t, SumOp<T, 2>{}, scratch).v[0], T(1e-12));
    }
    Acc<T, 3> acc{{T(0), T(0), T(0)}};  // q·z, Σ_S (z² − τ²), ‖q‖²
    T* gr = grad + row * k;
    for (int64_t j = slot.lane; j < k; j += GROUP) {
      const T z = xr[j] - th.max;
      const T p = max_(z - th.tau, T(0));
      const T q = tr ? tr[j] / q_norm : (j == c ? T(1) : T(0));
      acc.v[0] += q * z;
      if (p > T(0)) acc.v[1] += z * z - th.tau * th.tau;
      acc.v[2] += q * q;
      gr[j] = valid ? p - q : T(NAN);
    }
    acc = group_reduce<GROUP>(acc, SumOp<T, 3>{}, scratch3);
    if (slot.lane == 0)
      loss[row] = valid ? max_(-acc.v[0] + T(0.5) * acc.v[1] + T(0.5) * acc.v[2], T(0)) : T(NAN);
  }
}

template <typename T>
int64_t cache_bytes(const RowLaunch& r, int64_t k) {
  return sparsemax_cache_bytes(r, k, sizeof(T));
}

}  // namespace

template <typename T>
cudaError_t sparsemax_forward(const T* x, T* y, int64_t rows, int64_t k, cudaStream_t stream) {
  return launch_rows(rows, k, [&](const RowLaunch& r, auto group) {
    const int64_t smem = cache_bytes<T>(r, k);
    sparsemax_forward_kernel<T, decltype(group)::value>
        <<<unsigned(r.blocks), kThreads, size_t(smem), stream>>>(x, y, rows, k, smem > 0);
  });
}

template <typename T>
cudaError_t sparsemax_backward(const T* y, const T* gy, T* gx, int64_t rows, int64_t k,
                               cudaStream_t stream) {
  return launch_rows(rows, k, [&](const RowLaunch& r, auto group) {
    sparsemax_backward_kernel<T, decltype(group)::value>
        <<<unsigned(r.blocks), kThreads, 0, stream>>>(y, gy, gx, rows, k);
  });
}

template <typename T>
cudaError_t sparsemax_loss(const T* logits, const int64_t* target_index, const T* target_multi,
                           T* loss, T* grad, int64_t rows, int64_t k, cudaStream_t stream) {
  return launch_rows(rows, k, [&](const RowLaunch& r, auto group) {
    const int64_t smem = cache_bytes<T>(r, k);
    sparsemax_loss_kernel<T, decltype(group)::value><<<unsigned(r.blocks), kThreads, size_t(smem), stream>>>(
        logits, target_index, target_multi, loss, grad, rows, k, smem > 0);
  });
}

#define XPGRAD_INSTANTIATE(T)                                                                   \
  template cudaError_t sparsemax_forward<T>(const T*, T*, int64_t, int64_t, cudaStream_t);       \
  template cudaError_t sparsemax_backward<T>(const T*, const T*, T*, int64_t, int64_t,           \
                                             cudaStream_t);                                      \
  template cudaError_t sparsemax_loss<T>(const T*, const int64_t*, const T*, T*, T*, int64_t,    \
                                         int64_t, cudaStream_t);
XPGRAD_INSTANTIATE(float)
XPGRAD_INSTANTIATE(double)
#undef XPGRAD_INSTANTIATE

}  // namespace xpgrad::cuda
