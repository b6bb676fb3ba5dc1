// Max pooling without im2col (see python/xpgrad/functions/conv.py): y[n, c, oy, ox] = the
// maximum of x[n, c, oy·sH − pH + i, ox·sW − pW + j] over the kernel window (i, j), the padding
// being −∞, and argmax the flat index into x's (unpadded) H·W plane of the first maximal element
// in row-major window order, as PyTorch (a NaN wins: the first NaN, where PyTorch's CPU kernel
// takes the last).
#pragma once
#include <cstdint>

#include "xpgrad/dispatch.h"
#include "xpgrad/im2col.h"

namespace xpgrad::cpu {

template <class T>
struct MaxPoolKernels {
  // y and argmax (N, C, OH, OW) from contiguous x (N, C, H, W), or from x stored channels-last
  // as a contiguous (N, H, W, C) array (what a convolution's GEMM writes; g still names the
  // sizes as (N, C, H, W)); the padding is at most half the kernel, so that every window holds
  // an element of x. (n, c) planes, or (n, oy) output rows, split over threads.
  void (*forward)(const T* x, T* y, int64_t* argmax, const ConvGeometry& g, bool channels_last);
  // gx = zeros with gy (N, C, OH, OW) added at argmax in each plane (overlapping windows may
  // pick one element twice); gx is (N, C, H, W), or (N, H, W, C) when channels_last. Returns
  // false, leaving gx partly written, when an index lies outside [0, H·W); threads own
  // disjoint planes (images when channels_last).
  bool (*backward)(const T* gy, const int64_t* argmax, T* gx, const ConvGeometry& g, bool channels_last);
};

XPGRAD_DECLARE_KERNELS(MaxPoolKernels, max_pool_kernels)

}  // namespace xpgrad::cpu
