// GEMM and the fused Linear layer on strided operands (BLIS/GotoBLAS structure: see
// csrc/cpu/gemm_driver.cpp). Strides are in elements and may be negative or zero, so a
// transpose is just a view: op(A) = Aᵀ swaps the strides.
#pragma once
#include <cstdint>

namespace xpgrad::cpu {

// Activations the GEMM can apply while writing C back (no extra pass over C).
enum class Activation { Identity, Relu, Sigmoid, Tanh };

// Read-only matrix view: element (i, j) at data[i*rs + j*cs].
template <typename T>
struct ConstMatrix {
  const T* data;
  int64_t rows, cols, rs, cs;
  ConstMatrix<T> t() const { return {data, cols, rows, cs, rs}; }
};

// C = act(A·B + bias) for A (m×k), B (k×n), C (m×n, row stride ldc, unit column stride),
// bias (n,) or null. C must not overlap A or B. Uses all OpenMP threads for large shapes.
template <typename T>
void gemm(const ConstMatrix<T>& a, const ConstMatrix<T>& b, T* c, int64_t ldc, const T* bias,
          Activation act);

// Backward of y = act(x·W + b), x (n×in), W (in×out), y and gy contiguous (n×out):
// g = gy ⊙ act'(y), gb = Σ_rows g (same pass), gx = g·Wᵀ (n×in), gw = xᵀ·g (in×out);
// g_buf (n×out) holds g unless act is identity (then g = gy); gx and gb may be null (skipped).
template <typename T>
void linear_backward(const ConstMatrix<T>& x, const ConstMatrix<T>& w, const T* y, const T* gy,
                     Activation act, T* g_buf, T* gx, T* gw, T* gb);

}  // namespace xpgrad::cpu
