// pybind11 module xpgrad._C: one bind_<area> function per kernel family (see cpu_<area>.cpp).
#include <pybind11/pybind11.h>

#include "xpgrad/cpu_features.h"
#include "xpgrad/thread_pool.h"

namespace py = pybind11;

namespace xpgrad {
void bind_activations(py::module_& m);
void bind_gemm(py::module_& m);
void bind_softmax(py::module_& m);
void bind_sparsemax(py::module_& m);
void bind_optim(py::module_& m);
void bind_dropout(py::module_& m);
void bind_conv(py::module_& m);
void bind_threads(py::module_& m);
}

PYBIND11_MODULE(_C, m) {
  m.doc() = "xpgrad C++ CPU kernels";
  m.def("isa", [] { return std::string(xpgrad::isa_name(xpgrad::active_isa())); },
        "The instruction set the kernels dispatch to: avx512, avx2 or portable.");
  m.def("num_threads", [] {
#ifdef _OPENMP
    return xpgrad::cpu::num_threads();
#else
    return 1;
#endif
  }, "Threads the GEMM uses (the pool's count, see pool_threads; 1 when built without OpenMP).");
  xpgrad::bind_activations(m);
  xpgrad::bind_gemm(m);
  xpgrad::bind_softmax(m);
  xpgrad::bind_sparsemax(m);
  xpgrad::bind_optim(m);
  xpgrad::bind_dropout(m);
  xpgrad::bind_conv(m);
  xpgrad::bind_threads(m);
}
