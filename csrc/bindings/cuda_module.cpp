// pybind11 module xpgrad._cuda: entry points take device pointers (cupy.ndarray.data.ptr),
// element counts and the CuPy stream handle; they check arguments and never copy to the host.
#include <pybind11/pybind11.h>
#include <cuda_runtime.h>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace py = pybind11;

namespace xpgrad::cuda {
template <typename T>
cudaError_t relu_forward(const T* x, T* y, int64_t n, cudaStream_t stream);
}

namespace {

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}

void relu_forward(std::uintptr_t x, std::uintptr_t y, int64_t n, const std::string& dtype,
                  std::uintptr_t stream) {
  if (n < 0) throw py::value_error("relu_forward: negative size");
  auto s = reinterpret_cast<cudaStream_t>(stream);
  py::gil_scoped_release release;
  if (dtype == "float32") {
    check(xpgrad::cuda::relu_forward(reinterpret_cast<const float*>(x), reinterpret_cast<float*>(y), n, s), "relu_forward");
  } else if (dtype == "float64") {
    check(xpgrad::cuda::relu_forward(reinterpret_cast<const double*>(x), reinterpret_cast<double*>(y), n, s), "relu_forward");
  } else {
    throw py::value_error("relu_forward: dtype must be float32 or float64, got " + dtype);
  }
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
  return n;
}

}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "xpgrad CUDA kernels (device pointers in, device pointers out)";
  m.def("device_count", &device_count, "Number of CUDA devices the runtime sees (0 without a GPU).");
  m.def("relu_forward", &relu_forward, py::arg("x"), py::arg("y"), py::arg("n"), py::arg("dtype"), py::arg("stream") = 0);
}
