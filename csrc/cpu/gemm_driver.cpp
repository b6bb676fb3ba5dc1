// GEMM driver: the BLIS/GotoBLAS loops around an ISA's packing routine and microkernel.
//
//   for jc (nc columns of C):  for pc (kc of K):  pack B panel kc×nc (slivers of nr columns)
//     for ic (mc rows):  pack A block mc×kc (slivers of mr rows)
//       for jr, ir:  microkernel on an mr×nr tile (B sliver stays in L1, A block in L2)
//
// Transposes and any other strides are absorbed by the packing. Threads each take a band of C
// (rows, or columns when M is the smaller side) and run the loops on it with private buffers:
// no barriers, and the duplicated packing is of the smaller operand only.
#ifdef _OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>

#include "gemm_kernels.h"
#include "xpgrad/cpu_features.h"

namespace xpgrad::cpu {
namespace {

template <typename T>
const GemmKernels<T>& kernels() {
  const Isa isa = active_isa();
#ifdef XPGRAD_X86
  if constexpr (sizeof(T) == 4) {
    if (isa == Isa::Avx512) return gemm_kernels_avx512_f32();
    if (isa == Isa::Avx2) return gemm_kernels_avx2_f32();
    return gemm_kernels_portable_f32();
  } else {
    if (isa == Isa::Avx512) return gemm_kernels_avx512_f64();
    if (isa == Isa::Avx2) return gemm_kernels_avx2_f64();
    return gemm_kernels_portable_f64();
  }
#else
  (void)isa;
  if constexpr (sizeof(T) == 4) return gemm_kernels_portable_f32();
  else return gemm_kernels_portable_f64();
#endif
}

// Below this many multiply-adds a call runs on one thread without packing A (the fork and
// the packing would cost more than they save).
constexpr int64_t kSmallFlops = int64_t(1) << 18;
// Each extra thread needs at least this much work.
constexpr int64_t kFlopsPerThread = int64_t(1) << 19;

int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

int thread_num() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Scratch memory reused across calls (allocating and first-touching megabytes per call would
// cost as much as a small GEMM). One per calling thread, so concurrent callers don't share;
// allocated before any parallel region so that a failure raises instead of terminating.
void* workspace(size_t bytes) {
  struct Deleter {
    void operator()(void* p) const { std::free(p); }
  };
  thread_local std::unique_ptr<void, Deleter> buf;
  thread_local size_t size = 0;
  if (bytes > size) {
    buf.reset();
    size = 0;
    void* p = std::aligned_alloc(64, round_up(static_cast<int64_t>(bytes), 64));
    if (!p) throw std::bad_alloc();
    buf.reset(p);
    size = bytes;
  }
  return buf.get();
}

// K split into equal blocks of at most kc (a short last block would waste a C pass).
template <typename T>
int64_t k_block(const GemmKernels<T>& ker, int64_t k) { return ceil_div(k, ceil_div(k, ker.kc)); }

template <typename T>
size_t block_scratch(const GemmKernels<T>& ker, int64_t m, int64_t n, int64_t k) {
  const int64_t kb = k_block(ker, k);
  return (std::min(m, ker.mc) * kb + round_up(std::min(n, ker.nc), ker.nr) * kb) * sizeof(T);
}

// The packed algorithm on one band of C; scratch holds block_scratch() bytes.
template <typename T>
void gemm_block(const GemmKernels<T>& ker, const ConstMatrix<T>& a, const ConstMatrix<T>& b, T* c,
                int64_t ldc, const T* bias, Activation act, T* scratch) {
  const int64_t m = a.rows, k = a.cols, n = b.cols;
  const int64_t kb = k_block(ker, k);
  T* abuf = scratch;
  T* bbuf = scratch + std::min(m, ker.mc) * kb;
  for (int64_t jc = 0; jc < n; jc += ker.nc) {
    const int64_t ncb = std::min(ker.nc, n - jc);
    for (int64_t pc = 0; pc < k; pc += kb) {
      const int64_t kcb = std::min(kb, k - pc);
      for (int64_t jr = 0; jr < ncb; jr += ker.nr) {
        const int w = static_cast<int>(std::min<int64_t>(ker.nr, ncb - jr));
        ker.pack(b.data + pc * b.rs + (jc + jr) * b.cs, b.cs, b.rs, w,
                 static_cast<int>(round_up(w, ker.vl)), kcb, bbuf + jr * kcb);
      }
      Epilogue<T> ep{nullptr, act, pc > 0, pc + kcb == k};
      for (int64_t ic = 0; ic < m; ic += ker.mc) {
        const int64_t mcb = std::min(ker.mc, m - ic);
        for (int64_t ir = 0; ir < mcb; ir += ker.mr) {
          const int h = static_cast<int>(std::min<int64_t>(ker.mr, mcb - ir));
          ker.pack(a.data + (ic + ir) * a.rs + pc * a.cs, a.rs, a.cs, h, h, kcb, abuf + ir * kcb);
        }
        for (int64_t jr = 0; jr < ncb; jr += ker.nr) {
          const int w = static_cast<int>(std::min<int64_t>(ker.nr, ncb - jr));
          ep.bias = bias ? bias + jc + jr : nullptr;
          for (int64_t ir = 0; ir < mcb; ir += ker.mr) {
            const int h = static_cast<int>(std::min<int64_t>(ker.mr, mcb - ir));
            ker.micro(h, w, kcb, abuf + ir * kcb, 1, h, bbuf + jr * kcb, round_up(w, ker.vl),
                      c + (ic + ir) * ldc + jc + jr, ldc, ep);
          }
        }
      }
    }
  }
}

// No packing of A, and B read in place where its rows are contiguous: for shapes so small
// that packing would be most of the work. Also handles k == 0 (C = act(bias)).
template <typename T>
void gemm_small(const GemmKernels<T>& ker, const ConstMatrix<T>& a, const ConstMatrix<T>& b, T* c,
                int64_t ldc, const T* bias, Activation act, T* scratch) {
  const int64_t m = a.rows, k = a.cols, n = b.cols;
  for (int64_t jr = 0; jr < n; jr += ker.nr) {
    const int w = static_cast<int>(std::min<int64_t>(ker.nr, n - jr));
    const T* bp = b.data + jr * b.cs;
    int64_t ldb = b.rs;
    if (b.cs != 1 || w % ker.vl != 0) {  // the microkernel reads whole vectors of B rows
      ldb = round_up(w, ker.vl);
      ker.pack(bp, b.cs, b.rs, w, static_cast<int>(ldb), k, scratch);
      bp = scratch;
    }
    const Epilogue<T> ep{bias ? bias + jr : nullptr, act, false, true};
    for (int64_t ir = 0; ir < m; ir += ker.mr) {
      const int h = static_cast<int>(std::min<int64_t>(ker.mr, m - ir));
      ker.micro(h, w, k, a.data + ir * a.rs, a.rs, a.cs, bp, ldb, c + ir * ldc + jr, ldc, ep);
    }
  }
}

}  // namespace

template <typename T>
void gemm(const ConstMatrix<T>& a, const ConstMatrix<T>& b, T* c, int64_t ldc, const T* bias,
          Activation act) {
  const int64_t m = a.rows, k = a.cols, n = b.cols;
  if (m == 0 || n == 0) return;
  const GemmKernels<T>& ker = kernels<T>();
  const int64_t flops = m * n * k;
  if (k == 0 || flops <= kSmallFlops) {
    T* scratch = static_cast<T*>(workspace(std::max<int64_t>(k, 1) * ker.nr * sizeof(T)));
    gemm_small(ker, a, b, c, ldc, bias, act, scratch);
    return;
  }
  // Split the larger of M and N among threads, in whole register blocks.
  const bool split_n = n > m;
  const int64_t unit = split_n ? ker.nr : ker.mr;
  const int64_t units = ceil_div(split_n ? n : m, unit);
  const int threads = static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>({max_threads(), units, flops / kFlopsPerThread})));
  const int64_t band = ceil_div(units, threads) * unit;
  const size_t per_thread = round_up(static_cast<int64_t>(
      split_n ? block_scratch(ker, m, band, k) : block_scratch(ker, band, n, k)), 64);
  char* scratch = static_cast<char*>(workspace(per_thread * threads));
#pragma omp parallel num_threads(threads)
  {
    const int t = thread_num();
    const int64_t lo = units * t / threads * unit;
    const int64_t hi = std::min(units * (t + 1) / threads * unit, split_n ? n : m);
    T* buf = reinterpret_cast<T*>(scratch + per_thread * t);
    if (lo < hi) {
      if (split_n) {
        const ConstMatrix<T> bt{b.data + lo * b.cs, k, hi - lo, b.rs, b.cs};
        gemm_block(ker, a, bt, c + lo, ldc, bias ? bias + lo : nullptr, act, buf);
      } else {
        const ConstMatrix<T> at{a.data + lo * a.rs, hi - lo, k, a.rs, a.cs};
        gemm_block(ker, at, b, c + lo * ldc, ldc, bias, act, buf);
      }
    }
  }
}

template void gemm<float>(const ConstMatrix<float>&, const ConstMatrix<float>&, float*, int64_t,
                          const float*, Activation);
template void gemm<double>(const ConstMatrix<double>&, const ConstMatrix<double>&, double*, int64_t,
                           const double*, Activation);

}  // namespace xpgrad::cpu
