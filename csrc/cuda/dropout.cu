// Dropout mask: mask[i] = scale where u(seed, i) >= p (kept, probability 1 − p), else 0.
// u is a counter-based hash (splitmix64), no curand state: the caller draws a fresh seed per
// call from the backend's generator, so manual_seed makes masks reproducible.
#include "common.cuh"

namespace xpgrad::cuda {

template <typename T>
cudaError_t dropout_mask(T* mask, int64_t n, double p, double scale, uint64_t seed,
                         cudaStream_t stream) {
  const T kept = T(scale);
  return for_each(n, stream, [=] __device__(int64_t i) {
    mask[i] = uniform_from_bits(splitmix64(seed, uint64_t(i))) >= p ? kept : T(0);
  });
}

template cudaError_t dropout_mask<float>(float*, int64_t, double, double, uint64_t, cudaStream_t);
template cudaError_t dropout_mask<double>(double*, int64_t, double, double, uint64_t, cudaStream_t);

}  // namespace xpgrad::cuda
