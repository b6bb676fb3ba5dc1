// Checks of scalar arguments (hyper-parameters), shared by the CPU and CUDA bindings: each raises
// ValueError naming the operation, the argument and the value as Python prints it.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

namespace xpgrad {
namespace py = pybind11;

// A double as Python prints it (shortest round trip: 1.0000000001, -1e-300, nan): std::to_string
// would show both of those rejected values as 1.000000 and -0.000000.
inline std::string num_str(double v) { return py::repr(py::float_(v)).cast<std::string>(); }

// lo <= v <= hi, else ValueError naming the argument (NaN fails too).
inline void require_range(double v, double lo, double hi, const char* op, const char* name) {
  if (!(v >= lo && v <= hi))
    throw py::value_error(std::string(op) + ": " + name + " must be in [" + num_str(lo) + ", " + num_str(hi) +
                          "], got " + num_str(v));
}

// An exponential-average coefficient β (Adam's, Adamax's) in [0, 1), as PyTorch checks: β₁ = 1
// divides the learning rate by 1 − β₁ᵗ = 0 (NaN parameters, silently).
inline void require_beta(double v, const char* op, const char* name) {
  if (!(v >= 0.0 && v < 1.0))
    throw py::value_error(std::string(op) + ": " + name + " must be in [0, 1), got " + num_str(v));
}

}  // namespace xpgrad
