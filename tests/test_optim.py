"""Optimizers: hand-derived iterates, PyTorch parity, checkpoints, groups and validation."""

import math
import pathlib

import numpy as np
import pytest

import xpgrad as xg
from xpgrad import optim


def half_sq_norm_steps(opt_cls, w0, steps, backend, **hp):
    """Iterates of ``opt_cls`` on f(w) = ½‖w‖² (so ∇f(w) = w), each after one step."""
    w = xg.tensor(w0, requires_grad=True, backend=backend)
    opt = opt_cls([w], **hp)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (w * w).sum()).backward()
        opt.step()
        out.append(w.numpy().copy())
    return out


# ---- hand-derived iterates on f(w) = ½‖w‖², gradient g = w ------------------------------------
# Each case: (optimizer, hyper-parameters, w₀, [w₁, w₂, ...]) worked out on paper from the
# update rule in the optimizer's docstring.
HAND_CASES = {
    # wₜ = (1 − η) wₜ₋₁
    "sgd": (optim.SGD, {"lr": 0.1}, [1.0, -2.0], [[0.9, -1.8], [0.81, -1.62], [0.729, -1.458]]),
    # g = (1 + λ) w: w₁ = 1 − 0.1·1.5
    "sgd_weight_decay": (optim.SGD, {"lr": 0.1, "weight_decay": 0.5}, [1.0], [[0.85]]),
    # b₁ = 1, w₁ = 0.9; b₂ = 0.9·1 + 0.9 = 1.8, w₂ = 0.9 − 0.18; b₃ = 1.62 + 0.72 = 2.34, w₃ = 0.72 − 0.234
    "sgd_momentum": (optim.SGD, {"lr": 0.1, "momentum": 0.9}, [1.0], [[0.9], [0.72], [0.486]]),
    # b₁ = g₁ (no dampening on the first step); b₂ = 0.9·1 + 0.5·0.9 = 1.35, w₂ = 0.9 − 0.135
    "sgd_dampening": (
        optim.SGD,
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.5},
        [1.0],
        [[0.9], [0.765]],
    ),
    # b₁ = 1, w₁ = 1 − 0.1·(1 + 0.9·1) = 0.81; b₂ = 0.9 + 0.81 = 1.71, w₂ = 0.81 − 0.1·(0.81 + 1.539)
    "sgd_nesterov": (
        optim.SGD,
        {"lr": 0.1, "momentum": 0.9, "nesterov": True},
        [1.0],
        [[0.81], [0.5751]],
    ),
    # G₁ = 4, w₁ = 2 − 0.5·2/2 = 1.5; G₂ = 6.25, w₂ = 1.5 − 0.5·1.5/2.5 = 1.2
    "adagrad": (optim.Adagrad, {"lr": 0.5, "eps": 0.0}, [2.0], [[1.5], [1.2]]),
    # η₂ = 0.5 / (1 + 1·1) = 0.25: w₂ = 1.5 − 0.25·0.6
    "adagrad_lr_decay": (
        optim.Adagrad,
        {"lr": 0.5, "lr_decay": 1.0, "eps": 0.0},
        [2.0],
        [[1.5], [1.35]],
    ),
    # G₀ = 5: G₁ = 9, w₁ = 2 − 0.5·2/3
    "adagrad_initial_accumulator": (
        optim.Adagrad,
        {"lr": 0.5, "initial_accumulator_value": 5.0, "eps": 0.0},
        [2.0],
        [[2 - 1 / 3]],
    ),
    # s₁ = 0.1·g², w₁ = w₀ − η·g/(√0.1·|g|) = w₀ − 0.01/√0.1 per coordinate sign
    "rmsprop": (
        optim.RMSprop,
        {"lr": 0.01, "eps": 0.0},
        [1.0, -3.0],
        [[1 - 0.01 / math.sqrt(0.1), -3 + 0.01 / math.sqrt(0.1)]],
    ),
    # ḡ₁ = 0.1g, s₁ − ḡ₁² = 0.09g², d₁ = 0.3|g|: w₁ = w₀ − 0.03/0.3
    "rmsprop_centered": (optim.RMSprop, {"lr": 0.03, "eps": 0.0, "centered": True}, [2.0], [[1.9]]),
    # b₁ = g/d = 1/√0.1, w₁ = 1 − 0.01/√0.1; with α = 0 the next step has d = |g| so b₂ = 0.5·b₁ + 1
    "rmsprop_momentum": (
        optim.RMSprop,
        {"lr": 0.01, "alpha": 0.0, "eps": 0.0, "momentum": 0.5},
        [1.0],
        [[0.99], [0.99 - 0.01 * 1.5]],
    ),
    # m̂₁ = g, v̂₁ = g²: the first step is η·sign(g), whatever the scale of g
    "adam": (optim.Adam, {"lr": 0.1, "eps": 0.0}, [1.0, -4.0], [[0.9, -3.9]]),
    # g = 1.1·w has the same sign: still a step of η
    "adam_weight_decay": (optim.Adam, {"lr": 0.1, "eps": 0.0, "weight_decay": 0.1}, [1.0], [[0.9]]),
    # θ′ = 1·(1 − 0.1·0.1) = 0.99, then the η·sign(g) step with g taken at θ₀
    "adamw": (optim.AdamW, {"lr": 0.1, "eps": 0.0, "weight_decay": 0.1}, [1.0], [[0.89]]),
    # m₁ = 0.1, u₁ = 1: w₁ = 1 − 0.002/0.1·0.1 = 0.998; m₂ = 0.09 + 0.0998 = 0.1898, u₂ = max(0.999, 0.998)
    "adamax": (
        optim.Adamax,
        {"eps": 0.0},
        [1.0],
        [[0.998], [0.998 - 0.002 / (1 - 0.81) * 0.1898 / 0.999]],
    ),
}


@pytest.mark.parametrize("case", sorted(HAND_CASES))
def test_hand_derived_iterates(case, backend):
    opt_cls, hp, w0, expected = HAND_CASES[case]
    got = half_sq_norm_steps(opt_cls, w0, len(expected), backend, **hp)
    for step, (g, e) in enumerate(zip(got, expected), start=1):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-7, err_msg=f"{case}, step {step}")


# ---- parity with PyTorch ----------------------------------------------------------------------
TORCH_CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.01}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-3}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-7}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-7, "centered": True}),
    (
        "RMSprop",
        {
            "lr": 0.01,
            "alpha": 0.9,
            "eps": 1e-6,
            "centered": True,
            "momentum": 0.5,
            "weight_decay": 0.1,
        },
    ),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "betas": (0.85, 0.95)}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name,hp", TORCH_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(TORCH_CASES)]
)
def test_matches_pytorch(name, hp, dtype, backend):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    inits = [rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(5).astype(dtype)]
    ours = [xg.tensor(a, dtype=dtype, requires_grad=True, backend=backend) for a in inits]
    theirs = [torch.tensor(a, requires_grad=True) for a in inits]
    opt = getattr(optim, name)(ours, **hp)
    ref = getattr(torch.optim, name)(theirs, **hp)
    for _ in range(20):
        for p, t in zip(ours, theirs):
            g = rng.standard_normal(p.shape).astype(dtype)
            p.grad = xg.tensor(g, dtype=dtype, backend=backend)
            t.grad = torch.tensor(g)
        opt.step()
        ref.step()
    tol = {"rtol": 2e-5, "atol": 2e-6} if dtype == "float32" else {"rtol": 1e-10, "atol": 1e-12}
    for p, t in zip(ours, theirs):
        assert p.dtype == dtype
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), **tol)


# ---- checkpoints ------------------------------------------------------------------------------
ROUND_TRIP_CASES = [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True}),
    (optim.Adam, {"lr": 0.01}),
    (optim.AdamW, {"lr": 0.01}),
    (optim.Adamax, {"lr": 0.01}),
]


def quadratic_run(opt, params, steps):
    """``steps`` updates on f = Σᵢ ½‖Aᵢ ⊙ wᵢ − 1‖² (fixed A), a quadratic with distinct curvatures."""
    for _ in range(steps):
        opt.zero_grad()
        loss = sum(
            (
                0.5
                * (
                    (xg.arange(p.size, dtype=p.dtype, backend=p.backend).reshape(p.shape) + 1) * p
                    - 1
                )
                ** 2
            ).sum()
            for p in params
        )
        loss.backward()
        opt.step()


def make_params(backend, dtype="float32"):
    return [
        xg.tensor([[0.5, -1.0], [2.0, 0.1]], dtype=dtype, requires_grad=True, backend=backend),
        xg.tensor([1.0, -0.3, 0.7], dtype=dtype, requires_grad=True, backend=backend),
    ]


@pytest.mark.parametrize("opt_cls,hp", ROUND_TRIP_CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_state_dict_round_trip_continues_identically(opt_cls, hp, backend):
    straight = make_params(backend)
    opt = opt_cls(straight, **hp)
    quadratic_run(opt, straight, 10)

    first = make_params(backend)
    opt1 = opt_cls(first, **hp)
    quadratic_run(opt1, first, 5)
    saved = opt1.state_dict()
    resumed = [xg.tensor(p.numpy(), requires_grad=True, backend=backend) for p in first]
    quadratic_run(opt1, first, 3)  # later steps must not change the snapshot

    opt2 = opt_cls(resumed, **hp)
    opt2.load_state_dict(saved)
    quadratic_run(opt2, resumed, 5)
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_state_dict_format_and_cross_backend_load(backend):
    params = make_params("numpy")
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}], lr=0.01)
    quadratic_run(opt, params, 2)
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.01, 0.5]
    assert sd["state"][1]["step"] == 2 and sorted(sd["state"][1]) == [
        "exp_avg",
        "exp_avg_sq",
        "step",
    ]

    moved = [
        xg.tensor(p.numpy(), dtype="float64", requires_grad=True, backend=backend) for p in params
    ]
    opt2 = optim.Adam([{"params": moved[:1]}, {"params": moved[1:]}], lr=0.1)
    opt2.load_state_dict(sd)
    assert [g["lr"] for g in opt2.param_groups] == [0.01, 0.5]
    assert opt2.param_groups[1]["params"][0] is moved[1]
    state = opt2.state[moved[1]]
    assert state["step"] == 2
    assert state["exp_avg"].backend == backend and state["exp_avg"].dtype == "float64"
    np.testing.assert_allclose(state["exp_avg"].numpy(), opt.state[params[1]]["exp_avg"].numpy())


def test_load_state_dict_accepts_host_arrays_and_integer_arrays(backend):
    params = make_params(backend)
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    quadratic_run(opt, params, 2)
    sd = opt.state_dict()
    plain = {
        "state": {str(i): {k: v.numpy() for k, v in s.items()} for i, s in sd["state"].items()},
        "param_groups": [{**g, "params": np.array(g["params"])} for g in sd["param_groups"]],
    }
    opt2 = optim.SGD(params, lr=0.1, momentum=0.9)
    opt2.load_state_dict(plain)
    np.testing.assert_array_equal(
        opt2.state[params[0]]["momentum_buffer"].numpy(), sd["state"][0]["momentum_buffer"].numpy()
    )
    adam = optim.Adam(params)
    quadratic_run(adam, params, 1)
    sd = adam.state_dict()
    sd["state"][0]["step"] = np.array(1)
    adam.load_state_dict(sd)
    assert adam.state[params[0]]["step"] == 1 and isinstance(adam.state[params[0]]["step"], int)


def test_load_state_dict_rejects_mismatched_groups(backend):
    params = make_params(backend)
    sd = optim.SGD(params, lr=0.1).state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.SGD([{"params": params[:1]}, {"params": params[1:]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="group 0.*2 parameters.*1"):
        optim.SGD(params[:1], lr=0.1).load_state_dict(sd)
    adam = optim.Adam(params)
    quadratic_run(adam, params, 1)
    sd = adam.state_dict()
    sd["state"][0]["exp_avg"] = xg.zeros(7, backend=backend)
    with pytest.raises(ValueError, match="exp_avg.*shape"):
        optim.Adam(params).load_state_dict(sd)


@pytest.mark.parametrize("corrupt, match", [
    (lambda sd: sd["state"][0].update(step=-1), "'step' must be a count >= 0, got -1"),
    (lambda sd: sd["state"][0].update(step=np.array([1, 2])), "'step' must be a count"),
    (lambda sd: sd["state"].update({5: sd["state"].pop(0)}), "state for parameter 5, which no group lists"),
    (lambda sd: sd["state"].update({"w": sd["state"].pop(0)}), "state for parameter 'w'"),
])
def test_load_state_dict_rejects_corrupt_state(backend, corrupt, match):
    params = make_params(backend)
    adam = optim.Adam(params)
    quadratic_run(adam, params, 1)
    sd = adam.state_dict()
    corrupt(sd)
    with pytest.raises(ValueError, match=match):
        optim.Adam(params).load_state_dict(sd)


@pytest.mark.parametrize("make, dropped", [
    (lambda p: optim.Adam(p), "exp_avg"), (lambda p: optim.AdamW(p), "exp_avg_sq"),
    (lambda p: optim.Adamax(p), "exp_inf"), (lambda p: optim.Adagrad(p), "sum"),
    (lambda p: optim.RMSprop(p, centered=True, momentum=0.9), "grad_avg"),
    (lambda p: optim.RMSprop(p, momentum=0.9), "momentum_buffer"), (lambda p: optim.RMSprop(p), "step"),
])
def test_load_state_dict_rejects_state_missing_a_buffer(backend, make, dropped):
    """A buffer missing from a loaded state was re-created as zeros beside the old step count:
    the updates silently differed (PyTorch raises KeyError at the step)."""
    params = make_params(backend)
    opt = make(params)
    quadratic_run(opt, params, 1)
    sd = opt.state_dict()
    del sd["state"][0][dropped]
    with pytest.raises(ValueError, match=f"loaded state of parameter 0 lacks '{dropped}'"):
        make(params).load_state_dict(sd)
    sgd = optim.SGD(params, lr=0.1)  # SGD's momentum buffer may be absent: a first step, as PyTorch
    sgd.load_state_dict({"state": {0: {}}, "param_groups": [{**sgd.defaults, "momentum": 0.9,
                                                            "params": [0, 1]}]})


def test_step_rejects_a_gradient_of_another_shape(backend):
    p = xg.ones(3, requires_grad=True)
    p.grad = xg.tensor([5.0])  # NumPy would broadcast it over the whole update
    with pytest.raises(ValueError, match=r"SGD.step: a parameter of shape \(3,\) has a gradient of shape \(1,\)"):
        optim.SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(p.numpy(), [1, 1, 1])


@pytest.mark.parametrize("opt_cls", [optim.Adam, optim.AdamW, optim.Adamax, optim.Adagrad, optim.RMSprop],
                         ids=lambda c: c.__name__)
def test_an_interrupted_update_does_not_count_the_step(opt_cls, backend, monkeypatch):
    """A KeyboardInterrupt inside the second parameter's kernel call: that parameter's step
    count stays where it was (counting it would bias-correct its untouched moments as the next
    step's), and retrying the step gives what an uninterrupted run gives."""
    straight = make_params(backend)
    quadratic_run(opt_cls(straight, lr=0.1), straight, 2)

    params = make_params(backend)
    opt = opt_cls(params, lr=0.1)
    quadratic_run(opt, params, 1)
    backend_obj = params[0].backend_obj
    update_method = getattr(opt, "update_method", f"{opt_cls.__name__.lower()}_update")
    real = getattr(backend_obj, update_method)
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(None)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(backend_obj, update_method, interrupted)
    with pytest.raises(KeyboardInterrupt):
        quadratic_run(opt, params, 1)
    assert [opt.state[p]["step"] for p in params] == [2, 1]
    monkeypatch.undo()
    opt.step()  # the same gradients: the first parameter takes a third step, the second its second
    assert [opt.state[p]["step"] for p in params] == [3, 2]
    np.testing.assert_array_equal(params[1].numpy(), straight[1].numpy())


# ---- parameter groups, zero_grad, step ----------------------------------------------------------
def test_param_groups_with_different_lr(backend):
    a = xg.tensor([1.0, 2.0], requires_grad=True, backend=backend)
    b = xg.tensor([3.0], requires_grad=True, backend=backend)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.01}], lr=0.1, momentum=0.5)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert [g["momentum"] for g in opt.param_groups] == [0.5, 0.5]
    assert "group 1: 1 params, lr=0.01" in repr(opt)
    (0.5 * ((a * a).sum() + (b * b).sum())).backward()
    opt.step()
    np.testing.assert_allclose(a.numpy(), [0.9, 1.8], rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [2.97], rtol=1e-6)
    opt.param_groups[1]["lr"] = 0.0  # a group's lr can be changed between steps
    opt.step()
    np.testing.assert_allclose(b.numpy(), [2.97], rtol=1e-6)


def test_add_param_group_fills_defaults_and_rejects_duplicates(backend):
    a, b = make_params(backend)
    opt = optim.Adam([a], lr=0.01)
    opt.add_param_group({"params": [b], "betas": (0.5, 0.9)})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["betas"] == (0.5, 0.9)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="twice"):
        optim.SGD([a, a], lr=0.1)


def test_a_parameter_group_must_be_a_dict(backend):
    a, b = make_params(backend)
    opt = optim.SGD([a], lr=0.1)
    for group, kind in (([b], "list"), (b, "Tensor")):
        with pytest.raises(TypeError, match=f"param_group must be a dict, got {kind}"):
            opt.add_param_group(group)
    with pytest.raises(TypeError, match="param_group must be a dict, got Tensor"):
        optim.SGD([{"params": [a]}, b], lr=0.1)


def test_zero_grad_and_step_skip_params_without_grad(backend):
    a, b = make_params(backend)
    before = b.numpy().copy()
    opt = optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    np.testing.assert_array_equal(b.numpy(), before)
    assert b not in opt.state and opt.state[a]["step"] == 1
    assert a.is_leaf and a.requires_grad
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_zero_grad_set_to_none_false_zeroes_the_gradients_in_place(backend):
    a, b = make_params(backend)
    opt = optim.SGD([a, b], lr=0.1)
    (a * a).sum().backward()
    grad = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad and b.grad is None
    np.testing.assert_array_equal(grad.numpy(), np.zeros((2, 2)))
    (a * a).sum().backward()  # accumulates onto the zeros
    np.testing.assert_allclose(a.grad.numpy(), 2 * a.numpy())
    opt.zero_grad(True)
    assert a.grad is None

    (a * a).sum().backward(create_graph=True)  # a gradient with a graph is detached, as PyTorch
    opt.zero_grad(set_to_none=False)
    assert not a.grad.requires_grad
    np.testing.assert_array_equal(a.grad.numpy(), np.zeros((2, 2)))


def test_step_runs_the_closure_and_returns_its_loss(backend):
    w = xg.tensor([2.0], requires_grad=True, backend=backend)
    opt = optim.SGD([w], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (0.5 * w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(2.0)
    np.testing.assert_allclose(w.numpy(), [1.0])


def test_state_lives_on_the_param_backend_with_its_dtype(backend):
    w = xg.tensor([1.0, 2.0], dtype="float64", requires_grad=True, backend=backend)
    opt = optim.RMSprop([w], momentum=0.9, centered=True)
    (w * w).sum().backward()
    opt.step()
    for name in ("square_avg", "momentum_buffer", "grad_avg"):
        buf = opt.state[w][name]
        assert buf.backend == backend and buf.dtype == "float64" and buf.shape == w.shape


# ---- validation -------------------------------------------------------------------------------
INVALID = [
    (optim.SGD, {"lr": -0.1}),
    (optim.SGD, {"lr": float("nan")}),
    (optim.SGD, {"lr": 0.1, "momentum": -0.5}),
    (optim.SGD, {"lr": 0.1, "weight_decay": -1e-4}),
    (optim.SGD, {"lr": 0.1, "nesterov": True}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}),
    (optim.Adagrad, {"lr": -1.0}),
    (optim.Adagrad, {"lr_decay": -0.1}),
    (optim.Adagrad, {"initial_accumulator_value": -1.0}),
    (optim.Adagrad, {"eps": -1e-10}),
    (optim.RMSprop, {"alpha": -0.1}),
    (optim.RMSprop, {"eps": -1.0}),
    (optim.RMSprop, {"momentum": -0.9}),
    (optim.Adam, {"lr": -1e-3}),
    (optim.Adam, {"betas": (1.0, 0.999)}),
    (optim.Adam, {"betas": (0.9, -0.1)}),
    (optim.Adam, {"betas": (0.9,)}),
    (optim.Adam, {"eps": -1e-8}),
    (optim.AdamW, {"weight_decay": -0.01}),
    (optim.Adamax, {"betas": (0.9, 1.5)}),
    (optim.Adamax, {"weight_decay": -1.0}),
]


@pytest.mark.parametrize("opt_cls,hp", INVALID, ids=[f"{c.__name__}-{h}" for c, h in INVALID])
def test_invalid_hyper_parameters_raise(opt_cls, hp, backend):
    w = xg.zeros(2, requires_grad=True, backend=backend)
    with pytest.raises(ValueError):
        opt_cls([w], **hp)


def test_rmsprop_centered_must_be_a_bool(backend):
    w = xg.zeros(2, requires_grad=True, backend=backend)
    with pytest.raises(TypeError, match="centered must be True or False, got 'yes'"):
        optim.RMSprop([w], centered="yes")
    assert optim.RMSprop([w], centered=np.bool_(True)).param_groups[0]["centered"]


def test_invalid_param_lists_raise(backend):
    w = xg.zeros(2, requires_grad=True, backend=backend)
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])
    with pytest.raises(TypeError):
        optim.Adam(w)
    with pytest.raises(TypeError):
        optim.Adam([w.data])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.Adam([w * 2])
    with pytest.raises(ValueError):
        optim.Adam([{"params": [w], "lr": -1.0}])


def test_optim_never_imports_numpy_or_cupy():
    root = pathlib.Path(optim.__file__).parent
    for path in root.rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            assert not (
                words[:1] in (["import"], ["from"]) and words[1].split(".")[0] in ("numpy", "cupy")
            ), f"{path.name}: {line.strip()}"


def test_load_state_dict_fills_missing_settings_from_defaults(backend):
    params = make_params(backend)
    sd = optim.Adam(params, lr=0.01).state_dict()
    del sd["param_groups"][0]["eps"]  # e.g. saved by a version without that option
    opt = optim.Adam(params, eps=1e-6)
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["eps"] == 1e-6 and opt.param_groups[0]["lr"] == 0.01
    sd["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="lr"):
        opt.load_state_dict(sd)


@pytest.mark.parametrize("opt_cls,hp", ROUND_TRIP_CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_checkpoint_through_xg_save_and_load(opt_cls, hp, backend, tmp_path):
    straight = make_params(backend)
    opt = opt_cls(straight, **hp)
    sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    for _ in range(6):
        quadratic_run(opt, straight, 1)
        sched.step()

    params = make_params(backend)
    opt1 = opt_cls(params, **hp)
    sched1 = optim.lr_scheduler.ExponentialLR(opt1, gamma=0.9)
    for _ in range(3):
        quadratic_run(opt1, params, 1)
        sched1.step()
    path = tmp_path / "checkpoint.npz"
    xg.save(
        {
            "params": [p.numpy() for p in params],
            "optimizer": opt1.state_dict(),
            "scheduler": sched1.state_dict(),
        },
        path,
    )

    checkpoint = xg.load(path)
    resumed = [xg.tensor(a, requires_grad=True, backend=backend) for a in checkpoint["params"]]
    opt2 = opt_cls(resumed, **hp)
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2 = optim.lr_scheduler.ExponentialLR(opt2, gamma=0.9)
    sched2.load_state_dict(checkpoint["scheduler"])
    for _ in range(3):
        quadratic_run(opt2, resumed, 1)
        sched2.step()
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_backward_through_a_graph_recorded_before_a_step_raises(backend):
    """step() writes the parameters in place: a loss computed before it would differentiate
    with the new values, so its backward raises as in PyTorch."""
    w = xg.tensor([1.0, 2.0], requires_grad=True, backend=backend)
    x = xg.tensor([3.0, 4.0], backend=backend)
    opt = optim.SGD([w], lr=0.1)
    (w * x).sum().backward()
    stale = (w * w).sum()  # Mul reads w
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        stale.backward()
    opt.zero_grad()
    (w * w).sum().backward()  # a graph recorded after the step is fine
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.array([0.7, 1.6]), rtol=1e-6)


def test_positional_arguments_follow_the_api_order(backend):
    """API.md: SGD(params, lr, momentum, nesterov, weight_decay), Adagrad(params, lr, eps).
    SGD took dampening fourth (SGD(p, 0.1, 0.9, True) set dampening, not Nesterov), and a call
    in PyTorch's order (…, dampening, weight_decay, nesterov) is refused, not misread."""
    params = make_params(backend)
    sgd = optim.SGD(params, 0.1, 0.9, True, 1e-4)
    group = sgd.param_groups[0]
    assert group["nesterov"] is True and group["weight_decay"] == 1e-4 and group["dampening"] == 0.0
    with pytest.raises(TypeError, match="nesterov must be True or False, got 0"):
        optim.SGD(params, 0.1, 0.9, 0, 1e-4)
    adagrad = optim.Adagrad(params, 0.05, 1e-8)
    assert adagrad.param_groups[0]["eps"] == 1e-8 and adagrad.param_groups[0]["lr_decay"] == 0.0
