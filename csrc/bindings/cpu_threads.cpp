// Bindings for the kernels' thread pool (csrc/cpu/thread_pool.cpp).
#include <pybind11/pybind11.h>

#include <string>

#include "xpgrad/thread_pool.h"

namespace xpgrad {

void bind_threads(pybind11::module_& m) {
  m.def("pool_threads", &cpu::num_threads,
        "Threads the elementwise/softmax/sparsemax/optimizer kernels use (XPGRAD_NUM_THREADS, else "
        "OMP_NUM_THREADS, else all cores).");
  m.def("set_pool_threads", [](int n) {
    // The pool clamps to [1, size]; a count below 1 is a caller's mistake (0 or -1 used to mean 1
    // silently), rejected here as torch.set_num_threads does. Above the pool's size is a cap.
    if (n < 1) throw pybind11::value_error("set_pool_threads: n must be >= 1, got " + std::to_string(n));
    return cpu::set_num_threads(n);
  }, pybind11::arg("n"), "Use at most n threads (>= 1, capped at the pool's size); returns the new count.");
}

}  // namespace xpgrad
