// Bindings for the softmax family over the last axis (softmax, log_softmax and their
// backward passes) and the fused cross-entropy.
#include <string>

#include "xpgrad/array_checks.h"
#include "xpgrad/cross_entropy.h"
#include "xpgrad/softmax.h"

namespace xpgrad {
namespace {

int64_t last_dim(const py::array& a, const char* op) {
  if (a.ndim() < 1) throw py::value_error(std::string(op) + ": needs at least one axis, got a 0-d array");
  return a.shape(a.ndim() - 1);
}

// Row kernels of signature (in, out, rows, k).
template <class Field>
py::array rows_unary(const char* op, const py::array& x, Field field) {
  check_like(op, {{"x", &x}});
  const int64_t k = last_dim(x, op), rows = k ? x.size() / k : 0;
  py::array y = empty_like(x);
  with_float(float_dtype(x, op, "x"), [&](auto tag) {
    using T = decltype(tag);
    const T* px = cptr<T>(x);
    T* py_ = mptr<T>(y);
    auto fn = field(cpu::softmax_kernels<T>());
    py::gil_scoped_release nogil;
    fn(px, py_, rows, k);
  });
  return y;
}

// Row kernels of signature (y, gy, gx, rows, k).
template <class Field>
py::array rows_binary(const char* op, const py::array& y, const py::array& gy, Field field) {
  DType dt = check_like(op, {{"y", &y}, {"gy", &gy}});
  const int64_t k = last_dim(y, op), rows = k ? y.size() / k : 0;
  py::array gx = empty_like(y);
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    const T *p_y = cptr<T>(y), *p_gy = cptr<T>(gy);
    T* p_gx = mptr<T>(gx);
    auto fn = field(cpu::softmax_kernels<T>());
    py::gil_scoped_release nogil;
    fn(p_y, p_gy, p_gx, rows, k);
  });
  return gx;
}

}  // namespace

// Shared with the sparsemax loss binding: logits (n, k) float with k ≥ 1; target either int64
// class indices (n,) in [0, k) or a float matrix like logits. Returns true for indices.
bool check_loss_args(const char* op, const py::array& logits, const py::array& target) {
  check_like(op, {{"logits", &logits}});
  if (logits.ndim() != 2)
    throw py::value_error(std::string(op) + ": logits must be 2-D (N, K), got shape " + shape_str(logits));
  const int64_t n = logits.shape(0), k = logits.shape(1);
  if (k < 1) throw py::value_error(std::string(op) + ": logits " + shape_str(logits) + " has no classes");
  if (target.ndim() == 2) {
    check_like(op, {{"logits", &logits}, {"target", &target}});
    return false;
  }
  if (target.ndim() != 1 || target.shape(0) != n)
    throw py::value_error(std::string(op) + ": target must have shape (" + std::to_string(n) + ",) or " +
                          shape_str(logits) + " for logits " + shape_str(logits) + ", got " + shape_str(target));
  if (!target.dtype().is(py::dtype::of<int64_t>()))
    throw py::value_error(std::string(op) + ": class indices must be int64, got " + dtype_str(target));
  require_contiguous(target, op, "target");
  const int64_t* t = cptr<int64_t>(target);
  for (int64_t i = 0; i < n; ++i)
    if (t[i] < 0 || t[i] >= k)
      throw py::value_error(std::string(op) + ": target[" + std::to_string(i) + "] = " + std::to_string(t[i]) +
                            " is not a class index in [0, " + std::to_string(k) + ")");
  return true;
}

namespace {

py::tuple cross_entropy(const py::array& logits, const py::array& target, double label_smoothing) {
  const char* op = "cross_entropy";
  const bool indices = check_loss_args(op, logits, target);
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
    throw py::value_error(std::string(op) + ": label_smoothing must be in [0, 1], got " +
                          std::to_string(label_smoothing));
  const int64_t n = logits.shape(0), k = logits.shape(1);
  py::array loss(logits.dtype(), std::vector<py::ssize_t>{n});
  py::array grad = empty_like(logits);
  with_float(float_dtype(logits, op, "logits"), [&](auto tag) {
    using T = decltype(tag);
    const auto& kern = cpu::cross_entropy_kernels<T>();
    const T* x = cptr<T>(logits);
    T *pl = mptr<T>(loss), *pg = mptr<T>(grad);
    const void* pt = target.data();
    py::gil_scoped_release nogil;
    if (indices) kern.with_indices(x, static_cast<const int64_t*>(pt), pl, pg, n, k, T(label_smoothing));
    else kern.with_probs(x, static_cast<const T*>(pt), pl, pg, n, k, T(label_smoothing));
  });
  return py::make_tuple(loss, grad);
}

}  // namespace

void bind_softmax(py::module_& m) {
  using py::arg;
#define XPGRAD_PICK(field) [](const auto& k) { return k.field; }
  m.def("softmax_forward", [](const py::array& x) { return rows_unary("softmax_forward", x, XPGRAD_PICK(softmax)); },
        arg("x"), "softmax over the last axis: e^(x - max) / sum e^(x - max)");
  m.def("softmax_backward", [](const py::array& y, const py::array& gy) {
    return rows_binary("softmax_backward", y, gy, XPGRAD_PICK(softmax_backward)); }, arg("y"), arg("gy"),
        "gx = y * (gy - sum(gy * y)) over the last axis");
  m.def("log_softmax_forward", [](const py::array& x) {
    return rows_unary("log_softmax_forward", x, XPGRAD_PICK(log_softmax)); }, arg("x"),
        "log-softmax over the last axis: x - max - log sum e^(x - max)");
  m.def("log_softmax_backward", [](const py::array& y, const py::array& gy) {
    return rows_binary("log_softmax_backward", y, gy, XPGRAD_PICK(log_softmax_backward)); }, arg("y"), arg("gy"),
        "gx = gy - exp(y) * sum(gy) over the last axis");
#undef XPGRAD_PICK
  m.def("cross_entropy", &cross_entropy, arg("logits"), arg("target"), arg("label_smoothing") = 0.0,
        "Softmax cross-entropy of (N, K) logits against int64 indices (N,) or probabilities (N, K) with label "
        "smoothing; returns (loss (N,), grad = softmax - target').");
}

}  // namespace xpgrad
