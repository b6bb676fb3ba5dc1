// im2col and its adjoint col2im, the data movement of 2-D convolution and pooling (see
// python/xpgrad/functions/conv.py): x (N, C, H, W) ↔ X̂ (N·OH·OW, C·kH·kW), row (n, oy, ox)
// holding the receptive field X̂[(n, oy, ox), (c, i, j)] = x[n, c, oy·sH − pH + i, ox·sW − pW + j]
// (zero outside x). Portable C++: the inner copies are short contiguous runs the compiler
// vectorises well enough for every ISA.
#pragma once
#include <cstdint>

namespace xpgrad::cpu {

// Sizes of one convolution: input (n, c, h, w), kernel (kh, kw), stride (sh, sw), zero padding
// (ph, pw); output oh = ⌊(h + 2ph − kh) / sh⌋ + 1, likewise ow.
struct ConvGeometry {
  int64_t n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow;
};

// cols (N·OH·OW, C·kH·kW) = im2col(x); x is contiguous (N, C, H, W). Rows split over threads.
template <class T>
void im2col(const T* x, T* cols, const ConvGeometry& g);

// x (N, C, H, W) = col2im(cols): x[n, c, y, x] = Σ of the cols entries that im2col copied from
// there (padding dropped). Threads own disjoint ranges of (n, c) planes, so no add races.
template <class T>
void col2im(const T* cols, T* x, const ConvGeometry& g);

}  // namespace xpgrad::cpu
