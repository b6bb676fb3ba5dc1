// Sparsemax over the last axis of (rows x k): p = max(z − τ, 0) with Σ p = 1, z = x − max x,
// as passes over a Row (row_access.cuh). τ without sorting (Michelot's algorithm, Newton's
// method on f(τ) = Σ max(zⱼ − τ, 0) − 1): from τ = −1 ≤ τ* (f(−1) ≥ 0 since max z = 0),
// τ ← (Σ_{z>τ} z − 1) / |{z > τ}| increases to τ* without passing it, and stops when the
// support stops shrinking — 2 to 12 passes on Gaussian rows up to k = 32768.
#include "row_access.cuh"

namespace xpgrad::cuda {
namespace {

template <typename T> struct Threshold {
  T max;  // z = x − max
  T tau;
};

template <typename T, typename RowT> __device__ Threshold<T> sparsemax_threshold(const RowT& row) {
  const T xmax = row.max_keep_nan();  // a NaN makes z, τ and the whole row NaN, as the reference
  T tau = T(-1), support = T(row.size()) + T(1);
  for (;;) {  // the support size strictly decreases until it is stable (NaN rows: at once)
    const Acc<T, 2> s = row.template sums<2>([=](int64_t, T v) {
      const T z = v - xmax;
      return z > tau ? Acc<T, 2>{{z, T(1)}} : Acc<T, 2>{{T(0), T(0)}};
    });
    const bool shrank = s.v[1] < support;
    if (shrank) {
      support = s.v[1];
      tau = (s.v[0] - T(1)) / support;
    }
    if (!warp_any(shrank)) break;  // rows sharing a warp leave together
  }
  return {xmax, tau};
}

template <typename T, typename S>
__global__ void __launch_bounds__(S::kThreads)
sparsemax_forward_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t rows, int64_t k,
                         bool vec) {
  __shared__ RowScratch<T> scratch;
  for (RowSlot<S> slot; slot.more(rows); slot.next()) {
    const int64_t at = slot.row * k;
    const Row<T, S, 1> row({x + at}, slot.k(rows, k), slot.lane, vec, &scratch);
    const Threshold<T> th = sparsemax_threshold<T>(row);
    row.write(y + at, [=](int64_t, T v) { return max_keep_nan(v - th.max - th.tau, T(0)); });
  }
}

// On the support S = {y > 0}: gx = gy − mean_S(gy); zero elsewhere.
template <typename T, typename S>
__global__ void __launch_bounds__(S::kThreads)
sparsemax_backward_kernel(const T* __restrict__ y, const T* __restrict__ gy, T* __restrict__ gx,
                          int64_t rows, int64_t k, bool vec) {
  __shared__ RowScratch<T> scratch;
  for (RowSlot<S> slot; slot.more(rows); slot.next()) {
    const int64_t at = slot.row * k;
    const Row<T, S, 2> row({y + at, gy + at}, slot.k(rows, k), slot.lane, vec, &scratch);
    const Acc<T, 2> s = row.template sums<2>([](int64_t, T yv, T g) {
      return yv > T(0) ? Acc<T, 2>{{g, T(1)}} : Acc<T, 2>{{T(0), T(0)}};
    });
    const T mean = s.v[0] / s.v[1];
    row.write(gx + at, [=](int64_t, T yv, T g) { return yv > T(0) ? g - mean : T(0); });
  }
}

// Sparsemax loss (Martins & Astudillo 2016, eq. 14), q = one-hot or t / max(Σt, 1e-12):
// L = max(0, −q·z + ½ Σ_S (z² − τ²) + ½‖q‖²), grad = p − q. Bad index: NaN loss and row.
template <typename T, typename S>
__global__ void __launch_bounds__(S::kThreads)
sparsemax_loss_kernel(const T* __restrict__ logits, const int64_t* __restrict__ target_index,
                      const T* __restrict__ target_multi, T* __restrict__ loss,
                      T* __restrict__ grad, int64_t rows, int64_t k, bool vec) {
  __shared__ RowScratch<T> scratch;
  for (RowSlot<S> slot; slot.more(rows); slot.next()) {
    const int64_t at = slot.row * k, row_k = slot.k(rows, k);
    const Row<T, S, 1> row({logits + at}, row_k, slot.lane, vec, &scratch);
    const T* tr = target_multi ? target_multi + at : nullptr;
    const int64_t c = tr || row_k == 0 ? -1 : target_index[slot.row];
    const bool valid = tr || (c >= 0 && c < k);
    const Threshold<T> th = sparsemax_threshold<T>(row);
    const T q_norm = tr ? max_keep_nan(row.sum([=](int64_t j, T) { return tr[j]; }), T(1e-12)) : T(1);

    Acc<T, 3> acc{{T(0), T(0), T(0)}};  // q·z, Σ_S (z² − τ²), ‖q‖²
    row.write(grad + at, [&](int64_t j, T v) {
      const T z = v - th.max;
      const T p = max_keep_nan(z - th.tau, T(0));
      const T q = tr ? tr[j] / q_norm : (j == c ? T(1) : T(0));
      if (q != T(0)) acc.v[0] += q * z;  // a −∞ logit off the target adds 0, not 0·(−∞) = NaN
      if (p != T(0)) acc.v[1] += z * z - th.tau * th.tau;  // a NaN p (a +inf logit) counts, as the reference
      acc.v[2] += q * q;
      return valid ? p - q : T(NAN);
    });
    acc = row.group_sum(acc);
    if (slot.lane == 0 && row_k > 0)
      loss[slot.row] = valid ? max_keep_nan(-acc.v[0] + T(0.5) * acc.v[1] + T(0.5) * acc.v[2], T(0)) : T(NAN);
  }
}

}  // namespace

template <typename T>
cudaError_t sparsemax_forward(const T* x, T* y, int64_t rows, int64_t k, cudaStream_t stream) {
  const bool vec = rows_vectorizable(k, {x, y});
  return launch_rows<T, 1>(rows, k, [&](unsigned blocks, auto shape) {
    using S = decltype(shape);
    sparsemax_forward_kernel<T, S><<<blocks, S::kThreads, 0, stream>>>(x, y, rows, k, vec);
  });
}

template <typename T>
cudaError_t sparsemax_backward(const T* y, const T* gy, T* gx, int64_t rows, int64_t k,
                               cudaStream_t stream) {
  const bool vec = rows_vectorizable(k, {y, gy, gx});
  return launch_rows<T, 2>(rows, k, [&](unsigned blocks, auto shape) {
    using S = decltype(shape);
    sparsemax_backward_kernel<T, S><<<blocks, S::kThreads, 0, stream>>>(y, gy, gx, rows, k, vec);
  });
}

template <typename T>
cudaError_t sparsemax_loss(const T* logits, const int64_t* target_index, const T* target_multi,
                           T* loss, T* grad, int64_t rows, int64_t k, cudaStream_t stream) {
  const bool vec = rows_vectorizable(k, {logits, grad});
  return launch_rows<T, 1>(rows, k, [&](unsigned blocks, auto shape) {
    using S = decltype(shape);
    sparsemax_loss_kernel<T, S><<<blocks, S::kThreads, 0, stream>>>(
        logits, target_index, target_multi, loss, grad, rows, k, vec);
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
