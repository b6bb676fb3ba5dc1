// Bindings for sparsemax over the last axis, its backward, and the fused sparsemax loss.
#include "row_bindings.h"
#include "xpgrad/sparsemax.h"

namespace xpgrad {
namespace {

py::tuple sparsemax_loss(const py::array& logits, const py::array& target) {
  const char* op = "sparsemax_loss";
  const LossTarget checked = check_loss_args(op, logits, target);
  const int64_t n = logits.shape(0), k = logits.shape(1);
  py::array loss(logits.dtype(), std::vector<py::ssize_t>{n});
  py::array grad = empty_like(logits);
  with_float(float_dtype(logits, op, "logits"), [&](auto tag) {
    using T = decltype(tag);
    const auto& kern = cpu::sparsemax_kernels<T>();
    const T* x = cptr<T>(logits);
    T *pl = mptr<T>(loss), *pg = mptr<T>(grad);
    const void* pt = target.data();
    py::gil_scoped_release nogil;
    if (checked.indices) kern.loss_with_indices(x, checked.classes.data(), pl, pg, n, k);
    else kern.loss_with_labels(x, static_cast<const T*>(pt), pl, pg, n, k);
  });
  return py::make_tuple(loss, grad);
}

}  // namespace

void bind_sparsemax(py::module_& m) {
  using py::arg;
  m.def("sparsemax_forward", [](const py::array& x) {
    return rows_unary("sparsemax_forward", x, [](auto tag) { return cpu::sparsemax_kernels<decltype(tag)>().forward; });
  }, arg("x"), "sparsemax over the last axis: max(x - tau, 0), the Euclidean projection onto the simplex");
  m.def("sparsemax_backward", [](const py::array& y, const py::array& gy) {
    return rows_binary("sparsemax_backward", y, gy,
                       [](auto tag) { return cpu::sparsemax_kernels<decltype(tag)>().backward; });
  }, arg("y"), arg("gy"), "gx = gy - mean of gy over the support {y > 0}, 0 elsewhere");
  m.def("sparsemax_loss", &sparsemax_loss, arg("logits"), arg("target"),
        "Sparsemax loss of (N, K) logits against int64 indices (N,) or a 0/1 matrix (N, K); returns "
        "(loss (N,), grad = sparsemax(logits) - q).");
}

}  // namespace xpgrad
