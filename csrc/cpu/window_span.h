// The part of a pooling / convolution window that lies inside the image, shared by im2col,
// col2im and max pooling: the padding outside it is zero (im2col), skipped (col2im) or −∞
// (max pooling, never chosen).
#pragma once
#include <algorithm>
#include <cstdint>

namespace xpgrad::cpu {
// Internal linkage: this header is compiled into each ISA's build of the pooling kernels, and
// one out-of-line copy shared by all of them could carry another ISA's instructions.
namespace {

// The part [lo, hi) of a window of k starting at `start` (may be negative) inside [0, size),
// relative to the window's start.
struct Span {
  int64_t lo, hi;
};
inline Span inside(int64_t start, int64_t k, int64_t size) {
  const int64_t lo = std::clamp<int64_t>(-start, 0, k);
  return {lo, std::clamp<int64_t>(size - start, lo, k)};
}

}  // namespace
}  // namespace xpgrad::cpu
