// Bindings for the kernels' thread pool (csrc/cpu/thread_pool.cpp).
#include <pybind11/pybind11.h>

#include "xpgrad/thread_pool.h"

namespace xpgrad {

void bind_threads(pybind11::module_& m) {
  m.def("pool_threads", &cpu::num_threads,
        "Threads the elementwise/softmax/sparsemax/optimizer kernels use (XPGRAD_NUM_THREADS, else "
        "OMP_NUM_THREADS, else all cores).");
  m.def("set_pool_threads", &cpu::set_num_threads, pybind11::arg("n"),
        "Use at most n threads (>= 1, capped at the pool's size); returns the new count.");
}

}  // namespace xpgrad
