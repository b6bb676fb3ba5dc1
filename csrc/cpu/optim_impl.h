// Fused optimizer updates, compiled once per ISA (the .cpp defines XPGRAD_ISA). Each reads
// every array once and writes param and state once; the rounding order follows the reference
// (Backend.*_update), one operation at a time (built without FMA contraction, CMakeLists.txt), so
// results equal it bit for bit and agree with PyTorch to float rounding.
#include "xpgrad/elementwise.h"
#include "xpgrad/optim.h"

namespace xpgrad::cpu::XPGRAD_ISA {
namespace {

using simd::load_n;
using simd::store_n;

template <class T>
struct Optim {
  using V = simd::Vec<T>;
  static V c(double v) { return V::set1(T(v)); }

  // g = grad + λθ (L2 weight decay) when λ ≠ 0.
  static V decayed(V g, V p, bool decay, V wd) { return decay ? g + wd * p : g; }

  // b = g (first step) or μb + (1−τ)g; g = g + μb (Nesterov) or b; θ −= η·g.
  static void sgd(T* param, const T* grad, T* buf, int64_t n, const SgdArgs& a) {
    const V lr = c(a.lr), mu = c(a.momentum), keep = c(1 - a.dampening), wd = c(a.weight_decay);
    const bool decay = a.weight_decay != 0, momentum = a.momentum != 0, first = a.first_step, nesterov = a.nesterov;
    parallel_strips<V>(n, kStreamingGrain, [=](int64_t i, int k) {
      V p = load_n<V>(param + i, k), g = decayed(load_n<V>(grad + i, k), p, decay, wd);
      if (momentum) {
        V b = first ? g : load_n<V>(buf + i, k) * mu + keep * g;
        store_n(b, buf + i, k);
        g = nesterov ? g + mu * b : b;
      }
      store_n(p - lr * g, param + i, k);
    });
  }

  // m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; θ −= (η/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε).
  static void adam(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, int64_t n, const AdamArgs& a) {
    const V b1 = c(a.beta1), b1c = c(1 - a.beta1), b2 = c(a.beta2), b2c = c(1 - a.beta2), eps = c(a.eps),
            step = c(a.step_size), bias2 = c(a.bias2_sqrt), wd = c(a.weight_decay), shrink = c(a.decay_factor);
    const bool decay = a.weight_decay != 0, decoupled = a.decay_factor != 1;
    parallel_strips<V>(n, kComputeGrain, [=](int64_t i, int k) {
      V p = load_n<V>(param + i, k);
      if (decoupled) p = p * shrink;
      V g = decayed(load_n<V>(grad + i, k), p, decay, wd);
      V m = load_n<V>(exp_avg + i, k) * b1 + b1c * g;
      V v = load_n<V>(exp_avg_sq + i, k) * b2 + b2c * g * g;
      store_n(m, exp_avg + i, k);
      store_n(v, exp_avg_sq + i, k);
      store_n(p - step * m / (sqrt(v) / bias2 + eps), param + i, k);
    });
  }

  // max(a, b), NaN when either is NaN, as numpy.maximum and torch.amax are: the vector max
  // returns b when either is NaN, so a NaN β₂u (NaN exp_inf or β₂) was dropped silently.
  static V max_propagating_nan(V a, V b) { return select(a >= a, max(a, b), a); }

  // m = β₁m + (1−β₁)g; u = max(β₂u, |g| + ε); θ −= (η/(1−β₁ᵗ))·m/u.
  static void adamax(T* param, const T* grad, T* exp_avg, T* exp_inf, int64_t n, const AdamaxArgs& a) {
    const V b1 = c(a.beta1), b1c = c(1 - a.beta1), b2 = c(a.beta2), eps = c(a.eps), step = c(a.step_size),
            wd = c(a.weight_decay);
    const bool decay = a.weight_decay != 0;
    parallel_strips<V>(n, kComputeGrain, [=](int64_t i, int k) {
      V p = load_n<V>(param + i, k), g = decayed(load_n<V>(grad + i, k), p, decay, wd);
      V m = load_n<V>(exp_avg + i, k) * b1 + b1c * g;
      V u = max_propagating_nan(load_n<V>(exp_inf + i, k) * b2, abs(g) + eps);
      store_n(m, exp_avg + i, k);
      store_n(u, exp_inf + i, k);
      store_n(p - step * m / u, param + i, k);
    });
  }

  // s = αs + (1−α)g²; d = √max(s − ḡ², 0) (centered, ḡ = αḡ + (1−α)g) or √s, plus ε;
  // θ −= η·g/d, or with momentum b = μb + g/d, θ −= η·b. (s − ḡ² can round below 0 when the
  // gradient hardly varies.)
  static void rmsprop(T* param, const T* grad, T* square_avg, T* buf, T* grad_avg, int64_t n,
                      const RmspropArgs& a) {
    const V lr = c(a.lr), al = c(a.alpha), alc = c(1 - a.alpha), eps = c(a.eps), mu = c(a.momentum),
            wd = c(a.weight_decay);
    const bool decay = a.weight_decay != 0, momentum = a.momentum != 0, centered = grad_avg != nullptr;
    parallel_strips<V>(n, kComputeGrain, [=](int64_t i, int k) {
      V p = load_n<V>(param + i, k), g = decayed(load_n<V>(grad + i, k), p, decay, wd);
      V s = load_n<V>(square_avg + i, k) * al + alc * g * g;
      store_n(s, square_avg + i, k);
      if (centered) {
        V ga = load_n<V>(grad_avg + i, k) * al + alc * g;
        store_n(ga, grad_avg + i, k);
        s = max(V::set1(T(0)), s - ga * ga);  // (a NaN passes, as relu's max)
      }
      V d = sqrt(s) + eps;
      if (momentum) {
        V b = load_n<V>(buf + i, k) * mu + g / d;
        store_n(b, buf + i, k);
        store_n(p - lr * b, param + i, k);
      } else {
        store_n(p - lr * g / d, param + i, k);
      }
    });
  }

  // G += g²; θ −= η·g/(√G + ε).
  static void adagrad(T* param, const T* grad, T* sum_sq, int64_t n, const AdagradArgs& a) {
    const V lr = c(a.lr), eps = c(a.eps), wd = c(a.weight_decay);
    const bool decay = a.weight_decay != 0;
    parallel_strips<V>(n, kComputeGrain, [=](int64_t i, int k) {
      V p = load_n<V>(param + i, k), g = decayed(load_n<V>(grad + i, k), p, decay, wd);
      V s = load_n<V>(sum_sq + i, k) + g * g;
      store_n(s, sum_sq + i, k);
      store_n(p - lr * g / (sqrt(s) + eps), param + i, k);
    });
  }

  static constexpr OptimKernels<T> table() { return {sgd, adam, adamax, rmsprop, adagrad}; }
};

}  // namespace

XPGRAD_CONSTINIT const KernelTable<OptimKernels> optim_kernels = {
    Optim<float>::table(), Optim<double>::table()};

}  // namespace xpgrad::cpu::XPGRAD_ISA
