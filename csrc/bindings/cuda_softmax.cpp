// Bindings: softmax / log_softmax / sparsemax over the last axis and the fused losses.
#include <initializer_list>
#include <utility>

#include "xpgrad/cuda_checks.h"

namespace xpgrad::cuda {
namespace {

// The checks every row op starts with: the dtype name, rows, k >= 0, and a device pointer for
// each (rows x k) array unless the product is empty. Returns the dtype.
DType check_rows(const char* op, const std::string& dtype, int64_t rows, int64_t k,
                 std::initializer_list<std::pair<Ptr, const char*>> arrays) {
  const DType dt = parse_dtype(dtype, op);
  require_nonnegative(rows, op, "rows");
  require_nonnegative(k, op, "k");
  for (const auto& [p, name] : arrays) require_pointer(p, rows * k > 0, op, name);
  return dt;
}

void softmax_forward_entry(Ptr x, Ptr y, int64_t rows, int64_t k, bool log,
                           const std::string& dtype, Ptr stream) {
  const char* op = "softmax_forward";
  const DType dt = check_rows(op, dtype, rows, k, {{x, "x"}, {y, "y"}});
  run_on_device(op, y, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      return softmax_forward<T>(as_ptr<const T>(x), as_ptr<T>(y), rows, k, log, as_stream(stream));
    });
  });
}

void softmax_backward_entry(Ptr y, Ptr gy, Ptr gx, int64_t rows, int64_t k, bool log,
                            const std::string& dtype, Ptr stream) {
  const char* op = "softmax_backward";
  const DType dt = check_rows(op, dtype, rows, k, {{y, "y"}, {gy, "gy"}, {gx, "gx"}});
  run_on_device(op, gx, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      return softmax_backward<T>(as_ptr<const T>(y), as_ptr<const T>(gy), as_ptr<T>(gx), rows, k,
                                 log, as_stream(stream));
    });
  });
}

void sparsemax_forward_entry(Ptr x, Ptr y, int64_t rows, int64_t k, const std::string& dtype,
                             Ptr stream) {
  const char* op = "sparsemax_forward";
  const DType dt = check_rows(op, dtype, rows, k, {{x, "x"}, {y, "y"}});
  run_on_device(op, y, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      return sparsemax_forward<T>(as_ptr<const T>(x), as_ptr<T>(y), rows, k, as_stream(stream));
    });
  });
}

void sparsemax_backward_entry(Ptr y, Ptr gy, Ptr gx, int64_t rows, int64_t k,
                              const std::string& dtype, Ptr stream) {
  const char* op = "sparsemax_backward";
  const DType dt = check_rows(op, dtype, rows, k, {{y, "y"}, {gy, "gy"}, {gx, "gx"}});
  run_on_device(op, gx, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      return sparsemax_backward<T>(as_ptr<const T>(y), as_ptr<const T>(gy), as_ptr<T>(gx), rows, k,
                                   as_stream(stream));
    });
  });
}

// Shared checks of the two fused losses: target is int64 indices (rows,) or a (rows x k)
// array of the logits' dtype; loss (rows,) and grad (rows x k) are outputs.
DType check_loss_args(const char* op, const std::string& dtype, Ptr logits, Ptr target, Ptr loss,
                      Ptr grad, int64_t rows, int64_t k) {
  const DType dt = check_rows(op, dtype, rows, k, {{logits, "logits"}, {grad, "grad"}});
  require_pointer(target, rows > 0, op, "target");
  require_pointer(loss, rows > 0, op, "loss");
  if (rows > 0 && k == 0) throw py::value_error(std::string(op) + ": k must be > 0 when rows > 0");
  return dt;
}

void cross_entropy_entry(Ptr logits, Ptr target, bool target_is_index, Ptr loss, Ptr grad,
                         int64_t rows, int64_t k, double label_smoothing,
                         const std::string& dtype, Ptr stream) {
  const char* op = "cross_entropy";
  const DType dt = check_loss_args(op, dtype, logits, target, loss, grad, rows, k);
  require_range(label_smoothing, 0.0, 1.0, op, "label_smoothing");
  run_on_device(op, grad ? grad : loss, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      return cross_entropy<T>(as_ptr<const T>(logits),
                              target_is_index ? as_ptr<const int64_t>(target) : nullptr,
                              target_is_index ? nullptr : as_ptr<const T>(target), as_ptr<T>(loss),
                              as_ptr<T>(grad), rows, k, label_smoothing, as_stream(stream));
    });
  });
}

void sparsemax_loss_entry(Ptr logits, Ptr target, bool target_is_index, Ptr loss, Ptr grad,
                          int64_t rows, int64_t k, const std::string& dtype, Ptr stream) {
  const char* op = "sparsemax_loss";
  const DType dt = check_loss_args(op, dtype, logits, target, loss, grad, rows, k);
  run_on_device(op, grad ? grad : loss, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      return sparsemax_loss<T>(as_ptr<const T>(logits),
                               target_is_index ? as_ptr<const int64_t>(target) : nullptr,
                               target_is_index ? nullptr : as_ptr<const T>(target), as_ptr<T>(loss),
                               as_ptr<T>(grad), rows, k, as_stream(stream));
    });
  });
}

}  // namespace

void bind_softmax(py::module_& m) {
  m.def("softmax_forward", &softmax_forward_entry, py::arg("x"), py::arg("y"), py::arg("rows"),
        py::arg("k"), py::arg("log"), py::arg("dtype"), py::arg("stream") = 0,
        "Row-wise softmax (or log_softmax) of a C-contiguous (rows x k) array.");
  m.def("softmax_backward", &softmax_backward_entry, py::arg("y"), py::arg("gy"), py::arg("gx"),
        py::arg("rows"), py::arg("k"), py::arg("log"), py::arg("dtype"), py::arg("stream") = 0,
        "gx = y(gy − Σ gy·y), or gy − e^y Σ gy for log_softmax, from the saved output y.");
  m.def("sparsemax_forward", &sparsemax_forward_entry, py::arg("x"), py::arg("y"), py::arg("rows"),
        py::arg("k"), py::arg("dtype"), py::arg("stream") = 0, "Row-wise sparsemax.");
  m.def("sparsemax_backward", &sparsemax_backward_entry, py::arg("y"), py::arg("gy"), py::arg("gx"),
        py::arg("rows"), py::arg("k"), py::arg("dtype"), py::arg("stream") = 0,
        "gx = gy − mean_S(gy) on the support S = {y > 0}, 0 elsewhere.");
  m.def("cross_entropy", &cross_entropy_entry, py::arg("logits"), py::arg("target"),
        py::arg("target_is_index"), py::arg("loss"), py::arg("grad"), py::arg("rows"), py::arg("k"),
        py::arg("label_smoothing"), py::arg("dtype"), py::arg("stream") = 0,
        "Per-row softmax cross-entropy and its gradient p − t'.");
  m.def("sparsemax_loss", &sparsemax_loss_entry, py::arg("logits"), py::arg("target"),
        py::arg("target_is_index"), py::arg("loss"), py::arg("grad"), py::arg("rows"), py::arg("k"),
        py::arg("dtype"), py::arg("stream") = 0, "Per-row sparsemax loss and its gradient p − q.");
}

}  // namespace xpgrad::cuda
