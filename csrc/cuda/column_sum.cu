// Column sums gb[j] = Σᵢ g[i, j]: the bias gradient of a linear layer.
#include "common.cuh"

namespace xpgrad::cuda {
namespace {

// A block of 32 x 8 threads owns 32 adjacent columns (coalesced row reads); its 8 thread rows
// split the matrix rows, and shared memory adds the 8 partial sums. Deterministic: no atomics.
constexpr int kCols = 32, kRowThreads = 8;

template <typename T>
__global__ void column_sum_kernel(const T* __restrict__ g, T* __restrict__ out, int64_t rows,
                                  int64_t cols) {
  __shared__ T partial[kRowThreads][kCols + 1];
  const int tx = threadIdx.x % kCols, ty = threadIdx.x / kCols;
  for (int64_t c0 = int64_t(blockIdx.x) * kCols; c0 < cols; c0 += int64_t(gridDim.x) * kCols) {
    const int64_t col = c0 + tx;
    T sum = T(0);
    if (col < cols)
      for (int64_t r = ty; r < rows; r += kRowThreads) sum += g[r * cols + col];
    partial[ty][tx] = sum;
    __syncthreads();
    if (ty == 0 && col < cols) {
      for (int i = 1; i < kRowThreads; ++i) sum += partial[i][tx];
      out[col] = sum;
    }
    __syncthreads();  // partial is reused for the next column block
  }
}

}  // namespace

template <typename T>
cudaError_t column_sum(const T* g, T* out, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (cols == 0) return cudaSuccess;
  const int64_t blocks = std::min(ceil_div(cols, kCols), kMaxBlocks);
  column_sum_kernel<T><<<unsigned(blocks), kCols * kRowThreads, 0, stream>>>(g, out, rows, cols);
  return cudaGetLastError();
}

template cudaError_t column_sum<float>(const float*, float*, int64_t, int64_t, cudaStream_t);
template cudaError_t column_sum<double>(const double*, double*, int64_t, int64_t, cudaStream_t);

}  // namespace xpgrad::cuda
