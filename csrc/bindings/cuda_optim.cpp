// Bindings: fused optimizer updates (in place) and the dropout mask.
#include "xpgrad/cuda_checks.h"

namespace xpgrad::cuda {
namespace {

// Every update reads and writes n elements of each named state buffer.
void check_buffers(const char* op, int64_t n, std::initializer_list<std::pair<Ptr, const char*>> bufs) {
  require_nonnegative(n, op, "n");
  for (auto [p, name] : bufs) require_pointer(p, n > 0, op, name);
}

void sgd_entry(Ptr param, Ptr grad, Ptr momentum_buffer, int64_t n, const std::string& dtype,
               Ptr stream, double lr, double momentum, double dampening, bool nesterov,
               double weight_decay, bool first_step) {
  const char* op = "sgd_update";
  const DType dt = parse_dtype(dtype, op);
  check_buffers(op, n, {{param, "param"}, {grad, "grad"}});
  require_pointer(momentum_buffer, n > 0 && momentum != 0.0, op, "momentum_buffer");
  const SgdArgs args{lr, momentum, dampening, weight_decay, nesterov, first_step};
  run_on_device(op, param, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      return sgd_update<T>(as_ptr<T>(param), as_ptr<const T>(grad), as_ptr<T>(momentum_buffer), n,
                           args, as_stream(stream));
    });
  });
}

// Adam/AdamW and Adamax share the hyper-parameters; the bias corrections are computed here
// once in double: 1 − β₁ᵗ and √(1 − β₂ᵗ).
AdamArgs adam_args(const char* op, int64_t step, double lr, double beta1, double beta2, double eps,
                   double weight_decay, bool decoupled) {
  if (step < 1) throw py::value_error(std::string(op) + ": step must be >= 1");
  require_beta(beta1, op, "beta1");
  require_beta(beta2, op, "beta2");
  return {lr, beta1, beta2, eps, weight_decay, 1.0 - std::pow(beta1, double(step)),
          std::sqrt(1.0 - std::pow(beta2, double(step))), decoupled};
}

void adam_entry(Ptr param, Ptr grad, Ptr exp_avg, Ptr exp_avg_sq, int64_t n,
                const std::string& dtype, Ptr stream, int64_t step, double lr, double beta1,
                double beta2, double eps, double weight_decay, bool decoupled_weight_decay) {
  const char* op = "adam_update";
  const DType dt = parse_dtype(dtype, op);
  check_buffers(op, n, {{param, "param"}, {grad, "grad"}, {exp_avg, "exp_avg"}, {exp_avg_sq, "exp_avg_sq"}});
  const AdamArgs args = adam_args(op, step, lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay);
  run_on_device(op, param, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      return adam_update<T>(as_ptr<T>(param), as_ptr<const T>(grad), as_ptr<T>(exp_avg),
                            as_ptr<T>(exp_avg_sq), n, args, as_stream(stream));
    });
  });
}

void adamax_entry(Ptr param, Ptr grad, Ptr exp_avg, Ptr exp_inf, int64_t n,
                  const std::string& dtype, Ptr stream, int64_t step, double lr, double beta1,
                  double beta2, double eps, double weight_decay) {
  const char* op = "adamax_update";
  const DType dt = parse_dtype(dtype, op);
  check_buffers(op, n, {{param, "param"}, {grad, "grad"}, {exp_avg, "exp_avg"}, {exp_inf, "exp_inf"}});
  const AdamArgs args = adam_args(op, step, lr, beta1, beta2, eps, weight_decay, false);
  run_on_device(op, param, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      return adamax_update<T>(as_ptr<T>(param), as_ptr<const T>(grad), as_ptr<T>(exp_avg),
                              as_ptr<T>(exp_inf), n, args, as_stream(stream));
    });
  });
}

void rmsprop_entry(Ptr param, Ptr grad, Ptr square_avg, int64_t n, const std::string& dtype,
                   Ptr stream, double lr, double alpha, double eps, double weight_decay,
                   double momentum, Ptr momentum_buffer, bool centered, Ptr grad_avg) {
  const char* op = "rmsprop_update";
  const DType dt = parse_dtype(dtype, op);
  check_buffers(op, n, {{param, "param"}, {grad, "grad"}, {square_avg, "square_avg"}});
  require_pointer(momentum_buffer, n > 0 && momentum != 0.0, op, "momentum_buffer");
  require_pointer(grad_avg, n > 0 && centered, op, "grad_avg");
  const RmspropArgs args{lr, alpha, eps, weight_decay, momentum, centered};
  run_on_device(op, param, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      return rmsprop_update<T>(as_ptr<T>(param), as_ptr<const T>(grad), as_ptr<T>(square_avg),
                               as_ptr<T>(momentum_buffer), as_ptr<T>(grad_avg), n, args,
                               as_stream(stream));
    });
  });
}

void adagrad_entry(Ptr param, Ptr grad, Ptr sum_sq, int64_t n, const std::string& dtype,
                   Ptr stream, double lr, double eps, double weight_decay) {
  const char* op = "adagrad_update";
  const DType dt = parse_dtype(dtype, op);
  check_buffers(op, n, {{param, "param"}, {grad, "grad"}, {sum_sq, "sum_sq"}});
  run_on_device(op, param, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      return adagrad_update<T>(as_ptr<T>(param), as_ptr<const T>(grad), as_ptr<T>(sum_sq), n, lr,
                               eps, weight_decay, as_stream(stream));
    });
  });
}

void dropout_entry(Ptr mask, int64_t n, double p, double scale, uint64_t seed,
                   const std::string& dtype, Ptr stream) {
  const char* op = "dropout_mask";
  const DType dt = parse_dtype(dtype, op);
  check_buffers(op, n, {{mask, "mask"}});
  require_range(p, 0.0, 1.0, op, "p");
  run_on_device(op, mask, [&] {
    return by_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      return dropout_mask<T>(as_ptr<T>(mask), n, p, scale, seed, as_stream(stream));
    });
  });
}

}  // namespace

void bind_optim(py::module_& m) {
  using py::arg;
  m.def("sgd_update", &sgd_entry, arg("param"), arg("grad"), arg("momentum_buffer"), arg("n"),
        arg("dtype"), arg("stream") = 0, py::kw_only(), arg("lr"), arg("momentum") = 0.0,
        arg("dampening") = 0.0, arg("nesterov") = false, arg("weight_decay") = 0.0,
        arg("first_step") = false, "PyTorch SGD step, in place (see Backend.sgd_update).");
  m.def("adam_update", &adam_entry, arg("param"), arg("grad"), arg("exp_avg"), arg("exp_avg_sq"),
        arg("n"), arg("dtype"), arg("stream") = 0, py::kw_only(), arg("step"), arg("lr"),
        arg("beta1") = 0.9, arg("beta2") = 0.999, arg("eps") = 1e-8, arg("weight_decay") = 0.0,
        arg("decoupled_weight_decay") = false, "PyTorch Adam/AdamW step, in place.");
  m.def("adamax_update", &adamax_entry, arg("param"), arg("grad"), arg("exp_avg"), arg("exp_inf"),
        arg("n"), arg("dtype"), arg("stream") = 0, py::kw_only(), arg("step"), arg("lr"),
        arg("beta1") = 0.9, arg("beta2") = 0.999, arg("eps") = 1e-8, arg("weight_decay") = 0.0,
        "PyTorch Adamax step, in place.");
  m.def("rmsprop_update", &rmsprop_entry, arg("param"), arg("grad"), arg("square_avg"), arg("n"),
        arg("dtype"), arg("stream") = 0, py::kw_only(), arg("lr"), arg("alpha") = 0.99,
        arg("eps") = 1e-8, arg("weight_decay") = 0.0, arg("momentum") = 0.0,
        arg("momentum_buffer") = 0, arg("centered") = false, arg("grad_avg") = 0,
        "PyTorch RMSprop step, in place.");
  m.def("adagrad_update", &adagrad_entry, arg("param"), arg("grad"), arg("sum_sq"), arg("n"),
        arg("dtype"), arg("stream") = 0, py::kw_only(), arg("lr"), arg("eps") = 1e-10,
        arg("weight_decay") = 0.0, "PyTorch Adagrad step, in place.");
  m.def("dropout_mask", &dropout_entry, arg("mask"), arg("n"), arg("p"), arg("scale"), arg("seed"),
        arg("dtype"), arg("stream") = 0,
        "mask = scale where splitmix64(seed, i) maps to u >= p, else 0.");
}

}  // namespace xpgrad::cuda
