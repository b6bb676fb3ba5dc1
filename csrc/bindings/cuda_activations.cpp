// Bindings: elementwise activations forward and backward.
#include "xpgrad/cuda_checks.h"

namespace xpgrad::cuda {
namespace {

void forward_entry(const std::string& kind, Ptr x, Ptr y, int64_t n, const std::string& dtype,
                   Ptr stream, double param) {
  const char* op = "activation_forward";
  const DType dt = parse_dtype(dtype, op);
  const Act act = parse_activation(kind, op, false);
  require_nonnegative(n, op, "n");
  require_pointer(x, n > 0, op, "x");
  require_pointer(y, n > 0, op, "y");
  run_on_device(op, y, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      return activation_forward<T>(act, as_ptr<const T>(x), as_ptr<T>(y), n, param, as_stream(stream));
    });
  });
}

// leaky_relu and elu need x; relu, sigmoid and tanh need the output y.
void backward_entry(const std::string& kind, Ptr x, Ptr y, Ptr gy, Ptr gx, int64_t n,
                    const std::string& dtype, Ptr stream, double param) {
  const char* op = "activation_backward";
  const DType dt = parse_dtype(dtype, op);
  const Act act = parse_activation(kind, op, false);
  require_nonnegative(n, op, "n");
  const bool needs_x = act == Act::LeakyRelu || act == Act::Elu;
  const bool needs_y = !needs_x && act != Act::Identity;
  require_pointer(x, n > 0 && needs_x, op, "x");
  require_pointer(y, n > 0 && needs_y, op, "y");
  require_pointer(gy, n > 0, op, "gy");
  require_pointer(gx, n > 0, op, "gx");
  run_on_device(op, gx, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      return activation_backward<T>(act, as_ptr<const T>(x), as_ptr<const T>(y), as_ptr<const T>(gy),
                                    as_ptr<T>(gx), n, param, as_stream(stream));
    });
  });
}

}  // namespace

void bind_activations(py::module_& m) {
  m.def("activation_forward", &forward_entry, py::arg("kind"), py::arg("x"), py::arg("y"),
        py::arg("n"), py::arg("dtype"), py::arg("stream") = 0, py::arg("param") = 0.0,
        "y = f(x) for kind in identity, relu, sigmoid, tanh, leaky_relu (param = slope), elu "
        "(param = alpha).");
  m.def("activation_backward", &backward_entry, py::arg("kind"), py::arg("x"), py::arg("y"),
        py::arg("gy"), py::arg("gx"), py::arg("n"), py::arg("dtype"), py::arg("stream") = 0,
        py::arg("param") = 0.0, "gx = f'·gy, from x and/or the saved output y (0 when unused).");
}

}  // namespace xpgrad::cuda
