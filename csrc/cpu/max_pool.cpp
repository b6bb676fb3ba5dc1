// Max pooling forward / backward (see xpgrad/max_pool.h). The forward visits only the part of
// each window inside the image (the −∞ padding never wins), window element by window element
// across a row of outputs (pool_row); the backward adds each gradient at its argmax.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <type_traits>

#include "xpgrad/max_pool.h"
#include "xpgrad/parallel.h"
#include "window_span.h"

namespace xpgrad::cpu {
namespace {

// Outputs of a row handled at a time by pool_row (its buffers are on the stack).
constexpr int64_t kRowChunk = 256;

// Outputs [c0, c1) of one output row, window element by window element: for each (r, s) of
// the window in row-major order, every output whose window holds it (inside the image) compares
// it with its best so far. The inner loop runs across outputs, independent of each other, and
// selects with bit masks instead of branches, so that it vectorises (window by window, the
// compare-and-select chain and its mispredicted branches took ~12 ns per output). The indices
// are integers of T's width where the plane allows, so that the lanes line up.
template <class T, class Index>
void pool_row(const T* xp, T* y, int64_t* argmax, const ConvGeometry& g, int64_t oy, int64_t c0, int64_t c1) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  Bits best[kRowChunk];
  Index at[kRowChunk];
  std::fill(at, at + (c1 - c0), Index(-1));  // no element yet
  const int64_t y0 = oy * g.sh - g.ph;
  const Span sy = inside(y0, g.kh, g.h);
  for (int64_t r = y0 + sy.lo; r < y0 + sy.hi; ++r)
    for (int64_t s = 0; s < g.kw; ++s) {
      const int64_t off = s - g.pw;  // output ox reads column ox·sW + off
      const int64_t lo = std::max(c0, off >= 0 ? 0 : (g.sw - 1 - off) / g.sw);
      const int64_t hi = std::min(c1, (g.w - off + g.sw - 1) / g.sw);
      const int64_t first = r * g.w + off;  // ox = 0's column, maybe left of the image
      const Index base = static_cast<Index>(first), sw = static_cast<Index>(g.sw);
      for (int64_t ox = lo; ox < hi; ++ox) {
        const T v = xp[first + ox * g.sw];
        T b;
        std::memcpy(&b, best + (ox - c0), sizeof(T));
        // The first element; then strictly greater (the first maximal one stays); a NaN wins,
        // the first one.
        const bool take = (at[ox - c0] < 0) | (v > b) | ((v != v) & (b == b));
        const Bits mask = Bits(0) - Bits(take);
        const Index index_mask = Index(0) - Index(take);
        Bits vb;
        std::memcpy(&vb, &v, sizeof(T));
        best[ox - c0] = (vb & mask) | (best[ox - c0] & ~mask);
        const Index idx = base + static_cast<Index>(ox) * sw;
        at[ox - c0] = (idx & index_mask) | (at[ox - c0] & ~index_mask);
      }
    }
  std::memcpy(y + c0, best, (c1 - c0) * sizeof(T));
  for (int64_t ox = c0; ox < c1; ++ox) argmax[ox] = at[ox - c0];
}

template <class T, class Index>
void pool_planes(const T* x, T* y, int64_t* argmax, const ConvGeometry& g, int64_t b, int64_t e) {
  const int64_t plane = g.h * g.w, out = g.oh * g.ow;
  for (int64_t p = b; p < e; ++p)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t c0 = 0; c0 < g.ow; c0 += kRowChunk)
        pool_row<T, Index>(x + p * plane, y + p * out + oy * g.ow, argmax + p * out + oy * g.ow, g, oy, c0,
                           std::min(g.ow, c0 + kRowChunk));
}

template <class T>
bool unpool_planes(const T* gy, const int64_t* argmax, T* gx, const ConvGeometry& g, int64_t b, int64_t e) {
  const int64_t plane = g.h * g.w, out = g.oh * g.ow;
  std::fill(gx + b * plane, gx + e * plane, T(0));
  bool ok = true;
  for (int64_t p = b; p < e; ++p) {
    T* gp = gx + p * plane;
    for (int64_t o = p * out; o < (p + 1) * out; ++o) {
      const int64_t at = argmax[o];
      if (static_cast<uint64_t>(at) < static_cast<uint64_t>(plane))
        gp[at] += gy[o];
      else
        ok = false;
    }
  }
  return ok;
}

}  // namespace

template <class T>
void max_pool2d(const T* x, T* y, int64_t* argmax, const ConvGeometry& g) {
  using Narrow = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  const bool narrow = g.h * g.w <= std::numeric_limits<Narrow>::max();
  parallel_for(g.n * g.c, streaming_items(g.oh * g.ow * g.kh * g.kw), [&](int64_t b, int64_t e) {
    if (narrow) pool_planes<T, Narrow>(x, y, argmax, g, b, e);
    else pool_planes<T, int64_t>(x, y, argmax, g, b, e);
  });
}

template <class T>
bool max_pool2d_backward(const T* gy, const int64_t* argmax, T* gx, const ConvGeometry& g) {
  std::atomic<bool> ok{true};
  parallel_for(g.n * g.c, streaming_items(g.h * g.w + g.oh * g.ow), [&](int64_t b, int64_t e) {
    if (!unpool_planes(gy, argmax, gx, g, b, e)) ok.store(false, std::memory_order_relaxed);
  });
  return ok.load();
}

template void max_pool2d<float>(const float*, float*, int64_t*, const ConvGeometry&);
template void max_pool2d<double>(const double*, double*, int64_t*, const ConvGeometry&);
template bool max_pool2d_backward<float>(const float*, const int64_t*, float*, const ConvGeometry&);
template bool max_pool2d_backward<double>(const double*, const int64_t*, double*, const ConvGeometry&);

}  // namespace xpgrad::cpu
