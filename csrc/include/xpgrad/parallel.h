// OpenMP work splitting shared by the kernels: a few contiguous ranges, one per thread, only
// when the work is large enough to pay for waking the team (~µs).
#pragma once
#include <algorithm>
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace xpgrad::cpu {

// f(begin, end) over [0, n) split in at most one range per thread, each ≥ grain items;
// boundaries are multiples of align so vector strips stay whole.
template <class F>
inline void parallel_for(int64_t n, int64_t grain, F&& f, int64_t align = 1) {
#ifdef _OPENMP
  int64_t chunks = std::min<int64_t>(omp_get_max_threads(), n / std::max<int64_t>(grain, 1));
  if (chunks > 1 && !omp_in_parallel()) {
#pragma omp parallel for num_threads(int(chunks)) schedule(static)
    for (int64_t c = 0; c < chunks; ++c) {
      int64_t b = c == 0 ? 0 : n * c / chunks / align * align;
      int64_t e = c + 1 == chunks ? n : n * (c + 1) / chunks / align * align;
      f(b, e);
    }
    return;
  }
#endif
  f(int64_t(0), n);
}

}  // namespace xpgrad::cpu
