// Fused softmax cross-entropy, compiled once per ISA (the .cpp defines XPGRAD_ISA).
// With smoothing ε the target is t' = (1−ε)·t + ε/K, of mass w = Σt' (1 for class indices;
// probability targets need not sum to 1). Per row, m = max x, s = Σ e^(x − m):
//   loss = w·log s − Σ t'ᵢ(xᵢ − m)      (= −Σ t' log p, without forming log p)
//   grad = w·p − t' = w·e^(x − m)/s − (1−ε)t − ε/K
// Passes over a cache-resident row: max; exp stored into grad and summed; (probabilities: Σt);
// grad finished while the loss terms Σ t(x − m), Σ (x − m) are accumulated. Rows of up to four
// vectors are held in registers (RegisterRow) for all of them.
#include <cmath>

#include "xpgrad/cross_entropy.h"
#include "xpgrad/row_ops.h"
#include "xpgrad/vecmath.h"

namespace xpgrad::cpu::XPGRAD_ISA {
namespace {

using simd::load_n;
using simd::store_n;

template <class T>
struct CrossEntropy {
  using V = simd::Vec<T>;

  // Stores e^(x − m) into g; returns s = Σ e^(x − m) and sets m.
  static T exp_pass(const T* x, T* g, int64_t k, T& m) {
    m = row_max<V>(x, k);
    const V vm = V::set1(m);
    return row_sum<V, T>(k, [&](int64_t i, int c) {
      const V e = exp_shifted(x + i, c, vm);
      store_n(e, g + i, c);
      return e;
    });
  }

  static void with_indices(const T* logits, const int64_t* target, T* loss, T* grad, int64_t n, int64_t k,
                           T eps) {
    const bool done = with_register_row<V>(k, [&](auto regs) {
      for_rows(n, k, [&](int64_t r) {
        const T* x = logits + r * k;
        T m;
        const auto z = RegisterRow<V, regs>::minus_max(x, k, m);
        const V off = V::set1(eps / T(k));
        auto e = z;
        e.apply_exp();
        const T s = e.total();
        const V inv = V::set1(T(1) / s);
        e.apply([&](V a) { return a * inv - off; });
        e.store(grad + r * k);
        const int64_t t = target[r];
        grad[r * k + t] -= T(1) - eps;
        const T sum_shifted = eps != T(0) ? z.total() : T(0);  // Σ (x − m), only needed with smoothing
        loss[r] = std::log(s) - (T(1) - eps) * (x[t] - m) - eps / T(k) * sum_shifted;
      });
    });
    if (done) return;
    for_rows(n, k, [&](int64_t r) {
      const T* x = logits + r * k;
      T* g = grad + r * k;
      T m;
      const T s = exp_pass(x, g, k, m);
      const V inv = V::set1(T(1) / s), off = V::set1(eps / T(k)), vm = V::set1(m);
      simd::strips<V>(k, [&](int64_t i, int c) { store_n(load_n<V>(g + i, c) * inv - off, g + i, c); });
      T sum_shifted = 0;  // Σ (x − m), only needed with smoothing
      if (eps != T(0))
        sum_shifted = row_sum<V, T>(k, [&](int64_t i, int c) { return load_n<V>(x + i, c, m) - vm; });
      const int64_t t = target[r];
      g[t] -= T(1) - eps;
      loss[r] = std::log(s) - (T(1) - eps) * (x[t] - m) - eps / T(k) * sum_shifted;
    });
  }

  static void with_probs(const T* logits, const T* target, T* loss, T* grad, int64_t n, int64_t k, T eps) {
    const bool done = with_register_row<V>(k, [&](auto regs) {
      for_rows(n, k, [&](int64_t r) {
        T m;
        auto z = RegisterRow<V, regs>::minus_max(logits + r * k, k, m);
        const RegisterRow<V, regs> tw(target + r * k, k, T(0));
        auto e = z;
        e.apply_exp();
        const T s = e.total();
        const T weight = (T(1) - eps) * tw.total() + eps;  // Σ t'
        const V scale = V::set1(weight / s), off = V::set1(eps / T(k)), keep = V::set1(T(1) - eps);
        e.apply(tw, [&](V a, V tv) { return a * scale - keep * tv - off; });
        e.store(grad + r * k);
        const T shifted = z.total();
        z.apply(tw, [](V a, V tv) { return a * tv; });
        loss[r] = weight * std::log(s) - (T(1) - eps) * z.total() - eps / T(k) * shifted;
      });
    });
    if (done) return;
    for_rows(n, k, [&](int64_t r) {
      const T *x = logits + r * k, *t = target + r * k;
      T* g = grad + r * k;
      T m;
      const T s = exp_pass(x, g, k, m);
      const T t_sum = row_sum<V, T>(k, [&](int64_t i, int c) { return load_n<V>(t + i, c); });
      const T weight = (T(1) - eps) * t_sum + eps;  // Σ t'
      const V scale = V::set1(weight / s), off = V::set1(eps / T(k)), keep = V::set1(T(1) - eps), vm = V::set1(m);
      V t_shifted = V::set1(T(0)), shifted = t_shifted;
      simd::strips<V>(k, [&](int64_t i, int c) {
        const V tv = load_n<V>(t + i, c), xs = load_n<V>(x + i, c, m) - vm;
        store_n(load_n<V>(g + i, c) * scale - keep * tv - off, g + i, c);
        t_shifted = fma(tv, xs, t_shifted);
        shifted = shifted + xs;
      });
      loss[r] = weight * std::log(s) - (T(1) - eps) * reduce_add(t_shifted) - eps / T(k) * reduce_add(shifted);
    });
  }

  static constexpr CrossEntropyKernels<T> table() { return {with_indices, with_probs}; }
};

}  // namespace

XPGRAD_CONSTINIT const KernelTable<CrossEntropyKernels> cross_entropy_kernels = {
    CrossEntropy<float>::table(), CrossEntropy<double>::table()};

}  // namespace xpgrad::cpu::XPGRAD_ISA
