"""Fused optimizer updates against the reference over several steps (and against
torch.optim when installed), in-place/aliasing checks, and the dropout mask generator."""

import numpy as np
import pytest
from kernel_helpers import DTYPES, assert_close, cpu, ref, rng

# (method, hyper-parameters, names of the state arrays)
CASES = [
    ("sgd_update", dict(lr=0.1), ["momentum_buffer"]),
    ("sgd_update", dict(lr=0.1, momentum=0.9, weight_decay=0.01), ["momentum_buffer"]),
    ("sgd_update", dict(lr=0.05, momentum=0.9, dampening=0.2, nesterov=True), ["momentum_buffer"]),
    ("adam_update", dict(lr=1e-3), ["exp_avg", "exp_avg_sq"]),
    ("adam_update", dict(lr=1e-2, weight_decay=0.1), ["exp_avg", "exp_avg_sq"]),
    ("adam_update", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True), ["exp_avg", "exp_avg_sq"]),
    ("adamax_update", dict(lr=2e-3, weight_decay=0.01), ["exp_avg", "exp_inf"]),
    ("rmsprop_update", dict(lr=1e-2, alpha=0.9), ["square_avg"]),
    ("rmsprop_update", dict(lr=1e-2, momentum=0.9, weight_decay=0.1), ["square_avg", "momentum_buffer"]),
    ("rmsprop_update", dict(lr=1e-2, momentum=0.5, centered=True), ["square_avg", "momentum_buffer", "grad_avg"]),
    ("adagrad_update", dict(lr=0.1, weight_decay=0.01), ["sum_sq"]),
]


def run(backend, method, hyper, state_names, n, dtype, steps=6):
    r = rng(11)
    param = r.standard_normal(n).astype(dtype)
    state = {name: np.zeros(n, dtype) for name in state_names}
    for step in range(1, steps + 1):
        grad = r.standard_normal(n).astype(dtype)
        kwargs = dict(hyper)
        if method in ("adam_update", "adamax_update"):
            kwargs["step"] = step
        if method == "sgd_update":
            kwargs["first_step"] = step == 1
        positional = [s for s in state_names if s not in ("momentum_buffer", "grad_avg")]
        if method == "sgd_update":
            positional = ["momentum_buffer"]
        else:
            kwargs.update({s: state[s] for s in state_names if s not in positional})
        getattr(backend, method)(param, grad, *(state[s] for s in positional), **kwargs)
    return param, state


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 17, 300_007])  # the last is split over threads
@pytest.mark.parametrize("method,hyper,state_names", CASES, ids=lambda c: str(c))
def test_updates_equal_the_reference_over_steps(method, hyper, state_names, n, dtype):
    # bit for bit: the kernels round one operation at a time, in the reference's order (their
    # sources are built without FMA contraction, see CMakeLists.txt)
    param, state = run(cpu, method, hyper, state_names, n, dtype)
    want_param, want_state = run(ref, method, hyper, state_names, n, dtype)
    np.testing.assert_array_equal(param, want_param)
    for name in state_names:
        np.testing.assert_array_equal(state[name], want_state[name])


@pytest.mark.parametrize("dtype", DTYPES)
def test_centered_rmsprop_of_an_overflowing_gradient_is_nan_as_the_reference(dtype):
    # s and ḡ² both overflow to inf: inf − inf is NaN; an FMA computed s − ḡ² as inf and left the
    # parameter unchanged, hiding the overflow
    big = np.finfo(dtype).max / 2
    grad = np.array([big, -big, 1.0], dtype)
    results = []
    for backend in (cpu, ref):
        param, square_avg, buf, grad_avg = np.full(3, -1.0, dtype), *(np.zeros(3, dtype) for _ in range(3))
        with np.errstate(over="ignore", invalid="ignore"):  # the reference's overflow warnings
            backend.rmsprop_update(param, grad, square_avg, lr=0.1, alpha=0.99, momentum=0.5,
                                   momentum_buffer=buf, centered=True, grad_avg=grad_avg)
        results.append(param)
    np.testing.assert_array_equal(results[0], results[1])
    assert np.isnan(results[0][:2]).all()


def test_adam_and_sgd_match_torch():
    torch = pytest.importorskip("torch")
    r = rng(12)
    p0 = r.standard_normal(1000).astype(np.float32)
    grads = [r.standard_normal(1000).astype(np.float32) for _ in range(5)]
    for opt_cls, hyper, method, names in [
        (torch.optim.AdamW, dict(lr=1e-2, weight_decay=0.1), "adam_update", ["exp_avg", "exp_avg_sq"]),
        (torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True), "sgd_update", ["momentum_buffer"]),
    ]:
        tp = torch.nn.Parameter(torch.from_numpy(p0.copy()))
        opt = opt_cls([tp], **hyper)
        p = p0.copy()
        state = {n: np.zeros_like(p) for n in names}
        for step, g in enumerate(grads, 1):
            tp.grad = torch.from_numpy(g.copy())
            opt.step()
            if method == "adam_update":
                cpu.adam_update(p, g, state["exp_avg"], state["exp_avg_sq"], step=step,
                                decoupled_weight_decay=True, **hyper)
            else:
                cpu.sgd_update(p, g, state["momentum_buffer"], first_step=step == 1, **hyper)
        assert_close(p, tp.detach().numpy(), np.float32, factor=5)


def test_non_contiguous_state_falls_back_to_reference():
    p = np.ones(8, np.float32)
    buf = np.zeros(16, np.float32)[::2]
    cpu.sgd_update(p, np.ones(8, np.float32), buf, lr=0.1, momentum=0.9, first_step=True)
    np.testing.assert_allclose(p, 0.9)
    np.testing.assert_allclose(buf, 1.0)


def test_aliased_arrays_fall_back_to_the_reference():
    """A parameter that is its own gradient (or a state buffer that is the gradient) is
    computed as the reference computes it; the binding rightly refuses overlapping arrays,
    which the backend used to pass it (ValueError where numpy computes)."""
    for update, args in ((cpu.sgd_update, dict(lr=0.1)), (cpu.adam_update, dict(step=1, lr=0.1))):
        ours, theirs = np.arange(1.0, 5.0, dtype=np.float32), np.arange(1.0, 5.0, dtype=np.float32)
        states = [np.zeros(4, np.float32) for _ in range(2)] if update == cpu.adam_update else [None]
        ref_states = [None if a is None else a.copy() for a in states]
        update(ours, ours, *states, **args)
        getattr(ref, update.__name__)(theirs, theirs, *ref_states, **args)
        np.testing.assert_array_equal(ours, theirs)
    param, grad = np.ones(4, np.float32), np.full(4, 0.5, np.float32)
    cpu.sgd_update(param, grad, grad, lr=0.1, momentum=0.9, first_step=True)  # buffer is the gradient
    np.testing.assert_allclose(param, 0.95)


def test_bad_inputs_raise_value_error():
    k = cpu.kernels
    a = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="param overlaps grad|grad.*overlaps"):
        k.adam_update(a, a, np.zeros(4, np.float32), np.zeros(4, np.float32), 1, 1e-3, 0.9, 0.999, 1e-8, 0.0, False)
    m = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="overlaps"):
        k.adam_update(np.zeros(4, np.float32), np.zeros(4, np.float32), m, m, 1, 1e-3, 0.9, 0.999, 1e-8, 0.0, False)
    with pytest.raises(ValueError, match="shape"):
        k.adagrad_update(np.zeros(4, np.float32), np.zeros(5, np.float32), np.zeros(4, np.float32), 0.1, 1e-10, 0.0)
    with pytest.raises(ValueError, match="read-only"):
        ro = np.zeros(4, np.float32)
        ro.flags.writeable = False
        k.adagrad_update(ro, np.zeros(4, np.float32), np.zeros(4, np.float32), 0.1, 1e-10, 0.0)
    with pytest.raises(ValueError, match="momentum_buffer is required"):
        k.sgd_update(np.zeros(4, np.float32), np.zeros(4, np.float32), None, 0.1, 0.9, 0.0, False, 0.0, False)
    with pytest.raises(ValueError, match="dtype"):
        k.sgd_update(np.zeros(4, np.float32), np.zeros(4, np.float64), None, 0.1, 0.0, 0.0, False, 0.0, False)


@pytest.mark.parametrize("method", ["adam_update", "adamax_update"])
def test_adam_step_and_betas_are_checked(method):
    """step 0 divided lr by 1 - beta1**0 = 0: inf/NaN parameters without an error."""
    k = cpu.kernels
    def call(step, beta1=0.9, beta2=0.999):
        arrays = [np.ones(4, np.float32) for _ in range(4)]
        extra = (False,) if method == "adam_update" else ()
        getattr(k, method)(*arrays, step, 1e-3, beta1, beta2, 1e-8, 0.0, *extra)
        return arrays[0]
    for step in (0, -1, float("nan")):
        with pytest.raises(ValueError, match=f"step must be >= 1, got {float(step)}"):
            call(step)
    with pytest.raises(ValueError, match=r"beta2 must be in \[0, 1\), got 2.0"):
        call(1, beta2=2.0)
    with pytest.raises(ValueError, match="beta1 must be in .* got nan"):
        call(1, beta1=float("nan"))
    for beta in ("beta1", "beta2"):  # 1 divided by 1 − β₁ᵗ = 0: NaN parameters, silently
        with pytest.raises(ValueError, match=rf"{beta} must be in \[0, 1\), got 1.0"):
            call(1, **{beta: 1.0})
    assert np.isfinite(call(1)).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_adamax_keeps_a_nan_exp_inf(dtype):
    """u = max(beta2*u, |g| + eps) dropped a NaN beta2*u (the vector max returns its second
    operand when either is NaN); numpy.maximum and torch.amax give NaN."""
    def run(backend):
        param, exp_inf = np.ones(20, dtype), np.ones(20, dtype)
        exp_inf[[0, 9, 19]] = np.nan  # lanes of the first vector, a full one and the tail
        grad = np.full(20, 0.5, dtype)
        grad[5] = np.nan
        backend.adamax_update(param, grad, np.zeros(20, dtype), exp_inf, step=1, lr=0.1)
        return param, exp_inf
    param, exp_inf = run(cpu)
    want_param, want_exp_inf = run(ref)
    assert np.isnan(exp_inf).sum() == 4
    assert_close(exp_inf, want_exp_inf, dtype)
    assert_close(param, want_param, dtype)


def test_sgd_without_momentum_ignores_the_buffer():
    """As rmsprop_update does: the buffer is unused, so a read-only or mis-shaped one was a
    needless error."""
    ro = np.zeros(4, np.float32)
    ro.flags.writeable = False
    for buf in (ro, np.zeros(3, np.float64)):
        p = np.ones(4, np.float32)
        cpu.kernels.sgd_update(p, np.ones(4, np.float32), buf, 0.5, 0.0, 0.0, False, 0.0, False)
        np.testing.assert_array_equal(p, 0.5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_mask_rate_values_and_reproducibility(dtype):
    cpu.manual_seed(123)
    a = cpu.dropout_mask((300, 1000), 0.3, 1 / 0.7, dtype)
    cpu.manual_seed(123)
    b = cpu.dropout_mask((300, 1000), 0.3, 1 / 0.7, dtype)
    c = cpu.dropout_mask((300, 1000), 0.3, 1 / 0.7, dtype)
    assert a.dtype == dtype and a.shape == (300, 1000)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert set(np.unique(a)) <= {0, dtype(1 / 0.7)}
    assert abs((a > 0).mean() - 0.7) < 0.005
    # columns and rows are not correlated with the counter: each keeps ~70 %
    assert np.abs((a > 0).mean(axis=0) - 0.7).max() < 0.1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.0, 1e-9, 0.3, 0.5, 1 - 1e-9, 1.0])
@pytest.mark.parametrize("shape", [(0, 3), (7,), (33, 65)])
def test_dropout_mask_equals_the_references_for_the_same_seed(dtype, p, shape):
    # one counter-based draw (splitmix64) in the kernel and in the reference: same seed, same mask
    cpu.manual_seed(9)
    ref.manual_seed(9)
    for _ in range(2):  # and the same next seed
        got = cpu.dropout_mask(shape, p, 1 / (1 - p) if p < 1 else 0.0, dtype)
        want = ref.dropout_mask(shape, p, 1 / (1 - p) if p < 1 else 0.0, dtype)
        assert got.dtype == want.dtype == dtype
        np.testing.assert_array_equal(got, want)


def test_dropout_mask_edges():
    assert (cpu.dropout_mask((5,), 0.0, 2.0, np.float32) == 2).all()
    assert (cpu.dropout_mask(5, 1.0, 2.0, np.float64) == 0).all()
    assert cpu.dropout_mask((0, 3), 0.5, 2.0, np.float32).shape == (0, 3)
    assert cpu.dropout_mask((4,), 0.5, 2.0, np.float16).dtype == np.float16  # reference fallback
    with pytest.raises(ValueError, match="p must be in"):
        cpu.kernels.dropout_mask((3,), 1.5, 1.0, np.dtype(np.float32), 0)


def test_dropout_mask_bad_arguments():
    k, f32 = cpu.kernels, np.dtype(np.float32)
    # the rejected p is printed as passed (it read "got 1.000000" and "got -0.000000")
    with pytest.raises(ValueError, match=r"p must be in \[0.0, 1.0\], got 1.0000000001$"):
        k.dropout_mask((3,), 1.0000000001, 1.0, f32, 0)
    with pytest.raises(ValueError, match="got -1e-300$"):
        k.dropout_mask((3,), -1e-300, 1.0, f32, 0)
    with pytest.raises(ValueError, match=r"shape \(2, -3\) has a negative dimension"):
        k.dropout_mask((2, -3), 0.5, 1.0, f32, 0)
    # a subarray dtype appended its dims: shape (4,) came back as (4, 3)
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        k.dropout_mask((4,), 0.5, 1.0, np.dtype((np.float32, (3,))), 0)
    # the dtype is checked before allocating (this raised MemoryError for 4 TiB)
    with pytest.raises(ValueError, match="dtype must be float32 or float64, got int32"):
        k.dropout_mask((2**40,), 0.5, 1.0, np.dtype(np.int32), 0)
    with pytest.raises(ValueError, match="too big"):
        k.dropout_mask((2**62, 2**62), 0.5, 1.0, f32, 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.9])
def test_centered_rmsprop_with_a_constant_gradient_stays_finite(alpha, dtype):
    """s − ḡ² is 0 in exact arithmetic for a constant gradient; rounded (and in the kernel
    through a contracted FMA) it can fall below 0, whose square root was NaN. Clamped at 0.
    (The kernel's FMA leaves the rounding error of ḡ² instead of 0, so in this ill-conditioned
    case the two backends take different, finite, steps.)"""
    r = rng(21)
    g = r.uniform(0.1, 3.0, 1000).astype(dtype)
    results = []
    for backend in (cpu, ref):
        param, square_avg, grad_avg = np.zeros(1000, dtype), np.zeros(1000, dtype), np.zeros(1000, dtype)
        for _ in range(300):
            backend.rmsprop_update(param, g, square_avg, lr=1e-6, alpha=alpha, eps=1e-8, centered=True,
                                   grad_avg=grad_avg)
        assert np.isfinite(param).all()
        results.append(param)
    if alpha == 0.0:  # the reference: ḡ = g and s = g², so s − ḡ² = 0 and every step is −η·g/ε
        np.testing.assert_allclose(results[1], -300 * 1e-6 * g / dtype(1e-8), rtol=1e-4 if dtype == np.float32 else 1e-10)
