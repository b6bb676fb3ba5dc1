// Fused softmax cross-entropy, compiled once per ISA (the .cpp defines XPGRAD_ISA).
// With smoothing ε the target is t' = (1−ε)·t + ε/K, of mass w = Σt' (1 for class indices;
// probability targets need not sum to 1). Per row, m = max x, s = Σ e^(x − m):
//   loss = w·log s − Σ t'ᵢ(xᵢ − m)      (= −Σ t' log p, without forming log p)
//   grad = w·p − t' = w·e^(x − m)/s − (1−ε)t − ε/K
// Passes over a cache-resident row: max; exp stored into grad and summed; (probabilities: Σt);
// grad finished while Σ t'(x − m) is accumulated, with t' formed first as PyTorch does (a −∞
// logit then costs +∞ wherever ε/K > 0, not 0·(−∞) = NaN). Rows of up to four vectors are held
// in registers (RegisterRow) for all of them.
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
    const V off = V::set1(eps / T(k)), keep = V::set1(T(1) - eps);
    const bool done = with_register_row<V>(k, [&](auto regs) {
      for_rows(n, k, [&](int64_t r) {
        T m;
        auto z = RegisterRow<V, regs>::minus_max(logits + r * k, k, m);
        RegisterRow<V, regs> t(target + r * k, k, T(0));
        auto e = z;
        e.apply_exp();
        const T s = e.total();
        const T weight = (T(1) - eps) * t.total() + eps;  // Σ t'
        t.apply([&](V tv) { return keep * tv + off; });  // t' (its padding, ε/K, meets z's 0s)
        const V scale = V::set1(weight / s);
        e.apply(t, [&](V a, V tv) { return a * scale - tv; });
        e.store(grad + r * k);
        z.apply(t, [](V a, V tv) { return a * tv; });
        loss[r] = weight * std::log(s) - z.total();
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
      const V scale = V::set1(weight / s), vm = V::set1(m);
      // Σ t'·(x − m) by row_sum (blocked, four accumulators), the gradient stored on the way: in
      // one accumulator, K = 32000 same-sign terms (one logit of 1e30) lost 1.1e-4 of the loss.
      const T t_shifted = row_sum<V, T>(k, [&](int64_t i, int c) {
        const V tv = keep * load_n<V>(t + i, c) + off, xs = load_n<V>(x + i, c, m) - vm;
        store_n(load_n<V>(g + i, c) * scale - tv, g + i, c);
        return tv * xs;
      });
      loss[r] = weight * std::log(s) - t_shifted;
    });
  }

  static constexpr CrossEntropyKernels<T> table() { return {with_indices, with_probs}; }
};

}  // namespace

XPGRAD_CONSTINIT const KernelTable<CrossEntropyKernels> cross_entropy_kernels = {
    CrossEntropy<float>::table(), CrossEntropy<double>::table()};

}  // namespace xpgrad::cpu::XPGRAD_ISA
