// Bindings for the fused in-place optimizer updates.
#include <pybind11/stl.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "xpgrad/array_checks.h"
#include "xpgrad/optim.h"

namespace xpgrad {
namespace {

using State = std::optional<py::array>;

// param: float, writeable, C-contiguous; grad and each present state like param; states
// writeable; no two arrays overlap (the kernels read and write each element once).
DType check_update(const char* op, const py::array& param, const py::array& grad,
                   std::initializer_list<std::pair<const char*, const State*>> states) {
  DType dt = check_like(op, {{"param", &param}, {"grad", &grad}});
  require_writeable(param, op, "param");
  require_no_alias(param, grad, op, "param", "grad");
  for (const auto& [name, s] : states) {
    if (!*s) continue;
    const py::array& a = **s;
    check_like(op, {{"param", &param}, {name, &a}});
    require_writeable(a, op, name);
    require_no_alias(a, param, op, name, "param");
    require_no_alias(a, grad, op, name, "grad");
    for (const auto& [other_name, o] : states)
      if (o != s && *o) require_no_alias(a, **o, op, name, other_name);
  }
  return dt;
}

template <class T> T* opt_ptr(State& s) { return s ? mptr<T>(*s) : nullptr; }

void require_state(const State& s, const char* op, const char* name, const char* why) {
  if (!s) throw py::value_error(std::string(op) + ": " + name + " is required " + why);
}

// Adam and Adamax count steps from 1 and take betas in [0, 1), as the CUDA binding checks:
// step 0 divides the learning rate by 1 − β₁⁰ = 0 and returned inf/NaN parameters silently.
void check_adam_args(const char* op, double step, double beta1, double beta2) {
  if (!(step >= 1)) throw py::value_error(std::string(op) + ": step must be >= 1, got " + num_str(step));
  require_beta(beta1, op, "beta1");
  require_beta(beta2, op, "beta2");
}

void sgd_update(py::array param, py::array grad, State buf, double lr, double momentum, double dampening,
                bool nesterov, double weight_decay, bool first_step) {
  const char* op = "sgd_update";
  if (momentum == 0) buf.reset();  // unused then, so not checked (as rmsprop_update does)
  DType dt = check_update(op, param, grad, {{"momentum_buffer", &buf}});
  if (momentum != 0) require_state(buf, op, "momentum_buffer", "when momentum != 0");
  const cpu::SgdArgs a{lr, momentum, dampening, weight_decay, nesterov, first_step};
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    T *p = mptr<T>(param), *b = opt_ptr<T>(buf);
    const T* g = cptr<T>(grad);
    py::gil_scoped_release nogil;
    cpu::optim_kernels<T>().sgd(p, g, b, param.size(), a);
  });
}

void adam_update(py::array param, py::array grad, py::array exp_avg, py::array exp_avg_sq, double step, double lr,
                 double beta1, double beta2, double eps, double weight_decay, bool decoupled) {
  const char* op = "adam_update";
  State m(exp_avg), v(exp_avg_sq);
  DType dt = check_update(op, param, grad, {{"exp_avg", &m}, {"exp_avg_sq", &v}});
  check_adam_args(op, step, beta1, beta2);
  const bool adamw = decoupled && weight_decay != 0;
  const cpu::AdamArgs a{lr / (1 - std::pow(beta1, step)), beta1, beta2, std::sqrt(1 - std::pow(beta2, step)), eps,
                        adamw ? 0.0 : weight_decay, adamw ? 1 - lr * weight_decay : 1.0};
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    T *p = mptr<T>(param), *pm = mptr<T>(*m), *pv = mptr<T>(*v);
    const T* g = cptr<T>(grad);
    py::gil_scoped_release nogil;
    cpu::optim_kernels<T>().adam(p, g, pm, pv, param.size(), a);
  });
}

void adamax_update(py::array param, py::array grad, py::array exp_avg, py::array exp_inf, double step, double lr,
                   double beta1, double beta2, double eps, double weight_decay) {
  const char* op = "adamax_update";
  State m(exp_avg), u(exp_inf);
  DType dt = check_update(op, param, grad, {{"exp_avg", &m}, {"exp_inf", &u}});
  check_adam_args(op, step, beta1, beta2);
  const cpu::AdamaxArgs a{lr / (1 - std::pow(beta1, step)), beta1, beta2, eps, weight_decay};
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    T *p = mptr<T>(param), *pm = mptr<T>(*m), *pu = mptr<T>(*u);
    const T* g = cptr<T>(grad);
    py::gil_scoped_release nogil;
    cpu::optim_kernels<T>().adamax(p, g, pm, pu, param.size(), a);
  });
}

void rmsprop_update(py::array param, py::array grad, py::array square_avg, double lr, double alpha, double eps,
                    double weight_decay, double momentum, State buf, bool centered, State grad_avg) {
  const char* op = "rmsprop_update";
  State s(square_avg);
  if (!centered) grad_avg.reset();
  if (momentum == 0) buf.reset();
  DType dt = check_update(op, param, grad, {{"square_avg", &s}, {"momentum_buffer", &buf}, {"grad_avg", &grad_avg}});
  if (momentum != 0) require_state(buf, op, "momentum_buffer", "when momentum != 0");
  if (centered) require_state(grad_avg, op, "grad_avg", "when centered");
  const cpu::RmspropArgs a{lr, alpha, eps, weight_decay, momentum};
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    T *p = mptr<T>(param), *ps = mptr<T>(*s), *pb = opt_ptr<T>(buf), *pa = opt_ptr<T>(grad_avg);
    const T* g = cptr<T>(grad);
    py::gil_scoped_release nogil;
    cpu::optim_kernels<T>().rmsprop(p, g, ps, pb, pa, param.size(), a);
  });
}

void adagrad_update(py::array param, py::array grad, py::array sum_sq, double lr, double eps, double weight_decay) {
  const char* op = "adagrad_update";
  State s(sum_sq);
  DType dt = check_update(op, param, grad, {{"sum_sq", &s}});
  const cpu::AdagradArgs a{lr, eps, weight_decay};
  with_float(dt, [&](auto tag) {
    using T = decltype(tag);
    T *p = mptr<T>(param), *ps = mptr<T>(*s);
    const T* g = cptr<T>(grad);
    py::gil_scoped_release nogil;
    cpu::optim_kernels<T>().adagrad(p, g, ps, param.size(), a);
  });
}

}  // namespace

void bind_optim(py::module_& m) {
  using py::arg;
  m.def("sgd_update", &sgd_update, arg("param"), arg("grad"), arg("momentum_buffer"), arg("lr"), arg("momentum"),
        arg("dampening"), arg("nesterov"), arg("weight_decay"), arg("first_step"),
        "In-place PyTorch SGD step (momentum, dampening, Nesterov, L2 weight decay).");
  m.def("adam_update", &adam_update, arg("param"), arg("grad"), arg("exp_avg"), arg("exp_avg_sq"), arg("step"),
        arg("lr"), arg("beta1"), arg("beta2"), arg("eps"), arg("weight_decay"), arg("decoupled_weight_decay"),
        "In-place PyTorch Adam / AdamW step.");
  m.def("adamax_update", &adamax_update, arg("param"), arg("grad"), arg("exp_avg"), arg("exp_inf"), arg("step"),
        arg("lr"), arg("beta1"), arg("beta2"), arg("eps"), arg("weight_decay"), "In-place PyTorch Adamax step.");
  m.def("rmsprop_update", &rmsprop_update, arg("param"), arg("grad"), arg("square_avg"), arg("lr"), arg("alpha"),
        arg("eps"), arg("weight_decay"), arg("momentum"), arg("momentum_buffer"), arg("centered"), arg("grad_avg"),
        "In-place PyTorch RMSprop step (plain, momentum, centered).");
  m.def("adagrad_update", &adagrad_update, arg("param"), arg("grad"), arg("sum_sq"), arg("lr"), arg("eps"),
        arg("weight_decay"), "In-place PyTorch Adagrad step (lr already decayed).");
}

}  // namespace xpgrad
