"""Losses of nn.functional: gradients on every backend (first and second order), values against
closed forms and PyTorch, reductions, target forms, and numerical stability."""

import re

import numpy as np
import pytest
from nn_support import gradient_of, leaf

import xpgrad as xg
import xpgrad.nn.functional as F
from xpgrad import nn

RNG = np.random.default_rng(7)
INDICES = np.array([0, 2, 1, 2])
PROBS = RNG.dirichlet(np.ones(3), size=4)
MULTILABEL = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 1], [0, 0, 1]])
REGRESSION_TARGET = RNG.uniform(-1, 1, (4, 3))
BINARY_TARGET = RNG.uniform(0, 1, (4, 3))
UNNORMALISED = RNG.uniform(0, 1, (4, 3))  # soft targets whose rows do not sum to 1

LOSSES = {
    "cross_entropy_indices": lambda z, r: F.cross_entropy(z, INDICES, reduction=r),
    "cross_entropy_probs": lambda z, r: F.cross_entropy(z, PROBS, reduction=r),
    "cross_entropy_smoothing": lambda z, r: F.cross_entropy(
        z, INDICES, label_smoothing=0.2, reduction=r
    ),
    "cross_entropy_unnormalised": lambda z, r: F.cross_entropy(
        z, UNNORMALISED, label_smoothing=0.1, reduction=r
    ),
    "nll": lambda z, r: F.nll_loss(F.log_softmax(z), INDICES, reduction=r),
    "sparsemax_indices": lambda z, r: F.sparsemax_loss(z, INDICES, reduction=r),
    "sparsemax_multilabel": lambda z, r: F.sparsemax_loss(z, MULTILABEL, reduction=r),
    "mse": lambda z, r: F.mse_loss(z, REGRESSION_TARGET, reduction=r),
    "mse_half": lambda z, r: F.mse_loss(z, REGRESSION_TARGET, half=True, reduction=r),
    "l1": lambda z, r: F.l1_loss(z, REGRESSION_TARGET, reduction=r),
    "bce": lambda z, r: F.binary_cross_entropy(F.sigmoid(z), BINARY_TARGET, reduction=r),
    "bce_with_logits": lambda z, r: F.binary_cross_entropy_with_logits(
        z, BINARY_TARGET, reduction=r
    ),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSSES)
def test_gradcheck(backend, name, reduction):
    z = leaf((4, 3), backend)
    assert xg.gradcheck(lambda z: LOSSES[name](z, reduction), [z])


@pytest.mark.parametrize("name", LOSSES)
def test_double_backward(backend, name):
    z = leaf((4, 3), backend, seed=2)
    weights = xg.tensor(RNG.uniform(0.5, 2, 4), dtype="float64")
    assert xg.gradcheck(gradient_of(lambda z: LOSSES[name](z, "mean") * 3.0), [z])
    per_row = name.startswith(("cross", "nll", "sparsemax"))
    if per_row:
        assert xg.gradcheck(gradient_of(lambda z: (LOSSES[name](z, "none") * weights).sum()), [z])


def test_cross_entropy_on_spatial_logits(backend):
    z = leaf((2, 3, 2, 2), backend)
    target = np.array([[[0, 1], [2, 1]], [[0, 0], [1, 2]]])
    assert xg.gradcheck(lambda z: F.cross_entropy(z, target), [z])
    assert F.cross_entropy(z, target, reduction="none").shape == (2, 2, 2)


TORCH_LOSSES = {
    "cross_entropy": (
        lambda z: F.cross_entropy(z, INDICES, label_smoothing=0.1),
        lambda t, z: t.nn.functional.cross_entropy(z, t.tensor(INDICES), label_smoothing=0.1),
    ),
    "cross_entropy_probs": (
        lambda z: F.cross_entropy(z, PROBS, label_smoothing=0.3, reduction="sum"),
        lambda t, z: t.nn.functional.cross_entropy(
            z, t.tensor(PROBS), label_smoothing=0.3, reduction="sum"
        ),
    ),
    "nll": (
        lambda z: F.nll_loss(z, INDICES),
        lambda t, z: t.nn.functional.nll_loss(z, t.tensor(INDICES)),
    ),
    "mse": (
        lambda z: F.mse_loss(z, REGRESSION_TARGET),
        lambda t, z: t.nn.functional.mse_loss(z, t.tensor(REGRESSION_TARGET)),
    ),
    "l1": (
        lambda z: F.l1_loss(z, REGRESSION_TARGET, "sum"),
        lambda t, z: t.nn.functional.l1_loss(z, t.tensor(REGRESSION_TARGET), reduction="sum"),
    ),
    "bce": (
        lambda z: F.binary_cross_entropy(F.sigmoid(z), BINARY_TARGET),
        lambda t, z: t.nn.functional.binary_cross_entropy(t.sigmoid(z), t.tensor(BINARY_TARGET)),
    ),
    "bce_with_logits": (
        lambda z: F.binary_cross_entropy_with_logits(z, BINARY_TARGET, "none"),
        lambda t, z: t.nn.functional.binary_cross_entropy_with_logits(
            z, t.tensor(BINARY_TARGET), reduction="none"
        ),
    ),
}


@pytest.mark.parametrize("name", TORCH_LOSSES)
def test_values_and_gradients_match_pytorch(backend, name):
    torch = pytest.importorskip("torch")
    ours, theirs = TORCH_LOSSES[name]
    z = leaf((4, 3), backend, low=-3, high=3)
    loss = ours(z)
    (loss * loss).sum().backward()
    zt = torch.tensor(z.numpy(), requires_grad=True)
    loss_t = theirs(torch, zt)
    (loss_t * loss_t).sum().backward()
    np.testing.assert_allclose(loss.numpy(), loss_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(z.grad.numpy(), zt.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("smoothing", [0.1, 1.0])
def test_smoothed_probability_targets_with_a_minus_inf_logit_match_pytorch(backend, smoothing):
    # Smoothing gives every class mass ε/K > 0, so a −∞ logit makes the loss +∞ in PyTorch
    # (the gradient stays finite). The reference smoothed the loss after the unsmoothed sum,
    # whose 0·(−∞) at a class of target 0 gave NaN (and so did the fused kernels).
    torch = pytest.importorskip("torch")
    z_np = np.array([[0.0, 1.0, -np.inf], [0.5, -np.inf, -np.inf], [0.3, -0.2, 1.0]])
    t_np = np.array([[1.0, 0.0, 0.0], [0.4, 0.6, 0.0], [0.2, 0.3, 0.5]])
    z = xg.tensor(z_np, dtype="float64", requires_grad=True)
    loss = F.cross_entropy(z, t_np, label_smoothing=smoothing, reduction="none")
    zt = torch.tensor(z_np, requires_grad=True)
    loss_t = torch.nn.functional.cross_entropy(zt, torch.tensor(t_np), label_smoothing=smoothing,
                                               reduction="none")
    np.testing.assert_allclose(loss.numpy(), loss_t.detach().numpy(), rtol=1e-12)
    assert loss.numpy()[:2].tolist() == [np.inf, np.inf]
    loss.backward(xg.ones(3, dtype="float64"))
    loss_t.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), zt.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_mse_half_is_half_the_squared_norm(backend):
    f = xg.tensor([[1.0, 2.0], [3.0, 5.0]], dtype="float64", requires_grad=True)
    y = xg.tensor([[0.0, 2.0], [1.0, 1.0]], dtype="float64")
    loss = F.mse_loss(f, y, half=True, reduction="sum")
    assert loss.item() == 0.5 * (1 + 0 + 4 + 16)
    loss.backward()
    np.testing.assert_array_equal(f.grad.numpy(), (f - y).numpy())  # ∇ ½‖f − y‖² = f − y


def test_cross_entropy_gradient_is_p_minus_onehot(backend):
    z = xg.tensor(RNG.normal(size=(4, 3)), dtype="float64", requires_grad=True)
    F.cross_entropy(z, INDICES, reduction="sum").backward()
    expected = F.softmax(z).numpy() - np.eye(3)[INDICES]
    np.testing.assert_allclose(z.grad.numpy(), expected, rtol=1e-12, atol=1e-15)


def test_sparsemax_loss_closed_forms(backend):
    # separable with margin ≥ 1: sparsemax(z) is the one-hot target, loss 0, gradient 0
    z = xg.tensor([[3.0, 1.0, 0.0]], dtype="float64", requires_grad=True)
    loss = F.sparsemax_loss(z, [0])
    loss.backward()
    assert loss.item() == 0.0 and z.grad.tolist() == [[0.0, 0.0, 0.0]]
    # two classes, z = (t, 0), target 0: L = (1 − t)²/4 on |t| < 1 (the Huber-like hinge)
    for t in (-0.5, 0.0, 0.6):
        value = F.sparsemax_loss(xg.tensor([[t, 0.0]], dtype="float64"), [0]).item()
        assert value == pytest.approx((1 - t) ** 2 / 4)
    # multi-label 0/1 targets are normalised: [1, 1, 0] is q = [½, ½, 0]
    z = xg.tensor([[0.3, -0.2, 1.0]], dtype="float64", requires_grad=True)
    F.sparsemax_loss(z, [[1, 1, 0]]).backward()
    np.testing.assert_allclose(z.grad.numpy(), F.sparsemax(z).numpy() - [[0.5, 0.5, 0.0]])


@pytest.mark.parametrize("labels", [False, True], ids=["indices", "0/1 labels"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparsemax_loss_of_a_minus_inf_logit_off_the_target(backend, dtype, labels):
    # A class with logit −∞ is never in the support: the loss is its limit for a very negative
    # finite logit (closed forms: 1/4 for z = (0, 0, −∞), 1 for (0, 1, −∞), target 0); the
    # reference multiplied 0·(−∞) and gave NaN where the cpu kernel gave these values. A −∞
    # logit on the target is an infinite loss; a NaN logit keeps its row NaN.
    inf, nan = float("inf"), float("nan")
    z = xg.tensor([[0.0, 0.0, -inf], [0.0, 1.0, -inf], [0.0, 0.0, -inf], [0.0, nan, 1.0]],
                  dtype=dtype, requires_grad=True)
    target = [0, 0, 2, 0]
    if labels:  # the same targets as 0/1 rows (their 0·(−∞) gave NaN too)
        target = np.eye(3, dtype=dtype)[target]
    loss = F.sparsemax_loss(z, target, reduction="none")
    finite = F.sparsemax_loss(xg.tensor(np.nan_to_num(z.numpy(), neginf=-1e15), dtype=dtype),
                              target, reduction="none").numpy()
    np.testing.assert_allclose(finite[:2], [0.25, 1.0], rtol=1e-6)
    np.testing.assert_allclose(loss.numpy()[:2], finite[:2], rtol=1e-6)
    assert loss.numpy()[2] == inf and np.isnan(loss.numpy()[3])
    loss[:2].sum().backward()
    np.testing.assert_allclose(z.grad.numpy()[:2], [[-0.5, 0.5, 0.0], [-1.0, 1.0, 0.0]])


def test_sparsemax_loss_rejects_a_multi_label_row_without_labels(backend):
    z = xg.randn(3, 4, requires_grad=True)
    target = [[1, 0, 1, 0], [0, 0, 0, 0], [0, 1, 0, 0]]
    with pytest.raises(ValueError, match=r"at least one label; 1 of the target of shape \(3, 4\)"):
        F.sparsemax_loss(z, target)
    with pytest.raises(ValueError, match="at least one label"):
        nn.SparsemaxLoss(reduction="sum")(z, xg.tensor(target, dtype="float32"))
    spatial = np.ones((2, 4, 3), np.float32)
    spatial[1, :, 2] = 0  # one position of the second sample has no label
    with pytest.raises(ValueError, match="at least one label"):
        F.sparsemax_loss(xg.randn(2, 4, 3), spatial)
    F.sparsemax_loss(z, [[1, 0, 1, 0], [0, 0, 0, 1], [0, 1, 0, 0]]).backward()  # all named
    assert np.isfinite(z.grad.numpy()).all()


def test_sparsemax_loss_of_a_nan_target_row_is_nan(backend):
    # NaN is not "no label": the row's loss and gradient are NaN, as the backends give them
    # (the label check counted the row as unlabelled and raised "0 of the target name none")
    z = xg.tensor([[0.5, 0.0, -0.5], [0.0, 1.0, 0.0]], requires_grad=True)
    loss = F.sparsemax_loss(z, [[1.0, 0.0, 0.0], [np.nan, 1.0, 0.0]], reduction="none")
    assert np.isfinite(loss.numpy()[0]) and np.isnan(loss.numpy()[1])
    loss.sum().backward()
    assert np.isfinite(z.grad.numpy()[0]).all() and np.isnan(z.grad.numpy()[1]).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_losses_stable_for_logits_1e4(backend, dtype):
    z = xg.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype, requires_grad=True)
    ce = F.cross_entropy(z, [0, 0], reduction="none")
    np.testing.assert_allclose(ce.numpy(), [0.0, 2e4 + np.log(2)], rtol=1e-6)
    bce = F.binary_cross_entropy_with_logits(z, xg.ones(2, 3, dtype=dtype), reduction="none")
    np.testing.assert_allclose(bce.numpy(), [[0, 1e4, np.log(2)], [1e4, 0, 0]], rtol=1e-6)
    sm = F.sparsemax_loss(z, [0, 0], reduction="none")
    assert np.isfinite(sm.numpy()).all()
    (ce.sum() + bce.sum() + sm.sum()).backward()
    assert np.isfinite(z.grad.numpy()).all()


def test_binary_cross_entropy_clamps_logs_at_minus_100(backend):
    p = xg.tensor([0.0, 1.0, 0.0, 1.0], dtype="float64", requires_grad=True)
    loss = F.binary_cross_entropy(p, [1.0, 0.0, 0.0, 1.0], reduction="none")
    np.testing.assert_allclose(loss.numpy(), [100, 100, 0, 0])
    loss.sum().backward()
    assert np.isfinite(p.grad.numpy()).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_cross_entropy_of_certain_mistakes_is_100_in_every_dtype(backend, dtype):
    # PyTorch clamps log 0 to exactly -100; float32 took the log of e^-100 rounded to the
    # subnormal 3.78e-44 and gave 99.98309. Values below e^-100 clamp to 100 as well, values
    # above keep their log.
    torch = pytest.importorskip("torch")
    p = [0.0, 1.0, 1e-45, 1e-30, 0.25]
    t = [1.0, 0.0, 1.0, 1.0, 1.0]
    loss = F.binary_cross_entropy(xg.tensor(p, dtype=dtype), t, reduction="none")
    expected = torch.nn.functional.binary_cross_entropy(
        torch.tensor(p, dtype=getattr(torch, dtype)), torch.tensor(t, dtype=getattr(torch, dtype)),
        reduction="none")
    assert loss.dtype == dtype
    np.testing.assert_allclose(loss.numpy(), expected.numpy(), rtol=1e-6)
    assert loss.numpy()[:3].tolist() == [100.0, 100.0, 100.0]


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_integer_targets_keep_the_predictions_dtype(backend, name):
    pred = xg.tensor([0.2, 0.9, 0.4], requires_grad=True)
    loss = getattr(F, name)(pred, xg.tensor([0, 1, 1]))
    expected = getattr(F, name)(pred, [0.0, 1.0, 1.0])
    assert loss.dtype == "float32"
    np.testing.assert_array_equal(loss.numpy(), expected.numpy())
    loss.backward()
    assert pred.grad.dtype == "float32"


def test_binary_cross_entropy_gradients_in_the_target(backend):
    # ∂ℓ/∂t = log(1 − p) − log p for probabilities p, −x for logits x (PyTorch's target gradients)
    x = leaf((5,), backend, seed=3)
    t = leaf((5,), backend, low=0.0, high=1.0, seed=4)
    for loss_of in (F.binary_cross_entropy_with_logits, lambda x, t: F.binary_cross_entropy(x.sigmoid(), t)):
        assert xg.gradcheck(loss_of, [x, t])
        t.grad = None
        (loss_of(x, t) * 5).backward()  # the mean over 5
        np.testing.assert_allclose(t.grad.numpy(), -x.numpy(), rtol=1e-10)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_binary_cross_entropy_rejects_values_outside_0_1(backend, bad):
    probs = xg.tensor([0.2, bad, 0.7])
    with pytest.raises(ValueError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(probs, [0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.BCELoss()(probs, [0.0, 1.0, 1.0])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 4, 3), (2, 4, 2, 3)])
def test_nll_loss_of_every_input_rank_matches_pytorch(backend, shape, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape)
    target_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    target = rng.integers(0, shape[-1] if len(shape) == 1 else shape[1], target_shape)
    ours_x = xg.tensor(x, dtype="float64", requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    ours = F.nll_loss(ours_x, xg.tensor(target), reduction=reduction)
    theirs = torch.nn.functional.nll_loss(theirs_x, torch.tensor(target), reduction=reduction)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-12)


def test_nll_loss_target_errors(backend):
    with pytest.raises(TypeError, match="integer class indices, got dtype float"):
        F.nll_loss(xg.randn(2, 3), xg.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"target of shape \(2,\) .*expected target shape \(2, 4\)"):
        F.nll_loss(xg.randn(2, 3, 4), xg.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 3\)"):
        F.nll_loss(xg.randn(3), xg.tensor(3))
    # no classes: the index check speaks (reshape(-1, 0) failed inside NumPy before it); the
    # fused losses say so first, on every backend
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 0\)"):
        F.nll_loss(xg.zeros(2, 0), xg.tensor([0, 0]))
    with pytest.raises(ValueError, match=r"logits \(2, 0, 3\) has no classes"):
        F.cross_entropy(xg.zeros(2, 0, 3), xg.tensor(np.zeros((2, 3), dtype=np.int64)))


def test_nll_loss_of_2d_input_gathers_directly(backend):
    """(N, K) input needs no classes-last transpose and reshapes: −x[n, tₙ], then the mean."""
    x = xg.randn(4, 3, requires_grad=True)
    dot = xg.to_dot(F.nll_loss(x, xg.tensor([0, 1, 2, 0])))
    assert "GetItem" in dot and "Transpose" not in dot and "Reshape" not in dot


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_losses_warn_when_the_target_shape_differs_as_pytorch(backend, name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(4, 1)), rng.normal(size=4)
    with pytest.warns(UserWarning, match=r"target size \(4,\) .* input size \(4, 1\)"):
        ours = getattr(F, name)(xg.tensor(pred, dtype="float64"), xg.tensor(target, dtype="float64"))
    with pytest.warns(UserWarning, match="Using a target size"):
        theirs = getattr(torch.nn.functional, name)(torch.tensor(pred), torch.tensor(target))
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)  # both broadcast (4, 4)
    with pytest.warns(UserWarning, match="Using a target size"):
        (nn.MSELoss() if name == "mse_loss" else nn.L1Loss())(xg.randn(4, 1), xg.randn(4))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(F, name)(xg.randn(4, 1), xg.randn(4, 1))


def test_loss_argument_errors(backend):
    z = xg.zeros(4, 3)
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(z, INDICES, reduction="average")
    with pytest.raises(ValueError, match="class indices"):
        F.cross_entropy(z, [0, 1, 3, 0])
    with pytest.raises(ValueError, match="shape"):
        F.binary_cross_entropy(z, xg.zeros(4, 2))


LOSS_MODULES = [
    (nn.MSELoss(half=True), F.mse_loss, REGRESSION_TARGET, {"half": True}),
    (nn.L1Loss(reduction="sum"), F.l1_loss, REGRESSION_TARGET, {"reduction": "sum"}),
    (nn.CrossEntropyLoss(label_smoothing=0.1), F.cross_entropy, INDICES, {"label_smoothing": 0.1}),
    (nn.NLLLoss(), F.nll_loss, INDICES, {}),
    (nn.BCELoss(), F.binary_cross_entropy, BINARY_TARGET, {}),
    (
        nn.BCEWithLogitsLoss(reduction="none"),
        F.binary_cross_entropy_with_logits,
        BINARY_TARGET,
        {"reduction": "none"},
    ),
    (nn.SparsemaxLoss(), F.sparsemax_loss, MULTILABEL, {}),
]


@pytest.mark.parametrize(
    "module, function, target, options", LOSS_MODULES, ids=lambda v: type(v).__name__
)
def test_loss_modules_call_their_function(backend, module, function, target, options):
    z = xg.tensor(RNG.uniform(0.05, 0.95, (4, 3)), dtype="float64")
    np.testing.assert_array_equal(module(z, target).numpy(), function(z, target, **options).numpy())


def test_penalties(backend):
    a = xg.tensor([1.0, -2.0], requires_grad=True)
    b = xg.tensor([[3.0]], requires_grad=True)
    assert F.l1_penalty([a, b]).item() == 6.0
    penalty = F.l2_penalty([a, b])
    assert penalty.item() == 14.0
    penalty.backward()
    assert a.grad.tolist() == [2.0, -4.0] and b.grad.tolist() == [[6.0]]


# ---- soft targets that require grad, unbatched samples, BCE of small probabilities ----------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4)])
def test_cross_entropy_differentiates_a_probability_target_as_pytorch(backend, reduction, smoothing, shape):
    """∂ℓ/∂t = −(1−ε)·log softmax(z) (knowledge distillation from a trained teacher): the
    target used to be detached, its gradient None."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    z, t = rng.normal(size=shape), rng.random(shape)
    logits, target = (xg.tensor(v, dtype="float64", requires_grad=True) for v in (z, t))
    logits_t, target_t = (torch.tensor(v, requires_grad=True) for v in (z, t))
    loss = F.cross_entropy(logits, target, label_smoothing=smoothing, reduction=reduction)
    loss_t = torch.nn.functional.cross_entropy(logits_t, target_t, label_smoothing=smoothing,
                                               reduction=reduction)
    loss.sum().backward()
    loss_t.sum().backward()
    np.testing.assert_allclose(target.grad.numpy(), target_t.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(logits.grad.numpy(), logits_t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("loss", ["cross_entropy", "sparsemax_loss"])
def test_soft_target_gradients_first_and_second_order(backend, loss):
    rng = np.random.default_rng(4)
    z = xg.tensor(rng.normal(size=(3, 4)), dtype="float64", requires_grad=True, backend=backend)
    t = xg.tensor(rng.random((3, 4)) + 0.1, dtype="float64", requires_grad=True, backend=backend)
    fn = (lambda a, b: F.cross_entropy(a, b, label_smoothing=0.1)) if loss == "cross_entropy" else F.sparsemax_loss
    assert xg.gradcheck(fn, [z, t])
    assert xg.gradcheck(lambda a, b: (xg.grad(fn(a, b), [a], create_graph=True)[0] ** 2).sum(), [z, t])
    assert xg.gradcheck(lambda a, b: (xg.grad(fn(a, b), [b], create_graph=True)[0] ** 2).sum(), [z, t])
    only_target = xg.tensor(t.numpy(), dtype="float64", requires_grad=True, backend=backend)
    fn(z.detach(), only_target).backward()  # the target alone may require grad
    assert only_target.grad.shape == (3, 4)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_of_one_unbatched_sample_as_pytorch(backend, reduction):
    torch = pytest.importorskip("torch")
    z = np.array([0.3, -1.0, 2.0])
    for target, target_t in ((xg.tensor(1), torch.tensor(1)),
                             (xg.tensor([0.2, 0.3, 0.5], dtype="float64"), torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64))):
        logits, logits_t = xg.tensor(z, dtype="float64", requires_grad=True), torch.tensor(z, requires_grad=True)
        loss = F.cross_entropy(logits, target, reduction=reduction)
        loss_t = torch.nn.functional.cross_entropy(logits_t, target_t, reduction=reduction)
        loss.backward()
        loss_t.backward()
        assert loss.shape == ()
        np.testing.assert_allclose(loss.numpy(), loss_t.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(logits.grad.numpy(), logits_t.grad.numpy(), rtol=1e-12)
    assert F.sparsemax_loss(xg.tensor([0.3, -1.0, 2.0]), xg.tensor(2)).item() == 0.0  # p = one-hot
    with pytest.raises(ValueError, match=r"target of shape \(2,\) does not match logits of shape \(3,\)"):
        F.cross_entropy(xg.tensor([1.0, 2.0, 3.0]), xg.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match=r"logits must have shape \(K,\), \(N, K\)"):
        F.cross_entropy(xg.tensor(1.0), xg.tensor(0))


def test_binary_cross_entropy_keeps_the_loss_of_small_probabilities(backend):
    """−log(1 − p) as −log1p(−p): for p = 1e-8 in float32, 1 − p rounded to 1 and the loss to 0."""
    p = xg.tensor(np.float32([1e-8, 1e-20, 0.3, 1.0]))
    loss = F.binary_cross_entropy(p, xg.tensor([0.0, 0.0, 0.0, 0.0]), reduction="none").numpy()
    np.testing.assert_allclose(loss, [1e-8, 1e-20, -np.log(0.7), 100.0], rtol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda a: F.cross_entropy(a, [0, 1]),
        lambda a: F.sparsemax_loss(a, [0, 1]),
        lambda a: F.nll_loss(a, [0, 1]),
        lambda a: F.mse_loss(a, a),
        lambda a: F.l1_loss(a, a),
        lambda a: F.binary_cross_entropy(a * 0.5, a),
        lambda a: F.binary_cross_entropy_with_logits(a, a),
        lambda a: nn.CrossEntropyLoss()(a, [0, 1]),
    ],
)
def test_losses_of_arrays_are_a_type_error_as_pytorch(call):
    with pytest.raises(TypeError, match="must be an xpgrad Tensor, got ndarray"):
        call(np.ones((2, 3), np.float32))


# ---- dtypes, target shapes and target values the losses must check -----------------------------
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_an_integer_prediction_is_promoted_not_the_target_truncated(backend, name):
    # The target was cast to the prediction's integer dtype: mse_loss([1, 0], [0.5, 0.75]) gave 0.5
    target = xg.tensor([0.5, 0.75])
    loss = getattr(F, name)(xg.tensor([1, 0]), target)
    expected = getattr(F, name)(xg.tensor([1.0, 0.0], dtype="float64"), target.astype("float64"))
    assert loss.dtype == "float64"  # NumPy's promotion of int64 and float32
    np.testing.assert_allclose(loss.numpy(), expected.numpy(), rtol=1e-15)
    assert getattr(F, name)(xg.tensor([1, 0], dtype="int8"), target).dtype == "float32"
    assert getattr(F, name)(xg.tensor([True, False]), xg.tensor([True, True])).dtype == "float32"


@pytest.mark.parametrize("name", ["cross_entropy", "sparsemax_loss", "nll_loss"])
def test_class_losses_of_integer_logits_are_a_type_error(backend, name):
    # A probability target was cast to the logits' int dtype: cross_entropy gave 0.0
    for target in (xg.tensor([[0.5, 0.0, 0.5]]), xg.tensor([2])):
        with pytest.raises(TypeError, match=f"{name}: .* floating point, got dtype int64"):
            getattr(F, name)(xg.tensor([[1, 2, 3]]), target)


@pytest.mark.parametrize("name", ["cross_entropy", "sparsemax_loss"])
def test_class_index_targets_of_spatial_logits_must_have_their_shape(backend, name):
    # Only the size was checked: a (4, 2) target for logits (2, 3, 4) was read as (2, 4)
    logits = xg.randn(2, 3, 4)
    for shape in ((4, 2), (8,), (2, 3)):
        with pytest.raises(ValueError, match=re.escape(f"target of shape {shape} does not match "
                                                        "logits of shape (2, 3, 4)")):
            getattr(F, name)(logits, xg.zeros(*shape, dtype="int64"))
    assert getattr(F, name)(logits, xg.zeros(2, 4, dtype="int64"), reduction="none").shape == (2, 4)


@pytest.mark.parametrize("name", ["cross_entropy", "sparsemax_loss"])
def test_class_losses_of_an_empty_spatial_dimension(backend, name):
    # "none" reshaped the losses to (-1, 0), which NumPy cannot resolve; PyTorch gives (2, 0)
    logits = xg.zeros(2, 3, 0, requires_grad=True)
    loss = getattr(F, name)(logits, xg.zeros(2, 0, dtype="int64"), reduction="none")
    assert loss.shape == (2, 0)
    loss.sum().backward()
    assert logits.grad.shape == (2, 3, 0)


@pytest.mark.parametrize("target", [[[2.0, -1.0, 0.0]], [[1.0, -1.0, 0.0]], [[0.5, -0.1, 0.6]]])
def test_sparsemax_loss_rejects_negative_targets(backend, target):
    # q = t/Σt left the simplex: the loss was clamped to 0 with a nonzero gradient, and a row
    # summing to 0 was said to name no label
    with pytest.raises(ValueError, match=r"nonnegative .*got 1 negative in the target of shape \(1, 3\)"):
        F.sparsemax_loss(xg.tensor([[3.0, 0.0, 0.0]]), target)
    with pytest.raises(ValueError, match=r"nonnegative .*got 1 negative in the target of shape \(3,\)"):
        F.sparsemax_loss(xg.tensor([3.0, 0.0, 0.0]), target[0])


def test_sparsemax_loss_rejects_an_unlabelled_row_of_one_sample(backend):
    # 1-D logits skipped the check: loss 0 with the gradient sparsemax(z) = [0, 0, 1]
    with pytest.raises(ValueError, match=r"at least one label; 1 of the target of shape \(3,\)"):
        F.sparsemax_loss(xg.tensor([1.0, 2.0, 3.0]), xg.tensor([0.0, 0.0, 0.0]))


@pytest.mark.parametrize("module, keyword", [
    (nn.BCEWithLogitsLoss, "pos_weight"), (nn.BCELoss, "weight"), (nn.L1Loss, "typo"),
    (nn.NLLLoss, "ignore_index"), (nn.SparsemaxLoss, "ignore_index"), (nn.MSELoss, "weight"),
    (nn.CrossEntropyLoss, "weight"),
])
def test_loss_modules_reject_unknown_options_at_construction(module, keyword):
    # They were stored and failed only at the first call, PyTorch's options looking accepted
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{keyword}'"):
        module(**{keyword: 1})


def test_bce_with_logits_is_infinite_at_an_infinite_logit(backend):
    """ℓ = ∞ at x = +∞ for t < 1 and at x = −∞ for t > 0 (max(x, 0) − x·t gave ∞ − ∞ = NaN);
    0·∞ stays NaN as in PyTorch; ∂ℓ/∂x = σ(x) − t and ∂ℓ/∂t = −x as PyTorch's (float64)."""
    torch = pytest.importorskip("torch")
    inf = np.inf
    x = np.array([inf, inf, inf, -inf, -inf, -inf, 30.0, -30.0, 0.0, 1e30])
    t = np.array([0.0, 0.5, 1.0, 0.0, 0.5, 1.0, 0.3, 0.3, 0.5, 0.5])
    z, target = xg.tensor(x, dtype="float64", requires_grad=True), xg.tensor(t, dtype="float64", requires_grad=True)
    with np.errstate(invalid="ignore"):  # the 0·∞
        loss = F.binary_cross_entropy_with_logits(z, target, reduction="none")
    np.testing.assert_array_equal(loss.numpy()[:6], [inf, inf, np.nan, np.nan, inf, inf])
    zt, tt = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    want = torch.nn.functional.binary_cross_entropy_with_logits(zt, tt, reduction="none")
    np.testing.assert_allclose(loss.numpy()[:3], want.detach().numpy()[:3])  # torch is NaN at −∞
    np.testing.assert_allclose(loss.numpy()[6:], want.detach().numpy()[6:], rtol=1e-15)
    loss.sum().backward()
    want.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), zt.grad.numpy(), rtol=1e-15)
    np.testing.assert_array_equal(target.grad.numpy(), tt.grad.numpy())


@pytest.mark.parametrize("loss", [F.mse_loss, F.l1_loss, nn.MSELoss(), F.binary_cross_entropy, F.cross_entropy])
@pytest.mark.parametrize("target", [None, "abc"])
def test_a_target_without_numbers_raises(backend, loss, target):
    """mse_loss(x, None) gave NaN (l1 a zero gradient) with only a broadcasting warning."""
    with pytest.raises(TypeError, match="a loss target must hold numbers"):
        loss(xg.tensor([[0.2, 0.7]]), target)


def test_half_must_be_a_flag(backend):
    """MSELoss(half="no") halved the loss: any truthy value read as True."""
    with pytest.raises(TypeError, match="half must be True or False, got 'no'"):
        nn.MSELoss(half="no")(xg.ones(2), xg.zeros(2))


@pytest.mark.parametrize("loss", [F.cross_entropy, F.sparsemax_loss])
def test_logits_without_classes_raise_on_every_backend(backend, loss):
    """K = 0: the cpu kernels raised, the numpy backend gave 0, NaN or NumPy's own error."""
    with pytest.raises(ValueError, match=r"logits \(2, 0\) has no classes"):
        loss(xg.zeros((2, 0)), xg.tensor([0, 0]))
