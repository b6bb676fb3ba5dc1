// What one instruction set contributes to the GEMM driver: block sizes, the packing routine
// and the register-blocked microkernel. One table per ISA and dtype (gemm_kernel_<isa>.cpp).
#pragma once
#include <cstdint>

#include "xpgrad/gemm.h"

namespace xpgrad::cpu {

// Write-back of a C tile: C = act(acc + [accumulate]·C + [final]·bias). Only the last K block
// is `final`; earlier blocks store (first) or accumulate into C.
template <typename T>
struct Epilogue {
  const T* bias;  // already offset to the tile's first column; null for none
  Activation act;
  bool accumulate;
  bool final;
};

template <typename T>
struct GemmKernels {
  int mr;          // rows of the register block (broadcast operand A)
  int nr;          // columns of the register block (vector operand B), a multiple of vl
  int vl;          // SIMD lanes
  int64_t mc, kc, nc;  // cache blocks: A block mc×kc in L2, B sliver kc×nr in L1, B panel kc×nc
  // Panel packing: dst[k*width + r] = x[r*rs + k*ks] for r < rows, k < kc; zero for
  // rows <= r < width. Packs an A sliver (rows = M) or a B sliver (rows = N). x[r*rs + k*ks]
  // may be read for r < readable (>= rows: the operand's rows past the sliver's).
  void (*pack)(const T* x, int64_t rs, int64_t ks, int rows, int width, int64_t kc, T* dst, int64_t readable);
  // C tile [mr_eff × n_eff] (mr_eff <= mr, n_eff <= nr) from A(i, p) = a[i*a_rs + p*a_cs] and
  // B(p, j) = b[p*ldb + j], p < kc. B rows must be readable up to round_up(n_eff, vl).
  // a_rs == 1 && a_cs == mr_eff selects the packed-A instantiation.
  void (*micro)(int mr_eff, int n_eff, int64_t kc, const T* a, int64_t a_rs, int64_t a_cs,
                const T* b, int64_t ldb, T* c, int64_t ldc, const Epilogue<T>& ep);
};

const GemmKernels<float>& gemm_kernels_portable_f32();
const GemmKernels<double>& gemm_kernels_portable_f64();
#ifdef XPGRAD_X86
const GemmKernels<float>& gemm_kernels_avx2_f32();
const GemmKernels<double>& gemm_kernels_avx2_f64();
const GemmKernels<float>& gemm_kernels_avx512_f32();
const GemmKernels<double>& gemm_kernels_avx512_f64();
#endif

}  // namespace xpgrad::cpu
