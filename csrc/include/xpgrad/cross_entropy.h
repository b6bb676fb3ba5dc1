// Fused softmax cross-entropy over (n, k) logits: per-row loss and gradient p − t in one call.
#pragma once
#include <cstdint>

#include "xpgrad/dispatch.h"

namespace xpgrad::cpu {

template <class T>
struct CrossEntropyKernels {
  // target: class indices (n,), already checked to lie in [0, k).
  void (*with_indices)(const T* logits, const int64_t* target, T* loss, T* grad, int64_t n, int64_t k,
                       T smoothing);
  // target: probabilities (n, k).
  void (*with_probs)(const T* logits, const T* target, T* loss, T* grad, int64_t n, int64_t k, T smoothing);
};

XPGRAD_DECLARE_KERNELS(CrossEntropyKernels, cross_entropy_kernels)

}  // namespace xpgrad::cpu
