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
constexpr int64_t kMaxSharedBytes = 48 * 1024;  // static + dynamic shared memory without opt-in

XPGRAD_HOST_DEVICE inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Blocks for a grid-stride loop over n elements (0 when there is nothing to do).
inline int64_t blocks_1d(int64_t n, int threads = kThreads) {
  return n <= 0 ? 0 : std::min(ceil_div(n, threads), kMaxBlocks);
}

// Row kernels: `threads_per_row` is 32 (a warp per row, 8 rows per block) for short rows,
// kThreads (a block per row) for long ones, where one warp would loop too long.
struct RowLaunch {
  int threads_per_row;
  int rows_per_block;
  int64_t blocks;
};

inline RowLaunch row_launch(int64_t rows, int64_t k) {
  RowLaunch r{};
  r.threads_per_row = k <= kWarpRowMaxK ? 32 : kThreads;
  r.rows_per_block = kThreads / r.threads_per_row;
  r.blocks = rows <= 0 ? 0 : std::min(ceil_div(rows, r.rows_per_block), kMaxBlocks);
  return r;
}

// Sparsemax re-reads its row ~10-40 times: keep the block's rows in shared memory when they
// fit, else read them from global memory (L2). Returns the dynamic shared bytes, 0 = no cache.
inline int64_t sparsemax_cache_bytes(const RowLaunch& r, int64_t k, int64_t elem_size) {
  const int64_t bytes = int64_t(r.rows_per_block) * k * elem_size;
  return bytes <= kMaxSharedBytes - 4096 ? bytes : 0;  // 4 KiB left for reduction scratch
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
