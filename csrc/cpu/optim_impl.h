// Fused optimizer updates, compiled once per ISA (the .cpp defines XPGRAD_ISA). Each reads
// every array once and writes param and state once; the rounding order follows the reference
// (Backend.*_update), so results agree with it and with PyTorch to float rounding.
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
  static V decayed(V g, V p, double wd) { return wd != 0 ? g + c(wd) * p : g; }

  // b = g (first step) or μb + (1−τ)g; g = g + μb (Nesterov) or b; θ −= η·g.
  static void sgd(T* param, const T* grad, T* buf, int64_t n, const SgdArgs& a) {
    parallel_strips<V>(n, [&](int64_t i, int k) {
      V p = load_n<V>(param + i, k), g = decayed(load_n<V>(grad + i, k), p, a.weight_decay);
      if (a.momentum != 0) {
        V b = a.first_step ? g : load_n<V>(buf + i, k) * c(a.momentum) + c(1 - a.dampening) * g;
        store_n(b, buf + i, k);
        g = a.nesterov ? g + c(a.momentum) * b : b;
      }
      store_n(p - c(a.lr) * g, param + i, k);
    });
  }

  // m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; θ −= (η/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε).
  static void adam(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, int64_t n, const AdamArgs& a) {
    parallel_strips<V>(n, [&](int64_t i, int k) {
      V p = load_n<V>(param + i, k);
      if (a.decay_factor != 1) p = p * c(a.decay_factor);
      V g = decayed(load_n<V>(grad + i, k), p, a.weight_decay);
      V m = load_n<V>(exp_avg + i, k) * c(a.beta1) + c(1 - a.beta1) * g;
      V v = load_n<V>(exp_avg_sq + i, k) * c(a.beta2) + c(1 - a.beta2) * g * g;
      store_n(m, exp_avg + i, k);
      store_n(v, exp_avg_sq + i, k);
      store_n(p - c(a.step_size) * m / (sqrt(v) / c(a.bias2_sqrt) + c(a.eps)), param + i, k);
    });
  }

  // m = β₁m + (1−β₁)g; u = max(β₂u, |g| + ε); θ −= (η/(1−β₁ᵗ))·m/u.
  static void adamax(T* param, const T* grad, T* exp_avg, T* exp_inf, int64_t n, const AdamaxArgs& a) {
    parallel_strips<V>(n, [&](int64_t i, int k) {
      V p = load_n<V>(param + i, k), g = decayed(load_n<V>(grad + i, k), p, a.weight_decay);
      V m = load_n<V>(exp_avg + i, k) * c(a.beta1) + c(1 - a.beta1) * g;
      V u = max(load_n<V>(exp_inf + i, k) * c(a.beta2), abs(g) + c(a.eps));
      store_n(m, exp_avg + i, k);
      store_n(u, exp_inf + i, k);
      store_n(p - c(a.step_size) * m / u, param + i, k);
    });
  }

  // s = αs + (1−α)g²; d = √(s − ḡ²) (centered, ḡ = αḡ + (1−α)g) or √s, plus ε;
  // θ −= η·g/d, or with momentum b = μb + g/d, θ −= η·b.
  static void rmsprop(T* param, const T* grad, T* square_avg, T* buf, T* grad_avg, int64_t n,
                      const RmspropArgs& a) {
    parallel_strips<V>(n, [&](int64_t i, int k) {
      V p = load_n<V>(param + i, k), g = decayed(load_n<V>(grad + i, k), p, a.weight_decay);
      V s = load_n<V>(square_avg + i, k) * c(a.alpha) + c(1 - a.alpha) * g * g;
      store_n(s, square_avg + i, k);
      if (grad_avg) {
        V ga = load_n<V>(grad_avg + i, k) * c(a.alpha) + c(1 - a.alpha) * g;
        store_n(ga, grad_avg + i, k);
        s = s - ga * ga;
      }
      V d = sqrt(s) + c(a.eps);
      if (a.momentum != 0) {
        V b = load_n<V>(buf + i, k) * c(a.momentum) + g / d;
        store_n(b, buf + i, k);
        store_n(p - c(a.lr) * b, param + i, k);
      } else {
        store_n(p - c(a.lr) * g / d, param + i, k);
      }
    });
  }

  // G += g²; θ −= η·g/(√G + ε).
  static void adagrad(T* param, const T* grad, T* sum_sq, int64_t n, const AdagradArgs& a) {
    parallel_strips<V>(n, [&](int64_t i, int k) {
      V p = load_n<V>(param + i, k), g = decayed(load_n<V>(grad + i, k), p, a.weight_decay);
      V s = load_n<V>(sum_sq + i, k) + g * g;
      store_n(s, sum_sq + i, k);
      store_n(p - c(a.lr) * g / (sqrt(s) + c(a.eps)), param + i, k);
    });
  }

  static OptimKernels<T> table() { return {sgd, adam, adamax, rmsprop, adagrad}; }
};

}  // namespace

const KernelTable<OptimKernels> optim_kernels = {Optim<float>::table(), Optim<double>::table()};

}  // namespace xpgrad::cpu::XPGRAD_ISA
