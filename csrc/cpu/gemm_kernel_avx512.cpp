// AVX-512 GEMM kernels: 14×32 fp32 / 14×16 fp64 register block (28 zmm accumulators + 2 B
// vectors + 1 broadcast of the 32 registers); tails use AVX-512 masked loads/stores.
#include <immintrin.h>

#include "gemm_kernels.h"

#define XPGRAD_GEMM_ISA avx512
namespace xpgrad::cpu::XPGRAD_GEMM_ISA {

// Traits over one zmm register; identical for both dtypes up to the intrinsic suffix.
#define XPGRAD_AVX512_TRAITS(NAME, TYPE, REG, SFX, LANES, MASK, SIGN_MASK)                       \
  struct NAME {                                                                                \
    using T = TYPE;                                                                            \
    using R = REG;                                                                             \
    static constexpr int L = LANES;                                                            \
    static MASK mask(int n) { return static_cast<MASK>((1u << n) - 1u); }                      \
    static R zero() { return _mm512_setzero_##SFX(); }                                         \
    static R set1(T x) { return _mm512_set1_##SFX(x); }                                        \
    static R load(const T* p) { return _mm512_loadu_##SFX(p); }                                \
    static R load_n(const T* p, int n) { return _mm512_maskz_loadu_##SFX(mask(n), p); }        \
    static void store(T* p, R x) { _mm512_storeu_##SFX(p, x); }                                \
    static void store_n(T* p, R x, int n) { _mm512_mask_storeu_##SFX(p, mask(n), x); }         \
    static R add(R a, R b) { return _mm512_add_##SFX(a, b); }                                  \
    static R sub(R a, R b) { return _mm512_sub_##SFX(a, b); }                                  \
    static R mul(R a, R b) { return _mm512_mul_##SFX(a, b); }                                  \
    static R div(R a, R b) { return _mm512_div_##SFX(a, b); }                                  \
    static R fma(R a, R b, R c) { return _mm512_fmadd_##SFX(a, b, c); }                        \
    static R min(R a, R b) { return _mm512_min_##SFX(a, b); }                                  \
    static R max(R a, R b) { return _mm512_max_##SFX(a, b); }                                  \
    static R abs(R x) { return _mm512_abs_##SFX(x); }                                          \
    static R round(R x) {                                                                      \
      return _mm512_roundscale_##SFX(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);        \
    }                                                                                          \
    static R scale2(R x, R n) { return _mm512_scalef_##SFX(x, n); }                            \
    static R select_lt(R x, R c, R a, R b) {                                                   \
      return _mm512_mask_blend_##SFX(_mm512_cmp_##SFX##_mask(x, c, _CMP_LT_OQ), b, a);         \
    }                                                                                          \
    static R copysign(R mag, R sgn) {                                                          \
      const R sign = _mm512_set1_##SFX(SIGN_MASK);                                             \
      return _mm512_or_##SFX(_mm512_andnot_##SFX(sign, mag), _mm512_and_##SFX(sign, sgn));     \
    }                                                                                          \
  };

XPGRAD_AVX512_TRAITS(VecF32, float, __m512, ps, 16, __mmask16, -0.0f)
XPGRAD_AVX512_TRAITS(VecF64, double, __m512d, pd, 8, __mmask8, -0.0)
#undef XPGRAD_AVX512_TRAITS

}  // namespace xpgrad::cpu::XPGRAD_GEMM_ISA

#include "gemm_transpose_x86.h"
#include "gemm_microkernel.h"

namespace xpgrad::cpu {

// Both panels prefetched 8 k steps ahead: the B sliver of a long K (512 × 32 floats) outgrows L1.
const GemmKernels<float>& gemm_kernels_avx512_f32() {
  static const auto k = avx512::make_gemm_kernels<avx512::VecF32, 14, 2, 8>(168, 512, 4096);
  return k;
}

const GemmKernels<double>& gemm_kernels_avx512_f64() {
  static const auto k = avx512::make_gemm_kernels<avx512::VecF64, 14, 2, 8>(168, 256, 4096);
  return k;
}

}  // namespace xpgrad::cpu
