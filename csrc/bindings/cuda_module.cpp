// pybind11 module xpgrad._cuda: one bind_<area> function per kernel family (cuda_<area>.cpp).
// Entry points take device pointers (cupy.ndarray.data.ptr), sizes, the dtype name and the
// CuPy stream handle; they validate (ValueError), release the GIL and never copy to the host.
#include "xpgrad/cuda_checks.h"
#include "xpgrad/cuda_launch.h"

namespace xpgrad::cuda {
void bind_gemm(py::module_& m);
void bind_activations(py::module_& m);
void bind_softmax(py::module_& m);
void bind_optim(py::module_& m);

namespace {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // no driver or no GPU: not an error for the caller
    return 0;
  }
  return n;
}

// "" when the current GPU can run these kernels, else the reason (no driver, no code for it).
std::string kernel_image_problem() {
  const cudaError_t err = probe_kernel_image();
  if (err == cudaSuccess) return "";
  (void)cudaGetLastError();
  return cudaGetErrorString(err);
}

// The launch arithmetic, exposed so it can be tested without a GPU.
void bind_launch_helpers(py::module_& m) {
  m.def("_blocks_1d", [](int64_t n) { return blocks_1d(n); }, py::arg("n"));
  m.def("_row_plan", [](int64_t rows, int64_t k, bool registers, int inputs) {
    const RowPlan p = row_plan(rows, k, registers, inputs);
    return py::make_tuple(p.group, p.cap, p.threads, p.blocks);
  }, py::arg("rows"), py::arg("k"), py::arg("registers"), py::arg("inputs"),
     "(threads per row, register elements per thread, threads per block, blocks)");
  m.def("_gemm_use_big_tiles", &gemm_use_big_tiles, py::arg("m"), py::arg("n"), py::arg("sm_count"));
  m.def("_dropout_uniform", [](uint64_t seed, uint64_t i) {
    return uniform_from_bits(splitmix64(seed, i));
  }, py::arg("seed"), py::arg("i"), "The u(seed, i) in [0, 1) that dropout_mask compares with p.");
}

}  // namespace
}  // namespace xpgrad::cuda

PYBIND11_MODULE(_cuda, m) {
  using namespace xpgrad::cuda;
  m.doc() = "xpgrad CUDA kernels (device pointers in, device pointers out)";
  m.def("device_count", &device_count, "Number of CUDA devices the runtime sees (0 without a GPU).");
  m.def("runtime_version", [] {
    int v = 0;
    (void)cudaRuntimeGetVersion(&v);
    return v;
  }, "The CUDA runtime version compiled in, e.g. 13000.");
  m.def("kernel_image_problem", &kernel_image_problem,
        "'' when the current GPU can run this build's kernels, else why not.");
  bind_launch_helpers(m);
  bind_gemm(m);
  bind_activations(m);
  bind_softmax(m);
  bind_optim(m);
}
