// Softmax family over the last axis, compiled once per ISA (the .cpp defines XPGRAD_ISA).
// Per row (cache-resident between passes, so DRAM sees x once and y once):
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
  static constexpr T ninf = -std::numeric_limits<T>::infinity();

  static void softmax(const T* x, T* y, int64_t rows, int64_t k) {
    if (k <= V::width) {  // a row is one register: no strip loops, no second look at memory
      const int c = int(k);
      return for_rows(rows, k, [&](int64_t r) {
        const V v = V::load(x + r * k, c, ninf);
        const V e = simd::exp(v - V::set1(reduce_max(v)));
        (e * V::set1(T(1) / reduce_add(e))).store(y + r * k, c);
      });
    }
    for_rows(rows, k, [&](int64_t r) {
      const T* xr = x + r * k;
      T* yr = y + r * k;
      const V m = V::set1(row_max<V>(xr, k));
      const T s = row_sum<V, T>(k, [&](int64_t i, int c) {
        V e = simd::exp(load_n<V>(xr + i, c, ninf) - m);
        store_n(e, yr + i, c);
        return e;
      });
      const V inv = V::set1(T(1) / s);
      simd::strips<V>(k, [&](int64_t i, int c) { store_n(load_n<V>(yr + i, c) * inv, yr + i, c); });
    });
  }

  static void log_softmax(const T* x, T* y, int64_t rows, int64_t k) {
    if (k <= V::width) {
      const int c = int(k);
      return for_rows(rows, k, [&](int64_t r) {
        const V v = V::load(x + r * k, c, ninf);
        const V z = v - V::set1(reduce_max(v));
        (z - V::set1(std::log(reduce_add(simd::exp(z))))).store(y + r * k, c);
      });
    }
    for_rows(rows, k, [&](int64_t r) {
      const T* xr = x + r * k;
      T* yr = y + r * k;
      const V m = V::set1(row_max<V>(xr, k));
      const T s = row_sum<V, T>(k, [&](int64_t i, int c) { return simd::exp(load_n<V>(xr + i, c, ninf) - m); });
      const V log_s = V::set1(std::log(s));
      simd::strips<V>(k, [&](int64_t i, int c) { store_n((load_n<V>(xr + i, c) - m) - log_s, yr + i, c); });
    });
  }

  static void softmax_backward(const T* y, const T* gy, T* gx, int64_t rows, int64_t k) {
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
