// Pieces shared by the GEMM kernels (gemm.cu: SIMT fp32/fp64, gemm_tf32.cu: tensor cores):
// the shared-memory tile loader that absorbs transposes, and the bias + activation epilogue.
#pragma once
#include "common.cuh"

namespace xpgrad::cuda::gemm_detail {

constexpr int kPad = 4;  // shared rows padded: fewer bank conflicts, keeps WMMA's 16-byte ldm

// One operand's BK x ROWS slice, stored k-major in shared memory as s[k][r]. Element (r, k)
// sits at src[r·ld + k] when CONTIG_K, else at src[k·ld + r]; consecutive threads take
// consecutive addresses either way, so the global loads coalesce. Out-of-range reads are 0.
template <typename T, int ROWS, int BK, int THREADS, bool CONTIG_K> struct TileLoader {
  static_assert(ROWS * BK % THREADS == 0, "tile must split evenly over the threads");
  static constexpr int kPerThread = ROWS * BK / THREADS;
  T reg[kPerThread];

  __device__ static void coords(int p, int& r, int& kk) {
    const int l = threadIdx.x + p * THREADS;
    r = CONTIG_K ? l / BK : l % ROWS;
    kk = CONTIG_K ? l % BK : l / ROWS;
  }
  __device__ void fetch(const T* src, int64_t ld, int64_t r0, int64_t rows, int64_t k0, int64_t k) {
#pragma unroll
    for (int p = 0; p < kPerThread; ++p) {
      int r, kk;
      coords(p, r, kk);
      const int64_t gr = r0 + r, gk = k0 + kk;
      reg[p] = gr < rows && gk < k ? src[CONTIG_K ? gr * ld + gk : gk * ld + gr] : T(0);
    }
  }
  __device__ void store(T (*s)[ROWS + kPad]) const {
#pragma unroll
    for (int p = 0; p < kPerThread; ++p) {
      int r, kk;
      coords(p, r, kk);
      s[kk][r] = reg[p];
    }
  }
};

// Epilogue shared by both paths: bias add, activation, bounds-checked store.
template <typename T>
__device__ __forceinline__ void store_output(T* c, int64_t n, int64_t row, int64_t col, T v,
                                             const T* bias, Act act) {
  if (bias) v += bias[col];
  c[row * n + col] = activate(v, act);
}

// Whether the current device runs the TF32 kernel built for sm_80 or newer: a build for older
// architectures only (CUDAARCHS=75) runs on an A100/H100 from PTX JIT-compiled for compute_75,
// whose kernel body is a trap that would leave the process's CUDA context unusable.
bool tf32_built_for_device();

// TF32 tensor-core GEMM (gemm_tf32.cu), same contract as gemm(); float only, sm_80+.
cudaError_t gemm_tf32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
                      int64_t lda, const float* b, int64_t ldb, float* c, const float* bias, Act act,
                      cudaStream_t stream);

}  // namespace xpgrad::cuda::gemm_detail
