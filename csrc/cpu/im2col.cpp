// im2col / col2im (see xpgrad/im2col.h). Along a kernel row the window's elements are
// contiguous in x whatever the stride, so both directions move runs of kW elements; the
// window's overlap with the unpadded image, [i_lo, i_hi) × [j_lo, j_hi), is computed once per
// output position and the rest is zero (im2col) or skipped (col2im).
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "xpgrad/im2col.h"
#include "xpgrad/parallel.h"
#include "window_span.h"

namespace xpgrad::cpu {
namespace {

// op(j) over the run [lo, hi) of a kernel row. With the width KW known at compile time (0:
// known only at run time) a whole row is a fixed-length loop, unrolled: runs of 2 or 3 in a
// loop with run-time bounds cost more in loop overhead than in the copy itself.
template <int KW, class Op>
inline void kernel_row(const Span& s, Op op) {
  if (KW && s.lo == 0 && s.hi == KW) {
    for (int64_t j = 0; j < KW; ++j) op(j);
  } else {
    for (int64_t j = s.lo; j < s.hi; ++j) op(j);
  }
}

// Rows of cols at most this long (C·kH·kW) are filled along ox innermost, longer ones row by
// row (col2im likewise). One thread, best of 3×30 calls: 2×2 pooling windows of one channel
// (k = 4) took 2.3-2.8 ms instead of 4.6-4.7 along ox (the per-row loop overhead outweighed
// copying the window), a one-channel 3×3 conv (k = 9) 0.44 instead of 0.66; with 4 channels
// (k = 36) 2.0 ms instead of 1.5 (each step along ox writes another row, per kernel row).
constexpr int64_t kShortRow = 16;

// Rows [b, e) of cols, in runs sharing (n, oy).
template <int KW, class T>
void im2col_rows(const T* x, T* cols, const ConvGeometry& g, int64_t b, int64_t e) {
  const int64_t kw = KW ? KW : g.kw, k = g.c * g.kh * kw, plane = g.h * g.w;
  for (int64_t r = b; r < e;) {
    const int64_t ox_b = r % g.ow, noy = r / g.ow, oy = noy % g.oh, n = noy / g.oh;
    const int64_t ox_e = std::min(g.ow, ox_b + (e - r));
    const int64_t y0 = oy * g.sh - g.ph;
    const Span si = inside(y0, g.kh, g.h);
    T* row0 = cols + noy * g.ow * k;  // the row of ox = 0
    for (int64_t ox = ox_b; ox < ox_e; ++ox) {
      const int64_t x0 = ox * g.sw - g.pw;
      const Span sj = inside(x0, kw, g.w);
      T* out = row0 + ox * k;
      if (si.hi - si.lo < g.kh || sj.hi - sj.lo < kw) std::fill(out, out + k, T(0));
      if (k <= kShortRow) continue;
      // A window inside the image: each kernel row goes as one fixed-size copy of KW + 1
      // elements, the extra one overwritten by the next kernel row's copy; the last channel's
      // last kernel row is copied exactly, so that no copy leaves the cols row (another thread's
      // maybe) and no read leaves x (the others read at most into the next channel's plane).
      if (KW && si.lo == 0 && si.hi == g.kh && sj.lo == 0 && sj.hi == KW) {
        for (int64_t c = 0; c < g.c; ++c) {
          const T* src = x + (n * g.c + c) * plane + y0 * g.w + x0;
          T* dst = out + c * g.kh * KW;
          const int64_t rows = c + 1 < g.c ? g.kh : g.kh - 1;
          for (int64_t i = 0; i < rows; ++i) std::memcpy(dst + i * KW, src + i * g.w, (KW + 1) * sizeof(T));
          for (int64_t i = rows; i < g.kh; ++i) std::memcpy(dst + i * KW, src + i * g.w, KW * sizeof(T));
        }
        continue;
      }
      for (int64_t c = 0; c < g.c; ++c) {
        const int64_t at = (n * g.c + c) * plane + y0 * g.w + x0;  // the window's (0, 0), maybe outside
        T* dst = out + c * g.kh * kw;
        for (int64_t i = si.lo; i < si.hi; ++i)
          kernel_row<KW>(sj, [&](int64_t j) { dst[i * kw + j] = x[at + i * g.w + j]; });
      }
    }
    if (k <= kShortRow) {
      for (int64_t c = 0; c < g.c; ++c)
        for (int64_t i = si.lo; i < si.hi; ++i) {
          const int64_t at = (n * g.c + c) * plane + (y0 + i) * g.w;
          T* dst = row0 + (c * g.kh + i) * kw;
          for (int64_t ox = ox_b; ox < ox_e; ++ox) {
            const int64_t x0 = ox * g.sw - g.pw;
            kernel_row<KW>(inside(x0, kw, g.w), [&](int64_t j) { dst[ox * k + j] = x[at + x0 + j]; });
          }
        }
    }
    r += ox_e - ox_b;
  }
}

// Planes [b, e) of x, each (n, c) zeroed and then summed from the kH·kW entries of channel c in
// image n's rows: plane by plane along ox innermost for short rows, else image by image through
// its rows, each row's channel range at once (as im2col_rows).
template <int KW, class T>
void col2im_planes(const T* cols, T* x, const ConvGeometry& g, int64_t b, int64_t e) {
  const int64_t kw = KW ? KW : g.kw, kk = g.kh * kw, k = g.c * kk, plane = g.h * g.w;
  std::fill(x + b * plane, x + e * plane, T(0));
  if (k <= kShortRow) {
    for (int64_t p = b; p < e; ++p) {
      const T* image = cols + p / g.c * g.oh * g.ow * k + p % g.c * kk;  // channel c of the image's row 0
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        const int64_t y0 = oy * g.sh - g.ph;
        const Span si = inside(y0, g.kh, g.h);
        for (int64_t i = si.lo; i < si.hi; ++i) {
          T* dst = x + p * plane + (y0 + i) * g.w;
          const T* src = image + oy * g.ow * k + i * kw;
          for (int64_t ox = 0; ox < g.ow; ++ox) {
            const int64_t x0 = ox * g.sw - g.pw;
            kernel_row<KW>(inside(x0, kw, g.w), [&](int64_t j) { dst[x0 + j] += src[ox * k + j]; });
          }
        }
      }
    }
    return;
  }
  for (int64_t n = b / g.c; n * g.c < e; ++n) {
    const int64_t c_lo = std::max(b - n * g.c, int64_t(0)), c_hi = std::min(e - n * g.c, g.c);
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const int64_t y0 = oy * g.sh - g.ph;
      const Span si = inside(y0, g.kh, g.h);
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t x0 = ox * g.sw - g.pw;
        const Span sj = inside(x0, kw, g.w);
        const T* row = cols + ((n * g.oh + oy) * g.ow + ox) * k;
        for (int64_t c = c_lo; c < c_hi; ++c) {
          const T* src = row + c * kk;
          const int64_t at = (n * g.c + c) * plane + y0 * g.w + x0;  // index ≥ 0 inside the window
          for (int64_t i = si.lo; i < si.hi; ++i)
            kernel_row<KW>(sj, [&](int64_t j) { x[at + i * g.w + j] += src[i * kw + j]; });
        }
      }
    }
  }
}

// f(std::integral_constant<int, KW>) with KW = kw for the common widths 1, 2 and 3, else 0.
template <class F>
void with_kernel_width(int64_t kw, F&& f) {
  switch (kw) {
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    case 3: return f(std::integral_constant<int, 3>{});
    default: return f(std::integral_constant<int, 0>{});
  }
}

}  // namespace

template <class T>
void im2col(const T* x, T* cols, const ConvGeometry& g) {
  if (g.c == 0) return;  // rows of no columns (walking N·OH·OW of them took seconds at N = 2^24)
  with_kernel_width(g.kw, [&](auto kw) {
    parallel_for(g.n * g.oh * g.ow, streaming_items(g.c * g.kh * g.kw), [&](int64_t b, int64_t e) {
      im2col_rows<decltype(kw)::value>(x, cols, g, b, e);
    });
  });
}

template <class T>
void col2im(const T* cols, T* x, const ConvGeometry& g) {
  if (g.n * g.c == 0) return;  // no planes (and C = 0 must not reach the division by C)
  with_kernel_width(g.kw, [&](auto kw) {
    parallel_for(g.n * g.c, streaming_items(g.oh * g.ow * g.kh * g.kw), [&](int64_t b, int64_t e) {
      col2im_planes<decltype(kw)::value>(cols, x, g, b, e);
    });
  });
}

template void im2col<float>(const float*, float*, const ConvGeometry&);
template void im2col<double>(const double*, double*, const ConvGeometry&);
template void col2im<float>(const float*, float*, const ConvGeometry&);
template void col2im<double>(const double*, double*, const ConvGeometry&);

}  // namespace xpgrad::cpu
