// Row primitives of the softmax family (softmax, log-softmax, cross-entropy, sparsemax):
// reductions over one contiguous row with four independent accumulators, so the add/max
// latency is hidden behind loads and exp. Templates on simd::Vec; compiled per ISA.
#pragma once
#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "xpgrad/parallel.h"
#include "xpgrad/simd.h"
#include "xpgrad/vecmath.h"

namespace xpgrad::cpu {

// comb(acc, step(i, count)) over the row's strips; step must return comb's identity in the
// lanes past count (load with the right fill value).
template <class V, class Step, class Combine>
inline V reduce_strips(int64_t k, V init, Step step, Combine comb) {
  constexpr int W = V::width;
  V a0 = init, a1 = init, a2 = init, a3 = init;
  int64_t i = 0;
  for (; i + 4 * W <= k; i += 4 * W) {
    a0 = comb(a0, step(i, W));
    a1 = comb(a1, step(i + W, W));
    a2 = comb(a2, step(i + 2 * W, W));
    a3 = comb(a3, step(i + 3 * W, W));
  }
  for (; i + W <= k; i += W) a0 = comb(a0, step(i, W));
  if (i < k) a0 = comb(a0, step(i, int(k - i)));
  return comb(comb(a0, a1), comb(a2, a3));
}

template <class V>
inline V add(V a, V b) { return a + b; }

// max over the row; NaN elements are skipped here and surface later through x − max.
template <class V, class T>
inline T row_max(const T* x, int64_t k) {
  const T ninf = -std::numeric_limits<T>::infinity();
  V m = reduce_strips<V>(k, V::set1(ninf), [&](int64_t i, int c) { return simd::load_n<V>(x + i, c, ninf); },
                         [](V a, V b) { return max(b, a); });
  return reduce_max(m);
}

// Σ f(i, count) over the row, f returning 0 in lanes past count. Summed in blocks of kSumBlock
// elements (four accumulators within a block, the block totals added up): the rounding error
// grows with kSumBlock/(4·width) + k/kSumBlock additions instead of k/(4·width) (32000 same-sign
// terms, a cross-entropy over one logit of 1e30, lost 2.7e-5 of the sum in one pass).
template <class V, class T, class F>
inline T row_sum(int64_t k, F f) {
  constexpr int64_t kSumBlock = 1024;
  T total = T(0);
  for (int64_t b = 0; b < k; b += kSumBlock)
    total += reduce_add(reduce_strips<V>(std::min(kSumBlock, k - b), V::set1(T(0)),
                                         [&](int64_t i, int c) { return f(b + i, c); }, add<V>));
  return total;
}

// A row of k elements, (R−1)·width < k ≤ R·width, held in R registers: loaded once and stored
// once, so a short row (K = 10 classes) never goes back to memory between the passes of a
// reduction. Only the last register is partial; its lanes past k hold a fill value. The steps
// work in place: when each returned a new row, GCC moved the copies of the register array
// through memory in 8-byte pieces.
template <class V, int R>
struct RegisterRow {
  using T = typename V::value_type;
  V v[R];
  int last;  // lanes of k in v[R − 1], 1 … width

  RegisterRow(const T* x, int64_t k, T fill) : last(int(k - int64_t(R - 1) * V::width)) {
    for (int j = 0; j + 1 < R; ++j) v[j] = V::load(x + j * V::width);
    v[R - 1] = simd::load_n<V>(x + (R - 1) * V::width, last, fill);
  }
  // z = x − max x with the padding at 0 (ready for exp, see apply_exp); sets max.
  static RegisterRow minus_max(const T* x, int64_t k, T& max) {
    RegisterRow z(x, k, -std::numeric_limits<T>::infinity());
    max = z.largest();
    const V m = V::set1(max);
    z.apply([&](V a) { return a - m; });
    z.zero_tail();
    return z;
  }
  void store(T* y) const {
    for (int j = 0; j + 1 < R; ++j) v[j].store(y + j * V::width);
    simd::store_n(v[R - 1], y + (R - 1) * V::width, last);
  }
  // eˣ in place, the padding kept at 0. exp of a −inf padding lane underflows, and a subnormal
  // result costs a microcode assist per vector (Zen 3: softmax at K = 10 ran at a third of
  // K = 16's speed), so minus_max leaves the padding at 0 and this puts it back to 0 after.
  void apply_exp() {
    apply([](V a) { return simd::exp(a); });
    zero_tail();
  }
  template <class F>
  void apply(F f) {
    for (int j = 0; j < R; ++j) v[j] = f(v[j]);
  }
  template <class F>
  void apply(const RegisterRow& b, F f) {
    for (int j = 0; j < R; ++j) v[j] = f(v[j], b.v[j]);
  }
  T largest() const {
    V m = v[0];
    for (int j = 1; j < R; ++j) m = max(v[j], m);  // max(new, acc), as row_max
    return reduce_max(m);
  }
  // Σ over all lanes: the padding must be 0 (loaded so, or after minus_max / apply_exp).
  T total() const {
    V s = v[0];
    for (int j = 1; j < R; ++j) s = s + v[j];
    return reduce_add(s);
  }
  // Σ f(x) over the k lanes, without storing f(x) (f's values in the padding are dropped).
  template <class F>
  T total(F f) const {
    V s = V::set1(T(0));
    for (int j = 0; j + 1 < R; ++j) s = s + f(v[j]);
    return reduce_add(s + tail_zeroed(f(v[R - 1])));
  }

 private:
  // a, a value of the last register, with its lanes past k set to 0.
  V tail_zeroed(V a) const { return last < V::width ? select(V::first(last), a, V::set1(T(0))) : a; }
  void zero_tail() { v[R - 1] = tail_zeroed(v[R - 1]); }
};

// e^(x − m) on the first count lanes of x, 0 in the lanes past them (the padding goes through
// exp as 0, not −inf: see RegisterRow::apply_exp).
template <class V, class T>
inline V exp_shifted(const T* x, int count, V m) {
  if (count == V::width) return simd::exp(V::load(x) - m);
  const auto lanes = V::first(count);
  const V zero = V::set1(T(0));
  return select(lanes, simd::exp(select(lanes, V::load(x, count, T(0)) - m, zero)), zero);
}

// When 0 < k ≤ 4·width: f(std::integral_constant<int, R>{}) with the R of the RegisterRow that
// holds k, and true; otherwise false (the caller takes its strip loops).
template <class V, class F>
inline bool with_register_row(int64_t k, F&& f) {
  if (k <= 0 || k > 4 * V::width) return false;
  if (k <= V::width) f(std::integral_constant<int, 1>{});
  else if (k <= 2 * V::width) f(std::integral_constant<int, 2>{});
  else if (k <= 3 * V::width) f(std::integral_constant<int, 3>{});
  else f(std::integral_constant<int, 4>{});
  return true;
}

// Rows in parallel: enough rows per thread to amortise the fork (≈ 16K elements each).
template <class F>
inline void for_rows(int64_t rows, int64_t k, F&& f) {
  const int64_t grain = k > 0 ? std::max<int64_t>(1, (int64_t(1) << 14) / k) : rows + 1;
  parallel_for(rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) f(r);
  });
}

}  // namespace xpgrad::cpu
