// softmax / log_softmax over the last axis of a (rows x k) array, forward and backward, as
// passes over a Row (row_access.cuh): forward m = max x, s = Σ e^(x − m), then the output.
#include "row_access.cuh"

namespace xpgrad::cuda {
namespace {

// softmax: y = e^(x − m) / s;  log_softmax: y = (x − m) − log s.
template <typename T, typename S>
__global__ void __launch_bounds__(S::kThreads)
softmax_forward_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t rows, int64_t k,
                       bool log, bool vec) {
  __shared__ RowScratch<T> scratch;
  for (RowSlot<S> slot; slot.more(rows); slot.next()) {
    const int64_t at = slot.row * k;
    const Row<T, S, 1> row({x + at}, slot.k(rows, k), slot.lane, vec, &scratch);
    const T m = row.max();
    const T s = row.sum([=](int64_t, T v) { return exp_(v - m); });
    if (log) {
      const T log_s = log_(s);
      row.write(y + at, [=](int64_t, T v) { return (v - m) - log_s; });
    } else {
      row.write(y + at, [=](int64_t, T v) { return exp_(v - m) / s; });
    }
  }
}

// softmax: gx = y ⊙ (gy − Σ gy⊙y);  log_softmax: gx = gy − e^y · Σ gy.
template <typename T, typename S>
__global__ void __launch_bounds__(S::kThreads)
softmax_backward_kernel(const T* __restrict__ y, const T* __restrict__ gy, T* __restrict__ gx,
                        int64_t rows, int64_t k, bool log, bool vec) {
  __shared__ RowScratch<T> scratch;
  for (RowSlot<S> slot; slot.more(rows); slot.next()) {
    const int64_t at = slot.row * k;
    const Row<T, S, 2> row({y + at, gy + at}, slot.k(rows, k), slot.lane, vec, &scratch);
    if (log) {
      const T s = row.sum([](int64_t, T, T g) { return g; });
      row.write(gx + at, [=](int64_t, T yv, T g) { return g - exp_(yv) * s; });
    } else {
      const T s = row.sum([](int64_t, T yv, T g) { return g * yv; });
      row.write(gx + at, [=](int64_t, T yv, T g) { return yv * (g - s); });
    }
  }
}

}  // namespace

template <typename T>
cudaError_t softmax_forward(const T* x, T* y, int64_t rows, int64_t k, bool log,
                            cudaStream_t stream) {
  const bool vec = rows_vectorizable(k, {x, y});
  return launch_rows<T, 1>(rows, k, [&](unsigned blocks, auto shape) {
    using S = decltype(shape);
    softmax_forward_kernel<T, S><<<blocks, S::kThreads, 0, stream>>>(x, y, rows, k, log, vec);
  });
}

template <typename T>
cudaError_t softmax_backward(const T* y, const T* gy, T* gx, int64_t rows, int64_t k, bool log,
                             cudaStream_t stream) {
  const bool vec = rows_vectorizable(k, {y, gy, gx});
  return launch_rows<T, 2>(rows, k, [&](unsigned blocks, auto shape) {
    using S = decltype(shape);
    softmax_backward_kernel<T, S><<<blocks, S::kThreads, 0, stream>>>(y, gy, gx, rows, k, log, vec);
  });
}

#define XPGRAD_INSTANTIATE(T)                                                                    \
  template cudaError_t softmax_forward<T>(const T*, T*, int64_t, int64_t, bool, cudaStream_t);    \
  template cudaError_t softmax_backward<T>(const T*, const T*, T*, int64_t, int64_t, bool,        \
                                           cudaStream_t);
XPGRAD_INSTANTIATE(float)
XPGRAD_INSTANTIATE(double)
#undef XPGRAD_INSTANTIATE

}  // namespace xpgrad::cuda
