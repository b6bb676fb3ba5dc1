// Work splitting shared by the kernels: a few contiguous ranges run on the thread pool, only
// when the work is large enough to pay for waking a worker.
#pragma once
#include <algorithm>
#include <cstdint>

#include "xpgrad/thread_pool.h"

namespace xpgrad::cpu {

// Items per chunk below which one thread beats two, by the kernel's cost per element (a
// sleeping worker takes 10-20 µs to join on a virtualised Zen 3). Streaming kernels, a few
// flops per element (ReLU, the activations' backward products, SGD), run at ~0.2 ns per
// element: two threads matched one up to ~130K elements and took 0.75-0.8x its time at
// 256K-512K. Compute kernels (exp, sigmoid, tanh, ELU, the square roots and divisions of Adam
// or RMSprop, dropout's hash) take 0.4-3 ns: two threads took ~0.7x at 64K.
constexpr int64_t kStreamingGrain = 1 << 17;
constexpr int64_t kComputeGrain = 1 << 15;

// The grain for items of `work` streamed elements each (an image plane, a row of im2col):
// kStreamingGrain elements' worth, at least one item.
inline int64_t streaming_items(int64_t work) {
  return std::max<int64_t>(1, kStreamingGrain / std::max<int64_t>(work, 1));
}

// f(begin, end) over [0, n) split in up to 4 ranges per thread, each ≥ grain items (several
// per thread so a worker that wakes late still finds work); boundaries are multiples of align
// so vector strips stay whole.
template <class F>
inline void parallel_for(int64_t n, int64_t grain, F&& f, int64_t align = 1) {
  const int64_t chunks = std::min<int64_t>(4 * num_threads(), n / std::max<int64_t>(grain, 1));
  if (chunks < 2) {
    f(int64_t(0), n);
    return;
  }
  struct Ctx {
    F* f;
    int64_t n, chunks, align;
  } ctx{&f, n, chunks, align};
  run_chunks(chunks, [](void* p, int64_t c) {
    auto& x = *static_cast<Ctx*>(p);
    const int64_t b = c == 0 ? 0 : x.n * c / x.chunks / x.align * x.align;
    const int64_t e = c + 1 == x.chunks ? x.n : x.n * (c + 1) / x.chunks / x.align * x.align;
    (*x.f)(b, e);
  }, &ctx);
}

}  // namespace xpgrad::cpu
