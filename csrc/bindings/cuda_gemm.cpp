// Bindings: gemm (with the linear epilogue) and linear_backward.
#include "xpgrad/cuda_checks.h"

namespace xpgrad::cuda {
namespace {

void gemm_entry(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, Ptr a, int64_t lda,
                Ptr b, int64_t ldb, Ptr c, const std::string& dtype, Ptr stream, Ptr bias,
                const std::string& activation, bool tf32) {
  const char* op = "gemm";
  const DType dt = parse_dtype(dtype, op);
  require_nonnegative(m, op, "m");
  require_nonnegative(n, op, "n");
  require_nonnegative(k, op, "k");
  if (trans_a && trans_b) throw py::value_error("gemm: trans_a and trans_b together are not supported");
  // Row-major storage: the leading dimension is at least the stored row length.
  if (lda < std::max<int64_t>(1, trans_a ? m : k)) throw py::value_error("gemm: lda too small");
  if (ldb < std::max<int64_t>(1, trans_b ? k : n)) throw py::value_error("gemm: ldb too small");
  const bool work = m > 0 && n > 0;
  require_pointer(a, work && k > 0, op, "a");
  require_pointer(b, work && k > 0, op, "b");
  require_pointer(c, work, op, "c");
  const Act act = parse_activation(activation, op, true);
  run_on_device(op, c, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      return gemm<T>(trans_a, trans_b, m, n, k, as_ptr<const T>(a), lda, as_ptr<const T>(b), ldb,
                     as_ptr<T>(c), as_ptr<const T>(bias), act, tf32, as_stream(stream));
    });
  });
}

// y = act(x·W + b): g = gy ⊙ act'(y) (into `g`, or gy itself for identity), gx = g·Wᵀ,
// gw = xᵀ·g, gb = Σ_rows g (gx and gb are skipped when their pointer is null).
void linear_backward_entry(Ptr x, Ptr w, Ptr y, Ptr gy, Ptr g, Ptr gx, Ptr gw, Ptr gb,
                           int64_t batch, int64_t in_features, int64_t out_features,
                           const std::string& activation, const std::string& dtype, Ptr stream,
                           bool tf32) {
  const char* op = "linear_backward";
  const DType dt = parse_dtype(dtype, op);
  require_nonnegative(batch, op, "batch");
  require_nonnegative(in_features, op, "in_features");
  require_nonnegative(out_features, op, "out_features");
  const Act act = parse_activation(activation, op, true);
  const bool rows = batch > 0 && out_features > 0;
  require_pointer(gy, rows, op, "gy");
  require_pointer(y, rows && act != Act::Identity, op, "y");
  require_pointer(g, rows && act != Act::Identity, op, "g");
  require_pointer(x, batch > 0 && in_features > 0, op, "x");
  require_pointer(w, in_features > 0 && out_features > 0, op, "w");
  require_pointer(gw, in_features > 0 && out_features > 0, op, "gw");
  const Ptr grad = act == Act::Identity ? gy : g;
  run_on_device(op, gw ? gw : gx, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      const cudaStream_t s = as_stream(stream);
      const int64_t n_out = batch * out_features;
      cudaError_t err = cudaSuccess;
      if (act != Act::Identity)
        err = activation_backward<T>(act, nullptr, as_ptr<const T>(y), as_ptr<const T>(gy),
                                     as_ptr<T>(g), n_out, 0.0, s);
      if (err == cudaSuccess && gx)  // gx (batch x in) = g (batch x out) · Wᵀ, W (in x out)
        err = gemm<T>(false, true, batch, in_features, out_features, as_ptr<const T>(grad),
                      std::max<int64_t>(1, out_features), as_ptr<const T>(w),
                      std::max<int64_t>(1, out_features), as_ptr<T>(gx), nullptr, Act::Identity,
                      tf32, s);
      if (err == cudaSuccess)  // gw (in x out) = xᵀ (in x batch) · g (batch x out)
        err = gemm<T>(true, false, in_features, out_features, batch, as_ptr<const T>(x),
                      std::max<int64_t>(1, in_features), as_ptr<const T>(grad),
                      std::max<int64_t>(1, out_features), as_ptr<T>(gw), nullptr, Act::Identity,
                      tf32, s);
      if (err == cudaSuccess && gb)
        err = column_sum<T>(as_ptr<const T>(grad), as_ptr<T>(gb), batch, out_features, s);
      return err;
    });
  });
}

}  // namespace

void bind_gemm(py::module_& m) {
  m.def("gemm", &gemm_entry, py::arg("trans_a"), py::arg("trans_b"), py::arg("m"), py::arg("n"),
        py::arg("k"), py::arg("a"), py::arg("lda"), py::arg("b"), py::arg("ldb"), py::arg("c"),
        py::arg("dtype"), py::arg("stream") = 0, py::arg("bias") = 0,
        py::arg("activation") = "identity", py::arg("tf32") = false,
        "C (m x n, row-major) = act(op(A)·op(B) + bias); op(X) = Xᵀ when asked (not both).");
  m.def("linear_backward", &linear_backward_entry, py::arg("x"), py::arg("w"), py::arg("y"),
        py::arg("gy"), py::arg("g"), py::arg("gx"), py::arg("gw"), py::arg("gb"),
        py::arg("batch"), py::arg("in_features"), py::arg("out_features"),
        py::arg("activation"), py::arg("dtype"), py::arg("stream") = 0, py::arg("tf32") = false,
        "Gradients of y = act(x·W + b): g = gy ⊙ act'(y); gx = g·Wᵀ, gw = xᵀ·g, gb = Σ g.");
}

}  // namespace xpgrad::cuda
