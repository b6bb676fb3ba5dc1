// Argument checks and launch plumbing shared by the CUDA bindings (csrc/bindings/cuda_*.cpp).
// Checks raise ValueError before any work; CUDA errors become RuntimeError. Launches run with
// the GIL released, on the device that owns the output pointer and on the caller's stream.
#pragma once
#include <pybind11/pybind11.h>

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "xpgrad/cuda_kernels.h"
#include "xpgrad/scalar_checks.h"

namespace xpgrad::cuda {
namespace py = pybind11;
using Ptr = std::uintptr_t;  // a device pointer as Python passes it (cupy.ndarray.data.ptr)

enum class DType { Float32, Float64 };

inline DType parse_dtype(const std::string& dtype, const char* op) {
  if (dtype == "float32") return DType::Float32;
  if (dtype == "float64") return DType::Float64;
  throw py::value_error(std::string(op) + ": dtype must be 'float32' or 'float64', got '" + dtype + "'");
}

inline void require_nonnegative(int64_t v, const char* op, const char* name) {
  if (v < 0) throw py::value_error(std::string(op) + ": " + name + " must be >= 0, got " + std::to_string(v));
}

// A pointer is needed whenever the kernel will touch it (its array is non-empty).
inline void require_pointer(Ptr p, bool needed, const char* op, const char* name) {
  if (needed && p == 0) throw py::value_error(std::string(op) + ": " + name + " is a null device pointer");
}

inline Act parse_activation(const std::string& name, const char* op, bool fusable_only) {
  if (name == "identity") return Act::Identity;
  if (name == "relu") return Act::Relu;
  if (name == "sigmoid") return Act::Sigmoid;
  if (name == "tanh") return Act::Tanh;
  if (!fusable_only && name == "leaky_relu") return Act::LeakyRelu;
  if (!fusable_only && name == "elu") return Act::Elu;
  throw py::value_error(std::string(op) + ": unknown activation '" + name + "'" +
                        (fusable_only ? " (fusable: identity, relu, sigmoid, tanh)" : ""));
}

template <typename T> T* as_ptr(Ptr p) { return reinterpret_cast<T*>(p); }

inline void check_cuda(cudaError_t err, const char* op) {
  if (err != cudaSuccess) throw std::runtime_error(std::string(op) + ": CUDA error: " + cudaGetErrorString(err));
}

// Release the GIL, make the pointer's device current (CuPy may be on another one), run the
// launches (a callable returning cudaError_t) and turn a failure into RuntimeError.
template <typename Launch> void run_on_device(const char* op, Ptr device_ptr, Launch&& launch) {
  py::gil_scoped_release release;
  if (device_ptr != 0) {
    cudaPointerAttributes attr{};
    if (cudaPointerGetAttributes(&attr, reinterpret_cast<const void*>(device_ptr)) == cudaSuccess &&
        (attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged)) {
      check_cuda(cudaSetDevice(attr.device), op);
    } else {
      (void)cudaGetLastError();  // a host pointer or no driver: let the launch report it
    }
  }
  check_cuda(launch(), op);
}

// Call f(float{}) or f(double{}): the tag's type is the kernel's element type.
template <typename F> cudaError_t by_dtype(DType dt, F&& f) {
  return dt == DType::Float32 ? f(float{}) : f(double{});
}

inline cudaStream_t as_stream(Ptr s) { return reinterpret_cast<cudaStream_t>(s); }

}  // namespace xpgrad::cuda
