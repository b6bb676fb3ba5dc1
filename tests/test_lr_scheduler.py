"""Learning-rate schedules: closed forms, PyTorch parity (chaining and rates set by hand
included), ReduceLROnPlateau, checkpoints."""

import math

import numpy as np
import pytest

import xpgrad as xg
from xpgrad import optim
from xpgrad.optim import lr_scheduler

STEPS = 30


def two_group_sgd(backend, lrs=(0.1, 0.02), momentum=0.9):
    a = xg.zeros(2, requires_grad=True, backend=backend)
    b = xg.zeros(3, requires_grad=True, backend=backend)
    return optim.SGD(
        [{"params": [a], "lr": lrs[0]}, {"params": [b], "lr": lrs[1]}], lr=1.0, momentum=momentum
    )


def lr_sequence(sched, steps=STEPS):
    """The first group's lr after construction and after each of ``steps`` steps."""
    seq = [sched.optimizer.param_groups[0]["lr"]]
    for _ in range(steps):
        sched.optimizer.step()
        sched.step()
        seq.append(sched.optimizer.param_groups[0]["lr"])
    return seq


# ---- closed forms -----------------------------------------------------------------------------
def test_step_lr_closed_form(backend):
    seq = lr_sequence(
        lr_scheduler.StepLR(two_group_sgd(backend, (1.0, 1.0)), step_size=3, gamma=0.5), 9
    )
    assert seq == pytest.approx([1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125])


def test_exponential_lr_closed_form(backend):
    seq = lr_sequence(lr_scheduler.ExponentialLR(two_group_sgd(backend), gamma=0.9))
    assert seq == pytest.approx([0.1 * 0.9**t for t in range(STEPS + 1)], rel=1e-12)


def test_inverse_time_lr_closed_form(backend):
    opt = two_group_sgd(backend)
    sched = lr_scheduler.InverseTimeLR(opt, decay=0.5)
    seq = lr_sequence(sched, 4)
    assert seq == pytest.approx([0.1, 0.1 / 1.5, 0.1 / 2, 0.1 / 2.5, 0.1 / 3])
    assert sched.get_last_lr() == pytest.approx([0.1 / 3, 0.02 / 3])


def test_inverse_time_lr_is_multiplicative_lr_to_the_bit(backend):
    """Each step multiplies by the factor (1 + decay·(t − 1)) / (1 + decay·t), as PyTorch's
    MultiplicativeLR with that lambda: the same floats, not just close."""
    decay, expected = 0.3, [0.1]
    for t in range(1, 21):
        expected.append(expected[-1] * ((1 + decay * (t - 1)) / (1 + decay * t)))
    sched = lr_scheduler.InverseTimeLR(two_group_sgd(backend), decay=decay)
    assert lr_sequence(sched, 20) == expected


def test_cosine_warm_restarts_closed_form(backend):
    sched = lr_scheduler.CosineAnnealingWarmRestarts(
        two_group_sgd(backend, (1.0, 1.0)), T_0=4, T_mult=2, eta_min=0.2
    )
    seq = lr_sequence(sched, 13)
    # cycles of 4 then 8 epochs; restarts at t = 4 and t = 12; the midpoint of a cycle is halfway
    half = lambda frac: 0.2 + 0.8 * (1 + math.cos(math.pi * frac)) / 2
    expected = (
        [half(t / 4) for t in range(4)] + [half(t / 8) for t in range(8)] + [1.0, half(1 / 16)]
    )
    assert seq == pytest.approx(expected, rel=1e-12)
    assert seq[2] == pytest.approx(0.6) and seq[8] == pytest.approx(0.6)


def test_cyclic_lr_triangular_closed_form(backend):
    opt = two_group_sgd(backend)
    sched = lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=4)
    seq = lr_sequence(sched, 10)
    assert seq == pytest.approx(
        [0.01, 0.0325, 0.055, 0.0775, 0.1, 0.0775, 0.055, 0.0325, 0.01, 0.0325, 0.055]
    )
    # momentum runs inversely: max_momentum at base_lr, base_momentum at max_lr
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.85)


def test_cyclic_lr_triangular2_and_exp_range(backend):
    tri2 = lr_scheduler.CyclicLR(
        two_group_sgd(backend), 0.0, 1.0, step_size_up=2, mode="triangular2"
    )
    assert lr_sequence(tri2, 10) == pytest.approx(
        [0, 0.5, 1, 0.5, 0, 0.25, 0.5, 0.25, 0, 0.125, 0.25]
    )
    exp = lr_scheduler.CyclicLR(
        two_group_sgd(backend), 0.0, 1.0, step_size_up=2, mode="exp_range", gamma=0.9
    )
    heights = [0, 0.5, 1, 0.5, 0, 0.5, 1]
    assert lr_sequence(exp, 6) == pytest.approx([h * 0.9**t for t, h in enumerate(heights)])


def test_cyclic_lr_scaled_modes_are_pytorchs_floats(backend):
    """base + ((max − base) · h) · s, grouped as PyTorch's (and the momenta likewise): the same
    floats, where (max − base) · (h · s) differed in the last bit. Expected: PyTorch 2.13's."""
    expected = {
        "exp_range": [
            (0.001, 0.9), (0.04555000000000002, 0.855), (0.08119, 0.8190000000000001),
            (0.06286085714285715, 0.8375142857142858), (0.04739564285714286, 0.8531357142857143),
            (0.034404862857142865, 0.8662577142857143), (0.023548282428571442, 0.8772239571428572),
            (0.014528969457142864, 0.8863343742857143), (0.007088036255714289, 0.8938504684285714),
        ],
        "scale_fn": [
            (0.001, 0.9), (0.025750000000000012, 0.875), (0.033999999999999996, 0.8666666666666667),
            (0.022214285714285718, 0.8785714285714286), (0.015142857142857145, 0.8857142857142858),
            (0.01042857142857143, 0.8904761904761905), (0.0070612244897959205, 0.8938775510204082),
            (0.004535714285714287, 0.8964285714285715), (0.0025714285714285717, 0.8984126984126984),
        ],
    }
    scaling = {
        "exp_range": {"mode": "exp_range", "gamma": 0.9},
        "scale_fn": {"scale_fn": lambda t: 1 / (1 + t), "scale_mode": "iterations"},
    }
    for name, kwargs in scaling.items():
        opt = optim.SGD([xg.zeros(1, requires_grad=True, backend=backend)], lr=0.1, momentum=0.9)
        sched = lr_scheduler.CyclicLR(
            opt, base_lr=0.001, max_lr=0.1, step_size_up=2, step_size_down=7, **kwargs
        )
        seq = []
        for _ in expected[name]:
            seq.append((opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]))
            sched.step()
        assert seq == expected[name], name


def test_cyclic_lr_cycles_adam_beta1(backend):
    w = xg.zeros(2, requires_grad=True, backend=backend)
    opt = optim.Adam([w])
    lr_scheduler.CyclicLR(
        opt, 0.001, 0.01, step_size_up=2, base_momentum=0.8, max_momentum=0.9
    ).step()
    assert opt.param_groups[0]["betas"] == pytest.approx((0.85, 0.999))
    with pytest.raises(ValueError, match="cycle_momentum"):
        lr_scheduler.CyclicLR(optim.Adagrad([w]), 0.001, 0.01)
    lr_scheduler.CyclicLR(optim.Adagrad([w]), 0.001, 0.01, cycle_momentum=False)


# ---- ReduceLROnPlateau ------------------------------------------------------------------------
def plateau_lrs(sched, metrics):
    out = []
    for m in metrics:
        sched.step(m)
        out.append(sched.optimizer.param_groups[0]["lr"])
    return out


def test_plateau_halves_when_validation_error_rises(backend):
    sched = lr_scheduler.ReduceLROnPlateau(two_group_sgd(backend, (0.8, 0.8)))
    # improvement keeps the rate; each epoch that is not better than the best halves it
    assert plateau_lrs(sched, [1.0, 0.9, 0.95, 0.8, 0.85, 0.86, 0.7]) == [
        0.8,
        0.8,
        0.4,
        0.4,
        0.2,
        0.1,
        0.1,
    ]
    assert sched.get_last_lr() == [0.1, 0.1]


def test_plateau_patience_cooldown_and_min_lr(backend):
    sched = lr_scheduler.ReduceLROnPlateau(
        two_group_sgd(backend, (1.0, 1.0)), patience=2, cooldown=1, min_lr=0.3
    )
    # three bad epochs (> patience 2) → 0.5; the cooldown epoch after it is not
    # counted; three more bad epochs → max(0.25, min_lr) = 0.3
    lrs = plateau_lrs(sched, [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3]


def test_plateau_max_mode_and_thresholds(backend):
    rel = lr_scheduler.ReduceLROnPlateau(
        two_group_sgd(backend, (1.0, 1.0)), mode="max", threshold=0.1
    )
    assert plateau_lrs(rel, [1.0, 1.05, 1.2]) == [1.0, 0.5, 0.5]  # 1.05 < 1.0·1.1 is no improvement
    absolute = lr_scheduler.ReduceLROnPlateau(
        two_group_sgd(backend, (1.0, 1.0)), threshold=0.5, threshold_mode="abs"
    )
    assert plateau_lrs(absolute, [3.0, 2.6, 2.4]) == [1.0, 0.5, 0.5]  # 2.6 > 3.0 − 0.5


def test_plateau_get_last_lr_is_the_rate_after_every_step(backend):
    """Refreshed at every step, reduced or not, as PyTorch's (another schedule may change it)."""
    opt = two_group_sgd(backend)
    decay = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    plateau = lr_scheduler.ReduceLROnPlateau(opt)
    for metric in (3.0, 2.0, 1.0):  # improving: the plateau never reduces
        opt.step()
        decay.step()
        plateau.step(metric)
        assert plateau.get_last_lr() == [group["lr"] for group in opt.param_groups]
    assert plateau.get_last_lr() == [0.0125, 0.0025]


# ---- parity with PyTorch ----------------------------------------------------------------------
SCHEDULES = [
    ("StepLR", {"step_size": 4, "gamma": 0.3}),
    ("StepLR", {"step_size": 1}),
    ("ExponentialLR", {"gamma": 0.85}),
    ("CosineAnnealingWarmRestarts", {"T_0": 5}),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.001}),
    ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.05, "step_size_up": 3}),
    (
        "CyclicLR",
        {
            "base_lr": [0.001, 0.002],
            "max_lr": 0.05,
            "step_size_up": 4,
            "step_size_down": 2,
            "mode": "triangular2",
        },
    ),
    (
        "CyclicLR",
        {"base_lr": 0.001, "max_lr": 0.05, "step_size_up": 3, "mode": "exp_range", "gamma": 0.95},
    ),
    (
        "CyclicLR",
        {
            "base_lr": 0.001,
            "max_lr": 0.05,
            "step_size_up": 2,
            "scale_fn": lambda x: 1 / (1 + x),
            "scale_mode": "iterations",
        },
    ),
]


def torch_pair(backend):
    torch = pytest.importorskip("torch")
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    ref = torch.optim.SGD(
        [{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.02}], lr=1.0, momentum=0.9
    )
    return torch, two_group_sgd(backend), ref


def lrs_and_momenta(opt):
    return [g[key] for g in opt.param_groups for key in ("lr", "momentum")]


@pytest.mark.parametrize(
    "name,kwargs", SCHEDULES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES)]
)
def test_schedules_match_pytorch(name, kwargs, backend):
    torch, opt, ref = torch_pair(backend)
    ours = getattr(lr_scheduler, name)(opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(ref, **kwargs)
    for step in range(STEPS + 1):
        assert lrs_and_momenta(opt) == pytest.approx(lrs_and_momenta(ref), rel=1e-12), (
            f"step {step}"
        )
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
        assert ours.last_epoch == theirs.last_epoch
        opt.step()
        ref.step()
        ours.step()
        theirs.step()


def test_cosine_fractional_epochs_match_pytorch(backend):
    torch, opt, ref = torch_pair(backend)
    ours = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=3, eta_min=0.01)
    theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        ref, T_0=2, T_mult=3, eta_min=0.01
    )
    for epoch in (0.25, None, 1.5, 2.0, 3.75, None, None, 7.9, 8.0, 8.5, None, 26.0, 30.1, None):
        ours.step(epoch)
        theirs.step(epoch)  # (None: one epoch on from a fractional one too, T_cur + 1)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12), epoch
        assert ours.last_epoch == theirs.last_epoch


def test_cosine_warm_restarts_steps_on_from_a_fractional_epoch(backend):
    """step() after step(1.5) is at 2.5, as PyTorch's (T_cur + 1); whole epochs stay whole."""
    opt = two_group_sgd(backend, (1.0, 1.0))
    sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4)
    sched.step(1.5)
    saved = sched.state_dict()
    sched.step()
    assert sched.last_epoch == 2
    resumed = lr_scheduler.CosineAnnealingWarmRestarts(two_group_sgd(backend, (1.0, 1.0)), T_0=4)
    resumed.load_state_dict(saved)
    resumed.step()
    assert resumed.get_last_lr() == sched.get_last_lr()
    assert opt.param_groups[0]["lr"] == pytest.approx((1 + math.cos(math.pi * 2.5 / 4)) / 2)
    sched.step(3)
    sched.step()
    assert (sched.last_epoch, opt.param_groups[0]["lr"]) == (4, 1.0)


def test_cosine_warm_restarts_refuses_a_negative_epoch(backend):
    opt = two_group_sgd(backend)
    for T_mult in (1, 2):
        sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=T_mult)
        with pytest.raises(ValueError, match="epoch must be >= 0, got -1"):
            sched.step(-1)
        assert (sched.last_epoch, opt.param_groups[0]["lr"]) == (0, 0.1)


def test_inverse_time_matches_pytorch_lambda_lr(backend):
    torch, opt, ref = torch_pair(backend)
    ours = lr_scheduler.InverseTimeLR(opt, decay=0.3)
    theirs = torch.optim.lr_scheduler.LambdaLR(ref, lambda t: 1 / (1 + 0.3 * t))
    for _ in range(STEPS):
        ref.step()  # (the order PyTorch expects; the parameters have no gradients)
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)


def chainable(name, torch_module, optimizer, kwargs, last_epoch=-1):
    """PyTorch's counterpart of a chainable schedule: InverseTimeLR is MultiplicativeLR."""
    if name == "InverseTimeLR":
        decay = kwargs["decay"]
        return torch_module.MultiplicativeLR(
            optimizer, lambda t: (1 + decay * (t - 1)) / (1 + decay * t), last_epoch)
    return getattr(torch_module, name)(optimizer, **kwargs, last_epoch=last_epoch)


CHAINABLE = [
    ("StepLR", {"step_size": 2, "gamma": 0.1}),
    ("ExponentialLR", {"gamma": 0.5}),
    ("InverseTimeLR", {"decay": 0.3}),
]


@pytest.mark.parametrize("name,kwargs", CHAINABLE, ids=[n for n, _ in CHAINABLE])
def test_a_rate_set_by_hand_is_carried_on_and_resumed_as_in_pytorch(name, kwargs, backend):
    torch, opt, ref = torch_pair(backend)
    ours = getattr(lr_scheduler, name)(opt, **kwargs)
    theirs = chainable(name, torch.optim.lr_scheduler, ref, kwargs)
    for step in range(1, 9):
        if step == 3:
            for optimizer in (opt, ref):
                optimizer.param_groups[0]["lr"] = 1.0
        if step == 5:  # checkpoint and resume ours: the hand-set rate survives
            saved_opt, saved = opt.state_dict(), ours.state_dict()
            opt = two_group_sgd(backend)
            opt.load_state_dict(saved_opt)
            ours = getattr(lr_scheduler, name)(opt, **kwargs)
            ours.load_state_dict(saved)
        opt.step()
        ref.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12), step
        assert lrs_and_momenta(opt) == pytest.approx(lrs_and_momenta(ref), rel=1e-12), step


@pytest.mark.parametrize("name,kwargs", CHAINABLE, ids=[n for n, _ in CHAINABLE])
def test_resumed_with_last_epoch_as_in_pytorch(name, kwargs, backend):
    """Resumed with last_epoch=k on a loaded optimizer, the constructor's step keeps the loaded
    rates for ExponentialLR and InverseTimeLR (PyTorch 2.13's ExponentialLR and
    MultiplicativeLR), and decays when step_size divides k + 1 for StepLR, as PyTorch's."""
    torch, opt, ref = torch_pair(backend)
    ours = getattr(lr_scheduler, name)(opt, **kwargs)
    theirs = chainable(name, torch.optim.lr_scheduler, ref, kwargs)
    for _ in range(3):
        for stepped in (opt, ref, ours, theirs):
            stepped.step()
    _, resumed_opt, resumed_ref = torch_pair(backend)
    resumed_opt.load_state_dict(opt.state_dict())
    resumed_ref.load_state_dict(ref.state_dict())
    ours = getattr(lr_scheduler, name)(resumed_opt, **kwargs, last_epoch=3)
    theirs = chainable(name, torch.optim.lr_scheduler, resumed_ref, kwargs, last_epoch=3)
    for step in range(6):
        assert lrs_and_momenta(resumed_opt) == lrs_and_momenta(resumed_ref), step
        assert ours.last_epoch == theirs.last_epoch
        for stepped in (resumed_opt, resumed_ref, ours, theirs):
            stepped.step()


def test_exponential_lr_resumed_with_last_epoch_continues_the_run(backend):
    """ExponentialLR resumed with last_epoch=k continues an uninterrupted run (PyTorch 2.13);
    InverseTimeLR too keeps the loaded rate at the constructor's step."""
    for cls, kwargs, expected in [
        (lr_scheduler.ExponentialLR, {"gamma": 0.5}, [0.1 * 0.5**t for t in range(3, 8)]),
        (lr_scheduler.InverseTimeLR, {"decay": 1.0}, [0.1 / 4]),
    ]:
        opt = two_group_sgd(backend)
        lr_sequence(cls(opt, **kwargs), 3)
        resumed = two_group_sgd(backend)
        resumed.load_state_dict(opt.state_dict())
        sched = cls(resumed, **kwargs, last_epoch=3)
        assert lr_sequence(sched, len(expected) - 1) == pytest.approx(expected, rel=1e-15)


def test_exponential_lr_after_a_manual_change_matches_pytorch_sequence(backend):
    opt = two_group_sgd(backend)
    sched = lr_scheduler.ExponentialLR(opt, 0.5)
    seq = []
    for step in range(5):
        if step == 2:
            opt.param_groups[0]["lr"] = 1.0
        sched.step()
        seq.append(opt.param_groups[0]["lr"])
    assert seq == pytest.approx([0.05, 0.025, 0.5, 0.25, 0.125], rel=1e-12)


@pytest.mark.parametrize("first,second", [(0, 1), (1, 0), (2, 1), (0, 2)])
def test_chained_schedules_match_pytorch(first, second, backend):
    torch, opt, ref = torch_pair(backend)
    pairs = [(getattr(lr_scheduler, name)(opt, **kwargs),
              chainable(name, torch.optim.lr_scheduler, ref, kwargs))
             for name, kwargs in (CHAINABLE[first], CHAINABLE[second])]
    for step in range(10):
        opt.step()
        ref.step()
        for ours, theirs in pairs:
            ours.step()
            theirs.step()
        assert lrs_and_momenta(opt) == pytest.approx(lrs_and_momenta(ref), rel=1e-12), step


PLATEAUS = [
    {"factor": 0.5, "patience": 0},
    {"factor": 0.1, "patience": 2, "cooldown": 2, "min_lr": [0.001, 0.0005]},
    {"factor": 0.5, "patience": 1, "mode": "max", "threshold": 0.05},
    {"factor": 0.5, "patience": 0, "threshold": 0.2, "threshold_mode": "abs", "eps": 1e-3},
    {"factor": 0.7, "patience": 1, "mode": "max", "threshold_mode": "abs", "min_lr": 0.01},
]
METRICS = [
    1.0,
    0.9,
    0.95,
    -0.5,
    -0.52,
    -0.6,
    -0.4,
    0.3,
    0.2,
    0.2,
    0.1,
    0.5,
    0.6,
    0.7,
    0.05,
    0.04,
    0.03,
    0.2,
    0.2,
    0.2,
    0.01,
    0.0,
    -1.0,
    -1.0,
    2.0,
]


@pytest.mark.parametrize("kwargs", PLATEAUS)
def test_plateau_matches_pytorch(kwargs, backend):
    torch, opt, ref = torch_pair(backend)
    ours = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(ref, **kwargs)
    for m in METRICS:
        ours.step(m)
        theirs.step(m)
        assert lrs_and_momenta(opt) == pytest.approx(lrs_and_momenta(ref), rel=1e-12), m
        assert (ours.best, ours.num_bad_epochs, ours.cooldown_counter) == (
            theirs.best,
            theirs.num_bad_epochs,
            theirs.cooldown_counter,
        )


# ---- checkpoints and validation ---------------------------------------------------------------
@pytest.mark.parametrize(
    "name,kwargs", SCHEDULES[:-1], ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES[:-1])]
)
def test_scheduler_state_dict_resumes_identically(name, kwargs, backend):
    straight_opt = two_group_sgd(backend)
    straight = getattr(lr_scheduler, name)(straight_opt, **kwargs)
    expected = lr_sequence(straight, 12)

    first_opt = two_group_sgd(backend)
    first = getattr(lr_scheduler, name)(first_opt, **kwargs)
    lr_sequence(first, 5)
    saved_opt, saved = first_opt.state_dict(), first.state_dict()
    assert "optimizer" not in saved
    # PyTorch's recipe: build the optimizer and the schedule, then load both (the optimizer's
    # state carries the rates and momenta, the schedule's its step count)
    opt = two_group_sgd(backend, lrs=(9.0, 9.0), momentum=0.1)
    resumed = getattr(lr_scheduler, name)(opt, **kwargs)
    opt.load_state_dict(saved_opt)
    resumed.load_state_dict(saved)
    assert lrs_and_momenta(opt) == pytest.approx(lrs_and_momenta(first_opt), rel=1e-12)
    assert lr_sequence(resumed, 7) == pytest.approx(expected[5:], rel=1e-12)
    assert lrs_and_momenta(opt) == pytest.approx(lrs_and_momenta(straight_opt), rel=1e-12)


def test_plateau_reduces_a_group_added_later(backend):
    """A group added after construction gets the default min_lr, as in PyTorch; with one
    min_lr per group given, the schedule can't tell the new group's and raises."""
    opt = two_group_sgd(backend)
    plateau = lr_scheduler.ReduceLROnPlateau(opt, min_lr=0.03)
    opt.add_param_group({"params": [xg.zeros(1, requires_grad=True, backend=backend)], "lr": 0.2})
    plateau_lrs(plateau, [1.0, 2.0, 3.0])
    assert plateau.get_last_lr() == [0.03, 0.02, 0.05]
    assert plateau.min_lrs == [0.03, 0.03, 0.03]

    opt = two_group_sgd(backend)
    plateau = lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.0, 0.0])
    opt.add_param_group({"params": [xg.zeros(1, requires_grad=True, backend=backend)], "lr": 0.2})
    with pytest.raises(ValueError, match="min_lr has 2 values, the optimizer has 3 groups"):
        plateau_lrs(plateau, [1.0, 2.0])


def test_load_state_dict_leaves_the_optimizers_rates(backend):
    """The optimizer's state_dict carries the rates (and momenta); a schedule's load_state_dict
    restores the schedule only, as PyTorch's: a rate another schedule set after this one's last
    step survives the resume."""

    def build():
        opt = two_group_sgd(backend)
        return opt, lr_scheduler.StepLR(opt, step_size=10), lr_scheduler.ReduceLROnPlateau(opt)

    opt, decay, plateau = build()
    for metric in (1.0, 2.0):  # the second is worse: the plateau halves the rates
        opt.step()
        decay.step()
        plateau.step(metric)
    resumed, resumed_decay, resumed_plateau = build()
    resumed.load_state_dict(opt.state_dict())
    resumed_plateau.load_state_dict(plateau.state_dict())
    resumed_decay.load_state_dict(decay.state_dict())
    assert [group["lr"] for group in resumed.param_groups] == [0.05, 0.01]

    opt = two_group_sgd(backend)
    cyclic = lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=4)
    saved = cyclic.state_dict()
    opt.param_groups[0].update(lr=0.5, momentum=0.3)
    cyclic.load_state_dict(saved)
    assert (opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]) == (0.5, 0.3)


def test_plateau_state_dict_round_trip(backend):
    sched = lr_scheduler.ReduceLROnPlateau(two_group_sgd(backend), patience=1)
    plateau_lrs(sched, [1.0, 2.0])
    other = lr_scheduler.ReduceLROnPlateau(two_group_sgd(backend), patience=1)
    other.load_state_dict(sched.state_dict())
    assert (other.best, other.num_bad_epochs) == (1.0, 1)
    other.step(3.0)
    assert other.optimizer.param_groups[0]["lr"] == pytest.approx(0.05)


def test_resume_without_initial_lr_raises(backend):
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(two_group_sgd(backend), step_size=2, last_epoch=3)


INVALID = [
    ("StepLR", {"step_size": 0}),
    ("StepLR", {"step_size": 1.5}),
    ("InverseTimeLR", {"decay": -0.1}),
    ("CosineAnnealingWarmRestarts", {"T_0": 0}),
    ("CosineAnnealingWarmRestarts", {"T_0": 2, "T_mult": 0}),
    ("CyclicLR", {"base_lr": 0.1, "max_lr": 1.0, "mode": "sawtooth"}),
    ("CyclicLR", {"base_lr": 0.1, "max_lr": 1.0, "step_size_up": 0}),
    ("CyclicLR", {"base_lr": [0.1], "max_lr": 1.0}),
    ("CyclicLR", {"base_lr": -0.1, "max_lr": 1.0}),
    ("CyclicLR", {"base_lr": 0.1, "max_lr": [1.0, -1.0]}),
    ("CyclicLR", {"base_lr": float("nan"), "max_lr": 1.0}),
    ("ReduceLROnPlateau", {"factor": 1.0}),
    ("ReduceLROnPlateau", {"mode": "median"}),
    ("ReduceLROnPlateau", {"threshold_mode": "log"}),
    ("ReduceLROnPlateau", {"patience": -1}),
    ("ReduceLROnPlateau", {"min_lr": [0.1, 0.1, 0.1]}),
]


@pytest.mark.parametrize("name,kwargs", INVALID, ids=[f"{n}-{k}" for n, k in INVALID])
def test_invalid_arguments_raise(name, kwargs, backend):
    with pytest.raises(ValueError):
        getattr(lr_scheduler, name)(two_group_sgd(backend), **kwargs)


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError):
        lr_scheduler.StepLR(object(), step_size=1)


def test_integer_arguments_may_be_numpy_integers():
    opt = optim.SGD([xg.ones(1, requires_grad=True)], lr=1.0)
    assert optim.lr_scheduler.StepLR(opt, np.int64(2)).step_size == 2
    warm = optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, np.int32(3), np.int64(2))
    assert (warm.T_0, warm.T_mult) == (3, 2)
    with pytest.raises(ValueError, match="step_size must be a positive integer, got 2.5"):
        optim.lr_scheduler.StepLR(opt, 2.5)
