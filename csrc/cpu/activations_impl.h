// Activation kernels, compiled once per ISA: the including .cpp defines XPGRAD_ISA.
//   σ' = σ(1 − σ), tanh' = 1 − tanh² = (1 − tanh)(1 + tanh) (factored: 1 − y is exact for y
//   near ±1, where 1 − y·y cancels), relu' = [not y ≤ 0] (a NaN passes the gradient, as in
//   PyTorch's threshold_backward), leaky' = 1 or slope,
//   elu(x) = x or α(eˣ − 1), elu' = α·eˣ where x ≤ 0, else 1 (from the input: y + α loses
//   eˣ's digits to the rounding of y ≈ −α, all of them below x ≈ −17 in float32).
#include "xpgrad/activations.h"
#include "xpgrad/elementwise.h"
#include "xpgrad/vecmath.h"

namespace xpgrad::cpu::XPGRAD_ISA {
namespace {

template <class T>
struct Activations {
  using V = simd::Vec<T>;
  static V one() { return V::set1(T(1)); }
  static V zero() { return V::set1(T(0)); }

  static void exp(const T* x, T* y, int64_t n) {
    map_elementwise(y, n, kComputeGrain, [](V v) { return simd::exp(v); }, x);
  }
  static void sigmoid(const T* x, T* y, int64_t n) {
    map_elementwise(y, n, kComputeGrain, [](V v) { return simd::sigmoid(v); }, x);
  }
  static void sigmoid_backward(const T* y, const T* gy, T* gx, int64_t n) {
    map_elementwise(gx, n, kStreamingGrain, [](V s, V g) { return g * s * (one() - s); }, y, gy);
  }
  static void tanh(const T* x, T* y, int64_t n) {
    map_elementwise(y, n, kComputeGrain, [](V v) { return simd::tanh(v); }, x);
  }
  static void tanh_backward(const T* y, const T* gy, T* gx, int64_t n) {
    map_elementwise(gx, n, kStreamingGrain, [](V t, V g) { return g * ((one() - t) * (one() + t)); }, y, gy);
  }
  static void relu(const T* x, T* y, int64_t n) {
    map_elementwise(y, n, kStreamingGrain, [](V v) { return max(zero(), v); }, x);  // NaN passes through
  }
  static void relu_backward(const T* y, const T* gy, T* gx, int64_t n) {
    map_elementwise(gx, n, kStreamingGrain, [](V o, V g) { return select(zero() >= o, zero(), g); }, y, gy);
  }
  static void leaky_relu(const T* x, T* y, int64_t n, T slope) {
    const V s = V::set1(slope);
    map_elementwise(y, n, kStreamingGrain, [s](V v) { return select(v > zero(), v, v * s); }, x);
  }
  static void leaky_relu_backward(const T* x, const T* gy, T* gx, int64_t n, T slope) {
    const V s = V::set1(slope);
    map_elementwise(gx, n, kStreamingGrain, [s](V v, V g) { return select(v > zero(), g, g * s); }, x, gy);
  }
  static void elu(const T* x, T* y, int64_t n, T alpha) {
    const V a = V::set1(alpha);
    map_elementwise(y, n, kComputeGrain, [a](V v) { return select(v > zero(), v, a * simd::expm1(min(zero(), v))); }, x);
  }
  static void elu_backward(const T* x, const T* gy, T* gx, int64_t n, T alpha) {
    const V a = V::set1(alpha);
    map_elementwise(gx, n, kComputeGrain,
                    [a](V v, V g) { return select(zero() >= v, g * (a * simd::exp(min(zero(), v))), g); }, x, gy);
  }

  static constexpr ActivationKernels<T> table() {
    return {exp, sigmoid, sigmoid_backward, tanh, tanh_backward, relu, relu_backward,
            leaky_relu, leaky_relu_backward, elu, elu_backward};
  }
};

}  // namespace

XPGRAD_CONSTINIT const KernelTable<ActivationKernels> activation_kernels = {
    Activations<float>::table(), Activations<double>::table()};

}  // namespace xpgrad::cpu::XPGRAD_ISA
