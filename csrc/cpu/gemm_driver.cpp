// GEMM driver: the BLIS/GotoBLAS loops around an ISA's packing routine and microkernel.
//
//   for jc (nc columns of C):  for pc (kc of K):  pack B panel kc×nc (slivers of nr columns)
//     for ic (mc rows):  pack A block mc×kc (slivers of mr rows)
//       for jr, ir:  microkernel on an mr×nr tile (B sliver in L1, A block in L2)
//
// Transposes and any other strides are absorbed by the packing. Three schedules:
// - tiny products: one thread, no packing of A (gemm_small); also, in row bands, when N fits
//   one B sliver (then every A element is used once);
// - M small enough that op(A) fits in L2 (the MLP shapes): A packed once and shared, the
//   threads split the B slivers (gemm_shared_a);
// - otherwise the full loop nest with the B panel shared and the threads splitting M blocks
//   (gemm_shared_b).
// In both parallel schedules an A with contiguous rows or columns that meets few B slivers is
// read in place, not packed (ABlock).
// The parallel schedules avoid barriers (gemm_schedule.h), so that a thread that loses its
// core on a shared machine delays the product by its last item only.
#ifdef _OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "gemm_kernels.h"
#include "gemm_schedule.h"
#include "xpgrad/cpu_features.h"
#include "xpgrad/thread_pool.h"

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
// Budget for the packed op(A) of the shared-A path together with a thread's packed B block:
// both stay in L2 (512 KiB per core on a Zen 3, 1-2 MiB on the others this targets). Sizing the
// K block for A alone let A (100×1000) and a B block (1000×64) take 656 KiB: A·B and Aᵀ·B with
// K = 1000 measured 1.05-1.08x faster with two K blocks (interleaved, one and two threads).
constexpr int64_t kSharedABytes = int64_t(512) << 10;
// Beyond this many rows the shared-A path needs K blocks at least kMinSharedK deep (unless K
// is smaller): each extra block costs a barrier and a pass over C, and the full loop nest
// does better. Up to it the full loop nest's M blocks would be too thin (a B panel pass each).
constexpr int64_t kSharedARows = 256;
constexpr int64_t kMinSharedK = 512;
// B is packed in blocks of several slivers, so that packing a row-major B reads runs of this
// many bytes from each of its rows. Each row of the MLP shapes' B is on another page and the
// hardware prefetchers stop at page boundaries: one sliver (one cache line per row) at a time,
// the packing waited on a miss per row, a quarter of the time of x·W on a Zen 3.
constexpr int64_t kPackRunBytes = 256;
// Rows of a transposed A packed at a time for all its slivers (pack_a_slivers).
constexpr int64_t kPackChunkK = 16;
// An A that meets at most this many B slivers is read in place (ABlock).
constexpr int64_t kInPlaceASlivers = 8;
// K block of the unpacked small path for a transposed A (gemm_small): Aᵀ·B at 784×5000×10 and
// 784×10000×10 (the row bands' halves of A read in place down all of K, ~2.7 slivers sharing
// each line) measured 1.25-1.4x faster with blocks of 512 in one interleaved run (1.0x in a
// noisier one); 1000×2000×10 on one core 2.7x.
constexpr int64_t kSmallKBlock = 512;
// A product with at most kSplitKMaxC elements of C and K at least kSplitKMinK deep (a
// convolution's weight gradient: Xᵀ·G summed over every output position of the batch) gives
// each thread a range of K and adds up their C's (gemm_split_k).
constexpr int64_t kSplitKMaxC = int64_t(1) << 16;
constexpr int64_t kSplitKMinK = 4096;

// The kernels' one thread count (thread_pool.h: XPGRAD_NUM_THREADS, else OMP_NUM_THREADS, else
// every core; _C.set_pool_threads caps it), passed to each OpenMP region explicitly: OpenMP's
// global setting is shared with other libraries in the process (torch.set_num_threads(1)
// would otherwise make this GEMM single-threaded).
int max_threads() {
#ifdef _OPENMP
  return num_threads();
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

// Rows [first, first + rows) of A sliver s out of ceil_div(m, mr): mr rows each, except that a
// remainder of at most mr/2 rows is shared evenly with the sliver before it. A 2-row tile has
// too few accumulators to cover the FMA latency (AVX2: 4 of the 8 needed); 32 rows as
// 6+6+6+6+4+4 instead of 6+6+6+6+6+2 measured 1.02-1.07x on one core (32x784x512), and
// 8, 14 and 20 rows 1.05-1.09x (x1000x1000).
struct Sliver {
  int64_t first;
  int rows;
};
Sliver sliver(int64_t m, int mr, int64_t s) {
  const int64_t count = ceil_div(m, mr), rem = m % mr;
  if (rem == 0 || rem > mr / 2 || count < 2 || s < count - 2)
    return {s * mr, static_cast<int>(std::min<int64_t>(mr, m - s * mr))};
  const int pair = mr + static_cast<int>(rem), upper = (pair + 1) / 2;
  return s == count - 2 ? Sliver{s * mr, upper} : Sliver{s * mr - mr + upper, pair - upper};
}

// f(first, rows) for each A sliver of m rows, in order.
template <class F>
void for_each_sliver(int64_t m, int mr, F&& f) {
  for (int64_t s = 0; s < ceil_div(m, mr); ++s) {
    const Sliver part = sliver(m, mr, s);
    f(part.first, part.rows);
  }
}

// Columns per packed B block: for a row-major B, kPackRunBytes of each row, but at least 2
// blocks per thread for the work sharing to balance. One sliver when B's columns are
// contiguous: the packing then reads long runs anyway, and wider blocks measured 1-4% slower
// at K >= 784 (8-10% faster at K = 100).
template <typename T>
int64_t b_block_cols(const GemmKernels<T>& ker, const ConstMatrix<T>& b, int64_t n, int threads) {
  if (b.cs != 1) return ker.nr;
  const int64_t run = kPackRunBytes / (ker.nr * static_cast<int64_t>(sizeof(T)));
  return ker.nr * std::clamp<int64_t>(ceil_div(n, ker.nr) / (2 * threads), 1, std::max<int64_t>(run, 1));
}

// Scratch memory reused across calls (allocating and first-touching megabytes per call would
// cost as much as a small GEMM). One per calling thread, so concurrent callers don't share;
// allocated before any parallel region so that a failure raises instead of terminating.
template <typename T>
T* workspace(int64_t elems) {
  struct Deleter {
    void operator()(void* p) const { std::free(p); }
  };
  thread_local std::unique_ptr<void, Deleter> buf;
  thread_local int64_t size = 0;
  const int64_t bytes = round_up(elems * static_cast<int64_t>(sizeof(T)), 64);
  if (bytes > size) {
    buf.reset();
    size = 0;
    void* p = std::aligned_alloc(64, bytes);
    if (!p) throw std::bad_alloc();
    buf.reset(p);
    size = bytes;
  }
  return static_cast<T*>(buf.get());
}

// K split into equal blocks of at most `limit` (a short last block would waste a pass over C).
int64_t k_block(int64_t k, int64_t limit) { return ceil_div(k, ceil_div(k, std::max<int64_t>(limit, 1))); }

// The K block of the shared-A path: the packed A block and a thread's packed B block, `rows`
// rows of elements of `size` bytes (m + the B block's columns), within kSharedABytes.
int64_t shared_a_k_block(int64_t k, int64_t rows, size_t size) {
  return k_block(k, kSharedABytes / (static_cast<int64_t>(size) * rows));
}

// Rows [0, h) of one A sliver packed: dst[p*h + i] = A(i0 + i, pc + p).
template <typename T>
void pack_a(const GemmKernels<T>& ker, const ConstMatrix<T>& a, int64_t i0, int h, int64_t pc, int64_t kcb, T* dst) {
  ker.pack(a.data + i0 * a.rs + pc * a.cs, a.rs, a.cs, h, h, kcb, dst, a.rows - i0);
}

// Rows [p0, p1) of the K block at pc (kcb deep) of A slivers [s0, s1), counted in the `rows`
// rows from row0; each sliver's panel starts at its first row (from row0) · kcb in abuf. When
// op(A)'s rows are contiguous (Aᵀ of a row-major A), a stored row holds pieces of every sliver:
// the slivers are packed kPackChunkK rows at a time, so that the stored rows are read in order
// (one sliver down all of K at a time read them in strides the prefetchers missed).
template <typename T>
void pack_a_slivers(const GemmKernels<T>& ker, const ConstMatrix<T>& a, int64_t row0, int64_t rows, int64_t s0,
                    int64_t s1, int64_t pc, int64_t kcb, int64_t p0, int64_t p1, T* abuf) {
  const int64_t step = a.rs == 1 ? kPackChunkK : p1 - p0;
  for (int64_t p = p0; p < p1; p += step) {
    const int64_t kp = std::min(step, p1 - p);
    for (int64_t s = s0; s < s1; ++s) {
      const Sliver part = sliver(rows, ker.mr, s);
      pack_a(ker, a, row0 + part.first, part.rows, pc + p, kp, abuf + part.first * kcb + p * part.rows);
    }
  }
}

// Columns [j0, j0 + w) of B rows [pc, pc + kcb) packed with rows ldb = w rounded up to whole
// vectors (one sliver, or a block of slivers side by side, each read at its column). Only
// the unpacked small path may read B in place (row-major, whole vectors wide): a big B read
// in place costs a TLB miss and an unprefetched line per row (each row on another page).
template <typename T>
const T* sliver_b(const GemmKernels<T>& ker, const ConstMatrix<T>& b, int64_t j0, int w, int64_t pc,
                  int64_t kcb, T* buf, int64_t& ldb, bool in_place_ok) {
  const T* src = b.data + pc * b.rs + j0 * b.cs;
  if (in_place_ok && b.cs == 1 && w % ker.vl == 0) {
    ldb = b.rs;
    return src;
  }
  ldb = round_up(w, ker.vl);
  ker.pack(src, b.cs, b.rs, w, static_cast<int>(ldb), kcb, buf, b.cols - j0);
  return buf;
}

// Where the microkernel reads a K block of op(A) (kcb columns): packed, the sliver at row i at
// data + i·kcb with its columns h apart; or in place, row i at data + i·rs with its columns cs
// apart. An op(A) with contiguous rows (Aᵀ of a row-major A) or columns (a row-major A) that
// meets at most kInPlaceASlivers B slivers is read in place: the microkernel broadcasts from
// the stored elements as well as from a packed sliver, and each packed element would be used
// only a few times. Transposed: a CNN's weight gradients, 9×50176×32 and 288×12544×64,
// 1.15-1.7x faster on one core in interleaved runs; 100×1000×128 1.3x, ×256 1.04x, ×512 0.96x,
// ×1000 0.95x. Row-major: the CNN's first convolution 50176×9×32 (X̂·Ŵᵀ) 1.35-1.5x, K = 16-32
// with N = 32-64 1.0-1.2x, the shared-A path's 64×1000×64 and 1000×100×64 1.1x; 12544×288×64
// within the noise (0.93-1.07x).
template <typename T>
struct ABlock {
  const T* data;
  int64_t kcb, rs, cs;  // strides of an A read in place (either may be 0: a broadcast view)
  bool in_place;

  static ABlock of(const GemmKernels<T>& ker, const ConstMatrix<T>& a, int64_t n, int64_t row0, int64_t pc,
                   int64_t kcb, const T* abuf) {
    if ((a.rs == 1 || a.cs == 1) && ceil_div(n, ker.nr) <= kInPlaceASlivers)
      return {a.data + row0 * a.rs + pc * a.cs, kcb, a.rs, a.cs, true};
    return {abuf, kcb, 0, 0, false};
  }
  bool packed() const { return !in_place; }
  const T* row(int64_t i) const { return packed() ? data + i * kcb : data + i * rs; }
  int64_t row_step() const { return packed() ? 1 : rs; }
  int64_t col_step(int h) const { return packed() ? h : cs; }
};

// One B sliver (kcb × w at bp, rows ldb apart) against rows [0, rows) of the A block.
template <typename T>
void sweep_rows(const GemmKernels<T>& ker, const ABlock<T>& ab, int64_t rows, const T* bp, int64_t ldb, int w,
                T* c, int64_t ldc, const Epilogue<T>& ep) {
  for_each_sliver(rows, ker.mr, [&](int64_t ir, int h) {
    ker.micro(h, w, ab.kcb, ab.row(ir), ab.row_step(), ab.col_step(h), bp, ldb, c + ir * ldc, ldc, ep);
  });
}

// No packing of A, and B read in place where its rows are contiguous: for shapes so small
// that packing would be most of the work. A transposed A goes down K in blocks of at most
// kSmallKBlock, so that the lines that an A sliver brings in (a few of each line's elements
// are its own) are still in L1/L2 for the next slivers. Also handles k == 0 (C = act(bias)).
template <typename T>
void gemm_small(const GemmKernels<T>& ker, const ConstMatrix<T>& a, const ConstMatrix<T>& b, T* c,
                int64_t ldc, const T* bias, Activation act, T* buf) {
  const int64_t m = a.rows, k = a.cols, n = b.cols;
  const bool transposed_a = a.rs == 1 && a.cs != 1;
  const int64_t kb = transposed_a && k > 0 ? k_block(k, kSmallKBlock) : std::max<int64_t>(k, 1);  // k = 0: one pass
  for (int64_t jr = 0; jr < n; jr += ker.nr) {
    const int w = static_cast<int>(std::min<int64_t>(ker.nr, n - jr));
    for (int64_t pc = 0; pc == 0 || pc < k; pc += kb) {
      const int64_t kcb = std::min(kb, k - pc);
      int64_t ldb;
      const T* bp = sliver_b(ker, b, jr, w, pc, kcb, buf, ldb, true);
      const Epilogue<T> ep{bias ? bias + jr : nullptr, act, pc > 0, pc + kcb == k};
      for_each_sliver(m, ker.mr, [&](int64_t ir, int h) {
        ker.micro(h, w, kcb, a.data + ir * a.rs + pc * a.cs, a.rs, a.cs, bp, ldb, c + ir * ldc + jr, ldc, ep);
      });
    }
  }
}

// op(A) (all rows × a K block) fits in L2: it is packed once per K block and shared (each A
// sliver by the first thread to need it), while the threads split the B slivers in blocks of
// up to nb columns (fewer at the end of each thread's range, see WorkRanges::run), each
// packed into a contiguous buffer just before the microkernel sweeps it down all of M: every
// A sliver against each of the block's B slivers in turn, so that the A sliver is reused from
// L1 and the block from L1/L2.
template <typename T>
void gemm_shared_a(const GemmKernels<T>& ker, const ConstMatrix<T>& a, const ConstMatrix<T>& b, T* c,
                   int64_t ldc, const T* bias, Activation act, int threads) {
  const int64_t m = a.rows, k = a.cols, n = b.cols;
  const int64_t nb = b_block_cols(ker, b, n, threads);
  const int64_t kb = shared_a_k_block(k, m + nb, sizeof(T));
  const int64_t a_elems = round_up(m * kb, 64);
  T* abuf = workspace<T>(a_elems + threads * kb * nb);
  const int64_t slivers_a = ceil_div(m, ker.mr);
  const int64_t slivers_b = ceil_div(n, ker.nr), run_b = nb / ker.nr;
  WorkRanges work(threads, slivers_b);
  // The packed A block is made of items, each packed by the first thread to need it: one
  // sliver each for a row-major A; for a transposed A (see pack_a_slivers) a range of K of all
  // slivers, 2 per thread, so that each reads a contiguous run of the stored rows (1.06-1.12x
  // on the MLP's Aᵀ·B on one core, against one sliver at a time). Each thread starts at
  // another item, so that the threads pack different items at the same time.
  const bool by_k = a.rs == 1;
  const int64_t groups = by_k ? 1 : slivers_a, parts = by_k ? 2 * threads : 1;
  PackOnce packed_a(groups * parts);
#pragma omp parallel num_threads(threads)
  {
    const int t = thread_num();
    T* bbuf = abuf + a_elems + t * kb * nb;
    for (int64_t pc = 0; pc < k; pc += kb) {
      const int64_t kcb = std::min(kb, k - pc);
      Epilogue<T> ep{nullptr, act, pc > 0, pc + kcb == k};
      const ABlock<T> ab = ABlock<T>::of(ker, a, n, 0, pc, kcb, abuf);
      work.run(t, run_b, [&](int64_t first, int64_t count) {
        const int64_t j0 = first * ker.nr;
        const int wb = static_cast<int>(std::min<int64_t>(count * ker.nr, n - j0));
        int64_t ldb;
        const T* bp = sliver_b(ker, b, j0, wb, pc, kcb, bbuf, ldb, false);
        for (int64_t i = 0; i < groups; ++i) {
          const int64_t g = (groups * t / threads + i) % groups, s0 = slivers_a * g / groups,
                        s1 = slivers_a * (g + 1) / groups;
          for (int64_t j = 0; j < parts && ab.packed(); ++j) {
            const int64_t q = (parts * t / threads + j) % parts;
            packed_a.ensure(g * parts + q, [&] {
              pack_a_slivers(ker, a, 0, m, s0, s1, pc, kcb, kcb * q / parts, kcb * (q + 1) / parts, abuf);
            });
          }
          for (int64_t sa = s0; sa < s1; ++sa) {
            const Sliver part = sliver(m, ker.mr, sa);
            for (int jr = 0; jr < wb; jr += ker.nr) {
              const int w = std::min(ker.nr, wb - jr);
              ep.bias = bias ? bias + j0 + jr : nullptr;
              ker.micro(part.rows, w, kcb, ab.row(part.first), ab.row_step(), ab.col_step(part.rows), bp + jr, ldb,
                        c + part.first * ldc + j0 + jr, ldc, ep);
            }
          }
        }
      });
      if (pc + kcb < k) {  // the next K block reuses the buffers: everyone must be done
#pragma omp barrier
#pragma omp single
        {
          work.reset();
          packed_a.reset();
        }
      }
    }
  }
}

// The full loop nest for large M: each B panel (kc × nc) is packed once and shared (each
// sliver by the first thread to need it), while the threads split the blocks of mc rows,
// packing their A blocks privately. (Packing B in blocks of slivers, as gemm_shared_a does,
// measured 12% slower here at 2048³: the panel's rows are only kc long.)
template <typename T>
void gemm_shared_b(const GemmKernels<T>& ker, const ConstMatrix<T>& a, const ConstMatrix<T>& b, T* c,
                   int64_t ldc, const T* bias, Activation act, int threads) {
  const int64_t m = a.rows, k = a.cols, n = b.cols;
  const int64_t kb = k_block(k, ker.kc);
  const int64_t b_elems = round_up(std::min(n, ker.nc), ker.nr) * kb;
  // M blocks of up to mc rows, at least 4 per thread, so that taking the others' leftovers can
  // even out the load; smaller blocks only mean more sweeps over a B panel that is in L2/L3.
  // The blocks shrink toward the end of each thread's range (WorkRanges::run): with whole
  // blocks to the end, one thread waited up to a block's time at each K block's barrier.
  const int64_t mc = std::clamp(round_up(ceil_div(m, 4 * threads), ker.mr), int64_t(ker.mr), ker.mc);
  T* bbuf = workspace<T>(b_elems + threads * mc * kb);
  WorkRanges work(threads, ceil_div(m, ker.mr));
  PackOnce packed_b(ceil_div(std::min(n, ker.nc), ker.nr));
#pragma omp parallel num_threads(threads)
  {
    const int t = thread_num();
    T* abuf = bbuf + b_elems + t * mc * kb;
    for (int64_t jc = 0; jc < n; jc += ker.nc) {
      const int64_t ncb = std::min(ker.nc, n - jc);
      for (int64_t pc = 0; pc < k; pc += kb) {
        const int64_t kcb = std::min(kb, k - pc);
        Epilogue<T> ep{nullptr, act, pc > 0, pc + kcb == k};
        work.run(t, mc / ker.mr, [&](int64_t first, int64_t count) {
          const int64_t ic = first * ker.mr, mcb = std::min(count * ker.mr, m - ic);
          const ABlock<T> ab = ABlock<T>::of(ker, a, ncb, ic, pc, kcb, abuf);
          if (ab.packed()) pack_a_slivers(ker, a, ic, mcb, 0, ceil_div(mcb, ker.mr), pc, kcb, 0, kcb, abuf);
          for (int64_t jr = 0; jr < ncb; jr += ker.nr) {
            const int w = static_cast<int>(std::min<int64_t>(ker.nr, ncb - jr));
            T* bp = bbuf + jr * kcb;
            int64_t ldb;
            packed_b.ensure(jr / ker.nr, [&] { sliver_b(ker, b, jc + jr, w, pc, kcb, bp, ldb, false); });
            ep.bias = bias ? bias + jc + jr : nullptr;
            sweep_rows(ker, ab, mcb, bp, round_up(w, ker.vl), w, c + ic * ldc + jc + jr, ldc, ep);
          }
        });
        if (pc + kcb < k || jc + ncb < n) {  // the next panel reuses the buffers
#pragma omp barrier
#pragma omp single
          {
            work.reset();
            packed_b.reset();
          }
        }
      }
    }
  }
}

// The schedule for a product worth packing, on `threads` threads.
template <typename T>
void gemm_packed(const GemmKernels<T>& ker, const ConstMatrix<T>& a, const ConstMatrix<T>& b, T* c, int64_t ldc,
                 const T* bias, Activation act, int threads) {
  const int64_t m = a.rows, k = a.cols, n = b.cols;
  const int64_t sliver = k * ker.nr;  // scratch of one packed B sliver
  // One B sliver that fits in L2 down all of K: each A element is used once, so packing A
  // would only copy it. (A deeper sliver is left to the shared-A path, which packs B a K block
  // at a time and reads such an A in place.)
  if (n <= ker.nr && sliver * static_cast<int64_t>(sizeof(T)) <= kSharedABytes) {
    T* bufs = workspace<T>(threads * sliver);
    const int64_t slivers_a = ceil_div(m, ker.mr);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int t = 0; t < threads; ++t) {
      const int64_t i0 = slivers_a * t / threads * ker.mr, i1 = std::min(m, slivers_a * (t + 1) / threads * ker.mr);
      const ConstMatrix<T> band{a.data + i0 * a.rs, i1 - i0, k, a.rs, a.cs};
      if (i0 < i1) gemm_small(ker, band, b, c + i0 * ldc, ldc, bias, act, bufs + t * sliver);
    }
    return;
  }
  if (m <= kSharedARows || shared_a_k_block(k, m, sizeof(T)) >= std::min<int64_t>(k, kMinSharedK)) {
    const int useful = static_cast<int>(std::min<int64_t>(threads, ceil_div(n, ker.nr)));  // one per B sliver at most
    return gemm_shared_a(ker, a, b, c, ldc, bias, act, useful);
  }
  gemm_shared_b(ker, a, b, c, ldc, bias, act, threads);
}

// C = A·B with K split in `threads` ranges: thread t computes A[:, K_t]·B[K_t, :] on its own,
// into C (t = 0) or a buffer of its own, and the buffers are then added into C. Splitting C's
// columns instead left each thread a few B slivers, or (N ≤ nr) its own packed copy of B down
// all of K, swept from L3 once per A sliver.
template <typename T>
void gemm_split_k(const GemmKernels<T>& ker, const ConstMatrix<T>& a, const ConstMatrix<T>& b, T* c, int64_t ldc,
                  int threads) {
  const int64_t m = a.rows, k = a.cols, n = b.cols;
  std::unique_ptr<T[]> partial(new T[(threads - 1) * m * n]);
  std::exception_ptr error;  // an allocation failing in a thread: raised after the region
  // Range t by whichever thread takes it: OpenMP may start fewer threads than asked
  // (OMP_DYNAMIC, OMP_THREAD_LIMIT), and every partial C must still be computed.
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int t = 0; t < threads; ++t) {
    const int64_t k0 = k * t / threads, k1 = k * (t + 1) / threads;
    const ConstMatrix<T> a_t{a.data + k0 * a.cs, m, k1 - k0, a.rs, a.cs};
    const ConstMatrix<T> b_t{b.data + k0 * b.rs, k1 - k0, n, b.rs, b.cs};
    T* c_t = t == 0 ? c : partial.get() + (t - 1) * m * n;
    try {
      gemm_packed(ker, a_t, b_t, c_t, t == 0 ? ldc : n, static_cast<const T*>(nullptr), Activation::Identity, 1);
    } catch (...) {
#pragma omp critical
      error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  for (int t = 1; t < threads; ++t)
    for (int64_t i = 0; i < m; ++i) {
      const T* p = partial.get() + (t - 1) * m * n + i * n;
      T* row = c + i * ldc;
      for (int64_t j = 0; j < n; ++j) row[j] += p[j];
    }
}

// Sizes the loops and the scratch computed in int64 can take: each dimension below 2^48 and
// m·n·k below 2^62. A stride-0 view claims any size without the memory (K = 2^60 wrapped the
// scratch size to 0 and the packing wrote past it); no product that big could finish anyway.
bool sizes_fit(int64_t m, int64_t n, int64_t k) {
  constexpr int64_t kMaxDim = int64_t(1) << 48, kMaxWork = int64_t(1) << 62;
  if (m >= kMaxDim || n >= kMaxDim || k >= kMaxDim) return false;
  return m == 0 || n == 0 || k == 0 || (m <= kMaxWork / n && m * n <= kMaxWork / k);
}

}  // namespace

template <typename T>
void gemm(const ConstMatrix<T>& a, const ConstMatrix<T>& b, T* c, int64_t ldc, const T* bias,
          Activation act) {
  const int64_t m = a.rows, k = a.cols, n = b.cols;
  if (!sizes_fit(m, n, k))
    throw std::length_error("gemm: a product of " + std::to_string(m) + "×" + std::to_string(k) + " by " +
                            std::to_string(k) + "×" + std::to_string(n) + " is too large");
  if (m == 0 || n == 0) return;
  const GemmKernels<T>& ker = kernels<T>();
  const int64_t flops = m * n * k;
  if (k == 0 || flops <= kSmallFlops)
    return gemm_small(ker, a, b, c, ldc, bias, act, workspace<T>(std::max<int64_t>(k, 1) * ker.nr));
  const int threads = static_cast<int>(std::clamp<int64_t>(flops / kFlopsPerThread, 1, max_threads()));
  if (threads > 1 && m * n <= kSplitKMaxC && k >= kSplitKMinK && !bias && act == Activation::Identity)
    return gemm_split_k(ker, a, b, c, ldc, threads);
  gemm_packed(ker, a, b, c, ldc, bias, act, threads);
}

template void gemm<float>(const ConstMatrix<float>&, const ConstMatrix<float>&, float*, int64_t,
                          const float*, Activation);
template void gemm<double>(const ConstMatrix<double>&, const ConstMatrix<double>&, double*, int64_t,
                           const double*, Activation);

}  // namespace xpgrad::cpu
