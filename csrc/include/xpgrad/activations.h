// Activation kernels (forward and backward) on contiguous buffers of n elements.
#pragma once
#include <cstdint>

#include "xpgrad/dispatch.h"

namespace xpgrad::cpu {

template <class T>
struct ActivationKernels {
  void (*exp)(const T* x, T* y, int64_t n);  // the vectorised eˣ itself (tests, other kernels)
  void (*sigmoid)(const T* x, T* y, int64_t n);
  void (*sigmoid_backward)(const T* y, const T* gy, T* gx, int64_t n);
  void (*tanh)(const T* x, T* y, int64_t n);
  void (*tanh_backward)(const T* y, const T* gy, T* gx, int64_t n);
  void (*relu)(const T* x, T* y, int64_t n);
  void (*relu_backward)(const T* y, const T* gy, T* gx, int64_t n);
  void (*leaky_relu)(const T* x, T* y, int64_t n, T slope);
  void (*leaky_relu_backward)(const T* x, const T* gy, T* gx, int64_t n, T slope);
  void (*elu)(const T* x, T* y, int64_t n, T alpha);
  void (*elu_backward)(const T* x, const T* gy, T* gx, int64_t n, T alpha);
};

XPGRAD_DECLARE_KERNELS(ActivationKernels, activation_kernels)

}  // namespace xpgrad::cpu
