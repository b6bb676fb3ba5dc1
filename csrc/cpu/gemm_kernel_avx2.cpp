// AVX2+FMA GEMM kernels: 6×16 fp32 / 6×8 fp64 register block (12 ymm accumulators + 2 B
// vectors + 1 broadcast of the 16 registers); tails load with vmaskmov and store in plain
// pieces (simd::store_first).
#include <immintrin.h>

#include "gemm_kernels.h"
#include "xpgrad/simd.h"

#define XPGRAD_GEMM_ISA avx2
namespace xpgrad::cpu::XPGRAD_GEMM_ISA {

// Traits over one ymm register. scale2 builds 2^n in the exponent field: adding
// 1.5·2^MANT + BIAS to the integral n puts n + BIAS in the low mantissa bits, and the shift
// by MANT moves them into the exponent.
#define XPGRAD_AVX2_TRAITS(NAME, TYPE, REG, SFX, LANES, ISFX, SETSFX, IOTA, MANT, MAGIC, SIGN_MASK)      \
  struct NAME {                                                                                \
    using T = TYPE;                                                                            \
    using R = REG;                                                                             \
    static constexpr int L = LANES;                                                            \
    static __m256i mask(int n) { return _mm256_cmpgt_##ISFX(_mm256_set1_##SETSFX(n), IOTA); } \
    static R zero() { return _mm256_setzero_##SFX(); }                                         \
    static R set1(T x) { return _mm256_set1_##SFX(x); }                                        \
    static R load(const T* p) { return _mm256_loadu_##SFX(p); }                                \
    static R load_n(const T* p, int n) { return _mm256_maskload_##SFX(p, mask(n)); }           \
    static void store(T* p, R x) { _mm256_storeu_##SFX(p, x); }                                \
    static void store_n(T* p, R x, int n) { simd::store_first(p, x, n); }                       \
    static R add(R a, R b) { return _mm256_add_##SFX(a, b); }                                  \
    static R sub(R a, R b) { return _mm256_sub_##SFX(a, b); }                                  \
    static R mul(R a, R b) { return _mm256_mul_##SFX(a, b); }                                  \
    static R div(R a, R b) { return _mm256_div_##SFX(a, b); }                                  \
    static R fma(R a, R b, R c) { return _mm256_fmadd_##SFX(a, b, c); }                        \
    static R min(R a, R b) { return _mm256_min_##SFX(a, b); }                                  \
    static R max(R a, R b) { return _mm256_max_##SFX(a, b); }                                  \
    static R abs(R x) { return _mm256_andnot_##SFX(_mm256_set1_##SFX(SIGN_MASK), x); }         \
    static R round(R x) {                                                                      \
      return _mm256_round_##SFX(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);             \
    }                                                                                          \
    static R scale2(R x, R n) {                                                                \
      const R biased = _mm256_add_##SFX(n, _mm256_set1_##SFX(MAGIC));                          \
      return _mm256_mul_##SFX(                                                                 \
          x, _mm256_castsi256_##SFX(_mm256_slli_##ISFX(_mm256_cast##SFX##_si256(biased), MANT))); \
    }                                                                                          \
    static R select_lt(R x, R c, R a, R b) {                                                   \
      return _mm256_blendv_##SFX(b, a, _mm256_cmp_##SFX(x, c, _CMP_LT_OQ));                    \
    }                                                                                          \
    static R copysign(R mag, R sgn) {                                                          \
      const R sign = _mm256_set1_##SFX(SIGN_MASK);                                             \
      return _mm256_or_##SFX(_mm256_andnot_##SFX(sign, mag), _mm256_and_##SFX(sign, sgn));     \
    }                                                                                          \
  };

XPGRAD_AVX2_TRAITS(VecF32, float, __m256, ps, 8, epi32, epi32, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                   23, 0x1.8p23f + 127.0f, -0.0f)
XPGRAD_AVX2_TRAITS(VecF64, double, __m256d, pd, 4, epi64, epi64x, _mm256_setr_epi64x(0, 1, 2, 3), 52,
                   0x1.8p52 + 1023.0, -0.0)
#undef XPGRAD_AVX2_TRAITS

}  // namespace xpgrad::cpu::XPGRAD_GEMM_ISA

#include "gemm_transpose_x86.h"
#include "gemm_microkernel.h"

namespace xpgrad::cpu {

// No software prefetch in the k loop: on a Zen 3 the hardware prefetchers keep both panels
// coming, and the three prefetch instructions per k step cost 1-12% of the float32 product
// (interleaved runs, one core: 2-7% on the MLP shapes, 6-10% on squares).
const GemmKernels<float>& gemm_kernels_avx2_f32() {
  static const auto k = avx2::make_gemm_kernels<avx2::VecF32, 6, 2, 0>(120, 256, 4096);
  return k;
}

const GemmKernels<double>& gemm_kernels_avx2_f64() {
  static const auto k = avx2::make_gemm_kernels<avx2::VecF64, 6, 2, 0>(120, 256, 4096);
  return k;
}

}  // namespace xpgrad::cpu
