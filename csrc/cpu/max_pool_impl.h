// Max pooling forward / backward (see xpgrad/max_pool.h), compiled once per ISA (the .cpp
// defines XPGRAD_ISA). The forward visits only the part of each window inside the image (the
// −∞ padding never wins), window element by window element across a row of outputs
// (pool_row), or, for a channels-last x, across the channels of each output pixel
// (pool_row_channels_last); the backward adds each gradient at its argmax. No std:: algorithm
// over T here: its instantiation would be one symbol for every ISA's build.
#pragma once
#include <atomic>
#include <cstring>
#include <limits>
#include <type_traits>

#include "xpgrad/max_pool.h"
#include "xpgrad/parallel.h"
#include "window_span.h"

namespace xpgrad::cpu::XPGRAD_ISA {
namespace {

// Outputs of a row handled at a time by pool_row (its buffers are on the stack).
constexpr int64_t kRowChunk = 256;

template <class T>
using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;

template <class T>
void fill(T* first, int64_t count, T value) {
  for (int64_t i = 0; i < count; ++i) first[i] = value;
}

// One output's best so far (as T's bits) and its index updated with element v at idx: v is
// taken when it is the first element, strictly greater (the first maximal one stays), or the
// first NaN (a NaN wins; later NaNs do not replace it, where PyTorch's CPU kernel takes the
// last one: only which NaN gets the gradient differs). Bit masks instead of branches, so that a
// loop of independent outputs vectorises (window by window, the compare-and-select chain and its
// mispredicted branches took ~12 ns per output).
template <class T, class Index>
inline void keep_max(Bits<T>& best, Index& at, T v, Index idx) {
  T b;
  std::memcpy(&b, &best, sizeof(T));
  const bool take = (at < 0) | (v > b) | ((v != v) & (b == b));
  const Bits<T> mask = Bits<T>(0) - Bits<T>(take);
  const Index index_mask = Index(0) - Index(take);
  Bits<T> vb;
  std::memcpy(&vb, &v, sizeof(T));
  best = (vb & mask) | (best & ~mask);
  at = (idx & index_mask) | (at & ~index_mask);
}

// Outputs [c0, c1) of one output row, window element by window element: for each (r, s) of
// the window in row-major order, every output whose window holds it (inside the image) compares
// it with its best so far (keep_max). The inner loop runs across outputs, independent of each
// other. The indices are integers of T's width where the plane allows, so that the lanes line
// up.
template <class T, class Index>
void pool_row(const T* xp, T* y, int64_t* argmax, const ConvGeometry& g, int64_t oy, int64_t c0, int64_t c1) {
  Bits<T> best[kRowChunk];
  Index at[kRowChunk];
  fill(at, c1 - c0, Index(-1));  // no element yet
  const int64_t y0 = oy * g.sh - g.ph;
  const Span sy = inside(y0, g.kh, g.h);
  // Window columns s that land in the image for some output in [c0, c1): ox·sW + s − pW in
  // [0, W). (All kW of them, padding included, hung on a kernel 2^40 wide.)
  const int64_t s_lo = std::max<int64_t>(0, g.pw - (c1 - 1) * g.sw), s_hi = std::min(g.kw, g.w + g.pw - c0 * g.sw);
  for (int64_t r = y0 + sy.lo; r < y0 + sy.hi; ++r)
    for (int64_t s = s_lo; s < s_hi; ++s) {
      const int64_t off = s - g.pw;  // output ox reads column ox·sW + off
      const int64_t lo = std::max(c0, off >= 0 ? 0 : (g.sw - 1 - off) / g.sw);
      const int64_t hi = std::min(c1, (g.w - off + g.sw - 1) / g.sw);
      const int64_t first = r * g.w + off;  // ox = 0's column, maybe left of the image
      const Index base = static_cast<Index>(first), sw = static_cast<Index>(g.sw);
      for (int64_t ox = lo; ox < hi; ++ox)
        keep_max(best[ox - c0], at[ox - c0], xp[first + ox * g.sw], base + static_cast<Index>(ox) * sw);
    }
  std::memcpy(y + c0, best, (c1 - c0) * sizeof(T));
  for (int64_t ox = c0; ox < c1; ++ox) argmax[ox] = at[ox - c0];
}

// Output row (n, oy) from a channels-last x (N, H, W, C), a block of pixels × channels at a
// time: for each pixel, window element by window element, every channel compares the element
// with its best so far (keep_max); the channels are contiguous, so the inner loop vectorises
// with plain loads. y and argmax are (N, C, OH, OW): the block is written out channel by
// channel, each a run along the row (pixel by pixel, each result landed a plane away from the
// last: 1.3x slower in alternating runs).
template <class T, class Index>
void pool_row_channels_last(const T* x, T* y, int64_t* argmax, const ConvGeometry& g, int64_t n, int64_t oy) {
  constexpr int64_t kBlock = 2048;  // pixels × channels per block (buffers on the stack)
  Bits<T> best[kBlock];
  Index at[kBlock];
  const int64_t y0 = oy * g.sh - g.ph, out = g.oh * g.ow;
  const Span sy = inside(y0, g.kh, g.h);
  for (int64_t k0 = 0; k0 < g.c; k0 += kBlock) {
    const int64_t nk = std::min(kBlock, g.c - k0), pixels = kBlock / nk;
    for (int64_t p0 = 0; p0 < g.ow; p0 += pixels) {
      const int64_t p1 = std::min(g.ow, p0 + pixels);
      fill(at, (p1 - p0) * nk, Index(-1));
      for (int64_t ox = p0; ox < p1; ++ox) {
        const int64_t x0 = ox * g.sw - g.pw;
        const Span sx = inside(x0, g.kw, g.w);
        Bits<T>* b = best + (ox - p0) * nk;
        Index* a = at + (ox - p0) * nk;
        for (int64_t r = y0 + sy.lo; r < y0 + sy.hi; ++r)
          for (int64_t s = x0 + sx.lo; s < x0 + sx.hi; ++s) {
            const T* v = x + ((n * g.h + r) * g.w + s) * g.c + k0;
            const Index idx = static_cast<Index>(r * g.w + s);
            for (int64_t k = 0; k < nk; ++k) keep_max(b[k], a[k], v[k], idx);
          }
      }
      for (int64_t k = 0; k < nk; ++k) {
        const int64_t o = (n * g.c + k0 + k) * out + oy * g.ow;
        for (int64_t ox = p0; ox < p1; ++ox) {
          std::memcpy(y + o + ox, best + (ox - p0) * nk + k, sizeof(T));
          argmax[o + ox] = at[(ox - p0) * nk + k];
        }
      }
    }
  }
}

// Output rows (n, oy) in [b, e) of a channels-last x.
template <class T, class Index>
void pool_rows_channels_last(const T* x, T* y, int64_t* argmax, const ConvGeometry& g, int64_t b, int64_t e) {
  for (int64_t row = b; row < e; ++row) pool_row_channels_last<T, Index>(x, y, argmax, g, row / g.oh, row % g.oh);
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

// One plane of gy (OH·OW entries) added at its argmax into x's plane at gx, whose elements lie
// `step` apart (1, or C for a channels-last gx); false when an index lies outside [0, H·W).
template <class T>
bool unpool_plane(const T* gy, const int64_t* argmax, T* gx, int64_t step, const ConvGeometry& g) {
  const int64_t plane = g.h * g.w;
  bool ok = true;
  for (int64_t o = 0; o < g.oh * g.ow; ++o) {
    const int64_t at = argmax[o];
    if (static_cast<uint64_t>(at) < static_cast<uint64_t>(plane))
      gx[at * step] += gy[o];
    else
      ok = false;
  }
  return ok;
}

// Planes [b, e) of an (N, C, H, W) gx, or images [b, e) of a channels-last gx (N, H, W, C) (an
// image's planes interleave in memory, so that threads own whole images), zeroed and then
// unpooled.
template <class T>
bool unpool(const T* gy, const int64_t* argmax, T* gx, const ConvGeometry& g, bool channels_last, int64_t b,
            int64_t e) {
  // planes per item, interleaved element by element in a channels-last gx
  const int64_t plane = g.h * g.w, out = g.oh * g.ow, planes = channels_last ? g.c : 1;
  fill(gx + b * planes * plane, (e - b) * planes * plane, T(0));
  bool ok = true;
  for (int64_t p = b * planes; p < e * planes; ++p) {  // p = n·C + c
    T* dst = channels_last ? gx + p / g.c * plane * g.c + p % g.c : gx + p * plane;
    ok &= unpool_plane(gy + p * out, argmax + p * out, dst, planes, g);
  }
  return ok;
}

template <class T>
struct MaxPool {
  static void forward(const T* x, T* y, int64_t* argmax, const ConvGeometry& g, bool channels_last) {
    using Narrow = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
    const bool narrow = g.h * g.w <= std::numeric_limits<Narrow>::max();
    if (channels_last) {
      parallel_for(g.n * g.oh, streaming_items(g.ow * g.c * g.kh * g.kw), [&](int64_t b, int64_t e) {
        if (narrow) pool_rows_channels_last<T, Narrow>(x, y, argmax, g, b, e);
        else pool_rows_channels_last<T, int64_t>(x, y, argmax, g, b, e);
      });
      return;
    }
    parallel_for(g.n * g.c, streaming_items(g.oh * g.ow * g.kh * g.kw), [&](int64_t b, int64_t e) {
      if (narrow) pool_planes<T, Narrow>(x, y, argmax, g, b, e);
      else pool_planes<T, int64_t>(x, y, argmax, g, b, e);
    });
  }

  static bool backward(const T* gy, const int64_t* argmax, T* gx, const ConvGeometry& g, bool channels_last) {
    std::atomic<bool> ok{true};
    const int64_t planes = channels_last ? std::max<int64_t>(g.c, 1) : 1;  // per item: a plane or an image
    parallel_for(g.n * g.c / planes, streaming_items((g.h * g.w + g.oh * g.ow) * planes), [&](int64_t b, int64_t e) {
      if (!unpool(gy, argmax, gx, g, channels_last, b, e)) ok.store(false, std::memory_order_relaxed);
    });
    return ok.load();
  }

  static constexpr MaxPoolKernels<T> table() { return {forward, backward}; }
};

}  // namespace

XPGRAD_CONSTINIT const KernelTable<MaxPoolKernels> max_pool_kernels = {MaxPool<float>::table(),
                                                                       MaxPool<double>::table()};

}  // namespace xpgrad::cpu::XPGRAD_ISA
