// Small vector-traits layer: Vec<T> is the widest register the translation unit was compiled
// for (AVX-512: 16 floats / 8 doubles; AVX2: 8 / 4; portable: 1 scalar). Kernels are written
// once as templates on Vec and compiled per ISA (see dispatch.h), so the intrinsics live here.
//
// NaN convention (same as the x86 instructions): max(a, b) / min(a, b) return b when either is
// NaN, so max(lo, x) propagates a NaN x and max(x, acc) ignores it.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace xpgrad::simd {

// ---- portable: one scalar lane -------------------------------------------------------------
template <class T>
struct Scalar {
  using value_type = T;
  using Mask = bool;
  static constexpr int width = 1;
  T v;

  static Scalar set1(T a) { return {a}; }
  static Mask first(int n) { return n > 0; }  // the lanes below n (every Vec has one)
  static Scalar load(const T* p) { return {*p}; }
  static Scalar load(const T* p, int n, T fill) { return {n > 0 ? *p : fill}; }
  void store(T* p) const { *p = v; }
  void store(T* p, int n) const { if (n > 0) *p = v; }
  friend Scalar operator+(Scalar a, Scalar b) { return {a.v + b.v}; }
  friend Scalar operator-(Scalar a, Scalar b) { return {a.v - b.v}; }
  friend Scalar operator*(Scalar a, Scalar b) { return {a.v * b.v}; }
  friend Scalar operator/(Scalar a, Scalar b) { return {a.v / b.v}; }
  friend Scalar operator-(Scalar a) { return {-a.v}; }
  friend Scalar fma(Scalar a, Scalar b, Scalar c) { return {a.v * b.v + c.v}; }
  friend Scalar max(Scalar a, Scalar b) { return {a.v > b.v ? a.v : b.v}; }
  friend Scalar min(Scalar a, Scalar b) { return {a.v < b.v ? a.v : b.v}; }
  friend Scalar abs(Scalar a) { return {std::fabs(a.v)}; }
  friend Scalar sqrt(Scalar a) { return {std::sqrt(a.v)}; }
  friend Scalar round(Scalar a) {  // to nearest even; valid for |a| < 2^(mantissa-1)
    const T magic = sizeof(T) == 4 ? T(12582912.0) : T(6755399441055744.0);
    return {(a.v + magic) - magic};  // exact without -ffast-math (no reassociation)
  }
  friend Mask operator<(Scalar a, Scalar b) { return a.v < b.v; }
  friend Mask operator>(Scalar a, Scalar b) { return a.v > b.v; }
  friend Mask operator>=(Scalar a, Scalar b) { return a.v >= b.v; }
  friend Scalar select(Mask m, Scalar a, Scalar b) { return {m ? a.v : b.v}; }
  friend T reduce_add(Scalar a) { return a.v; }
  friend T reduce_max(Scalar a) { return a.v; }
  // 2^n for integral n in the normal exponent range, built from the exponent bits.
  friend Scalar pow2i(Scalar n) {
    if constexpr (sizeof(T) == 4) {
      uint32_t bits = uint32_t(int32_t(n.v) + 127) << 23;
      float f;
      std::memcpy(&f, &bits, 4);
      return {f};
    } else {
      uint64_t bits = uint64_t(int64_t(n.v) + 1023) << 52;
      double d;
      std::memcpy(&d, &bits, 8);
      return {d};
    }
  }
  // Writes the lanes selected by m to dst (contiguously); returns how many. dst has width slack.
  int compress_store(T* dst, Mask m) const { *dst = v; return m ? 1 : 0; }
};

#if defined(__AVX2__) && !defined(__AVX512F__)
// ---- AVX2 + FMA ------------------------------------------------------------------------------
// The first n (≤ width) lanes of v to p, as plain stores of 4, 2 and 1 lanes: vmaskmovps to
// memory is microcoded on AMD (Zen 3: 4.9 ns against 1.1 for a full store, measured).
inline void store_first(float* p, __m256 v, int n) {
  if (n >= 8) return _mm256_storeu_ps(p, v);
  __m128 part = _mm256_castps256_ps128(v);
  if (n & 4) { _mm_storeu_ps(p, part); part = _mm256_extractf128_ps(v, 1); p += 4; }
  if (n & 2) { _mm_storel_pi(reinterpret_cast<__m64*>(p), part); part = _mm_movehl_ps(part, part); p += 2; }
  if (n & 1) _mm_store_ss(p, part);
}
inline void store_first(double* p, __m256d v, int n) {
  if (n >= 4) return _mm256_storeu_pd(p, v);
  __m128d part = _mm256_castpd256_pd128(v);
  if (n & 2) { _mm_storeu_pd(p, part); part = _mm256_extractf128_pd(v, 1); p += 2; }
  if (n & 1) _mm_store_sd(p, part);
}

struct Avx2F {
  using value_type = float;
  using Mask = __m256;
  static constexpr int width = 8;
  __m256 v;
  static __m256i tail(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Mask first(int n) { return _mm256_castsi256_ps(tail(n)); }
  static Avx2F set1(float a) { return {_mm256_set1_ps(a)}; }
  static Avx2F load(const float* p) { return {_mm256_loadu_ps(p)}; }
  static Avx2F load(const float* p, int n, float fill) {
    __m256i m = tail(n);
    return {_mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m))};
  }
  void store(float* p) const { _mm256_storeu_ps(p, v); }
  void store(float* p, int n) const { store_first(p, v, n); }
  friend Avx2F operator+(Avx2F a, Avx2F b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend Avx2F operator-(Avx2F a, Avx2F b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend Avx2F operator*(Avx2F a, Avx2F b) { return {_mm256_mul_ps(a.v, b.v)}; }
  friend Avx2F operator/(Avx2F a, Avx2F b) { return {_mm256_div_ps(a.v, b.v)}; }
  friend Avx2F operator-(Avx2F a) { return {_mm256_xor_ps(a.v, _mm256_set1_ps(-0.0f))}; }
  friend Avx2F fma(Avx2F a, Avx2F b, Avx2F c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  friend Avx2F max(Avx2F a, Avx2F b) { return {_mm256_max_ps(a.v, b.v)}; }
  friend Avx2F min(Avx2F a, Avx2F b) { return {_mm256_min_ps(a.v, b.v)}; }
  friend Avx2F abs(Avx2F a) { return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v)}; }
  friend Avx2F sqrt(Avx2F a) { return {_mm256_sqrt_ps(a.v)}; }
  friend Avx2F round(Avx2F a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
  friend Mask operator<(Avx2F a, Avx2F b) { return _mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ); }
  friend Mask operator>(Avx2F a, Avx2F b) { return _mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ); }
  friend Mask operator>=(Avx2F a, Avx2F b) { return _mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ); }
  friend Avx2F select(Mask m, Avx2F a, Avx2F b) { return {_mm256_blendv_ps(b.v, a.v, m)}; }
  friend float reduce_add(Avx2F a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
  friend float reduce_max(Avx2F a) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
  }
  friend Avx2F pow2i(Avx2F n) {
    __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127));
    return {_mm256_castsi256_ps(_mm256_slli_epi32(e, 23))};
  }
  int compress_store(float* dst, Mask m) const {
    alignas(32) float tmp[8];
    _mm256_store_ps(tmp, v);
    int bits = _mm256_movemask_ps(m), c = 0;
    for (int i = 0; i < 8; ++i) { dst[c] = tmp[i]; c += (bits >> i) & 1; }
    return c;
  }
};

struct Avx2D {
  using value_type = double;
  using Mask = __m256d;
  static constexpr int width = 4;
  __m256d v;
  static __m256i tail(int n) { return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3)); }
  static Mask first(int n) { return _mm256_castsi256_pd(tail(n)); }
  static Avx2D set1(double a) { return {_mm256_set1_pd(a)}; }
  static Avx2D load(const double* p) { return {_mm256_loadu_pd(p)}; }
  static Avx2D load(const double* p, int n, double fill) {
    __m256i m = tail(n);
    return {_mm256_blendv_pd(_mm256_set1_pd(fill), _mm256_maskload_pd(p, m), _mm256_castsi256_pd(m))};
  }
  void store(double* p) const { _mm256_storeu_pd(p, v); }
  void store(double* p, int n) const { store_first(p, v, n); }
  friend Avx2D operator+(Avx2D a, Avx2D b) { return {_mm256_add_pd(a.v, b.v)}; }
  friend Avx2D operator-(Avx2D a, Avx2D b) { return {_mm256_sub_pd(a.v, b.v)}; }
  friend Avx2D operator*(Avx2D a, Avx2D b) { return {_mm256_mul_pd(a.v, b.v)}; }
  friend Avx2D operator/(Avx2D a, Avx2D b) { return {_mm256_div_pd(a.v, b.v)}; }
  friend Avx2D operator-(Avx2D a) { return {_mm256_xor_pd(a.v, _mm256_set1_pd(-0.0))}; }
  friend Avx2D fma(Avx2D a, Avx2D b, Avx2D c) { return {_mm256_fmadd_pd(a.v, b.v, c.v)}; }
  friend Avx2D max(Avx2D a, Avx2D b) { return {_mm256_max_pd(a.v, b.v)}; }
  friend Avx2D min(Avx2D a, Avx2D b) { return {_mm256_min_pd(a.v, b.v)}; }
  friend Avx2D abs(Avx2D a) { return {_mm256_andnot_pd(_mm256_set1_pd(-0.0), a.v)}; }
  friend Avx2D sqrt(Avx2D a) { return {_mm256_sqrt_pd(a.v)}; }
  friend Avx2D round(Avx2D a) { return {_mm256_round_pd(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
  friend Mask operator<(Avx2D a, Avx2D b) { return _mm256_cmp_pd(a.v, b.v, _CMP_LT_OQ); }
  friend Mask operator>(Avx2D a, Avx2D b) { return _mm256_cmp_pd(a.v, b.v, _CMP_GT_OQ); }
  friend Mask operator>=(Avx2D a, Avx2D b) { return _mm256_cmp_pd(a.v, b.v, _CMP_GE_OQ); }
  friend Avx2D select(Mask m, Avx2D a, Avx2D b) { return {_mm256_blendv_pd(b.v, a.v, m)}; }
  friend double reduce_add(Avx2D a) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a.v), _mm256_extractf128_pd(a.v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
  friend double reduce_max(Avx2D a) {
    __m128d s = _mm_max_pd(_mm256_castpd256_pd128(a.v), _mm256_extractf128_pd(a.v, 1));
    return _mm_cvtsd_f64(_mm_max_sd(s, _mm_unpackhi_pd(s, s)));
  }
  friend Avx2D pow2i(Avx2D n) {  // int64 conversion by the 1.5·2^52 magic-number trick
    const __m256d magic = _mm256_set1_pd(6755399441055744.0);
    __m256i k = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(n.v, magic)), _mm256_castpd_si256(magic));
    return {_mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(k, _mm256_set1_epi64x(1023)), 52))};
  }
  int compress_store(double* dst, Mask m) const {
    alignas(32) double tmp[4];
    _mm256_store_pd(tmp, v);
    int bits = _mm256_movemask_pd(m), c = 0;
    for (int i = 0; i < 4; ++i) { dst[c] = tmp[i]; c += (bits >> i) & 1; }
    return c;
  }
};
#endif

#if defined(__AVX512F__)
// ---- AVX-512 (F, DQ, VL) -------------------------------------------------------------------
struct Avx512F {
  using value_type = float;
  using Mask = __mmask16;
  static constexpr int width = 16;
  __m512 v;
  static Mask first(int n) { return __mmask16((1u << n) - 1u); }
  static Avx512F set1(float a) { return {_mm512_set1_ps(a)}; }
  static Avx512F load(const float* p) { return {_mm512_loadu_ps(p)}; }
  static Avx512F load(const float* p, int n, float fill) { return {_mm512_mask_loadu_ps(_mm512_set1_ps(fill), first(n), p)}; }
  void store(float* p) const { _mm512_storeu_ps(p, v); }
  void store(float* p, int n) const { _mm512_mask_storeu_ps(p, first(n), v); }
  friend Avx512F operator+(Avx512F a, Avx512F b) { return {_mm512_add_ps(a.v, b.v)}; }
  friend Avx512F operator-(Avx512F a, Avx512F b) { return {_mm512_sub_ps(a.v, b.v)}; }
  friend Avx512F operator*(Avx512F a, Avx512F b) { return {_mm512_mul_ps(a.v, b.v)}; }
  friend Avx512F operator/(Avx512F a, Avx512F b) { return {_mm512_div_ps(a.v, b.v)}; }
  friend Avx512F operator-(Avx512F a) { return {_mm512_xor_ps(a.v, _mm512_set1_ps(-0.0f))}; }
  friend Avx512F fma(Avx512F a, Avx512F b, Avx512F c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  friend Avx512F max(Avx512F a, Avx512F b) { return {_mm512_max_ps(a.v, b.v)}; }
  friend Avx512F min(Avx512F a, Avx512F b) { return {_mm512_min_ps(a.v, b.v)}; }
  friend Avx512F abs(Avx512F a) { return {_mm512_abs_ps(a.v)}; }
  friend Avx512F sqrt(Avx512F a) { return {_mm512_sqrt_ps(a.v)}; }
  friend Avx512F round(Avx512F a) { return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
  friend Mask operator<(Avx512F a, Avx512F b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ); }
  friend Mask operator>(Avx512F a, Avx512F b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ); }
  friend Mask operator>=(Avx512F a, Avx512F b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ); }
  friend Avx512F select(Mask m, Avx512F a, Avx512F b) { return {_mm512_mask_blend_ps(m, b.v, a.v)}; }
  friend float reduce_add(Avx512F a) { return _mm512_reduce_add_ps(a.v); }
  friend float reduce_max(Avx512F a) { return _mm512_reduce_max_ps(a.v); }
  // p·2^n with correct overflow/underflow (vscalefps), so exp needs no exponent split.
  friend Avx512F ldexp(Avx512F p, Avx512F n) { return {_mm512_scalef_ps(p.v, n.v)}; }
  int compress_store(float* dst, Mask m) const {  // register compress: the memory form is slow on Zen 4
    _mm512_storeu_ps(dst, _mm512_maskz_compress_ps(m, v));
    return __builtin_popcount(m);
  }
};

struct Avx512D {
  using value_type = double;
  using Mask = __mmask8;
  static constexpr int width = 8;
  __m512d v;
  static Mask first(int n) { return __mmask8((1u << n) - 1u); }
  static Avx512D set1(double a) { return {_mm512_set1_pd(a)}; }
  static Avx512D load(const double* p) { return {_mm512_loadu_pd(p)}; }
  static Avx512D load(const double* p, int n, double fill) { return {_mm512_mask_loadu_pd(_mm512_set1_pd(fill), first(n), p)}; }
  void store(double* p) const { _mm512_storeu_pd(p, v); }
  void store(double* p, int n) const { _mm512_mask_storeu_pd(p, first(n), v); }
  friend Avx512D operator+(Avx512D a, Avx512D b) { return {_mm512_add_pd(a.v, b.v)}; }
  friend Avx512D operator-(Avx512D a, Avx512D b) { return {_mm512_sub_pd(a.v, b.v)}; }
  friend Avx512D operator*(Avx512D a, Avx512D b) { return {_mm512_mul_pd(a.v, b.v)}; }
  friend Avx512D operator/(Avx512D a, Avx512D b) { return {_mm512_div_pd(a.v, b.v)}; }
  friend Avx512D operator-(Avx512D a) { return {_mm512_xor_pd(a.v, _mm512_set1_pd(-0.0))}; }
  friend Avx512D fma(Avx512D a, Avx512D b, Avx512D c) { return {_mm512_fmadd_pd(a.v, b.v, c.v)}; }
  friend Avx512D max(Avx512D a, Avx512D b) { return {_mm512_max_pd(a.v, b.v)}; }
  friend Avx512D min(Avx512D a, Avx512D b) { return {_mm512_min_pd(a.v, b.v)}; }
  friend Avx512D abs(Avx512D a) { return {_mm512_abs_pd(a.v)}; }
  friend Avx512D sqrt(Avx512D a) { return {_mm512_sqrt_pd(a.v)}; }
  friend Avx512D round(Avx512D a) { return {_mm512_roundscale_pd(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
  friend Mask operator<(Avx512D a, Avx512D b) { return _mm512_cmp_pd_mask(a.v, b.v, _CMP_LT_OQ); }
  friend Mask operator>(Avx512D a, Avx512D b) { return _mm512_cmp_pd_mask(a.v, b.v, _CMP_GT_OQ); }
  friend Mask operator>=(Avx512D a, Avx512D b) { return _mm512_cmp_pd_mask(a.v, b.v, _CMP_GE_OQ); }
  friend Avx512D select(Mask m, Avx512D a, Avx512D b) { return {_mm512_mask_blend_pd(m, b.v, a.v)}; }
  friend double reduce_add(Avx512D a) { return _mm512_reduce_add_pd(a.v); }
  friend double reduce_max(Avx512D a) { return _mm512_reduce_max_pd(a.v); }
  friend Avx512D ldexp(Avx512D p, Avx512D n) { return {_mm512_scalef_pd(p.v, n.v)}; }
  int compress_store(double* dst, Mask m) const {
    _mm512_storeu_pd(dst, _mm512_maskz_compress_pd(m, v));
    return __builtin_popcount(m);
  }
};
#endif

// Vec<T>: the widest vector of T this translation unit was compiled for.
#if defined(__AVX512F__)
template <class T> struct Native { using type = std::conditional_t<sizeof(T) == 4, Avx512F, Avx512D>; };
#elif defined(__AVX2__)
template <class T> struct Native { using type = std::conditional_t<sizeof(T) == 4, Avx2F, Avx2D>; };
#else
template <class T> struct Native { using type = Scalar<T>; };
#endif
template <class T> using Vec = typename Native<T>::type;

// p·2^n for integral n with |n| up to ~2·max exponent: two exact power-of-two factors so
// results that overflow or go subnormal round correctly. (AVX-512 overrides with vscalef.)
template <class V>
inline V ldexp(V p, V n) {
  V half = round(n * V::set1(0.5));
  return p * pow2i(half) * pow2i(n - half);
}

// Loop over [0, n) in vector strips: body(i, count) with count == width except for the tail.
template <class V, class Body>
inline void strips(int64_t n, Body&& body) {
  int64_t i = 0;
  for (; i + V::width <= n; i += V::width) body(i, V::width);
  if (i < n) body(i, int(n - i));
}

// Load/store count (≤ width) elements; the full-width case compiles to a plain load/store.
template <class V, class T>
inline V load_n(const T* p, int count, T fill = T(0)) {
  return count == V::width ? V::load(p) : V::load(p, count, fill);
}
template <class V, class T>
inline void store_n(V v, T* p, int count) {
  if (count == V::width) v.store(p);
  else v.store(p, count);
}

}  // namespace xpgrad::simd
