// C = act(op(A)·op(B) + bias) on TF32 tensor cores (opt-in, sm_80+): the SIMT path's tile
// loaders feed WMMA 16x16x8 fragments; inputs are rounded to TF32 (10-bit mantissa), products
// accumulate in fp32.
#include <mma.h>

#include <atomic>

#include "gemm_tiles.cuh"

namespace xpgrad::cuda::gemm_detail {
namespace {

// TF32 tensor cores: 64 x 64 tile per block of 4 warps, each warp a 32 x 32 quarter made of
// 2 x 2 WMMA 16x16x8 fragments; fp32 accumulate. Inputs are rounded to TF32 (10-bit mantissa).
constexpr int kTf32Threads = 128;
constexpr int kTf32Tile = 64;

template <bool TA, bool TB>
__global__ void __launch_bounds__(kTf32Threads)
gemm_tf32_kernel(int64_t m, int64_t n, int64_t k, const float* __restrict__ a, int64_t lda,
                 const float* __restrict__ b, int64_t ldb, float* __restrict__ c,
                 const float* __restrict__ bias, Act act) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using namespace nvcuda;
  constexpr int T = kTf32Tile, BK = 16, LD = T + kPad;
  // WMMA needs 256-bit aligned fragment pointers: every offset used below is a multiple of 32 B.
  __shared__ __align__(128) float as[BK][LD];
  __shared__ __align__(128) float bs[BK][LD];
  __shared__ __align__(128) float cs[T][LD];
  TileLoader<float, T, BK, kTf32Threads, !TA> load_a;
  TileLoader<float, T, BK, kTf32Threads, TB> load_b;
  const int warp = threadIdx.x / 32, wm = warp / 2, wn = warp % 2;
  const int64_t tiles_n = ceil_div(n, T), tiles = ceil_div(m, T) * tiles_n;

  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const int64_t m0 = tile / tiles_n * T, n0 = tile % tiles_n * T;
    wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[2][2];
    for (auto& row : acc)
      for (auto& f : row) wmma::fill_fragment(f, 0.0f);
    load_a.fetch(a, lda, m0, m, 0, k);
    load_b.fetch(b, ldb, n0, n, 0, k);
    for (int64_t k0 = 0; k0 < k; k0 += BK) {
      load_a.store(as);
      load_b.store(bs);
      __syncthreads();
      if (k0 + BK < k) {
        load_a.fetch(a, lda, m0, m, k0 + BK, k);
        load_b.fetch(b, ldb, n0, n, k0 + BK, k);
      }
#pragma unroll
      for (int kk = 0; kk < BK; kk += 8) {
        // as is k-major, i.e. A column-major with ld LD; bs is B row-major.
        wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::col_major> fa[2];
        wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fb[2];
        for (int i = 0; i < 2; ++i) {
          wmma::load_matrix_sync(fa[i], &as[kk][wm * 32 + i * 16], LD);
          for (int t = 0; t < fa[i].num_elements; ++t) fa[i].x[t] = wmma::__float_to_tf32(fa[i].x[t]);
          wmma::load_matrix_sync(fb[i], &bs[kk][wn * 32 + i * 16], LD);
          for (int t = 0; t < fb[i].num_elements; ++t) fb[i].x[t] = wmma::__float_to_tf32(fb[i].x[t]);
        }
        for (int i = 0; i < 2; ++i)
          for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
      }
      __syncthreads();
    }
    // Fragments have an opaque thread layout: go through shared memory for the epilogue.
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j)
        wmma::store_matrix_sync(&cs[wm * 32 + i * 16][wn * 32 + j * 16], acc[i][j], LD,
                                wmma::mem_row_major);
    __syncthreads();
    for (int idx = threadIdx.x; idx < T * T; idx += kTf32Threads) {
      const int r = idx / T, col = idx % T;
      if (m0 + r < m && n0 + col < n) store_output(c, n, m0 + r, n0 + col, cs[r][col], bias, act);
    }
    __syncthreads();  // cs is rewritten by the next tile
  }
#else
  __trap();  // never launched: the host checks what the kernel was built for (tf32_built_for_device)
#endif
}

template <bool TA, bool TB>
cudaError_t launch_tf32(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                        const float* b, int64_t ldb, float* c, const float* bias, Act act,
                        cudaStream_t stream) {
  const int64_t blocks = std::min(ceil_div(m, kTf32Tile) * ceil_div(n, kTf32Tile), kMaxBlocks);
  gemm_tf32_kernel<TA, TB>
      <<<unsigned(blocks), kTf32Threads, 0, stream>>>(m, n, k, a, lda, b, ldb, c, bias, act);
  return cudaGetLastError();
}

}  // namespace

bool tf32_built_for_device() {
  // Per device: 0 not asked yet, 1 yes, 2 no (more devices than slots are asked every time).
  static std::atomic<int> known[64];
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) return false;
  const int seen = dev >= 0 && dev < 64 ? known[dev].load(std::memory_order_relaxed) : 0;
  if (seen != 0) return seen == 1;
  cudaFuncAttributes attr{};
  const bool ok = cudaFuncGetAttributes(&attr, gemm_tf32_kernel<false, false>) == cudaSuccess && attr.ptxVersion >= 80;
  (void)cudaGetLastError();  // no image for this device: not an error of the caller's next launch
  if (dev >= 0 && dev < 64) known[dev].store(ok ? 1 : 2, std::memory_order_relaxed);
  return ok;
}

cudaError_t gemm_tf32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                      int64_t lda, const float* b, int64_t ldb, float* c, const float* bias, Act act,
                      cudaStream_t stream) {
  if (trans_a) return launch_tf32<true, false>(m, n, k, a, lda, b, ldb, c, bias, act, stream);
  if (trans_b) return launch_tf32<false, true>(m, n, k, a, lda, b, ldb, c, bias, act, stream);
  return launch_tf32<false, false>(m, n, k, a, lda, b, ldb, c, bias, act, stream);
}

}  // namespace xpgrad::cuda::gemm_detail
