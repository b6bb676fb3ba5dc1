// Elementwise activation kernels on device pointers, launched on the caller's stream.
#include <cuda_runtime.h>
#include <cstdint>

namespace xpgrad::cuda {

template <typename T>
__global__ void relu_forward_kernel(const T* x, T* y, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    y[i] = x[i] > T(0) ? x[i] : T(0);
  }
}

template <typename T>
cudaError_t relu_forward(const T* x, T* y, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  const int threads = 256;
  const int blocks = (int)std::min<int64_t>((n + threads - 1) / threads, 65535);
  relu_forward_kernel<T><<<blocks, threads, 0, stream>>>(x, y, n);
  return cudaGetLastError();
}

template cudaError_t relu_forward<float>(const float*, float*, int64_t, cudaStream_t);
template cudaError_t relu_forward<double>(const double*, double*, int64_t, cudaStream_t);

}  // namespace xpgrad::cuda
