// Launch-configuration arithmetic for the CUDA kernels. Pure host C++ (no CUDA headers), so the
// choices can be unit-tested on a machine without a GPU (see _cuda._launch_* in the bindings).
#pragma once
#include <algorithm>
#include <cstdint>

// Usable from kernels too when compiled by nvcc.
#ifdef __CUDACC__
#define XPGRAD_HOST_DEVICE __host__ __device__
#else
#define XPGRAD_HOST_DEVICE
#endif

namespace xpgrad::cuda {

constexpr int kThreads = 256;         // block size of the elementwise and row kernels
constexpr int64_t kMaxBlocks = 65535; // grid cap: kernels use grid-stride loops past it
constexpr int64_t kWarpRowMaxK = 1024; // rows up to this length get a warp each, longer a block

XPGRAD_HOST_DEVICE inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Blocks for a grid-stride loop over n elements (0 when there is nothing to do).
inline int64_t blocks_1d(int64_t n, int threads = kThreads) {
  return n <= 0 ? 0 : std::min(ceil_div(n, threads), kMaxBlocks);
}

// Row kernels (softmax, cross-entropy, sparsemax). `group` threads share a row: 4-32 (several
// rows per warp, a warp per row) or a whole block. When `cap` > 0 each thread keeps `cap` of the
// row's elements in registers (4 consecutive ones per 16-byte load), so the row is read from
// memory once however many passes the op makes; cap = 0 re-reads it from global memory (fp64,
// and rows too long for registers). `inputs` rows are held per row slot (2 in the backward ops).
constexpr int kRowBlockThreads = 1024;  // block size of the block-per-row register plans
constexpr int kRowVec = 4;              // elements per vector access in the register plans

struct RowPlan {
  int group;    // threads per row
  int cap;      // elements per thread held in registers (0: none)
  int threads;  // block size
  int64_t blocks;
};

inline RowPlan row_plan(int64_t rows, int64_t k, bool registers, int inputs) {
  RowPlan p{};
  const int64_t max_cap = inputs > 1 ? 16 : 32;  // registers per thread stay under 64 (1024-thread blocks)
  if (registers && k <= 32 * kRowVec) {
    p.group = 4;
    while (int64_t(p.group) * kRowVec < k) p.group *= 2;
    p.cap = kRowVec;
  } else if (registers && k <= 32 * 32) {
    p.group = 32;
    p.cap = 8;
    while (32 * int64_t(p.cap) < k) p.cap *= 2;
  } else if (registers && k <= kRowBlockThreads * max_cap) {
    p.group = kRowBlockThreads;
    p.cap = kRowVec;
    while (int64_t(kRowBlockThreads) * p.cap < k) p.cap *= 2;
  } else {
    p.group = k <= kWarpRowMaxK ? 32 : kThreads;
    p.cap = 0;
  }
  p.threads = p.group > kThreads ? p.group : kThreads;
  p.blocks = rows <= 0 ? 0 : std::min(ceil_div(rows, p.threads / p.group), kMaxBlocks);
  return p;
}

// GEMM: the big 128x128 tiles need enough of them to fill the GPU; otherwise 64x64 tiles.
inline bool gemm_use_big_tiles(int64_t m, int64_t n, int64_t sm_count = 132) {
  return ceil_div(m, 128) * ceil_div(n, 128) >= sm_count;
}

// Dropout's counter-based RNG: the splitmix64 output for stream `seed` at counter i, so every
// element is independent of launch shape and the same (seed, i) gives the same number.
XPGRAD_HOST_DEVICE inline uint64_t splitmix64(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform on [0, 1) from the top 53 bits: exact in double, and p compares exactly.
XPGRAD_HOST_DEVICE inline double uniform_from_bits(uint64_t bits) {
  return double(bits >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace xpgrad::cuda
