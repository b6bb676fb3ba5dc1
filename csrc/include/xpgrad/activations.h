// CPU activation kernels on contiguous buffers of n elements.
#pragma once
#include <cstdint>

namespace xpgrad::cpu {

template <typename T> void relu_forward(const T* x, T* y, int64_t n);
template <typename T> void relu_backward(const T* y, const T* gy, T* gx, int64_t n);

}  // namespace xpgrad::cpu
