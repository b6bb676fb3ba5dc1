// Activations for the GEMM write-back, written once over a SIMD traits type V (see
// gemm_kernel_<isa>.cpp) and compiled per ISA. Private to the GEMM; everything lives in
// namespace xpgrad::cpu::XPGRAD_GEMM_ISA, so each ISA gets its own symbols.
//
// V provides: T, R, set1, add, sub, mul, div, fma, min, max, abs, round (to nearest),
// scale2 (x·2^n for integral n), select_lt (x < c ? a : b), copysign.
#pragma once
#include "gemm_kernels.h"

#ifndef XPGRAD_GEMM_ISA
#error "define XPGRAD_GEMM_ISA (the ISA namespace) before including gemm_epilogue_math.h"
#endif

namespace xpgrad::cpu::XPGRAD_GEMM_ISA {

template <class V>
struct EpilogueMath {
  using T = typename V::T;
  using R = typename V::R;
  static constexpr bool f32 = sizeof(T) == 4;

  // e^x = 2^n · e^r, n = round(x/ln2), r = x − n·ln2 (|r| <= ln2/2, ln2 split in two for
  // exactness), e^r by its Taylor series to r^7 (float) / r^12 (double): error < 0.5 ulp
  // of the polynomial's own rounding. 2^n is applied in two halves, each a normal number, so
  // that e^x overflows to inf above ln(max) and underflows through the subnormals to 0, as
  // NumPy's exp (a clamp at 2^±126 made e^(−x) in σ(x) stop at e^88: σ(−200) was 6e-39).
  // x is clamped just past both ends, which keeps n small; NaN stays NaN.
  static R exp(R x) {
    x = V::max(V::set1(f32 ? T(-104) : T(-746)), V::min(V::set1(f32 ? T(89) : T(710)), x));
    const R n = V::round(V::mul(x, V::set1(T(1.4426950408889634))));
    R r = V::fma(n, V::set1(f32 ? T(-0.693145751953125) : T(-6.93147180369123816490e-01)), x);
    r = V::fma(n, V::set1(f32 ? T(-1.428606765330187045e-06) : T(-1.90821492927058770002e-10)), r);
    constexpr int degree = f32 ? 7 : 12;
    T inv_fact[degree + 1];
    inv_fact[0] = 1;
    for (int i = 1; i <= degree; ++i) inv_fact[i] = inv_fact[i - 1] / T(i);
    R p = V::set1(inv_fact[degree]);
    for (int i = degree - 1; i >= 0; --i) p = V::fma(p, r, V::set1(inv_fact[i]));
    const R half = V::round(V::mul(n, V::set1(T(0.5))));
    return V::scale2(V::scale2(p, half), V::sub(n, half));
  }

  // σ(x) = 1/(1 + e^(−x)) for x ≥ 0, e^x/(1 + e^x) below, through e = e^(−|x|) ≤ 1: no overflow,
  // and σ keeps its relative accuracy down to the subnormals (σ(−90) = 8.2e-40 in float).
  static R sigmoid(R x) {
    const R one = V::set1(T(1));
    const R e = exp(V::sub(V::set1(T(0)), V::abs(x)));
    return V::div(V::select_lt(x, V::set1(T(0)), e, one), V::add(one, e));
  }

  // tanh(x) (Cephes): |x| < 0.625 an odd polynomial (float) / rational (double) in x², which
  // keeps relative accuracy near 0; otherwise 1 − 2/(e^(2|x|) + 1) with the sign of x.
  static R tanh(R x) {
    const R a = V::abs(x);
    const R one = V::set1(T(1));
    const R big = V::sub(one, V::div(V::set1(T(2)), V::add(exp(V::add(a, a)), one)));
    const R s = V::mul(x, x);
    R small;
    if constexpr (f32) {
      R p = V::set1(T(-5.70498872745e-3));
      p = V::fma(p, s, V::set1(T(2.06390887954e-2)));
      p = V::fma(p, s, V::set1(T(-5.37397155531e-2)));
      p = V::fma(p, s, V::set1(T(1.33314422036e-1)));
      p = V::fma(p, s, V::set1(T(-3.33332819422e-1)));
      small = V::fma(V::mul(p, s), x, x);
    } else {
      R p = V::set1(T(-9.64399179425052238628e-1));
      p = V::fma(p, s, V::set1(T(-9.92877231001918586564e1)));
      p = V::fma(p, s, V::set1(T(-1.61468768441708447952e3)));
      R q = V::add(s, V::set1(T(1.12811678491632931402e2)));
      q = V::fma(q, s, V::set1(T(2.23548839060100448583e3)));
      q = V::fma(q, s, V::set1(T(4.84406305325125486048e3)));
      small = V::fma(V::div(V::mul(p, s), q), x, x);
    }
    return V::select_lt(a, V::set1(T(0.625)), small, V::copysign(big, x));
  }

  static R apply(R x, Activation act) {
    switch (act) {
      case Activation::Relu: return V::max(V::set1(T(0)), x);  // max(0, NaN) keeps the NaN
      case Activation::Sigmoid: return sigmoid(x);
      case Activation::Tanh: return tanh(x);
      default: return x;
    }
  }
};

}  // namespace xpgrad::cpu::XPGRAD_GEMM_ISA
