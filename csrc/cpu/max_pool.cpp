// Max pooling forward / backward (see xpgrad/max_pool.h): one pass over each window's part
// inside the image, [i_lo, i_hi) × [j_lo, j_hi) — the −∞ padding never wins, so it is skipped.
#include <algorithm>
#include <atomic>

#include "xpgrad/max_pool.h"
#include "xpgrad/parallel.h"
#include "window_span.h"

namespace xpgrad::cpu {
namespace {

template <class T>
void pool_planes(const T* x, T* y, int64_t* argmax, const ConvGeometry& g, int64_t b, int64_t e) {
  const int64_t plane = g.h * g.w, out = g.oh * g.ow;
  for (int64_t p = b; p < e; ++p) {
    const T* xp = x + p * plane;
    T* yp = y + p * out;
    int64_t* ap = argmax + p * out;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const int64_t y0 = oy * g.sh - g.ph;
      const Span sy = inside(y0, g.kh, g.h);
      const int64_t y_lo = y0 + sy.lo, y_hi = y0 + sy.hi;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t x0 = ox * g.sw - g.pw;
        const Span sx = inside(x0, g.kw, g.w);
        const int64_t x_lo = x0 + sx.lo, x_hi = x0 + sx.hi;
        int64_t best_at = y_lo * g.w + x_lo;
        T best = xp[best_at];
        for (int64_t r = y_lo; r < y_hi && best == best; ++r)  // stop at a NaN: it wins
          for (int64_t s = x_lo; s < x_hi; ++s) {
            const T v = xp[r * g.w + s];
            if (v > best || v != v) {  // strictly greater: the first maximal element stays
              best = v;
              best_at = r * g.w + s;
              if (v != v) break;
            }
          }
        yp[oy * g.ow + ox] = best;
        ap[oy * g.ow + ox] = best_at;
      }
    }
  }
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

// Planes per chunk: a window of kH·kW compares (or one add) per output element.
inline int64_t plane_grain(int64_t work_per_plane) {
  return std::max<int64_t>(1, kStreamingGrain / std::max<int64_t>(work_per_plane, 1));
}

}  // namespace

template <class T>
void max_pool2d(const T* x, T* y, int64_t* argmax, const ConvGeometry& g) {
  parallel_for(g.n * g.c, plane_grain(g.oh * g.ow * g.kh * g.kw),
               [&](int64_t b, int64_t e) { pool_planes(x, y, argmax, g, b, e); });
}

template <class T>
bool max_pool2d_backward(const T* gy, const int64_t* argmax, T* gx, const ConvGeometry& g) {
  std::atomic<bool> ok{true};
  parallel_for(g.n * g.c, plane_grain(g.h * g.w + g.oh * g.ow), [&](int64_t b, int64_t e) {
    if (!unpool_planes(gy, argmax, gx, g, b, e)) ok.store(false, std::memory_order_relaxed);
  });
  return ok.load();
}

template void max_pool2d<float>(const float*, float*, int64_t*, const ConvGeometry&);
template void max_pool2d<double>(const double*, double*, int64_t*, const ConvGeometry&);
template bool max_pool2d_backward<float>(const float*, const int64_t*, float*, const ConvGeometry&);
template bool max_pool2d_backward<double>(const double*, const int64_t*, double*, const ConvGeometry&);

}  // namespace xpgrad::cpu
