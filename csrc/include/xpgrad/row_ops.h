// Row primitives of the softmax family (softmax, log-softmax, cross-entropy, sparsemax):
// reductions over one contiguous row with four independent accumulators, so the add/max
// latency is hidden behind loads and exp. Templates on simd::Vec; compiled per ISA.
#pragma once
#include <cstdint>
#include <limits>

#include "xpgrad/parallel.h"
#include "xpgrad/simd.h"

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

// Σ f(i, count) over the row, f returning 0 in lanes past count.
template <class V, class T, class F>
inline T row_sum(int64_t k, F f) {
  return reduce_add(reduce_strips<V>(k, V::set1(T(0)), f, add<V>));
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
