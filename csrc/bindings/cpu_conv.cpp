// Bindings for im2col / col2im (csrc/cpu/im2col.cpp) and max pooling (csrc/cpu/max_pool_impl.h):
// the geometry is checked here, with overflow-checked sizes, so that the kernels may index
// without bounds checks.
#include <array>
#include <string>
#include <type_traits>

#include <pybind11/stl.h>

#include "xpgrad/array_checks.h"
#include "xpgrad/im2col.h"
#include "xpgrad/max_pool.h"

namespace xpgrad {
namespace {

using Pair = std::array<int64_t, 2>;
using Shape4 = std::array<py::ssize_t, 4>;

std::string pair_str(const Pair& p) { return "(" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ")"; }

// a·b + c, or ValueError when it leaves int64.
int64_t mul_add(const char* op, int64_t a, int64_t b, int64_t c = 0) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || __builtin_add_overflow(r, c, &r))
    throw py::value_error(std::string(op) + ": sizes overflow int64");
  return r;
}

void require_no_negative(const char* op, const char* name, const Shape4& shape) {
  for (auto d : shape)
    if (d < 0) throw py::value_error(std::string(op) + ": " + name + " " + shape_str(shape.data(), 4) + " has a negative dimension");
}

// The geometry of x (n, c, h, w) under the kernel, stride and padding, after checking them.
cpu::ConvGeometry geometry(const char* op, const Shape4& x, const Pair& kernel, const Pair& stride,
                           const Pair& padding) {
  require_no_negative(op, "input shape", x);
  // Below 2^40 each, the kernels' window arithmetic (a column plus a stride, say) stays in int64
  // (a stride of 2^63 − 1 overflowed it, and max pooling visited no element of the window).
  constexpr int64_t kLargest = (int64_t(1) << 40) - 1;
  const std::pair<const char*, const Pair*> limits[] = {{"kernel_size", &kernel}, {"stride", &stride}, {"padding", &padding}};
  for (const auto& [name, p] : limits) {
    const int64_t lowest = p == &padding ? 0 : 1;
    if ((*p)[0] < lowest || (*p)[1] < lowest)
      throw py::value_error(std::string(op) + ": " + name + " must be at least " + std::to_string(lowest) + ", got " +
                            pair_str(*p));
    if ((*p)[0] > kLargest || (*p)[1] > kLargest)
      throw py::value_error(std::string(op) + ": " + name + " must be below 2^40, got " + pair_str(*p));
  }
  Pair out;
  for (int d = 0; d < 2; ++d) {
    const int64_t padded = mul_add(op, 2, padding[d], x[2 + d]);
    if (padded < kernel[d])
      throw py::value_error(std::string(op) + ": kernel " + pair_str(kernel) + " is larger than the padded input " +
                            pair_str({mul_add(op, 2, padding[0], x[2]), mul_add(op, 2, padding[1], x[3])}));
    out[d] = (padded - kernel[d]) / stride[d] + 1;
  }
  mul_add(op, mul_add(op, x[0], out[0]), out[1]);  // rows, and the columns below, fit int64
  mul_add(op, mul_add(op, x[1], kernel[0]), kernel[1]);
  return {x[0], x[1], x[2], x[3], kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1], out[0], out[1]};
}

// The geometry of an image batch x, which must be a contiguous (N, C, H, W) array, or
// (N, H, W, C) when channels_last.
cpu::ConvGeometry image_geometry(const char* op, const py::array& x, const Pair& kernel, const Pair& stride,
                                 const Pair& padding, bool channels_last = false) {
  if (x.ndim() != 4)
    throw py::value_error(std::string(op) + ": x must be " + (channels_last ? "(N, H, W, C)" : "(N, C, H, W)") +
                          ", got shape " + shape_str(x));
  require_contiguous(x, op, "x");
  if (channels_last) return geometry(op, {x.shape(0), x.shape(3), x.shape(1), x.shape(2)}, kernel, stride, padding);
  return geometry(op, {x.shape(0), x.shape(1), x.shape(2), x.shape(3)}, kernel, stride, padding);
}

// kernel(src, dst) with the typed pointers of dt (float or double), the GIL released.
template <class Kernel>
void run_typed(DType dt, const py::array& src, py::array& dst, Kernel&& kernel) {
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    const T* ps = cptr<T>(src);
    T* pd = mptr<T>(dst);
    py::gil_scoped_release nogil;
    kernel(ps, pd);
  });
}

py::array im2col(const py::array& x, const Pair& kernel_size, const Pair& stride, const Pair& padding) {
  const char* op = "im2col";
  const DType dt = float_dtype(x, op, "x");
  const cpu::ConvGeometry g = image_geometry(op, x, kernel_size, stride, padding);
  py::array cols(x.dtype(), std::vector<py::ssize_t>{g.n * g.oh * g.ow, g.c * g.kh * g.kw});
  run_typed(dt, x, cols, [&](auto px, auto pc) { cpu::im2col(px, pc, g); });
  return cols;
}

py::array col2im(const py::array& cols, const Shape4& x_shape, const Pair& kernel_size,
                  const Pair& stride, const Pair& padding) {
  const char* op = "col2im";
  const DType dt = float_dtype(cols, op, "cols");
  require_contiguous(cols, op, "cols");
  const cpu::ConvGeometry g = geometry(op, x_shape, kernel_size, stride, padding);
  const py::ssize_t want[2] = {g.n * g.oh * g.ow, g.c * g.kh * g.kw};
  if (cols.ndim() != 2 || cols.shape(0) != want[0] || cols.shape(1) != want[1])
    throw py::value_error(std::string(op) + ": cols has shape " + shape_str(cols) + ", expected " + shape_str(want, 2) +
                          " for input " + shape_str(x_shape.data(), 4) + ", kernel " + pair_str(kernel_size) +
                          ", stride " + pair_str(stride) + ", padding " + pair_str(padding));
  py::array x(cols.dtype(), std::vector<py::ssize_t>(x_shape.begin(), x_shape.end()));
  run_typed(dt, cols, x, [&](auto pc, auto px) { cpu::col2im(pc, px, g); });
  return x;
}

py::tuple max_pool2d(const py::array& x, const Pair& kernel_size, const Pair& stride, const Pair& padding,
                     bool channels_last) {
  const char* op = "max_pool2d";
  const DType dt = float_dtype(x, op, "x");
  const cpu::ConvGeometry g = image_geometry(op, x, kernel_size, stride, padding, channels_last);
  if (2 * padding[0] > kernel_size[0] || 2 * padding[1] > kernel_size[1])
    throw py::value_error(std::string(op) + ": padding " + pair_str(padding) + " should be at most half of kernel_size " +
                          pair_str(kernel_size));
  if (g.h == 0 || g.w == 0)  // the padded windows would hold no element to take the maximum of
    throw py::value_error(std::string(op) + ": x " + shape_str(x) + " has an empty spatial dimension");
  const std::vector<py::ssize_t> out{g.n, g.c, g.oh, g.ow};
  mul_add(op, mul_add(op, g.n * g.oh * g.ow, g.c), 8);  // y's bytes, argmax's (int64) too
  py::array y(x.dtype(), out);
  py::array_t<int64_t> argmax(out);
  int64_t* pa = argmax.mutable_data();
  run_typed(dt, x, y, [&](auto px, auto py_) {
    cpu::max_pool_kernels<std::remove_pointer_t<decltype(py_)>>().forward(px, py_, pa, g, channels_last);
  });
  return py::make_tuple(y, argmax);
}

py::array max_pool2d_backward(const py::array& gy, const py::array& argmax, const Shape4& x_shape,
                              bool channels_last) {
  const char* op = "max_pool2d_backward";
  const DType dt = float_dtype(gy, op, "gy");
  if (gy.ndim() != 4) throw py::value_error(std::string(op) + ": gy must be (N, C, OH, OW), got shape " + shape_str(gy));
  require_contiguous(gy, op, "gy");
  if (!argmax.dtype().equal(py::dtype::of<int64_t>()))
    throw py::value_error(std::string(op) + ": argmax must be int64, got " + dtype_str(argmax));
  require_contiguous(argmax, op, "argmax");
  require_same_shape(gy, "gy", argmax, "argmax", op);
  require_no_negative(op, "x_shape", x_shape);
  if (x_shape[0] != gy.shape(0) || x_shape[1] != gy.shape(1))
    throw py::value_error(std::string(op) + ": gy has shape " + shape_str(gy) + ", x_shape " +
                          shape_str(x_shape.data(), 4) + " (N, C differ)");
  mul_add(op, mul_add(op, mul_add(op, x_shape[0], x_shape[1]), x_shape[2]), x_shape[3]);
  const cpu::ConvGeometry g{x_shape[0], x_shape[1], x_shape[2], x_shape[3], 1, 1, 1, 1, 0, 0, gy.shape(2), gy.shape(3)};
  const auto [n, c, h, w] = x_shape;
  py::array gx(gy.dtype(), channels_last ? std::vector<py::ssize_t>{n, h, w, c} : std::vector<py::ssize_t>{n, c, h, w});
  bool ok = true;
  const int64_t* pa = static_cast<const int64_t*>(argmax.data());
  run_typed(dt, gy, gx, [&](auto pg, auto px) {
    ok = cpu::max_pool_kernels<std::remove_pointer_t<decltype(px)>>().backward(pg, pa, px, g, channels_last);
  });
  if (!ok)
    throw py::value_error(std::string(op) + ": argmax holds an index outside [0, H*W) for x_shape " +
                          shape_str(x_shape.data(), 4));
  return gx;
}

}  // namespace

void bind_conv(py::module_& m) {
  using py::arg;
  m.def("im2col", &im2col, arg("x"), arg("kernel_size"), arg("stride"), arg("padding"),
        "(N, C, H, W) -> (N*OH*OW, C*kH*kW): row (n, oy, ox) is the zero-padded window "
        "x[n, :, oy*sH - pH : +kH, ox*sW - pW : +kW]");
  m.def("col2im", &col2im, arg("cols"), arg("x_shape"), arg("kernel_size"), arg("stride"), arg("padding"),
        "Adjoint of im2col: scatter-add the rows of cols (N*OH*OW, C*kH*kW) into a new (N, C, H, W) array");
  m.def("max_pool2d", &max_pool2d, arg("x"), arg("kernel_size"), arg("stride"), arg("padding"),
        arg("channels_last") = false,
        "(N, C, H, W), or (N, H, W, C) when channels_last -> (y, argmax), both (N, C, OH, OW): the maxima "
        "of the -inf-padded windows and the flat H*W index of each window's first maximal element (a NaN "
        "wins)");
  m.def("max_pool2d_backward", &max_pool2d_backward, arg("gy"), arg("argmax"), arg("x_shape"),
        arg("channels_last") = false,
        "gx = zeros with gy (N, C, OH, OW) added at argmax in each (n, c) plane; gx is x_shape (N, C, H, W), "
        "or (N, H, W, C) when channels_last");
}

}  // namespace xpgrad
