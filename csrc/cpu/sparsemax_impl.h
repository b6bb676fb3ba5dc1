// Sparsemax, compiled once per ISA (the .cpp defines XPGRAD_ISA).
// sparsemax(x) = max(z − τ, 0) with z = x − max x and τ the root of Σ max(zᵢ − τ, 0) = 1.
// Sort-free: τ ≥ −1 (the max alone gives Σ ≥ 1), so only zᵢ > −1 can be in the support; one
// pass compacts those candidates into a row buffer, then Michelot's fixed point
//   τ ← (Σ_{zᵢ>τ} zᵢ − 1) / |{zᵢ > τ}|
// runs on the shrinking buffer. τ rises monotonically to the exact root and the support only
// shrinks, so it stops (support unchanged) after at most |candidates| rounds: usually 2–4,
// ≤ 12 on adversarial families (a round that drops one element needs the gaps to grow ~m-fold,
// so long runs exhaust the range (−1, 0] quickly). Ties
// and huge logits need no special case; −inf entries get 0. A row with NaN or +inf (or only
// −inf) gives a NaN row, as the reference does.
// Rows of up to four vectors (RegisterRow) run the same iteration in registers, with no buffer.
// Backward: gx = gy − mean_S(gy) on S = {y > 0}, 0 elsewhere.
#include <cmath>
#include <memory>

#include "xpgrad/row_ops.h"
#include "xpgrad/sparsemax.h"

namespace xpgrad::cpu::XPGRAD_ISA {
namespace {

using simd::load_n;
using simd::store_n;

// Per-thread scratch row (internal linkage: no ISA-specific code shared across TUs).
template <class T>
struct RowBuffer {
  std::unique_ptr<T[]> data;
  int64_t size = 0;
  T* get(int64_t n) {
    if (n > size) {
      // The old row is freed first (lower peak) and forgotten before new can throw
      // (bad_alloc): a later call must not reuse it nor the destructor free it again.
      data.reset();
      size = 0;
      data.reset(new T[n]);
      size = n;
    }
    return data.get();
  }
};

template <class T>
struct Sparsemax {
  using V = simd::Vec<T>;
  static constexpr T nan = std::numeric_limits<T>::quiet_NaN();

  // Result of the threshold search on one row.
  struct Threshold {
    T max, tau;
    const T* support;  // the z values of the support (contiguous, count of them)
    int64_t count;
  };

  // Keeps the entries of buf[0, n) above tau (in place); returns how many, their sum in *sum.
  static int64_t filter(T* buf, int64_t n, T tau, T* sum) {
    const V t = V::set1(tau);
    V s = V::set1(T(0));
    int64_t kept = 0;
    simd::strips<V>(n, [&](int64_t i, int c) {
      V z = load_n<V>(buf + i, c, tau);  // tail lanes equal tau: never kept
      auto keep = z > t;
      s = s + select(keep, z, V::set1(T(0)));
      kept += z.compress_store(buf + kept, keep);
    });
    *sum = reduce_add(s);
    return kept;
  }

  // Finds τ for row x; returns false for a row with NaN or +inf, or only −inf (then τ is NaN).
  static bool threshold(const T* x, int64_t k, T* buf, Threshold& th) {
    th.max = row_max<V>(x, k);
    const T inf = std::numeric_limits<T>::infinity();
    const V m = V::set1(th.max), lo = V::set1(T(-1)), zero = V::set1(T(0));
    V nans = zero;  // counts x ≠ x
    int64_t n = 0;
    V s = zero;
    simd::strips<V>(k, [&](int64_t i, int c) {
      const V xv = load_n<V>(x + i, c, T(0));
      nans = nans + select(xv >= xv, zero, V::set1(T(1)));
      const V z = load_n<V>(x + i, c, -inf) - m;  // tail lanes: −inf, never candidates
      auto cand = z > lo;
      s = s + select(cand, z, zero);
      n += z.compress_store(buf + n, cand);
    });
    if (reduce_add(nans) != T(0) || th.max == inf || n == 0) {
      th.tau = nan;
      th.count = 0;
      th.support = buf;
      return false;
    }
    T sum = reduce_add(s), tau = (sum - T(1)) / T(n);
    for (;;) {
      int64_t kept = filter(buf, n, tau, &sum);
      if (kept == n) break;
      n = kept;
      tau = (sum - T(1)) / T(n);
    }
    th.tau = tau;
    th.support = buf;
    th.count = n;
    return true;
  }

  // y = max(z − τ, 0) = [z > τ]·(z − τ).
  static void project(const T* x, T* y, int64_t k, const Threshold& th) {
    const V m = V::set1(th.max), tau = V::set1(th.tau);
    simd::strips<V>(k, [&](int64_t i, int c) {
      V z = load_n<V>(x + i, c) - m;
      store_n(select(z > tau, z - tau, V::set1(T(0))), y + i, c);
    });
  }

  static void fill_nan(T* y, int64_t k) {
    for (int64_t i = 0; i < k; ++i) y[i] = nan;
  }

  // Michelot's iteration on a row held in registers (k ≤ 4 vectors): no candidate buffer.
  // z = x − max; every sum and count drops the padding (RegisterRow::total). Returns false for a row
  // with NaN or +inf, or only −inf; else sets tau.
  template <int R>
  static bool register_threshold(const RegisterRow<V, R>& z, T max, T& tau) {
    const V zero = V::set1(T(0)), one = V::set1(T(1));
    const T nans = z.total([&](V a) { return select(a >= a, zero, one); });
    if (nans != T(0) || max == std::numeric_limits<T>::infinity()) return false;
    T n = 0;
    tau = T(-1);  // the support lies in z > −1
    for (;;) {
      const V t = V::set1(tau);
      const T kept = z.total([&](V a) { return select(a > t, one, zero); });
      if (kept == n || kept == T(0)) break;
      n = kept;
      tau = (z.total([&](V a) { return select(a > t, a, zero); }) - T(1)) / n;
    }
    return n != T(0);
  }

  // Calls f(z, max, tau) on each row held in registers, or fills the row with NaN; false when
  // k needs the strip loops.
  template <class F, class Bad>
  static bool register_rows(const T* x, int64_t rows, int64_t k, F f, Bad bad) {
    return with_register_row<V>(k, [&](auto regs) {
      for_rows(rows, k, [&](int64_t r) {
        T max, tau;
        auto z = RegisterRow<V, regs>::minus_max(x + r * k, k, max);
        if (register_threshold(z, max, tau)) f(r, z, max, tau);
        else bad(r);
      });
    });
  }

  template <class F>
  static void rows_with_buffer(int64_t rows, int64_t k, F f) {
    for_rows(rows, k, [&](int64_t r) {
      static thread_local RowBuffer<T> scratch;
      f(r, scratch.get(k + V::width));
    });
  }

  static void forward(const T* x, T* y, int64_t rows, int64_t k) {
    const bool done = register_rows(
        x, rows, k,
        [&](int64_t r, auto& z, T, T tau) {
          const V t = V::set1(tau), zero = V::set1(T(0));
          z.apply([&](V a) { return select(a > t, a - t, zero); });
          z.store(y + r * k);
        },
        [&](int64_t r) { fill_nan(y + r * k, k); });
    if (done) return;
    rows_with_buffer(rows, k, [&](int64_t r, T* buf) {
      Threshold th;
      if (threshold(x + r * k, k, buf, th)) project(x + r * k, y + r * k, k, th);
      else fill_nan(y + r * k, k);
    });
  }

  static void backward(const T* y, const T* gy, T* gx, int64_t rows, int64_t k) {
    for_rows(rows, k, [&](int64_t r) {
      const T *yr = y + r * k, *gr = gy + r * k;
      const V zero = V::set1(T(0)), one = V::set1(T(1));
      V sum = zero, count = zero;
      simd::strips<V>(k, [&](int64_t i, int c) {
        auto on = load_n<V>(yr + i, c) > zero;
        sum = sum + select(on, load_n<V>(gr + i, c), zero);
        count = count + select(on, one, zero);
      });
      const V mean = V::set1(reduce_add(sum) / reduce_add(count));
      simd::strips<V>(k, [&](int64_t i, int c) {
        auto on = load_n<V>(yr + i, c) > zero;
        store_n(select(on, load_n<V>(gr + i, c) - mean, zero), gx + r * k + i, c);
      });
    });
  }

  // ½ Σ_S (z² − τ²) from the support values.
  static T half_support_energy(const Threshold& th) {
    T s = 0;
    for (int64_t i = 0; i < th.count; ++i) s += th.support[i] * th.support[i] - th.tau * th.tau;
    return T(0.5) * s;
  }

  // The loss is ≥ 0 in exact arithmetic; rounding can leave it slightly negative. A NaN stays NaN
  // (numpy.maximum(l, 0) in the reference): `l > 0 ? l : 0` made a NaN target's loss 0.
  static T clamp_loss(T l) { return l < T(0) ? T(0) : l; }

  // L = −qᵀz + ½ Σ_S (z² − τ²) + ½‖q‖², clamped at 0; grad = p − q with q the one-hot of t.
  static void loss_with_indices(const T* logits, const int64_t* target, T* loss, T* grad, int64_t n, int64_t k) {
    const bool done = register_rows(
        logits, n, k,
        [&](int64_t r, auto& z, T max, T tau) {
          const V t = V::set1(tau), zero = V::set1(T(0));
          const T energy = T(0.5) * z.total([&](V a) { return select(a > t, a * a - t * t, zero); });
          z.apply([&](V a) { return select(a > t, a - t, zero); });
          z.store(grad + r * k);
          const int64_t c = target[r];
          grad[r * k + c] -= T(1);
          const T l = -(logits[r * k + c] - max) + energy + T(0.5);
          loss[r] = clamp_loss(l);
        },
        [&](int64_t r) {
          fill_nan(grad + r * k, k);
          loss[r] = nan;
        });
    if (done) return;
    rows_with_buffer(n, k, [&](int64_t r, T* buf) {
      const T* x = logits + r * k;
      T* g = grad + r * k;
      Threshold th;
      if (!threshold(x, k, buf, th)) {
        fill_nan(g, k);
        loss[r] = nan;
        return;
      }
      project(x, g, k, th);
      const int64_t t = target[r];
      g[t] -= T(1);
      const T l = -(x[t] - th.max) + half_support_energy(th) + T(0.5);
      loss[r] = clamp_loss(l);
    });
  }

  // Multi-label: q = t / max(Σt, 1e-12).
  static void loss_with_labels(const T* logits, const T* target, T* loss, T* grad, int64_t n, int64_t k) {
    rows_with_buffer(n, k, [&](int64_t r, T* buf) {
      const T *x = logits + r * k, *t = target + r * k;
      T* g = grad + r * k;
      Threshold th;
      if (!threshold(x, k, buf, th)) {
        fill_nan(g, k);
        loss[r] = nan;
        return;
      }
      project(x, g, k, th);
      T t_sum = row_sum<V, T>(k, [&](int64_t i, int c) { return load_n<V>(t + i, c); });
      // max(Σt, 1e-12) keeping a NaN sum NaN, as the reference's maximum does.
      const V q_scale = V::set1(T(1) / (t_sum < T(1e-12) ? T(1e-12) : t_sum)), m = V::set1(th.max);
      const V zero = V::set1(T(0));
      // Σ q·z and Σ q² by row_sum (blocked, as cross-entropy's sums), the gradient stored on the
      // way; z taken where q ≠ 0 only: a −∞ logit off the labels adds 0, not 0·(−∞) = NaN.
      const T qz = row_sum<V, T>(k, [&](int64_t i, int c) {
        const V q = load_n<V>(t + i, c) * q_scale, z = load_n<V>(x + i, c, th.max) - m;
        store_n(load_n<V>(g + i, c) - q, g + i, c);
        return q * select(q > zero, z, select(q < zero, z, zero));
      });
      const T qq = row_sum<V, T>(k, [&](int64_t i, int c) {
        const V q = load_n<V>(t + i, c) * q_scale;
        return q * q;
      });
      const T l = -qz + half_support_energy(th) + T(0.5) * qq;
      loss[r] = clamp_loss(l);
    });
  }

  static constexpr SparsemaxKernels<T> table() { return {forward, backward, loss_with_indices, loss_with_labels}; }
};

}  // namespace

XPGRAD_CONSTINIT const KernelTable<SparsemaxKernels> sparsemax_kernels = {
    Sparsemax<float>::table(), Sparsemax<double>::table()};

}  // namespace xpgrad::cpu::XPGRAD_ISA
