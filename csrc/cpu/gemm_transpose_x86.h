// In-register transposes for packing a k-contiguous operand (A of A·B, B of A·Bᵀ) on x86 with
// AVX2 (also used by the AVX-512 kernels): 8×8 floats / 4×4 doubles per block, about 3
// shuffles per vector instead of one scalar load+store per element.
// Lives in namespace xpgrad::cpu::XPGRAD_GEMM_ISA like the rest of the per-ISA code.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace xpgrad::cpu::XPGRAD_GEMM_ISA {

// r[i] = row i of an 8×8 float block in, column i out (unpack, shuffle, then swap of halves).
inline void transpose8x8(__m256 r[8]) {
  __m256 t[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int j = 0; j < 4; ++j) {
    t[j] = _mm256_permute2f128_ps(r[j], r[j + 4], 0x20);
    t[j + 4] = _mm256_permute2f128_ps(r[j], r[j + 4], 0x31);
  }
  for (int j = 0; j < 8; ++j) r[j] = t[j];
}

// d[j*ldd + i] = s[i*lds + j] for i, j < 8.
inline void transpose_block(const float* s, int64_t lds, float* d, int64_t ldd) {
  __m256 r[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(s + i * lds);
  transpose8x8(r);
  for (int j = 0; j < 8; ++j) _mm256_storeu_ps(d + j * ldd, r[j]);
}

// d[j*rows + i] = s[i*lds + j] for i < rows, 4 ≤ rows < 8, j < 8: eight packed k-steps of a
// sliver with fewer rows than a block (AVX2's 6-row A slivers). The missing rows repeat the last
// one; each k-step is stored as a whole vector whose spill (at most one k-step) the next one
// overwrites, so only the eighth, when it ends the sliver (last), is cut to its rows.
inline void transpose_short_block(const float* s, int64_t lds, int rows, float* d, bool last) {
  __m256 r[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(s + (i < rows ? i : rows - 1) * lds);
  transpose8x8(r);
  for (int j = 0; j < 7; ++j) _mm256_storeu_ps(d + j * rows, r[j]);
  if (!last) return _mm256_storeu_ps(d + 7 * rows, r[7]);
  alignas(32) float tail[8];
  _mm256_store_ps(tail, r[7]);
  for (int i = 0; i < rows; ++i) d[7 * rows + i] = tail[i];
}

// d[j*ldd + i] = s[i*lds + j] for i, j < 4.
inline void transpose_block(const double* s, int64_t lds, double* d, int64_t ldd) {
  __m256d r[4], t[4];
  for (int i = 0; i < 4; ++i) r[i] = _mm256_loadu_pd(s + i * lds);
  for (int i = 0; i < 4; i += 2) {
    t[i] = _mm256_unpacklo_pd(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_pd(r[i], r[i + 1]);
  }
  _mm256_storeu_pd(d, _mm256_permute2f128_pd(t[0], t[2], 0x20));
  _mm256_storeu_pd(d + ldd, _mm256_permute2f128_pd(t[1], t[3], 0x20));
  _mm256_storeu_pd(d + 2 * ldd, _mm256_permute2f128_pd(t[0], t[2], 0x31));
  _mm256_storeu_pd(d + 3 * ldd, _mm256_permute2f128_pd(t[1], t[3], 0x31));
}

template <typename T>
constexpr int transpose_block_size() { return 32 / sizeof(T); }

}  // namespace xpgrad::cpu::XPGRAD_GEMM_ISA
