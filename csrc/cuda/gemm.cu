// C = act(op(A)·op(B) + bias), row-major, for the three transposition cases a network needs:
// A·B (forward), A·Bᵀ (dX = g·Wᵀ), Aᵀ·B (dW = xᵀ·g). Transposes are absorbed by the tile
// loaders (they read through the leading dimension), so one kernel body serves all cases.
//
// SIMT path (fp32 and fp64): a block computes a BM x BN tile of C, marching over K in BK slices
// staged in shared memory; each of its 16 x 16 threads keeps TM x TN accumulators in registers
// (register blocking: (TM + TN)/4 16-byte shared loads feed TM·TN FMAs). The next K slice is
// fetched into registers while the current one is multiplied, hiding global-memory latency.
// TF32 path (opt-in, sm_80+): gemm_tf32.cu.
#include "gemm_tiles.cuh"

namespace xpgrad::cuda {
namespace {
using namespace gemm_detail;

template <int BM_, int BN_, int BK_> struct Tiles {
  static constexpr int BM = BM_, BN = BN_, BK = BK_, TM = BM_ / 16, TN = BN_ / 16;
};
using BigFloat = Tiles<128, 128, 8>;    // 8 x 8 outputs per thread
using SmallFloat = Tiles<64, 64, 16>;   // 4 x 4: more blocks when C is small
using DoubleTiles = Tiles<64, 64, 8>;   // fp64: half the registers per value
constexpr int kSimtThreads = 256;

// Thread t of 16 owns rows (or columns) (i/4)·64 + 4t + i%4 of the tile: runs of 4 adjacent
// values, so one 16-byte shared load fetches 4 operands, and a warp's runs tile 64 contiguous
// values (conflict-free loads, coalesced stores).
__device__ __forceinline__ int spread(int t, int i) { return (i / 4) * 64 + 4 * t + i % 4; }

// out[0..3] = p[0..3] with 16-byte loads; p is 16-byte aligned.
__device__ __forceinline__ void load4(const float* p, float* out) {
  const float4 v = *reinterpret_cast<const float4*>(p);
  out[0] = v.x, out[1] = v.y, out[2] = v.z, out[3] = v.w;
}
__device__ __forceinline__ void load4(const double* p, double* out) {
  const double2 lo = reinterpret_cast<const double2*>(p)[0], hi = reinterpret_cast<const double2*>(p)[1];
  out[0] = lo.x, out[1] = lo.y, out[2] = hi.x, out[3] = hi.y;
}

template <typename T, typename Cfg, bool TA, bool TB>
__global__ void __launch_bounds__(kSimtThreads, 2)
gemm_simt_kernel(int64_t m, int64_t n, int64_t k, const T* __restrict__ a, int64_t lda,
                 const T* __restrict__ b, int64_t ldb, T* __restrict__ c,
                 const T* __restrict__ bias, Act act) {
  constexpr int BM = Cfg::BM, BN = Cfg::BN, BK = Cfg::BK, TM = Cfg::TM, TN = Cfg::TN;
  static_assert(TM % 4 == 0 && TN % 4 == 0 && (BM + kPad) * sizeof(T) % 16 == 0, "16-byte loads");
  __shared__ __align__(16) T as[BK][BM + kPad];
  __shared__ __align__(16) T bs[BK][BN + kPad];
  TileLoader<T, BM, BK, kSimtThreads, !TA> load_a;  // A(i, k) = a[i·lda + k] unless transposed
  TileLoader<T, BN, BK, kSimtThreads, TB> load_b;   // B(k, j) = b[k·ldb + j] unless transposed
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int64_t tiles_n = ceil_div(n, BN), tiles = ceil_div(m, BM) * tiles_n;

  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const int64_t m0 = tile / tiles_n * BM, n0 = tile % tiles_n * BN;
    T acc[TM][TN] = {};
    load_a.fetch(a, lda, m0, m, 0, k);
    load_b.fetch(b, ldb, n0, n, 0, k);
    for (int64_t k0 = 0; k0 < k; k0 += BK) {
      load_a.store(as);
      load_b.store(bs);
      __syncthreads();
      if (k0 + BK < k) {  // next slice in flight while this one is multiplied
        load_a.fetch(a, lda, m0, m, k0 + BK, k);
        load_b.fetch(b, ldb, n0, n, k0 + BK, k);
      }
#pragma unroll
      for (int kk = 0; kk < BK; ++kk) {
        T ra[TM], rb[TN];
#pragma unroll
        for (int g = 0; g < TM / 4; ++g) load4(&as[kk][g * 64 + 4 * ty], &ra[4 * g]);
#pragma unroll
        for (int g = 0; g < TN / 4; ++g) load4(&bs[kk][g * 64 + 4 * tx], &rb[4 * g]);
#pragma unroll
        for (int i = 0; i < TM; ++i)
#pragma unroll
          for (int j = 0; j < TN; ++j) acc[i][j] = fma_(ra[i], rb[j], acc[i][j]);
      }
      __syncthreads();  // the slice is overwritten next iteration
    }
#pragma unroll
    for (int i = 0; i < TM; ++i) {
      const int64_t row = m0 + spread(ty, i);
#pragma unroll
      for (int j = 0; j < TN; ++j) {
        const int64_t col = n0 + spread(tx, j);
        if (row < m && col < n) store_output(c, n, row, col, acc[i][j], bias, act);
      }
    }
  }
}

int device_attribute(cudaDeviceAttr attr) {
  int dev = 0, value = 0;
  if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&value, attr, dev) != cudaSuccess)
    return 0;
  return value;
}

template <typename T, typename Cfg, bool TA, bool TB>
cudaError_t launch_simt(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
                        int64_t ldb, T* c, const T* bias, Act act, cudaStream_t stream) {
  const int64_t blocks = std::min(ceil_div(m, Cfg::BM) * ceil_div(n, Cfg::BN), kMaxBlocks);
  gemm_simt_kernel<T, Cfg, TA, TB>
      <<<unsigned(blocks), kSimtThreads, 0, stream>>>(m, n, k, a, lda, b, ldb, c, bias, act);
  return cudaGetLastError();
}

template <typename T, bool TA, bool TB>
cudaError_t dispatch_tiles(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
                           int64_t ldb, T* c, const T* bias, Act act, bool tf32,
                           cudaStream_t stream) {
  if constexpr (std::is_same_v<T, float>) {
    if (tf32 && tf32_built_for_device())
      return gemm_tf32(TA, TB, m, n, k, a, lda, b, ldb, c, bias, act, stream);
    if (gemm_use_big_tiles(m, n, device_attribute(cudaDevAttrMultiProcessorCount)))
      return launch_simt<T, BigFloat, TA, TB>(m, n, k, a, lda, b, ldb, c, bias, act, stream);
    return launch_simt<T, SmallFloat, TA, TB>(m, n, k, a, lda, b, ldb, c, bias, act, stream);
  } else {
    return launch_simt<T, DoubleTiles, TA, TB>(m, n, k, a, lda, b, ldb, c, bias, act, stream);
  }
}

}  // namespace

template <typename T>
cudaError_t gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a,
                 int64_t lda, const T* b, int64_t ldb, T* c, const T* bias, Act act, bool tf32,
                 cudaStream_t stream) {
  if (m == 0 || n == 0) return cudaSuccess;
  if (trans_a && trans_b) return cudaErrorInvalidValue;  // not needed by any op; rejected upstream
  if (trans_a) return dispatch_tiles<T, true, false>(m, n, k, a, lda, b, ldb, c, bias, act, tf32, stream);
  if (trans_b) return dispatch_tiles<T, false, true>(m, n, k, a, lda, b, ldb, c, bias, act, tf32, stream);
  return dispatch_tiles<T, false, false>(m, n, k, a, lda, b, ldb, c, bias, act, tf32, stream);
}

template cudaError_t gemm<float>(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t,
                                 const float*, int64_t, float*, const float*, Act, bool, cudaStream_t);
template cudaError_t gemm<double>(bool, bool, int64_t, int64_t, int64_t, const double*, int64_t,
                                  const double*, int64_t, double*, const double*, Act, bool,
                                  cudaStream_t);

}  // namespace xpgrad::cuda
