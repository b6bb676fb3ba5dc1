// Binding for the dropout mask generator (counter-based RNG seeded by the caller).
#include <cmath>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "xpgrad/array_checks.h"
#include "xpgrad/dropout.h"

namespace xpgrad {
namespace {

py::array dropout_mask(const std::vector<py::ssize_t>& shape, double p, double scale, const py::dtype& dtype,
                       uint64_t seed) {
  const char* op = "dropout_mask";
  require_range(p, 0.0, 1.0, op, "p");
  // The dtype is checked before allocating: a wrong one must not cost a huge allocation first,
  // and a subarray dtype such as (float32, (3,)) would silently append its dims to the shape.
  const DType dt = float_dtype(dtype, op, "dtype");
  for (auto d : shape)
    if (d < 0)
      throw py::value_error(std::string(op) + ": shape " + shape_str(shape.data(), py::ssize_t(shape.size())) +
                            " has a negative dimension");
  py::array out(dtype, shape);
  const uint64_t keep_from = uint64_t(std::ceil(p * 9007199254740992.0));  // ⌈p·2⁵³⌉
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    T* o = mptr<T>(out);
    const int64_t n = out.size();
    py::gil_scoped_release nogil;
    cpu::dropout_kernels<T>().mask(o, n, seed, keep_from, T(scale));
  });
  return out;
}

}  // namespace

void bind_dropout(py::module_& m) {
  using py::arg;
  m.def("dropout_mask", &dropout_mask, arg("shape"), arg("p"), arg("scale"), arg("dtype"), arg("seed"),
        "scale where u(seed, i) >= p, else 0; u from splitmix64 on the element index");
}

}  // namespace xpgrad
