// Vectorised exp, expm1, sigmoid and tanh on any simd::Vec (not libm; ≤ 2–3 ULP in fp32).
//
// exp: x = n·ln2 + r with n = round(x/ln2), |r| ≤ ln2/2 (Cody–Waite two-constant reduction);
// eʳ = 1 + r + r²·P(r) (Cephes minimax, degree 5 for float, Taylor to r¹³ for double);
// eˣ = 2ⁿ·eʳ through ldexp, which rounds overflow to inf and underflow to subnormals/0.
// The input is clamped first (NaN passes through the clamp, see simd.h) so n stays bounded.
#pragma once
#include "xpgrad/simd.h"

namespace xpgrad::simd {

namespace detail {
template <class T> struct ExpConst;
template <> struct ExpConst<float> {
  static constexpr float lo = -104.0f, hi = 89.0f;
  static constexpr float log2e = 1.44269504088896341f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
};
template <> struct ExpConst<double> {
  static constexpr double lo = -746.0, hi = 710.0;
  static constexpr double log2e = 1.4426950408889634074, ln2_hi = 6.93145751953125e-1,
                          ln2_lo = 1.42860682030941723212e-6;
};

// P(r) with eʳ − 1 = r + r²·P(r).
template <class V>
inline V expm1_poly(V r) {
  using T = typename V::value_type;
  V p;
  if constexpr (sizeof(T) == 4) {
    p = fma(V::set1(1.9875691500e-4f), r, V::set1(1.3981999507e-3f));
    p = fma(p, r, V::set1(8.3334519073e-3f));
    p = fma(p, r, V::set1(4.1665795894e-2f));
    p = fma(p, r, V::set1(1.6666665459e-1f));
    p = fma(p, r, V::set1(5.0000001201e-1f));
  } else {  // Taylor 1/k!, k = 13 … 2: truncation < 2⁻⁵⁶ on |r| ≤ ln2/2
    static constexpr double c[] = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0,
                                   1.0 / 3628800.0,    1.0 / 362880.0,    1.0 / 40320.0,
                                   1.0 / 5040.0,       1.0 / 720.0,       1.0 / 120.0,
                                   1.0 / 24.0,         1.0 / 6.0,         0.5};
    p = V::set1(c[0]);
    for (int k = 1; k < 12; ++k) p = fma(p, r, V::set1(c[k]));
  }
  return fma(p, r * r, r);
}

// Splits x into n and r (x = n·ln2 + r) after clamping.
template <class V>
inline V exp_reduce(V x, V& n) {
  using C = ExpConst<typename V::value_type>;
  x = min(V::set1(C::hi), max(V::set1(C::lo), x));
  n = round(x * V::set1(C::log2e));
  V r = fma(n, V::set1(-C::ln2_hi), x);
  return fma(n, V::set1(-C::ln2_lo), r);
}
}  // namespace detail

// eˣ
template <class V>
inline V exp(V x) {
  V n;
  V r = detail::exp_reduce(x, n);
  return ldexp(detail::expm1_poly(r) + V::set1(1), n);
}

// eˣ − 1 without cancellation near 0: 2ⁿ(eʳ − 1) + (2ⁿ − 1). Valid for x ≤ 88 (elu, tanh).
// ±0 gives ±0 (the sum would round −0 to +0), so that elu and tanh keep −0 as libm and PyTorch.
template <class V>
inline V expm1(V x) {
  V n;
  V r = detail::exp_reduce(x, n);
  V s = ldexp(V::set1(1), n);
  return select(abs(x) > V::set1(0), fma(s, detail::expm1_poly(r), s - V::set1(1)), x);
}

// σ(x) = 1/(1 + e⁻ˣ) for x ≥ 0, eˣ/(1 + eˣ) for x < 0: e = e^(−|x|) never overflows and the
// negative side keeps full relative accuracy down to subnormals. One division.
template <class V>
inline V sigmoid(V x) {
  V e = exp(-abs(x));
  return select(x >= V::set1(0), V::set1(1), e) / (V::set1(1) + e);
}

// tanh(x) = u / (u + 2) with u = eˣ⁺ˣ − 1: expm1 keeps full relative accuracy near 0, so one
// formula serves every x. |x| is first clamped where tanh rounds to ±1 (10 in float, 20 in
// double), which avoids inf/inf and saturates exactly; NaN passes the clamp.
template <class V>
inline V tanh(V x) {
  using T = typename V::value_type;
  const V lim = V::set1(sizeof(T) == 4 ? T(10) : T(20));
  const V c = min(lim, max(-lim, x));
  const V u = expm1(c + c);
  return u / (u + V::set1(T(2)));
}

}  // namespace xpgrad::simd
