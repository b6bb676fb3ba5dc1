// Bindings for GEMM and the fused Linear layer: validate (dtype, ndim, shapes, out, aliasing),
// allocate outputs, release the GIL, run. Operands may have any strides, negative included.
#include <optional>
#include <string>

#include <pybind11/stl.h>

#include "xpgrad/array_checks.h"
#include "xpgrad/gemm.h"

namespace xpgrad {
namespace {

using cpu::Activation;
using cpu::ConstMatrix;

void require_2d(const py::array& a, const char* op, const char* name) {
  if (a.ndim() != 2)
    throw py::value_error(std::string(op) + ": " + name + " must be 2-D, got shape " + shape_str(a));
}

// A strided view in element units (numpy strides are bytes and need not be multiples).
template <typename T>
ConstMatrix<T> matrix(const py::array& a, const char* op, const char* name) {
  const auto item = static_cast<py::ssize_t>(sizeof(T));
  if (a.strides(0) % item != 0 || a.strides(1) % item != 0)
    throw py::value_error(std::string(op) + ": " + name + " has strides that are not a multiple of its item size");
  return {static_cast<const T*>(a.data()), a.shape(0), a.shape(1), a.strides(0) / item, a.strides(1) / item};
}

Activation parse_activation(const std::string& name, const char* op) {
  if (name == "identity") return Activation::Identity;
  if (name == "relu") return Activation::Relu;
  if (name == "sigmoid") return Activation::Sigmoid;
  if (name == "tanh") return Activation::Tanh;
  throw py::value_error(std::string(op) + ": unknown activation '" + name +
                        "' (expected identity, relu, sigmoid or tanh)");
}

py::array new_matrix(const py::array& like, py::ssize_t rows, py::ssize_t cols) {
  return py::array(like.dtype(), std::vector<py::ssize_t>{rows, cols});
}

// An output the caller passed: right shape and dtype, C-contiguous, writeable, not aliasing.
void check_out(const py::array& out, const py::array& like, py::ssize_t rows, py::ssize_t cols,
               const char* op, std::initializer_list<const py::array*> inputs) {
  if (out.ndim() != 2 || out.shape(0) != rows || out.shape(1) != cols)
    throw py::value_error(std::string(op) + ": out has shape " + shape_str(out) + ", expected (" +
                          std::to_string(rows) + ", " + std::to_string(cols) + ")");
  if (!out.dtype().equal(like.dtype()))
    throw py::value_error(std::string(op) + ": out has dtype " + dtype_str(out) + ", expected " + dtype_str(like));
  require_contiguous(out, op, "out");
  require_writeable(out, op, "out");
  for (const py::array* in : inputs) require_no_alias(out, *in, op, "out", "an input");
}

template <typename T>
void run_gemm(const py::array& a, const py::array& b, bool ta, bool tb, py::array& c,
              const T* bias, Activation act, const char* op) {
  ConstMatrix<T> am = matrix<T>(a, op, "a"), bm = matrix<T>(b, op, "b");
  if (ta) am = am.t();
  if (tb) bm = bm.t();
  T* cp = static_cast<T*>(c.mutable_data());
  py::gil_scoped_release release;
  cpu::gemm(am, bm, cp, bm.cols, bias, act);
}

py::array gemm(py::array a, py::array b, bool trans_a, bool trans_b, std::optional<py::array> out) {
  const char* op = "gemm";
  const DType dt = float_dtype(a, op, "a");
  require_same_dtype(a, "a", b, "b", op);
  require_2d(a, op, "a");
  require_2d(b, op, "b");
  const py::ssize_t m = a.shape(trans_a ? 1 : 0), k = a.shape(trans_a ? 0 : 1);
  const py::ssize_t kb = b.shape(trans_b ? 1 : 0), n = b.shape(trans_b ? 0 : 1);
  if (k != kb)
    throw py::value_error(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                          " not aligned for op(a)·op(b) with trans_a=" + (trans_a ? "True" : "False") +
                          ", trans_b=" + (trans_b ? "True" : "False") + " (" + std::to_string(k) +
                          " != " + std::to_string(kb) + ")");
  py::array c = out ? *out : new_matrix(a, m, n);
  if (out) check_out(c, a, m, n, op, {&a, &b});
  if (dt == DType::Float32) run_gemm<float>(a, b, trans_a, trans_b, c, nullptr, Activation::Identity, op);
  else run_gemm<double>(a, b, trans_a, trans_b, c, nullptr, Activation::Identity, op);
  return c;
}

// x (n, in), W (in, out), optional bias (out,) contiguous: the common checks of linear's
// forward and backward.
void check_linear(const py::array& x, const py::array& w, const char* op) {
  float_dtype(x, op, "x");
  require_same_dtype(x, "x", w, "weight", op);
  require_2d(x, op, "x");
  require_2d(w, op, "weight");
  if (x.shape(1) != w.shape(0))
    throw py::value_error(std::string(op) + ": x of shape " + shape_str(x) + " does not match weight of shape " +
                          shape_str(w) + " (x·W needs x.shape[1] == W.shape[0])");
}

void check_rows_out(const py::array& a, const py::array& x, const py::array& w, const char* op, const char* name) {
  require_same_dtype(x, "x", a, name, op);
  if (a.ndim() != 2 || a.shape(0) != x.shape(0) || a.shape(1) != w.shape(1))
    throw py::value_error(std::string(op) + ": " + name + " has shape " + shape_str(a) + ", expected (" +
                          std::to_string(x.shape(0)) + ", " + std::to_string(w.shape(1)) + ")");
  require_contiguous(a, op, name);
}

py::array linear(py::array x, py::array w, std::optional<py::array> bias, const std::string& activation) {
  const char* op = "linear";
  check_linear(x, w, op);
  const Activation act = parse_activation(activation, op);
  if (bias) {
    require_same_dtype(x, "x", *bias, "bias", op);
    if (bias->ndim() != 1 || bias->shape(0) != w.shape(1))
      throw py::value_error(std::string(op) + ": bias has shape " + shape_str(*bias) + ", expected (" +
                            std::to_string(w.shape(1)) + ",) for weight of shape " + shape_str(w));
    require_contiguous(*bias, op, "bias");
  }
  py::array y = new_matrix(x, x.shape(0), w.shape(1));
  if (x.dtype().equal(py::dtype::of<float>()))
    run_gemm<float>(x, w, false, false, y, bias ? static_cast<const float*>(bias->data()) : nullptr, act, op);
  else
    run_gemm<double>(x, w, false, false, y, bias ? static_cast<const double*>(bias->data()) : nullptr, act, op);
  return y;
}

template <typename T>
void run_linear_backward(const py::array& x, const py::array& w, const py::array* y, const py::array& gy,
                         Activation act, py::array& g, py::array* gx, py::array& gw, py::array* gb) {
  const ConstMatrix<T> xm = matrix<T>(x, "linear_backward", "x"), wm = matrix<T>(w, "linear_backward", "weight");
  const T* yp = y ? static_cast<const T*>(y->data()) : nullptr;
  const T* gyp = static_cast<const T*>(gy.data());
  T* gp = act == Activation::Identity ? nullptr : static_cast<T*>(g.mutable_data());
  T* gxp = gx ? static_cast<T*>(gx->mutable_data()) : nullptr;
  T* gwp = static_cast<T*>(gw.mutable_data());
  T* gbp = gb ? static_cast<T*>(gb->mutable_data()) : nullptr;
  py::gil_scoped_release release;
  cpu::linear_backward(xm, wm, yp, gyp, act, gp, gxp, gwp, gbp);
}

py::tuple linear_backward(py::array x, py::array w, std::optional<py::array> y, py::array gy,
                          const std::string& activation, bool has_bias, bool need_gx) {
  const char* op = "linear_backward";
  check_linear(x, w, op);
  const Activation act = parse_activation(activation, op);
  check_rows_out(gy, x, w, op, "gy");
  if (act != Activation::Identity && !y)
    throw py::value_error(std::string(op) + ": y (the saved output) is required for activation " + activation);
  if (y) check_rows_out(*y, x, w, op, "y");
  const py::ssize_t n = x.shape(0), in = x.shape(1), out = w.shape(1);
  py::array g = act == Activation::Identity ? py::array() : new_matrix(x, n, out);
  py::array gw = new_matrix(x, in, out);
  std::optional<py::array> gx, gb;
  if (need_gx) gx = new_matrix(x, n, in);
  if (has_bias) gb = py::array(x.dtype(), std::vector<py::ssize_t>{out});
  if (x.dtype().equal(py::dtype::of<float>()))
    run_linear_backward<float>(x, w, y ? &*y : nullptr, gy, act, g, gx ? &*gx : nullptr, gw, gb ? &*gb : nullptr);
  else
    run_linear_backward<double>(x, w, y ? &*y : nullptr, gy, act, g, gx ? &*gx : nullptr, gw, gb ? &*gb : nullptr);
  const auto or_none = [](const std::optional<py::array>& a) { return a ? py::object(*a) : py::object(py::none()); };
  return py::make_tuple(or_none(gx), gw, or_none(gb));
}

}  // namespace

void bind_gemm(py::module_& m) {
  m.def("gemm", &gemm, py::arg("a"), py::arg("b"), py::arg("trans_a") = false, py::arg("trans_b") = false,
        py::arg("out") = py::none(),
        "C = op(A)·op(B), op(X) = Xᵀ when asked; any strides; writes into out (C-contiguous) if given.");
  m.def("linear", &linear, py::arg("x"), py::arg("weight"), py::arg("bias") = py::none(),
        py::arg("activation") = "identity",
        "y = act(x·W + b), the bias and activation fused into the GEMM's write-back.");
  m.def("linear_backward", &linear_backward, py::arg("x"), py::arg("weight"), py::arg("y"), py::arg("gy"),
        py::arg("activation") = "identity", py::arg("has_bias") = true, py::arg("need_gx") = true,
        "g = gy ⊙ act'(y) and gb = Σ_rows g in one pass; returns (g·Wᵀ or None, xᵀ·g, gb or None).");
}

}  // namespace xpgrad
