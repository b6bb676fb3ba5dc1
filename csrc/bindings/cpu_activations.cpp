// Bindings for the activation kernels: validate, allocate the output, release the GIL, run.
#include "xpgrad/activations.h"
#include "xpgrad/array_checks.h"

namespace xpgrad {
namespace {

py::array relu_forward(py::array x) {
  const char* op = "relu_forward";
  DType dt = float_dtype(x, op, "x");
  require_contiguous(x, op, "x");
  py::array y(x.dtype(), std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
  const int64_t n = x.size();
  py::gil_scoped_release release;
  if (dt == DType::Float32)
    cpu::relu_forward(static_cast<const float*>(x.data()), static_cast<float*>(y.mutable_data()), n);
  else
    cpu::relu_forward(static_cast<const double*>(x.data()), static_cast<double*>(y.mutable_data()), n);
  return y;
}

py::array relu_backward(py::array y, py::array gy) {
  const char* op = "relu_backward";
  DType dt = float_dtype(y, op, "y");
  require_same_dtype(y, gy, op);
  require_same_shape(y, gy, op);
  require_contiguous(y, op, "y");
  require_contiguous(gy, op, "gy");
  py::array gx(y.dtype(), std::vector<py::ssize_t>(y.shape(), y.shape() + y.ndim()));
  const int64_t n = y.size();
  py::gil_scoped_release release;
  if (dt == DType::Float32)
    cpu::relu_backward(static_cast<const float*>(y.data()), static_cast<const float*>(gy.data()),
                       static_cast<float*>(gx.mutable_data()), n);
  else
    cpu::relu_backward(static_cast<const double*>(y.data()), static_cast<const double*>(gy.data()),
                       static_cast<double*>(gx.mutable_data()), n);
  return gx;
}

}  // namespace

void bind_activations(py::module_& m) {
  m.def("relu_forward", &relu_forward, py::arg("x"), "y = max(x, 0)");
  m.def("relu_backward", &relu_backward, py::arg("y"), py::arg("gy"), "gx = gy * [y > 0]");
}

}  // namespace xpgrad
