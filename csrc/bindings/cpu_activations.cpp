// Bindings for the activation kernels: validate, allocate the output, release the GIL, run.
#include "xpgrad/activations.h"
#include "xpgrad/array_checks.h"

namespace xpgrad {
namespace {

// y = f(x) for kernels of signature (x, y, n [, param]).
// field(kernels) picks the kernel out of the active ActivationKernels<T> table.
template <class Field>
py::array unary(const char* op, const py::array& x, double param, Field field) {
  DType dt = check_like(op, {{"x", &x}});
  py::array y = empty_like(x);
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    const T* px = cptr<T>(x);
    T* py_ = mptr<T>(y);
    const auto fn = field(cpu::activation_kernels<T>());
    py::gil_scoped_release nogil;
    if constexpr (std::is_invocable_v<decltype(fn), const T*, T*, int64_t>) fn(px, py_, x.size());
    else fn(px, py_, x.size(), T(param));
  });
  return y;
}

// gx = f(a, gy) for kernels of signature (a, gy, gx, n [, param]).
template <class Field>
py::array binary(const char* op, const char* a_name, const py::array& a, const py::array& gy, double param,
                 Field field) {
  DType dt = check_like(op, {{a_name, &a}, {"gy", &gy}});
  py::array gx = empty_like(a);
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    const T *pa = cptr<T>(a), *pg = cptr<T>(gy);
    T* pgx = mptr<T>(gx);
    const auto fn = field(cpu::activation_kernels<T>());
    py::gil_scoped_release nogil;
    if constexpr (std::is_invocable_v<decltype(fn), const T*, const T*, T*, int64_t>) fn(pa, pg, pgx, a.size());
    else fn(pa, pg, pgx, a.size(), T(param));
  });
  return gx;
}

}  // namespace

void bind_activations(py::module_& m) {
  using py::arg;
#define XPGRAD_PICK(field) [](const auto& k) { return k.field; }
  m.def("exp", [](const py::array& x) { return unary("exp", x, 0, XPGRAD_PICK(exp)); }, arg("x"),
        "y = e^x, the kernels' vectorised exponential (<= 2 ULP in float32)");
  m.def("sigmoid_forward", [](const py::array& x) { return unary("sigmoid_forward", x, 0, XPGRAD_PICK(sigmoid)); },
        arg("x"), "y = 1 / (1 + exp(-x))");
  m.def("sigmoid_backward", [](const py::array& y, const py::array& gy) {
    return binary("sigmoid_backward", "y", y, gy, 0, XPGRAD_PICK(sigmoid_backward)); }, arg("y"), arg("gy"),
        "gx = gy * y * (1 - y)");
  m.def("tanh_forward", [](const py::array& x) { return unary("tanh_forward", x, 0, XPGRAD_PICK(tanh)); }, arg("x"),
        "y = tanh(x)");
  m.def("tanh_backward", [](const py::array& y, const py::array& gy) {
    return binary("tanh_backward", "y", y, gy, 0, XPGRAD_PICK(tanh_backward)); }, arg("y"), arg("gy"),
        "gx = gy * (1 - y^2)");
  m.def("relu_forward", [](const py::array& x) { return unary("relu_forward", x, 0, XPGRAD_PICK(relu)); }, arg("x"),
        "y = max(x, 0)");
  m.def("relu_backward", [](const py::array& y, const py::array& gy) {
    return binary("relu_backward", "y", y, gy, 0, XPGRAD_PICK(relu_backward)); }, arg("y"), arg("gy"),
        "gx = gy * [y > 0]");
  m.def("leaky_relu_forward", [](const py::array& x, double s) {
    return unary("leaky_relu_forward", x, s, XPGRAD_PICK(leaky_relu)); }, arg("x"), arg("negative_slope"),
        "y = x if x > 0 else slope * x");
  m.def("leaky_relu_backward", [](const py::array& x, const py::array& gy, double s) {
    return binary("leaky_relu_backward", "x", x, gy, s, XPGRAD_PICK(leaky_relu_backward)); }, arg("x"), arg("gy"),
        arg("negative_slope"), "gx = gy if x > 0 else slope * gy");
  m.def("elu_forward", [](const py::array& x, double a) { return unary("elu_forward", x, a, XPGRAD_PICK(elu)); },
        arg("x"), arg("alpha"), "y = x if x > 0 else alpha * (exp(x) - 1)");
  m.def("elu_backward", [](const py::array& x, const py::array& gy, double a) {
    return binary("elu_backward", "x", x, gy, a, XPGRAD_PICK(elu_backward)); }, arg("x"), arg("gy"), arg("alpha"),
        "gx = gy * alpha * exp(x) if x <= 0 else gy");
#undef XPGRAD_PICK
}

}  // namespace xpgrad
