// Host launchers of the CUDA kernels (defined in csrc/cuda/*.cu, instantiated for float and
// double). Every pointer is a device pointer; every launcher only enqueues work on `stream`
// and returns the launch error, so the binding layer decides how to report it.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace xpgrad::cuda {

// cudaSuccess when the current GPU can run this build's kernels (device_check.cu).
cudaError_t probe_kernel_image();

// Activations by kind; the first four are the ones a linear layer can fuse in its epilogue.
enum class Act : int { Identity = 0, Relu, Sigmoid, Tanh, LeakyRelu, Elu };

// ---- gemm.cu / linear.cu: C (m x n, row-major, ldc = n) = act(op(A)·op(B) + bias) --------
// op(A) is m x k: A is row-major with leading dimension lda (lda >= k, or >= m when trans_a).
template <typename T>
cudaError_t gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a,
                 int64_t lda, const T* b, int64_t ldb, T* c, const T* bias, Act act,
                 bool tf32, cudaStream_t stream);

// gb[j] = Σᵢ g[i, j] for g (rows x cols).
template <typename T>
cudaError_t column_sum(const T* g, T* out, int64_t rows, int64_t cols, cudaStream_t stream);

// ---- activations.cu: y = f(x); gx = f'(·)·gy from x and/or y as each kind needs -------------
template <typename T>
cudaError_t activation_forward(Act act, const T* x, T* y, int64_t n, double param,
                               cudaStream_t stream);
template <typename T>
cudaError_t activation_backward(Act act, const T* x, const T* y, const T* gy, T* gx, int64_t n,
                                double param, cudaStream_t stream);

// ---- softmax.cu: over the last axis of a (rows x k) array ---------------------------------
template <typename T>
cudaError_t softmax_forward(const T* x, T* y, int64_t rows, int64_t k, bool log,
                            cudaStream_t stream);
template <typename T>
cudaError_t softmax_backward(const T* y, const T* gy, T* gx, int64_t rows, int64_t k, bool log,
                             cudaStream_t stream);

// ---- cross_entropy.cu: loss (rows,) and grad = p − t' with t' = (1−ε)t + ε/k ------------
// Exactly one of target_index (int64, rows) and target_prob (rows x k) is non-null.
template <typename T>
cudaError_t cross_entropy(const T* logits, const int64_t* target_index, const T* target_prob,
                          T* loss, T* grad, int64_t rows, int64_t k, double label_smoothing,
                          cudaStream_t stream);

// ---- sparsemax.cu ---------------------------------------------------------------------------
template <typename T>
cudaError_t sparsemax_forward(const T* x, T* y, int64_t rows, int64_t k, cudaStream_t stream);
template <typename T>
cudaError_t sparsemax_backward(const T* y, const T* gy, T* gx, int64_t rows, int64_t k,
                               cudaStream_t stream);
template <typename T>
cudaError_t sparsemax_loss(const T* logits, const int64_t* target_index, const T* target_multi,
                           T* loss, T* grad, int64_t rows, int64_t k, cudaStream_t stream);

// ---- optim.cu: in-place fused updates, formulas as in backends/base.py ----------------------
struct SgdArgs { double lr, momentum, dampening, weight_decay; bool nesterov, first_step; };
struct AdamArgs { double lr, beta1, beta2, eps, weight_decay, bias1, bias2_sqrt; bool decoupled; };
struct RmspropArgs { double lr, alpha, eps, weight_decay, momentum; bool centered; };

template <typename T>
cudaError_t sgd_update(T* param, const T* grad, T* momentum_buffer, int64_t n,
                       const SgdArgs& args, cudaStream_t stream);
template <typename T>
cudaError_t adam_update(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, int64_t n,
                        const AdamArgs& args, cudaStream_t stream);
template <typename T>
cudaError_t adamax_update(T* param, const T* grad, T* exp_avg, T* exp_inf, int64_t n,
                          const AdamArgs& args, cudaStream_t stream);
template <typename T>
cudaError_t rmsprop_update(T* param, const T* grad, T* square_avg, T* momentum_buffer,
                           T* grad_avg, int64_t n, const RmspropArgs& args, cudaStream_t stream);
template <typename T>
cudaError_t adagrad_update(T* param, const T* grad, T* sum_sq, int64_t n, double lr, double eps,
                           double weight_decay, cudaStream_t stream);

// ---- dropout.cu: mask[i] = scale if u(seed, i) >= p else 0, u a counter-based hash in [0,1) --
template <typename T>
cudaError_t dropout_mask(T* mask, int64_t n, double p, double scale, uint64_t seed,
                         cudaStream_t stream);

}  // namespace xpgrad::cuda
