// Dropout masks from a counter-based generator: element i keeps (value scale) when
// u(seed, i) ≥ p, else 0, so the mask depends only on the seed, never on the thread split.
#pragma once
#include <cstdint>

#include "xpgrad/dispatch.h"

namespace xpgrad::cpu {

template <class T>
struct DropoutKernels {
  // keep_from = ⌈p·2⁵³⌉: element i is kept when the top 53 bits of splitmix64(seed, i) reach it.
  void (*mask)(T* out, int64_t n, uint64_t seed, uint64_t keep_from, T scale);
};

XPGRAD_DECLARE_KERNELS(DropoutKernels, dropout_kernels)

}  // namespace xpgrad::cpu
