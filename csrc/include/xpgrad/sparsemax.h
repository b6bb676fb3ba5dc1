// Sparsemax over the last axis of a (rows, k) buffer, its backward, and the sparsemax loss.
#pragma once
#include <cstdint>

#include "xpgrad/dispatch.h"

namespace xpgrad::cpu {

template <class T>
struct SparsemaxKernels {
  void (*forward)(const T* x, T* y, int64_t rows, int64_t k);
  void (*backward)(const T* y, const T* gy, T* gx, int64_t rows, int64_t k);
  // Loss (n,) and grad = p − q for class indices (n,) in [0, k) or a 0/1 matrix (n, k).
  void (*loss_with_indices)(const T* logits, const int64_t* target, T* loss, T* grad, int64_t n, int64_t k);
  void (*loss_with_labels)(const T* logits, const T* target, T* loss, T* grad, int64_t n, int64_t k);
};

XPGRAD_DECLARE_KERNELS(SparsemaxKernels, sparsemax_kernels)

}  // namespace xpgrad::cpu
