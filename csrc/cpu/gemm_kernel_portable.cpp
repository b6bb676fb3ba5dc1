// Portable C++ GEMM kernels (any CPU): the "vector" is a small fixed array whose element-wise
// loops the compiler maps onto whatever SIMD the baseline target has (SSE2, NEON).
// Register block 4 rows × 4 vectors.
#include <cmath>
#include <cstdint>

#include "gemm_kernels.h"

#define XPGRAD_GEMM_ISA portable
namespace xpgrad::cpu::XPGRAD_GEMM_ISA {

template <typename Type, int Lanes>
struct VecPortable {
  using T = Type;
  static constexpr int L = Lanes;
  struct R {
    T x[L];
  };

  template <class F>
  static R map(F f) {
    R r;
    for (int i = 0; i < L; ++i) r.x[i] = f(i);
    return r;
  }
  static R zero() { return set1(T(0)); }
  static R set1(T v) { return map([&](int) { return v; }); }
  static R load(const T* p) { return map([&](int i) { return p[i]; }); }
  static R load_n(const T* p, int n) { return map([&](int i) { return i < n ? p[i] : T(0); }); }
  static void store(T* p, R v) {
    for (int i = 0; i < L; ++i) p[i] = v.x[i];
  }
  static void store_n(T* p, R v, int n) {
    for (int i = 0; i < n; ++i) p[i] = v.x[i];
  }
  static R add(R a, R b) { return map([&](int i) { return a.x[i] + b.x[i]; }); }
  static R sub(R a, R b) { return map([&](int i) { return a.x[i] - b.x[i]; }); }
  static R mul(R a, R b) { return map([&](int i) { return a.x[i] * b.x[i]; }); }
  static R div(R a, R b) { return map([&](int i) { return a.x[i] / b.x[i]; }); }
  static R fma(R a, R b, R c) { return map([&](int i) { return a.x[i] * b.x[i] + c.x[i]; }); }
  // Same NaN rule as the x86 instructions: the second operand when unordered.
  static R min(R a, R b) { return map([&](int i) { return a.x[i] < b.x[i] ? a.x[i] : b.x[i]; }); }
  static R max(R a, R b) { return map([&](int i) { return a.x[i] > b.x[i] ? a.x[i] : b.x[i]; }); }
  static R abs(R a) { return map([&](int i) { return std::fabs(a.x[i]); }); }
  static R round(R a) { return map([&](int i) { return std::nearbyint(a.x[i]); }); }
  static R scale2(R a, R n) {
    return map([&](int i) { return std::ldexp(a.x[i], static_cast<int>(n.x[i])); });
  }
  static R select_lt(R v, R c, R a, R b) {
    return map([&](int i) { return v.x[i] < c.x[i] ? a.x[i] : b.x[i]; });
  }
  static R copysign(R mag, R sgn) { return map([&](int i) { return std::copysign(mag.x[i], sgn.x[i]); }); }
};

// d[j*ldd + i] = s[i*lds + j] for i, j < 4 (the packing's transpose block).
template <typename T>
void transpose_block(const T* s, int64_t lds, T* d, int64_t ldd) {
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) d[j * ldd + i] = s[i * lds + j];
}

template <typename T>
constexpr int transpose_block_size() { return 4; }

using VecF32 = VecPortable<float, 4>;
using VecF64 = VecPortable<double, 2>;

}  // namespace xpgrad::cpu::XPGRAD_GEMM_ISA

#include "gemm_microkernel.h"

namespace xpgrad::cpu {

const GemmKernels<float>& gemm_kernels_portable_f32() {
  static const auto k = portable::make_gemm_kernels<portable::VecF32, 4, 4, 8>(128, 256, 4096);
  return k;
}

const GemmKernels<double>& gemm_kernels_portable_f64() {
  static const auto k = portable::make_gemm_kernels<portable::VecF64, 4, 4, 8>(128, 256, 4096);
  return k;
}

}  // namespace xpgrad::cpu
