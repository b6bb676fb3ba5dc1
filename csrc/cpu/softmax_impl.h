// Softmax family over the last axis, compiled once per ISA (the .cpp defines XPGRAD_ISA).
// Per row (cache-resident between passes, so DRAM sees x once and y once; rows of up to four
// vectors stay in registers, see RegisterRow):
//   softmax:     m = max x;  eᵢ = e^(xᵢ − m) stored and summed;  yᵢ = eᵢ · (1/Σe)
//   log_softmax: m = max x;  s = Σ e^(xᵢ − m);  yᵢ = (xᵢ − m) − log s
// Backward: softmax gx = y ⊙ (gy − Σ gy⊙y); log_softmax gx = gy − e^y · Σ gy.
#include <cmath>

#include "xpgrad/row_ops.h"
#include "xpgrad/softmax.h"
#include "xpgrad/vecmath.h"

namespace xpgrad::cpu::XPGRAD_ISA {
namespace {

using simd::load_n;
using simd::store_n;

template <class T>
struct Softmax {
  using V = simd::Vec<T>;

  static void softmax(const T* x, T* y, int64_t rows, int64_t k) {
    const bool done = with_register_row<V>(k, [&](auto regs) {
      for_rows(rows, k, [&](int64_t r) {
        T max;
        auto row = RegisterRow<V, regs>::minus_max(x + r * k, k, max);
        row.apply_exp();
        const V inv = V::set1(T(1) / row.total());
        row.apply([&](V a) { return a * inv; });
        row.store(y + r * k);
      });
    });
    if (done) return;
    for_rows(rows, k, [&](int64_t r) {
      const T* xr = x + r * k;
      T* yr = y + r * k;
      const V m = V::set1(row_max<V>(xr, k));
      const T s = row_sum<V, T>(k, [&](int64_t i, int c) {
        const V e = exp_shifted(xr + i, c, m);
        store_n(e, yr + i, c);
        return e;
      });
      const V inv = V::set1(T(1) / s);
      simd::strips<V>(k, [&](int64_t i, int c) { store_n(load_n<V>(yr + i, c) * inv, yr + i, c); });
    });
  }

  static void log_softmax(const T* x, T* y, int64_t rows, int64_t k) {
    const bool done = with_register_row<V>(k, [&](auto regs) {
      for_rows(rows, k, [&](int64_t r) {
        T max;
        auto row = RegisterRow<V, regs>::minus_max(x + r * k, k, max);
        const V log_s = V::set1(std::log(row.total([](V a) { return simd::exp(a); })));
        row.apply([&](V a) { return a - log_s; });
        row.store(y + r * k);
      });
    });
    if (done) return;
    for_rows(rows, k, [&](int64_t r) {
      const T* xr = x + r * k;
      T* yr = y + r * k;
      const V m = V::set1(row_max<V>(xr, k));
      const T s = row_sum<V, T>(k, [&](int64_t i, int c) { return exp_shifted(xr + i, c, m); });
      const V log_s = V::set1(std::log(s));
      simd::strips<V>(k, [&](int64_t i, int c) { store_n((load_n<V>(xr + i, c) - m) - log_s, yr + i, c); });
    });
  }

  static void softmax_backward(const T* y, const T* gy, T* gx, int64_t rows, int64_t k) {
    const bool done = with_register_row<V>(k, [&](auto regs) {
      for_rows(rows, k, [&](int64_t r) {
        const RegisterRow<V, regs> yr(y + r * k, k, T(0));
        RegisterRow<V, regs> g(gy + r * k, k, T(0)), prod = g;
        prod.apply(yr, [](V a, V b) { return a * b; });
        const V dot = V::set1(prod.total());
        g.apply(yr, [&](V a, V b) { return b * (a - dot); });
        g.store(gx + r * k);
      });
    });
    if (done) return;
    for_rows(rows, k, [&](int64_t r) {
      const T *yr = y + r * k, *gr = gy + r * k;
      T* out = gx + r * k;
      const V dot = V::set1(row_sum<V, T>(k, [&](int64_t i, int c) { return load_n<V>(gr + i, c) * load_n<V>(yr + i, c); }));
      simd::strips<V>(k, [&](int64_t i, int c) {
        store_n(load_n<V>(yr + i, c) * (load_n<V>(gr + i, c) - dot), out + i, c);
      });
    });
  }

  static void log_softmax_backward(const T* y, const T* gy, T* gx, int64_t rows, int64_t k) {
    const bool done = with_register_row<V>(k, [&](auto regs) {
      for_rows(rows, k, [&](int64_t r) {
        const RegisterRow<V, regs> yr(y + r * k, k, T(0));
        RegisterRow<V, regs> g(gy + r * k, k, T(0));
        const V sum = V::set1(g.total());
        g.apply(yr, [&](V a, V b) { return a - simd::exp(b) * sum; });
        g.store(gx + r * k);
      });
    });
    if (done) return;
    for_rows(rows, k, [&](int64_t r) {
      const T *yr = y + r * k, *gr = gy + r * k;
      T* out = gx + r * k;
      const V sum = V::set1(row_sum<V, T>(k, [&](int64_t i, int c) { return load_n<V>(gr + i, c); }));
      simd::strips<V>(k, [&](int64_t i, int c) {
        store_n(load_n<V>(gr + i, c) - simd::exp(load_n<V>(yr + i, c)) * sum, out + i, c);
      });
    });
  }

  static constexpr SoftmaxKernels<T> table() { return {softmax, softmax_backward, log_softmax, log_softmax_backward}; }
};

}  // namespace

XPGRAD_CONSTINIT const KernelTable<SoftmaxKernels> softmax_kernels = {
    Softmax<float>::table(), Softmax<double>::table()};

}  // namespace xpgrad::cpu::XPGRAD_ISA
