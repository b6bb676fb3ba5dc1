// The GEMM microkernel and packing, written once over a SIMD traits type V and compiled per
// ISA: gemm_kernel_<isa>.cpp defines XPGRAD_GEMM_ISA and its traits in that namespace, then
// includes this, so every ISA's instantiations have their own symbols (no ODR mix-up of code
// built with different -m flags).
//
// Register block: MR rows × NV vectors of C held in MR·NV accumulators; per k one load of NV
// B vectors and MR broadcasts of A feed MR·NV FMAs (BLIS "outer product" microkernel).
#pragma once
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "gemm_epilogue_math.h"
#include "gemm_kernels.h"

namespace xpgrad::cpu::XPGRAD_GEMM_ISA {

// Write-back of a C tile with the fused epilogue; the last vector of a row may be partial
// (masked).
template <class V, int MR, int NV>
void gemm_write_back(const typename V::R (&acc)[MR][NV], int n_eff, typename V::T* c, int64_t ldc,
                     const Epilogue<typename V::T>& ep) {
  using R = typename V::R;
  constexpr int L = V::L;
  for (int i = 0; i < MR; ++i) {
    typename V::T* crow = c + i * ldc;
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      const int j = v * L;
      const int n = n_eff - j;
      if (n <= 0) break;
      R x = acc[i][v];
      if (n >= L) {
        if (ep.accumulate) x = V::add(x, V::load(crow + j));
        if (ep.final) {
          if (ep.bias) x = V::add(x, V::load(ep.bias + j));
          x = EpilogueMath<V>::apply(x, ep.act);
        }
        V::store(crow + j, x);
      } else {
        if (ep.accumulate) x = V::add(x, V::load_n(crow + j, n));
        if (ep.final) {
          if (ep.bias) x = V::add(x, V::load_n(ep.bias + j, n));
          x = EpilogueMath<V>::apply(x, ep.act);
        }
        V::store_n(crow + j, x, n);
      }
    }
  }
}

// Prefetch: how many k iterations ahead the k loop fetches both panels by hand (0: leave it to
// the hardware prefetchers), an ISA's choice (make_gemm_kernels).
template <class V, int MR, int NV, int Prefetch, bool PackedA>
void gemm_micro(int n_eff, int64_t kc, const typename V::T* a, int64_t a_rs, int64_t a_cs,
                const typename V::T* b, int64_t ldb, typename V::T* c, int64_t ldc,
                const Epilogue<typename V::T>& ep) {
  using T = typename V::T;
  using R = typename V::R;
  constexpr int L = V::L;
  R acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();
  // A packed: A(i, p) = a[p*MR + i]; otherwise A(i, p) = a[i*a_rs + p*a_cs].
  const int64_t step_a = PackedA ? MR : a_cs;
  const int64_t row_a = PackedA ? 1 : a_rs;
  // Fetch the C tile while the k loop runs; the write-back would otherwise stall on misses.
  // A row of the tile covers every cache line from its first to its last byte: C's rows need
  // not start on a line (NumPy aligns big arrays to 16 bytes), and the write-back's loads of
  // the line left out missed for 8% of the time of a 2048² product (one core, Zen 3).
  constexpr int kRowBytes = NV * L * sizeof(T);
  const char* c_row = reinterpret_cast<const char*>(c);
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i, c_row += ldc * sizeof(T)) {
#pragma GCC unroll 8
    for (int off = 0; off < kRowBytes; off += 64) __builtin_prefetch(c_row + off, 1);
    __builtin_prefetch(c_row + kRowBytes - 1, 1);
  }
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    if constexpr (Prefetch > 0) {
      __builtin_prefetch(b + Prefetch * ldb);
      if constexpr (NV * L * sizeof(T) > 64) __builtin_prefetch(b + Prefetch * ldb + 64 / sizeof(T));
      __builtin_prefetch(a + Prefetch * step_a);
    }
    R bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * L);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      const R ai = V::set1(a[i * row_a]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = V::fma(ai, bv[v], acc[i][v]);
    }
    a += step_a;
    b += ldb;
  }
  // A whole tile stored as computed (the first of several K blocks, or the only one of a
  // product without bias or activation, such as a weight gradient): unrolled stores straight
  // from the registers. Short-K calls notice (K = 100: 600 cycles of FMAs, 1.13-1.22x).
  if (n_eff == NV * L && !ep.accumulate && (!ep.final || (!ep.bias && ep.act == Activation::Identity))) {
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) V::store(c + i * ldc + v * L, acc[i][v]);
    return;
  }
  // Anything else goes through a copy in memory, so that acc itself stays in registers.
  R tile[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) tile[i][v] = acc[i][v];
  gemm_write_back<V, MR, NV>(tile, n_eff, c, ldc, ep);
}

// Dispatch on the tile's actual shape, so row tails run an exact-height kernel (no wasted
// FMAs on padding rows) and column tails the fewest vectors that cover them.
template <class V, int MR, int NV, int Prefetch>
struct MicroTable {
  using T = typename V::T;
  using Fn = void (*)(int, int64_t, const T*, int64_t, int64_t, const T*, int64_t, T*, int64_t,
                      const Epilogue<T>&);
  Fn fn[MR][NV][2];

  MicroTable() { fill<1>(); }
  template <int M>
  void fill() {
    fill_nv<M, 1>();
    if constexpr (M < MR) fill<M + 1>();
  }
  template <int M, int N>
  void fill_nv() {
    fn[M - 1][N - 1][0] = &gemm_micro<V, M, N, Prefetch, false>;
    fn[M - 1][N - 1][1] = &gemm_micro<V, M, N, Prefetch, true>;
    if constexpr (N < NV) fill_nv<M, N + 1>();
  }

  static const MicroTable& get() {
    static const MicroTable table;
    return table;
  }
  static void run(int mr_eff, int n_eff, int64_t kc, const T* a, int64_t a_rs, int64_t a_cs,
                  const T* b, int64_t ldb, T* c, int64_t ldc, const Epilogue<T>& ep) {
    const int nv = (n_eff + V::L - 1) / V::L;
    const bool packed = a_rs == 1 && a_cs == mr_eff;
    get().fn[mr_eff - 1][nv - 1][packed](n_eff, kc, a, a_rs, a_cs, b, ldb, c, ldc, ep);
  }
};

// dst[p*width + r] = x[r*rs + p*ks]; rows..width zero-padded; x readable for r < readable. The
// two layouts that occur in practice get their own loops: r contiguous (vector copies per p)
// and p contiguous (blocks transposed in registers by the ISA's transpose_block, see
// gemm_transpose_x86.h).
template <class V>
void gemm_pack(const typename V::T* x, int64_t rs, int64_t ks, int rows, int width, int64_t kc,
               typename V::T* dst, int64_t readable) {
  using T = typename V::T;
  constexpr int L = V::L;
  if (rs == 1 && rows == width && rows < L && L <= readable && kc > 0) {
    // A sliver of a transposed A, narrower than a vector (6 rows on AVX2, 14 on AVX-512), in an
    // operand that goes on past it: a whole vector loaded and stored per k-step, its spill
    // overwritten by the next one, the last one cut to the row. The general loop below (with
    // masked loads, vmaskmovps, and its checks) took 1.03-1.05x longer over the MLP's Aᵀ·B and
    // 1.22x at 288×12544×256 (one core), where it was a tenth of the product's time.
    for (int64_t p = 0; p + 1 < kc; ++p) V::store(dst + p * width, V::load(x + p * ks));
    V::store_n(dst + (kc - 1) * width, V::load(x + (kc - 1) * ks), width);
    return;
  }
  if (rs == 1) {
    // Masked lanes load as zeros, so the tail also writes the padding. Its store is a whole
    // vector wherever that stays inside dst: the lanes past the row land in later rows, which
    // are written after it (a partial store is several stores on AVX2 and a masked one on
    // AVX-512; masked stores are slow on AMD's Zen 3: packing the 6-row A slivers of xᵀ·g with
    // them took 12% of the product's time).
    // Each row of a row-major operand is usually on another page, where the hardware
    // prefetchers stop: the rows kPrefetchRows ahead are fetched by hand.
    constexpr int64_t kPrefetchRows = 8;
    constexpr int kLineElems = 64 / sizeof(T);
    const int64_t end = kc * width;
    for (int64_t p = 0; p < kc; ++p) {
      const T* s = x + p * ks;
      T* d = dst + p * width;
      if (p + kPrefetchRows < kc)
        for (int off = 0; off < rows; off += kLineElems) __builtin_prefetch(s + kPrefetchRows * ks + off);
      int r = 0;
      for (; r + L <= rows; r += L) V::store(d + r, V::load(s + r));
      for (; r < width; r += L) {
        const auto v = V::load_n(s + r, rows - r);
        if (p * width + r + L <= end) V::store(d + r, v);
        else V::store_n(d + r, v, std::min(L, width - r));
      }
    }
    return;
  }
  if (rows < width)
    for (int64_t p = 0; p < kc; ++p) std::memset(dst + p * width + rows, 0, (width - rows) * sizeof(T));
  constexpr int B = transpose_block_size<T>();
  if constexpr (std::is_same_v<T, float> && B == 8) {  // x86 (gemm_transpose_x86.h)
    if (ks == 1 && width == rows && 2 * rows >= B && rows < B && kc >= B) {
      // A slivers shorter than a block (mr = 6 on AVX2), which went element by element: a
      // row-major 1024² A packed at 0.19 ns per element instead of 0.49 (Zen 3, hot in cache).
      // The last block is shifted back to end at kc, as below.
      for (int64_t p = 0;; p += B) {
        p = std::min(p, kc - B);
        transpose_short_block(x + p, rs, rows, dst + p * rows, p == kc - B);
        if (p == kc - B) break;
      }
      return;
    }
  }
  if (ks == 1 && rows >= B && kc >= B) {
    // Whole blocks; the last block of rows and of p is shifted back to end at the edge, so
    // it overlaps its neighbour (rewriting the same values) instead of leaving a scalar tail.
    for (int r = 0;; r += B) {
      r = std::min(r, rows - B);
      for (int64_t p = 0;; p += B) {
        p = std::min(p, kc - B);
        transpose_block(x + r * rs + p, rs, dst + p * width + r, width);
        if (p == kc - B) break;
      }
      if (r == rows - B) break;
    }
    return;
  }
  for (int64_t p = 0; p < kc; ++p)
    for (int r = 0; r < rows; ++r) dst[p * width + r] = x[r * rs + p * ks];
}

template <class V, int MR, int NV, int Prefetch>
GemmKernels<typename V::T> make_gemm_kernels(int64_t mc, int64_t kc, int64_t nc) {
  return {MR, NV * V::L, V::L, mc, kc, nc, &gemm_pack<V>, &MicroTable<V, MR, NV, Prefetch>::run};
}

}  // namespace xpgrad::cpu::XPGRAD_GEMM_ISA
