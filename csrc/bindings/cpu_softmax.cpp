// Bindings for the softmax family over the last axis (softmax, log_softmax and their
// backward passes) and the fused cross-entropy.
#include <string>

#include "row_bindings.h"
#include "xpgrad/cross_entropy.h"
#include "xpgrad/softmax.h"

namespace xpgrad {
namespace {

py::tuple cross_entropy(const py::array& logits, const py::array& target, double label_smoothing) {
  const char* op = "cross_entropy";
  const LossTarget checked = check_loss_args(op, logits, target);
  require_range(label_smoothing, 0.0, 1.0, op, "label_smoothing");
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
    if (checked.indices) kern.with_indices(x, checked.classes.data(), pl, pg, n, k, T(label_smoothing));
    else kern.with_probs(x, static_cast<const T*>(pt), pl, pg, n, k, T(label_smoothing));
  });
  return py::make_tuple(loss, grad);
}

}  // namespace

void bind_softmax(py::module_& m) {
  using py::arg;
#define XPGRAD_PICK(field) [](auto tag) { return cpu::softmax_kernels<decltype(tag)>().field; }
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
