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

// Makes `device` current for its lifetime and then the one that was (-1: leaves it alone), so
// that a launch on another device does not move the caller's CuPy allocations there.
class DeviceScope {
 public:
  DeviceScope(int device, const char* op) {
    if (device < 0 || cudaGetDevice(&previous_) != cudaSuccess || previous_ == device) {
      (void)cudaGetLastError();
      previous_ = -1;
      return;
    }
    check_cuda(cudaSetDevice(device), op);
  }
  ~DeviceScope() {
    if (previous_ >= 0) (void)cudaSetDevice(previous_);
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = -1;
};

// The device holding `device_ptr`, or -1 (null, a host pointer, no driver: the launch reports it).
inline int device_of(Ptr device_ptr) {
  cudaPointerAttributes attr{};
  if (device_ptr != 0 && cudaPointerGetAttributes(&attr, reinterpret_cast<const void*>(device_ptr)) == cudaSuccess &&
      (attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged))
    return attr.device;
  (void)cudaGetLastError();
  return -1;
}

// Release the GIL, make the pointer's device current for the launches (CuPy may be on another
// one; the caller's device is current again afterwards), run them (a callable returning
// cudaError_t) and turn a failure into RuntimeError.
template <typename Launch> void run_on_device(const char* op, Ptr device_ptr, Launch&& launch) {
  py::gil_scoped_release release;
  const DeviceScope scope(device_of(device_ptr), op);
  check_cuda(launch(), op);
}

// Call f(float{}) or f(double{}): the tag's type is the kernel's element type.
template <typename F> cudaError_t by_dtype(DType dt, F&& f) {
  return dt == DType::Float32 ? f(float{}) : f(double{});
}

inline cudaStream_t as_stream(Ptr s) { return reinterpret_cast<cudaStream_t>(s); }

}  // namespace xpgrad::cuda
