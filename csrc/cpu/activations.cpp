// Elementwise activations and their backward passes (portable C++; the compiler vectorises
// these simple loops). Formulas: relu(x) = max(x, 0), relu'(x) = [x > 0].
#include "xpgrad/activations.h"

#include <cstdint>

namespace xpgrad::cpu {

template <typename T>
void relu_forward(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}

template <typename T>
void relu_backward(const T* y, const T* gy, T* gx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gx[i] = y[i] > T(0) ? gy[i] : T(0);
}

template void relu_forward<float>(const float*, float*, int64_t);
template void relu_forward<double>(const double*, double*, int64_t);
template void relu_backward<float>(const float*, const float*, float*, int64_t);
template void relu_backward<double>(const double*, const double*, double*, int64_t);

}  // namespace xpgrad::cpu
