// Argument checks shared by the binding layer: every kernel entry point validates dtype,
// shape, contiguity and aliasing here and raises ValueError (never crashes) on bad input.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <initializer_list>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "xpgrad/scalar_checks.h"

namespace xpgrad {
namespace py = pybind11;

enum class DType { Float32, Float64 };

// A shape as Python prints it: (), (3,), (2, 3).
inline std::string shape_str(const py::ssize_t* shape, py::ssize_t ndim) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < ndim; ++i) s << (i ? ", " : "") << shape[i];
  if (ndim == 1) s << ",";
  s << ")";
  return s.str();
}
inline std::string shape_str(const py::array& a) { return shape_str(a.shape(), a.ndim()); }

inline std::string dtype_str(const py::dtype& d) { return py::str(d).cast<std::string>(); }
inline std::string dtype_str(const py::array& a) { return dtype_str(a.dtype()); }

// float32 or float64, else ValueError naming the argument and its dtype.
inline DType float_dtype(const py::dtype& d, const char* op, const char* name) {
  if (d.equal(py::dtype::of<float>())) return DType::Float32;
  if (d.equal(py::dtype::of<double>())) return DType::Float64;
  throw py::value_error(std::string(op) + ": " + name + " must be float32 or float64, got " + dtype_str(d));
}
inline DType float_dtype(const py::array& a, const char* op, const char* name) {
  return float_dtype(a.dtype(), op, name);
}

// ValueError naming both arguments unless a and b have one dtype (one shape, below).
inline void require_same_dtype(const py::array& a, const char* a_name, const py::array& b, const char* b_name,
                               const char* op) {
  if (!a.dtype().equal(b.dtype()))
    throw py::value_error(std::string(op) + ": dtype mismatch " + dtype_str(a) + " vs " + dtype_str(b) + " (" +
                          a_name + " vs " + b_name + ")");
}

inline void require_contiguous(const py::array& a, const char* op, const char* name) {
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(std::string(op) + ": " + name + " must be C-contiguous");
}

inline void require_writeable(const py::array& a, const char* op, const char* name) {
  if (!a.writeable()) throw py::value_error(std::string(op) + ": " + name + " is read-only");
}

inline void require_same_shape(const py::array& a, const char* a_name, const py::array& b, const char* b_name,
                               const char* op) {
  bool same = a.ndim() == b.ndim();
  for (py::ssize_t i = 0; same && i < a.ndim(); ++i) same = a.shape(i) == b.shape(i);
  if (!same)
    throw py::value_error(std::string(op) + ": shape mismatch " + shape_str(a) + " vs " + shape_str(b) + " (" +
                          a_name + " vs " + b_name + ")");
}

// [lo, hi) bytes an array's elements span, for any strides (negative ones included).
inline std::pair<std::uintptr_t, std::uintptr_t> byte_extent(const py::array& a) {
  auto lo = reinterpret_cast<std::uintptr_t>(a.data());
  auto hi = lo + static_cast<std::uintptr_t>(a.itemsize());
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    const py::ssize_t span = (a.shape(i) - 1) * a.strides(i);
    (span < 0 ? lo : hi) += span;
  }
  return {lo, hi};
}

// Byte ranges of two arrays overlap (an output must not alias an input it reads later).
inline bool overlaps(const py::array& a, const py::array& b) {
  if (a.size() == 0 || b.size() == 0) return false;
  const auto [lo_a, hi_a] = byte_extent(a);
  const auto [lo_b, hi_b] = byte_extent(b);
  return lo_a < hi_b && lo_b < hi_a;
}

inline void require_no_alias(const py::array& out, const py::array& in, const char* op,
                             const char* out_name, const char* in_name) {
  if (overlaps(out, in))
    throw py::value_error(std::string(op) + ": " + out_name + " overlaps " + in_name);
}

// Checks a group of inputs of one elementwise/row op: the first is float32/float64, the rest
// share its dtype and shape, all are C-contiguous. Returns the dtype.
inline DType check_like(const char* op, std::initializer_list<std::pair<const char*, const py::array*>> args) {
  const auto& [name0, a0] = *args.begin();
  DType dt = float_dtype(*a0, op, name0);
  for (const auto& [name, a] : args) {
    if (a != a0) {
      require_same_dtype(*a0, name0, *a, name, op);
      require_same_shape(*a0, name0, *a, name, op);
    }
    require_contiguous(*a, op, name);
  }
  return dt;
}

inline py::array empty_like(const py::array& a) {
  return py::array(a.dtype(), std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()));
}

template <class T> const T* cptr(const py::array& a) { return static_cast<const T*>(a.data()); }
template <class T> T* mptr(py::array& a) { return static_cast<T*>(a.mutable_data()); }

// Calls f(T{}) with T the C++ type of dt (float or double).
template <class F>
decltype(auto) with_float(DType dt, F&& f) {
  if (dt == DType::Float32) return f(float{});
  return f(double{});
}

}  // namespace xpgrad
