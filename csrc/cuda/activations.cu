// Elementwise activations, forward and backward, with the formulas of backends/base.py.
#include "common.cuh"

namespace xpgrad::cuda {

template <typename T>
cudaError_t activation_forward(Act act, const T* x, T* y, int64_t n, double param,
                               cudaStream_t stream) {
  const T slope_or_alpha = T(param);
  switch (act) {
    case Act::LeakyRelu:  // x if x > 0 else slope·x
      return for_each(n, stream, [=] __device__(int64_t i) {
        const T v = x[i];
        y[i] = v > T(0) ? v : v * slope_or_alpha;
      });
    case Act::Elu:  // x if x > 0 else α(eˣ − 1); expm1 keeps precision near 0
      return for_each(n, stream, [=] __device__(int64_t i) {
        const T v = x[i];
        y[i] = v > T(0) ? v : slope_or_alpha * expm1_(v);
      });
    default:  // identity, relu, sigmoid, tanh: shared with the linear epilogue
      return for_each(n, stream, [=] __device__(int64_t i) { y[i] = activate(x[i], act); });
  }
}

template <typename T>
cudaError_t activation_backward(Act act, const T* x, const T* y, const T* gy, T* gx, int64_t n,
                                double param, cudaStream_t stream) {
  const T slope_or_alpha = T(param);
  switch (act) {
    case Act::LeakyRelu:  // gy if x > 0 else slope·gy
      return for_each(n, stream, [=] __device__(int64_t i) {
        gx[i] = x[i] > T(0) ? gy[i] : gy[i] * slope_or_alpha;
      });
    case Act::Elu:  // gy·αeˣ if x ≤ 0 else gy: from x, as y + α would lose eˣ's digits to y's rounding
      return for_each(n, stream, [=] __device__(int64_t i) {
        const T v = x[i];
        gx[i] = v <= T(0) ? gy[i] * (slope_or_alpha * exp_(v)) : gy[i];
      });
    default:  // from the saved output: relu, sigmoid σ(1−σ), tanh 1−y²
      return for_each(n, stream, [=] __device__(int64_t i) {
        gx[i] = activate_grad_from_output(y[i], gy[i], act);
      });
  }
}

#define XPGRAD_INSTANTIATE(T)                                                                  \
  template cudaError_t activation_forward<T>(Act, const T*, T*, int64_t, double, cudaStream_t); \
  template cudaError_t activation_backward<T>(Act, const T*, const T*, const T*, T*, int64_t,   \
                                              double, cudaStream_t);
XPGRAD_INSTANTIATE(float)
XPGRAD_INSTANTIATE(double)
#undef XPGRAD_INSTANTIATE

}  // namespace xpgrad::cuda
