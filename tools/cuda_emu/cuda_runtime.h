// A CPU stand-in for the slice of the CUDA runtime and execution model xpgrad's kernels use, so
// the kernels' indexing, tiling and reductions can be run and checked on a machine without a
// GPU (tools/cuda_emu/build.py). A block runs as blockDim std::threads at once; blocks run
// one after another, so a function-static array is exactly one block's shared memory.
// __syncthreads/__syncwarp are barriers, warp shuffles go through a per-warp buffer.
// Not modelled: memory-ordering subtleties, warp-synchronous code without explicit sync,
// performance. Device pointers are host pointers.
#pragma once
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};

struct alignas(16) float4 {
  float x, y, z, w;
};
struct alignas(16) double2 {
  double x, y;
};

typedef struct CUstream_st* cudaStream_t;
enum cudaError_t { cudaSuccess = 0, cudaErrorInvalidValue = 1, cudaErrorNoDevice = 100 };
enum cudaDeviceAttr { cudaDevAttrMultiProcessorCount = 16, cudaDevAttrComputeCapabilityMajor = 75 };
enum cudaMemoryType { cudaMemoryTypeUnregistered = 0, cudaMemoryTypeHost, cudaMemoryTypeDevice, cudaMemoryTypeManaged };
struct cudaPointerAttributes {
  cudaMemoryType type;
  int device;
};
struct cudaFuncAttributes {
  int numRegs;
  int ptxVersion;
};

namespace emu {
struct Warp {
  std::barrier<> bar{32};
  alignas(16) unsigned char buf[32][16];
};
struct Block {
  std::unique_ptr<std::barrier<>> bar;
  std::vector<std::unique_ptr<Warp>> warps;
  std::vector<unsigned char> smem;
};
struct Ctx {
  dim3 thread, block, block_dim, grid_dim;
  Block* blk;
};
inline thread_local Ctx ctx;
inline Block* current_block = nullptr;

inline unsigned char* dynamic_smem() { return ctx.blk->smem.data(); }

// kernel<<<grid, block, smem, stream>>>(args) becomes launch(grid, block, smem, stream, [&]{...}).
// One std::thread per CUDA thread, reused for every block; a barrier separates the blocks.
template <typename F>
void launch(unsigned grid, unsigned threads, size_t smem, cudaStream_t, F&& body) {
  Block blk;
  blk.bar = std::make_unique<std::barrier<>>(threads);
  for (unsigned w = 0; w < (threads + 31) / 32; ++w) blk.warps.push_back(std::make_unique<Warp>());
  blk.smem.assign(smem + 16, 0xAB);  // garbage, as on a GPU
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (unsigned b = 0; b < grid; ++b) {
        ctx = Ctx{{t, 0, 0}, {b, 0, 0}, {threads, 1, 1}, {grid, 1, 1}, &blk};
        body();
        blk.bar->arrive_and_wait();  // the next block reuses the shared memory
      }
    });
  for (auto& th : pool) th.join();
}
}  // namespace emu

#define threadIdx (emu::ctx.thread)
#define blockIdx (emu::ctx.block)
#define blockDim (emu::ctx.block_dim)
#define gridDim (emu::ctx.grid_dim)

inline void __syncthreads() { emu::ctx.blk->bar->arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu::ctx.blk->warps[threadIdx.x / 32]->bar.arrive_and_wait(); }

template <typename T> T __shfl_xor_sync(unsigned, T v, int lane_mask) {
  static_assert(sizeof(T) <= 16);
  emu::Warp& w = *emu::ctx.blk->warps[threadIdx.x / 32];
  const unsigned lane = threadIdx.x % 32;
  std::memcpy(w.buf[lane], &v, sizeof(T));
  w.bar.arrive_and_wait();
  T r;
  std::memcpy(&r, w.buf[lane ^ unsigned(lane_mask)], sizeof(T));
  w.bar.arrive_and_wait();  // nobody overwrites buf before everyone has read
  return r;
}

inline bool __any_sync(unsigned, bool pred) {
  emu::Warp& w = *emu::ctx.blk->warps[threadIdx.x / 32];
  w.buf[threadIdx.x % 32][0] = pred;
  w.bar.arrive_and_wait();
  bool any = false;
  for (int lane = 0; lane < 32; ++lane) any = any || w.buf[lane][0];
  w.bar.arrive_and_wait();
  return any;
}

inline void __trap() { std::abort(); }

inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline const char* cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "emulated error"; }
inline cudaError_t cudaGetDevice(int* d) { *d = 0; return cudaSuccess; }
inline cudaError_t cudaSetDevice(int) { return cudaSuccess; }
inline cudaError_t cudaGetDeviceCount(int* n) { *n = 1; return cudaSuccess; }
inline cudaError_t cudaRuntimeGetVersion(int* v) { *v = 13000; return cudaSuccess; }
// An sm_90 device with 132 SMs (an H100), so the TF32 path can be taken when asked for.
inline cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int) {
  *v = a == cudaDevAttrComputeCapabilityMajor ? 9 : 132;
  return cudaSuccess;
}
inline cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* a, const void*) {
  a->type = cudaMemoryTypeDevice;
  a->device = 0;
  return cudaSuccess;
}
// Kernels built as for sm_80 (build.py compiles the TF32 file with __CUDA_ARCH__ = 800).
template <typename K> cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* a, K) {
  a->ptxVersion = 80;
  return cudaSuccess;
}
