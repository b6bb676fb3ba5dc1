// Fused optimizer updates: one pass over each parameter tensor, in place on the parameter and
// its state, with exactly the update rules of backends/base.py (PyTorch's documented ones).
// Hyper-parameters arrive as double and are rounded to T once, as NumPy does with Python floats.
#include "common.cuh"

namespace xpgrad::cuda {

// g = ∇ + λθ;  b = g (first step) or μb + (1−τ)g;  g = g + μb (Nesterov) or b;  θ −= η·g.
template <typename T>
cudaError_t sgd_update(T* param, const T* grad, T* buf, int64_t n, const SgdArgs& h,
                       cudaStream_t stream) {
  const T lr = T(h.lr), mu = T(h.momentum), damp = T(1.0 - h.dampening), wd = T(h.weight_decay);
  const bool momentum = h.momentum != 0.0, nesterov = h.nesterov, first = h.first_step;
  return for_each(n, stream, [=] __device__(int64_t i) {
    T g = grad[i];
    if (wd != T(0)) g += wd * param[i];
    if (momentum) {
      const T b = first ? g : buf[i] * mu + damp * g;
      buf[i] = b;
      g = nesterov ? g + mu * b : b;
    }
    param[i] -= lr * g;
  });
}

// m = β₁m + (1−β₁)g;  v = β₂v + (1−β₂)g²;  θ −= η/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
// Weight decay: g += λθ (Adam) or θ *= 1 − ηλ first (AdamW, decoupled).
template <typename T>
cudaError_t adam_update(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, int64_t n,
                        const AdamArgs& h, cudaStream_t stream) {
  const T b1 = T(h.beta1), b2 = T(h.beta2), c1 = T(1.0 - h.beta1), c2 = T(1.0 - h.beta2);
  const T step = T(h.lr / h.bias1), bias2_sqrt = T(h.bias2_sqrt), eps = T(h.eps);
  const T wd = T(h.weight_decay), shrink = T(1.0 - h.lr * h.weight_decay);
  const bool decoupled = h.decoupled && h.weight_decay != 0.0;
  return for_each(n, stream, [=] __device__(int64_t i) {
    T p = param[i], g = grad[i];
    if (decoupled) p *= shrink;
    else if (wd != T(0)) g += wd * p;
    const T m = exp_avg[i] * b1 + c1 * g;
    const T v = exp_avg_sq[i] * b2 + c2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    param[i] = p - step * m / (sqrt_(v) / bias2_sqrt + eps);
  });
}

// m = β₁m + (1−β₁)g;  u = max(β₂u, |g| + ε);  θ −= η/(1−β₁ᵗ) · m/u.
template <typename T>
cudaError_t adamax_update(T* param, const T* grad, T* exp_avg, T* exp_inf, int64_t n,
                          const AdamArgs& h, cudaStream_t stream) {
  const T b1 = T(h.beta1), b2 = T(h.beta2), c1 = T(1.0 - h.beta1);
  const T step = T(h.lr / h.bias1), eps = T(h.eps), wd = T(h.weight_decay);
  return for_each(n, stream, [=] __device__(int64_t i) {
    T g = grad[i];
    if (wd != T(0)) g += wd * param[i];
    const T m = exp_avg[i] * b1 + c1 * g;
    const T u = max_keep_nan(exp_inf[i] * b2, abs_(g) + eps);
    exp_avg[i] = m;
    exp_inf[i] = u;
    param[i] -= step * m / u;
  });
}

// s = αs + (1−α)g²;  d = √max(s − ḡ², 0) (centered, ḡ = αḡ + (1−α)g) or √s, plus ε;
// θ −= η·g/d, or with momentum b = μb + g/d, θ −= η·b.
template <typename T>
cudaError_t rmsprop_update(T* param, const T* grad, T* square_avg, T* buf, T* grad_avg,
                           int64_t n, const RmspropArgs& h, cudaStream_t stream) {
  const T lr = T(h.lr), alpha = T(h.alpha), c = T(1.0 - h.alpha), eps = T(h.eps);
  const T wd = T(h.weight_decay), mu = T(h.momentum);
  const bool centered = h.centered, momentum = h.momentum != 0.0;
  return for_each(n, stream, [=] __device__(int64_t i) {
    T g = grad[i];
    if (wd != T(0)) g += wd * param[i];
    const T s = square_avg[i] * alpha + c * g * g;
    square_avg[i] = s;
    T d;
    if (centered) {
      const T ga = grad_avg[i] * alpha + c * g;
      grad_avg[i] = ga;
      d = sqrt_(max_keep_nan(s - ga * ga, T(0))) + eps;
    } else {
      d = sqrt_(s) + eps;
    }
    if (momentum) {
      const T b = buf[i] * mu + g / d;
      buf[i] = b;
      param[i] -= lr * b;
    } else {
      param[i] -= lr * g / d;
    }
  });
}

// G += g²;  θ −= η·g/(√G + ε)  (η already decayed by the caller).
template <typename T>
cudaError_t adagrad_update(T* param, const T* grad, T* sum_sq, int64_t n, double lr, double eps,
                           double weight_decay, cudaStream_t stream) {
  const T lr_ = T(lr), eps_ = T(eps), wd = T(weight_decay);
  return for_each(n, stream, [=] __device__(int64_t i) {
    T g = grad[i];
    if (wd != T(0)) g += wd * param[i];
    const T s = sum_sq[i] + g * g;
    sum_sq[i] = s;
    param[i] -= lr_ * g / (sqrt_(s) + eps_);
  });
}

#define XPGRAD_INSTANTIATE(T)                                                                   \
  template cudaError_t sgd_update<T>(T*, const T*, T*, int64_t, const SgdArgs&, cudaStream_t);  \
  template cudaError_t adam_update<T>(T*, const T*, T*, T*, int64_t, const AdamArgs&,           \
                                      cudaStream_t);                                            \
  template cudaError_t adamax_update<T>(T*, const T*, T*, T*, int64_t, const AdamArgs&,         \
                                        cudaStream_t);                                          \
  template cudaError_t rmsprop_update<T>(T*, const T*, T*, T*, T*, int64_t, const RmspropArgs&, \
                                         cudaStream_t);                                         \
  template cudaError_t adagrad_update<T>(T*, const T*, T*, int64_t, double, double, double,     \
                                         cudaStream_t);
XPGRAD_INSTANTIATE(float)
XPGRAD_INSTANTIATE(double)
#undef XPGRAD_INSTANTIATE

}  // namespace xpgrad::cuda
