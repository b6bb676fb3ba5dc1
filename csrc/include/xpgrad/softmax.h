// Softmax and log-softmax over the last axis of a (rows, k) contiguous buffer, with backward.
#pragma once
#include <cstdint>

#include "xpgrad/dispatch.h"

namespace xpgrad::cpu {

template <class T>
struct SoftmaxKernels {
  void (*softmax)(const T* x, T* y, int64_t rows, int64_t k);
  void (*softmax_backward)(const T* y, const T* gy, T* gx, int64_t rows, int64_t k);
  void (*log_softmax)(const T* x, T* y, int64_t rows, int64_t k);
  void (*log_softmax_backward)(const T* y, const T* gy, T* gx, int64_t rows, int64_t k);
};

XPGRAD_DECLARE_KERNELS(SoftmaxKernels, softmax_kernels)

}  // namespace xpgrad::cpu
