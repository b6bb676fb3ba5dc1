// Binding helpers for row-wise kernels over the last axis (softmax family, sparsemax) and the
// argument checks of the fused losses (cross-entropy, sparsemax loss).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "xpgrad/array_checks.h"

namespace xpgrad {

inline int64_t last_dim(const py::array& a, const char* op) {
  if (a.ndim() < 1) throw py::value_error(std::string(op) + ": needs at least one axis, got a 0-d array");
  return a.shape(a.ndim() - 1);
}

// Row kernels of signature (in, out, rows, k); get(T{}) returns the kernel for dtype T.
template <class Get>
py::array rows_unary(const char* op, const py::array& x, Get get) {
  check_like(op, {{"x", &x}});
  const int64_t k = last_dim(x, op), rows = k ? x.size() / k : 0;
  py::array y = empty_like(x);
  with_float(float_dtype(x, op, "x"), [&](auto tag) {
    using T = decltype(tag);
    const T* px = cptr<T>(x);
    T* py_ = mptr<T>(y);
    auto fn = get(tag);
    py::gil_scoped_release nogil;
    fn(px, py_, rows, k);
  });
  return y;
}

// Row kernels of signature (y, gy, gx, rows, k).
template <class Get>
py::array rows_binary(const char* op, const py::array& y, const py::array& gy, Get get) {
  DType dt = check_like(op, {{"y", &y}, {"gy", &gy}});
  const int64_t k = last_dim(y, op), rows = k ? y.size() / k : 0;
  py::array gx = empty_like(y);
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    const T *p_y = cptr<T>(y), *p_gy = cptr<T>(gy);
    T* p_gx = mptr<T>(gx);
    auto fn = get(tag);
    py::gil_scoped_release nogil;
    fn(p_y, p_gy, p_gx, rows, k);
  });
  return gx;
}

// Fused losses: logits (n, k) float with k ≥ 1; target either int64 class indices (n,) in
// [0, k) or a float matrix like logits. Class indices are checked and copied in one read: the
// kernels take the copy, since the caller's array can change once the GIL is released (another
// thread writing an index out of range after the check made the kernel write out of bounds).
struct LossTarget {
  bool indices;                 // class indices (else a float matrix like logits)
  std::vector<int64_t> classes;  // the checked copy of the indices
};

inline LossTarget check_loss_args(const char* op, const py::array& logits, const py::array& target) {
  check_like(op, {{"logits", &logits}});
  if (logits.ndim() != 2)
    throw py::value_error(std::string(op) + ": logits must be 2-D (N, K), got shape " + shape_str(logits));
  const int64_t n = logits.shape(0), k = logits.shape(1);
  if (k < 1) throw py::value_error(std::string(op) + ": logits " + shape_str(logits) + " has no classes");
  if (target.ndim() == 2) {
    check_like(op, {{"logits", &logits}, {"target", &target}});
    return {false, {}};
  }
  if (target.ndim() != 1 || target.shape(0) != n)
    throw py::value_error(std::string(op) + ": target must have shape (" + std::to_string(n) + ",) or " +
                          shape_str(logits) + " for logits " + shape_str(logits) + ", got " + shape_str(target));
  if (!target.dtype().equal(py::dtype::of<int64_t>()))
    throw py::value_error(std::string(op) + ": class indices must be int64, got " + dtype_str(target));
  require_contiguous(target, op, "target");
  const int64_t* t = cptr<int64_t>(target);
  std::vector<int64_t> classes(t, t + n);
  for (int64_t i = 0; i < n; ++i)
    if (classes[i] < 0 || classes[i] >= k)
      throw py::value_error(std::string(op) + ": target[" + std::to_string(i) + "] = " + std::to_string(classes[i]) +
                            " is not a class index in [0, " + std::to_string(k) + ")");
  return {true, std::move(classes)};
}

}  // namespace xpgrad
