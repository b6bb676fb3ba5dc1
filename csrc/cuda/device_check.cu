// Whether this build of xpgrad._cuda has code the current GPU can run: SASS for its
// architecture or PTX the driver can JIT. Checked once when the cuda backend starts, so a GPU
// outside CMAKE_CUDA_ARCHITECTURES makes the backend unavailable instead of failing per launch.
#include "common.cuh"

namespace xpgrad::cuda {
namespace {
__global__ void probe_kernel() {}
}  // namespace

cudaError_t probe_kernel_image() {
  cudaFuncAttributes attr{};
  return cudaFuncGetAttributes(&attr, probe_kernel);
}

}  // namespace xpgrad::cuda
