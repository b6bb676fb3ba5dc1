// Dropout mask kernel, compiled once per ISA (the .cpp defines XPGRAD_ISA) so the branch-free
// 64-bit hash loop is auto-vectorised for each instruction set.
// u(seed, i) = splitmix64 output for counter i: a bijective 64-bit mix of seed + (i+1)·φ
// (Steele, Lea & Flood 2014), of which the top 53 bits are the uniform draw.
#include "xpgrad/dropout.h"
#include "xpgrad/parallel.h"

namespace xpgrad::cpu::XPGRAD_ISA {
namespace {

template <class T>
void dropout_mask(T* out, int64_t n, uint64_t seed, uint64_t keep_from, T scale) {
  parallel_for(n, int64_t(1) << 16, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
      uint64_t z = seed + uint64_t(i + 1) * 0x9E3779B97F4A7C15ull;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      z ^= z >> 31;
      out[i] = (z >> 11) >= keep_from ? scale : T(0);
    }
  }, 16);
}

}  // namespace

XPGRAD_CONSTINIT const KernelTable<DropoutKernels> dropout_kernels = {
    {dropout_mask<float>}, {dropout_mask<double>}};

}  // namespace xpgrad::cpu::XPGRAD_ISA
