// Fused optimizer updates: one pass over a parameter tensor updates it and its state in place,
// following PyTorch's documented algorithms (see Backend.*_update in backends/base.py).
#pragma once
#include <cstdint>

#include "xpgrad/dispatch.h"

namespace xpgrad::cpu {

// Hyper-parameters after the per-step scalar work (bias corrections) done by the caller.
struct SgdArgs { double lr, momentum, dampening, weight_decay; bool nesterov, first_step; };
struct AdamArgs { double step_size, beta1, beta2, bias2_sqrt, eps, weight_decay, decay_factor; };
struct AdamaxArgs { double step_size, beta1, beta2, eps, weight_decay; };
struct RmspropArgs { double lr, alpha, eps, weight_decay, momentum; };
struct AdagradArgs { double lr, eps, weight_decay; };

template <class T>
struct OptimKernels {
  // buf may be null when momentum == 0.
  void (*sgd)(T* param, const T* grad, T* buf, int64_t n, const SgdArgs& a);
  // decay_factor = 1 − lr·λ for AdamW (then weight_decay = 0), 1 for Adam.
  void (*adam)(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, int64_t n, const AdamArgs& a);
  void (*adamax)(T* param, const T* grad, T* exp_avg, T* exp_inf, int64_t n, const AdamaxArgs& a);
  // buf null without momentum; grad_avg null unless centered.
  void (*rmsprop)(T* param, const T* grad, T* square_avg, T* buf, T* grad_avg, int64_t n, const RmspropArgs& a);
  void (*adagrad)(T* param, const T* grad, T* sum_sq, int64_t n, const AdagradArgs& a);
};

XPGRAD_DECLARE_KERNELS(OptimKernels, optim_kernels)

}  // namespace xpgrad::cpu
