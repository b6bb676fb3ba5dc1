"""Layers of xpgrad.nn: gradients of every layer w.r.t. input and parameters on every backend,
values against PyTorch, BatchNorm running statistics, dropout and initialiser statistics."""

import math
import re

import numpy as np
import pytest
from nn_support import gradcheck_module, gradient_of, leaf

import xpgrad as xg
import xpgrad.nn.functional as F
from xpgrad import nn


def layers_and_inputs():
    return {
        "linear": (lambda: nn.Linear(3, 4), (5, 3)),
        "linear_no_bias": (lambda: nn.Linear(3, 2, bias=False), (4, 3)),
        "linear_3d_input": (lambda: nn.Linear(3, 2), (2, 2, 3)),
        "fused_linear_relu": (lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU()), (5, 3)),
        "fused_linear_sigmoid": (lambda: nn.Sequential(nn.Linear(3, 4), nn.Sigmoid()), (5, 3)),
        "fused_linear_tanh": (lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh()), (5, 3)),
        "mlp": (
            lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.LogSoftmax()),
            (4, 3),
        ),
        "maxout": (lambda: nn.Maxout(3, 2, pieces=3), (4, 3)),
        "prelu_shared": (lambda: nn.PReLU(), (4, 3)),
        "prelu_per_channel": (lambda: nn.PReLU(3, init=0.1), (2, 3, 4)),
        "leaky_relu": (lambda: nn.LeakyReLU(0.2), (4, 3)),
        "elu": (lambda: nn.ELU(), (4, 3)),
        "softmax": (lambda: nn.Softmax(axis=0), (4, 3)),
        "sparsemax": (lambda: nn.Sparsemax(), (4, 3)),
        "batchnorm": (lambda: nn.BatchNorm1d(3), (6, 3)),
        "batchnorm_3d": (lambda: nn.BatchNorm1d(3), (4, 3, 2)),
        "batchnorm_2d": (lambda: nn.BatchNorm2d(2), (2, 2, 3, 2)),
        "batchnorm_batch_statistics_only": (lambda: nn.BatchNorm2d(2, track_running_stats=False).eval(),
                                            (2, 2, 2, 2)),
        "conv2d": (lambda: nn.Conv2d(2, 3, 3, padding=1), (2, 2, 4, 4)),
        "conv2d_strided": (lambda: nn.Conv2d(2, 2, (2, 3), stride=2), (1, 2, 5, 6)),
        "fused_conv2d_tanh": (lambda: nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.Tanh()), (2, 2, 4, 4)),
        "maxpool": (lambda: nn.MaxPool2d(2), (2, 2, 4, 4)),
        "maxpool_overlapping": (lambda: nn.MaxPool2d(3, stride=1), (1, 2, 4, 5)),
        "flatten": (lambda: nn.Flatten(), (2, 2, 3)),
        "cnn": (
            lambda: nn.Sequential(
                nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2, 2)
            ),
            (2, 1, 4, 4),
        ),
    }


@pytest.mark.parametrize("name", layers_and_inputs())
def test_gradcheck(backend, name):
    xg.manual_seed(0)
    make, shape = layers_and_inputs()[name]
    module = make()
    assert gradcheck_module(module, leaf(shape, backend))


FUNCTIONAL_LAYERS = {
    "linear_relu": (lambda x, w, b: F.linear(x, w, b, activation="relu"), (5, 3), (3, 4)),
    "linear_sigmoid": (lambda x, w, b: F.linear(x, w, b, activation="sigmoid"), (5, 3), (3, 4)),
    "linear_tanh": (lambda x, w, b: F.linear(x, w, b, activation="tanh"), (5, 3), (3, 4)),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), (1, 2, 5, 5), (3, 2, 3, 3)),
    "conv2d_sigmoid": (lambda x, w, b: F.conv2d(x, w, b, padding=1, activation="sigmoid"), (2, 2, 4, 3),
                       (3, 2, 3, 3)),
}


@pytest.mark.parametrize("name", FUNCTIONAL_LAYERS)
def test_functional_layers_first_and_second_order(backend, name):
    fn, x_shape, w_shape = FUNCTIONAL_LAYERS[name]
    x = leaf(x_shape, backend)
    w = leaf(w_shape, backend, seed=1)
    b = leaf(w_shape[1] if name.startswith("linear") else w_shape[0], backend, seed=2)
    assert xg.gradcheck(fn, [x, w, b])
    assert xg.gradcheck(gradient_of(lambda x: (fn(x, w, b) ** 2).sum()), [x])


def test_pooling_and_batch_norm_second_order(backend):
    x = leaf((2, 2, 4, 4), backend)
    assert xg.gradcheck(gradient_of(lambda x: (F.max_pool2d(x, 2) ** 2).sum()), [x])
    z = leaf((6, 3), backend)
    assert xg.gradcheck(gradient_of(lambda z: (F.batch_norm(z, None, None, training=True) ** 3).sum()), [z])


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_max_pool2d_of_integers_pads_with_the_lowest_value(backend, dtype):
    x = np.array([[0, 3, 1], [2, 0, 1], [1, 1, 0]]).astype(dtype)[None, None]
    y = F.max_pool2d(xg.tensor(x), 2, stride=1, padding=1)
    expected = [[0, 3, 3, 1], [2, 3, 3, 1], [2, 2, 1, 1], [1, 1, 1, 0]]
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(y.numpy()[0, 0], np.array(expected).astype(dtype))


@pytest.mark.parametrize("shape", [(1, 2, 0, 3), (1, 2, 3, 0), (2, 0, 3)])
def test_conv2d_and_max_pool2d_of_an_empty_image_raise(backend, shape):
    # conv2d returned the bias everywhere (its padding alone filled the windows); PyTorch raises
    # "Only zero batch or zero channel inputs are supported"
    message = rf"input of shape \({', '.join(map(str, shape))}\) has an empty spatial dimension"
    with pytest.raises(ValueError, match="max_pool2d: " + message):
        F.max_pool2d(xg.zeros(shape), 2, stride=1, padding=1)
    with pytest.raises(ValueError, match="conv2d: " + message):
        F.conv2d(xg.zeros(shape), xg.ones(2, 2, 3, 3), xg.ones(2), padding=2)


def test_conv2d_and_max_pool2d_of_zero_images_or_channels_are_empty(backend):
    assert F.conv2d(xg.zeros(0, 1, 3, 3), xg.ones(2, 1, 3, 3), padding=1).shape == (0, 2, 3, 3)
    y = F.conv2d(xg.zeros(1, 0, 3, 3), xg.ones(2, 0, 3, 3), xg.tensor([1.0, 2.0]), padding=1)
    assert y.shape == (1, 2, 3, 3) and y.numpy()[0, :, 1, 1].tolist() == [1.0, 2.0]
    assert F.max_pool2d(xg.zeros(0, 1, 3, 3), 2).shape == (0, 1, 1, 1)
    assert F.max_pool2d(xg.zeros(1, 0, 3, 3), 2).shape == (1, 0, 1, 1)


def test_max_pool2d_gradient_goes_to_the_first_maximum_or_the_first_nan(backend):
    # as documented; PyTorch's CPU kernel sends it to the last NaN of the window
    x = xg.tensor([[[[np.nan, 1.0, np.nan, 5.0, 2.0, 5.0]]]], requires_grad=True)
    y = F.max_pool2d(x, (1, 3))
    y.sum().backward()
    assert np.isnan(y.numpy()[0, 0, 0, 0]) and y.numpy()[0, 0, 0, 1] == 5.0
    assert x.grad.numpy().ravel().tolist() == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]


def test_seeded_dropout_masks_are_the_same_on_every_backend(backend):
    xg.manual_seed(5)
    x = xg.ones(40, 30)
    masks = [F.dropout(x, 0.4).numpy(), F.dropout(x.astype("float64"), 0.1).numpy()]
    xg.manual_seed(5)
    with xg.use_backend("numpy"):
        x = xg.ones(40, 30)
        want = [F.dropout(x, 0.4).numpy(), F.dropout(x.astype("float64"), 0.1).numpy()]
    for got, expected in zip(masks, want):
        np.testing.assert_array_equal(got, expected)


def test_dropout_gradient_is_its_mask(backend):
    xg.manual_seed(1)
    x = leaf((20, 10), backend)
    y = F.dropout(x, 0.3)
    y.sum().backward()
    kept = y.numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.7)


# ---- against PyTorch -----------------------------------------------------------------------------
def test_linear_matches_pytorch(backend):
    torch = pytest.importorskip("torch")
    layer = nn.Linear(3, 4)
    x = leaf((5, 3), backend).astype("float32")
    reference = torch.nn.Linear(3, 4)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(layer.weight.numpy().T))
        reference.bias.copy_(torch.tensor(layer.bias.numpy()))
    np.testing.assert_allclose(
        layer(x).numpy(), reference(torch.tensor(x.numpy())).detach().numpy(), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), ((1, 2), (2, 0))])
def test_conv2d_and_max_pool_match_pytorch(backend, stride, padding):
    torch = pytest.importorskip("torch")
    x = leaf((2, 3, 7, 6), backend)
    w = leaf((4, 3, 3, 2), backend, seed=1)
    b = leaf((4,), backend, seed=2)
    y = F.conv2d(x, w, b, stride=stride, padding=padding)
    xt, wt, bt = (torch.tensor(t.numpy(), requires_grad=True) for t in (x, w, b))
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    pooled = F.max_pool2d(y, 2, stride=1)
    pooled_t = torch.nn.functional.max_pool2d(yt, 2, stride=1)
    np.testing.assert_allclose(pooled.numpy(), pooled_t.detach().numpy())
    (pooled * pooled).sum().backward()
    (pooled_t * pooled_t).sum().backward()
    for ours, theirs in ((x, xt), (w, wt), (b, bt)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_batchnorm_running_statistics_match_pytorch(backend):
    torch = pytest.importorskip("torch")
    ours = nn.BatchNorm1d(4, momentum=0.2)
    theirs = torch.nn.BatchNorm1d(4, momentum=0.2)
    rng = np.random.default_rng(0)
    for step in range(5):
        batch = rng.normal(step, 1 + step, (8, 4)).astype(np.float32)
        y = ours(xg.tensor(batch))
        y_t = theirs(torch.tensor(batch))
        np.testing.assert_allclose(y.numpy(), y_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-5)
    ours.eval()
    theirs.eval()
    test = rng.normal(2, 3, (5, 4)).astype(np.float32)
    np.testing.assert_allclose(
        ours(xg.tensor(test)).numpy(),
        theirs(torch.tensor(test)).detach().numpy(),
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.parametrize("momentum", [0.3, None], ids=["momentum", "cumulative"])
@pytest.mark.parametrize("track_running_stats", [True, False])
@pytest.mark.parametrize("dims", [1, 2])
def test_batchnorm_layers_match_pytorch(backend, dims, momentum, track_running_stats):
    """Outputs, input and parameter gradients, running statistics and the batch counter over
    several training batches, then evaluation; momentum=None is the cumulative average."""
    torch = pytest.importorskip("torch")
    shape = (6, 3) if dims == 1 else (4, 3, 5, 2)
    options = dict(momentum=momentum, track_running_stats=track_running_stats)
    ours = (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(3, dtype="float64", **options)
    theirs = (torch.nn.BatchNorm1d if dims == 1 else torch.nn.BatchNorm2d)(3, dtype=torch.float64, **options)
    rng = np.random.default_rng(0)
    for step in range(4):
        batch = rng.normal(step, 1 + step, shape)
        x, x_t = xg.tensor(batch, dtype="float64", requires_grad=True), torch.tensor(batch, requires_grad=True)
        y, y_t = ours(x), theirs(x_t)
        (y * y * y).sum().backward()
        (y_t**3).sum().backward()
        np.testing.assert_allclose(y.numpy(), y_t.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), x_t.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-9)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name].numpy(), value.numpy(), rtol=1e-12)
    ours.eval()
    theirs.eval()
    test = rng.normal(2, 3, shape)
    np.testing.assert_allclose(
        ours(xg.tensor(test, dtype="float64")).numpy(), theirs(torch.tensor(test)).detach().numpy(),
        rtol=1e-10, atol=1e-12,
    )


def test_batchnorm_cumulative_average_closed_form(backend):
    bn = nn.BatchNorm1d(1, momentum=None)
    for batch in ([[1.0], [3.0]], [[5.0], [9.0]]):  # means 2 and 7, unbiased variances 2 and 8
        bn(xg.tensor(batch))
    assert bn.running_mean.tolist() == [4.5] and bn.running_var.tolist() == [5.0]
    assert bn.num_batches_tracked.item() == 2


def test_batchnorm_counts_only_the_batches_it_accepts(backend):
    bn = nn.BatchNorm1d(3, momentum=None)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(xg.ones(1, 3))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\) expects input \(N, 3\) or \(N, 3, L\)"):
        bn(xg.ones(2, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\) expects input \(N, 3, H, W\), got \(2, 3\)"):
        nn.BatchNorm2d(3)(xg.ones(2, 3))
    assert bn.num_batches_tracked.item() == 0 and bn.running_mean.tolist() == [0.0] * 3
    bn.eval()(xg.ones(2, 3))
    assert bn.num_batches_tracked.item() == 0  # evaluation does not count


def test_batchnorm_loads_checkpoints_without_the_batch_counter_and_pytorch_state_dicts(backend):
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    old = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert model.load_state_dict(old) == ([], [])  # saved before BatchNorm counted its batches
    torch = pytest.importorskip("torch")
    theirs = torch.nn.BatchNorm1d(3)  # (Linear's weight is (in, out) here, PyTorch's (out, in))
    theirs(torch.randn(4, 3))
    model[1].load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert model[1].num_batches_tracked.item() == 1
    np.testing.assert_allclose(model[1].running_var.numpy(), theirs.running_var.numpy(), rtol=1e-6)


def test_batchnorm_running_statistics_closed_form(backend):
    bn = nn.BatchNorm1d(1, momentum=0.5)
    bn(xg.tensor([[1.0], [3.0]]))
    # batch mean 2, unbiased variance 2: running = ½·initial + ½·batch
    assert bn.running_mean.tolist() == [1.0] and bn.running_var.tolist() == [1.5]
    bn.eval()
    np.testing.assert_allclose(bn(xg.tensor([[1.0]])).numpy(), [[0.0]], atol=1e-6)


def test_functional_batch_norm_defaults_to_evaluation_as_pytorch(backend):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 2.0, (5, 3)).astype(np.float32)
    mean, var = np.array([0.5, -1.0, 2.0], np.float32), np.array([1.0, 4.0, 0.25], np.float32)
    running_mean, running_var = xg.tensor(mean), xg.tensor(var)
    y = F.batch_norm(xg.tensor(x), running_mean, running_var)
    expected = torch.nn.functional.batch_norm(
        torch.tensor(x), torch.tensor(mean), torch.tensor(var)
    )
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(running_mean.numpy(), mean)  # evaluation leaves them alone
    np.testing.assert_array_equal(running_var.numpy(), var)


def test_batchnorm_takes_any_real_momentum_and_eps_as_pytorch(backend):
    # NumPy float32 scalars were refused ("must be a number"); a bool eps was taken
    bn = nn.BatchNorm1d(1, momentum=np.float32(0.5), eps=np.float32(1e-5))
    bn(xg.tensor([[1.0], [3.0]]))
    assert bn.running_mean.tolist() == [1.0] and bn.running_var.tolist() == [1.5]
    nn.BatchNorm2d(2, momentum=np.int64(1), eps=1)
    for eps in (0, -1e-5, float("nan"), True, "1e-5"):
        with pytest.raises(ValueError, match=f"eps must be a number > 0, got {eps!r}"):
            nn.BatchNorm1d(1, eps=eps)


def test_batch_norm_checks_shapes_before_updating_running_statistics(backend):
    running_mean, running_var = xg.ones(2), xg.ones(3)
    with pytest.raises(ValueError, match=r"running_mean has shape \(2,\), expected \(3,\)"):
        F.batch_norm(xg.randn(4, 3), running_mean, running_var, training=True)
    assert running_mean.tolist() == [1.0, 1.0] and running_var.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match=r"weight has shape \(4,\)"):
        F.batch_norm(xg.randn(4, 3), running_var, running_var, weight=xg.ones(4), training=True)
    assert running_var.tolist() == [1.0, 1.0, 1.0]


def test_batch_norm_checks_backends_and_dtypes_before_updating_running_statistics(backend):
    # statistics on another backend were updated (F) or moved before the error (the layer, its
    # batch count left behind); an integer running_var failed after running_mean had moved
    other = "cpu" if backend == "numpy" else "numpy"
    if other not in xg.available_backends():
        pytest.skip(f"needs the {other} backend beside {backend}")
    x = xg.randn(4, 3)
    running_mean = xg.zeros(3)
    for name, stats in (("running_mean", (xg.zeros(3, backend=other), xg.ones(3))),
                        ("running_var", (running_mean, xg.ones(3, backend=other)))):
        with pytest.raises(xg.BackendMismatchError, match=f"{name} lives on '{other}', the input on '{backend}'"):
            F.batch_norm(x, *stats, training=True)
        assert stats[0].tolist() == [0.0] * 3
    with pytest.raises(xg.BackendMismatchError, match=f"bias lives on '{other}'"):
        F.batch_norm(x, running_mean, xg.ones(3), bias=xg.zeros(3, backend=other), training=True)
    with pytest.raises(TypeError, match="running_var must be floating point, got int64"):
        F.batch_norm(x, running_mean, xg.ones(3, dtype="int64"), training=True)
    assert running_mean.tolist() == [0.0] * 3
    bn = nn.BatchNorm1d(3, backend=other)
    with pytest.raises(xg.BackendMismatchError, match=f"running_mean lives on '{other}'"):
        bn(x)
    assert bn.running_mean.tolist() == [0.0] * 3 and bn.num_batches_tracked.item() == 0


# ---- dropout -------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_inverted_dropout_preserves_the_mean(backend, p):
    xg.manual_seed(0)
    layer = nn.Dropout(p)
    x = xg.full((200_000,), 2.0)
    y = layer(x).numpy()
    assert abs((y == 0).mean() - p) < 0.01
    assert abs(y.mean() - 2.0) < 0.03
    np.testing.assert_allclose(y[y != 0], 2.0 / (1 - p), rtol=1e-6)
    layer.eval()
    assert layer(x) is x


def test_classic_dropout_scales_at_test_time(backend):
    xg.manual_seed(0)
    layer = nn.Dropout(0.25, inverted=False)
    x = xg.full((100_000,), 4.0)
    y = layer(x).numpy()
    assert set(np.unique(y)) == {0.0, 4.0}
    assert abs(y.mean() - 3.0) < 0.05  # E[train output] = (1 − p)·x ...
    layer.eval()
    np.testing.assert_allclose(layer(x).numpy(), 3.0)  # ... which is the test output


def test_dropout_edge_probabilities(backend):
    x = xg.ones(5)
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 1.0).tolist() == [0.0] * 5
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_dropout_of_integers_is_a_type_error(backend, dtype):
    # the scale 1/(1 − p) was cast to the input's dtype: int 10s with p = 0.3 gave 0/10, not 0/14.29
    x = xg.tensor(np.full(8, 10), dtype=dtype)
    for call in (lambda: F.dropout(x, 0.3), lambda: F.dropout(x, 0.3, training=False),
                 lambda: nn.Dropout(0.3, inverted=False)(x)):
        with pytest.raises(TypeError, match=f"dropout: input must be floating point, got {dtype}"):
            call()


def test_dropout_is_reproducible(backend):
    xg.manual_seed(42)
    a = F.dropout(xg.ones(100), 0.5).numpy()
    xg.manual_seed(42)
    b = F.dropout(xg.ones(100), 0.5).numpy()
    np.testing.assert_array_equal(a, b)


# ---- initialisers --------------------------------------------------------------------------------
def test_initializer_statistics(backend):
    xg.manual_seed(0)
    w = xg.empty(400, 600)
    bound = math.sqrt(6 / 1000)
    values = nn.init.glorot_uniform_(w).numpy()
    assert values.min() >= -bound and values.max() <= bound and values.max() > 0.99 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert abs(nn.init.glorot_normal_(w).numpy().std() - math.sqrt(2 / 1000)) < 0.01 * math.sqrt(
        2 / 1000
    )
    assert abs(nn.init.he_normal_(w).numpy().std() - math.sqrt(2 / 400)) < 0.01 * math.sqrt(2 / 400)
    he_bound = math.sqrt(6 / 400)
    values = nn.init.he_uniform_(w).numpy()
    assert values.min() >= -he_bound and values.max() <= he_bound and values.max() > 0.99 * he_bound
    values = nn.init.uniform_(w, -3, -1).numpy()
    assert values.min() >= -3 and values.max() < -1 and abs(values.mean() + 2) < 0.01
    values = nn.init.normal_(w, 5.0, 0.5).numpy()
    assert abs(values.mean() - 5) < 0.01 and abs(values.std() - 0.5) < 0.01
    assert (nn.init.constant_(w, 0.3).numpy() == np.float32(0.3)).all()
    assert (nn.init.zeros_(w).numpy() == 0).all() and (nn.init.ones_(w).numpy() == 1).all()


def test_initializers_reject_bad_arguments_and_leave_empty_tensors_alone(backend):
    with pytest.raises(ValueError, match="a <= b"):
        nn.init.uniform_(xg.empty(3), 1.0, 0.0)
    with pytest.raises(ValueError, match="std >= 0"):
        nn.init.normal_(xg.empty(3), 0.0, -1.0)
    for init in (nn.init.glorot_uniform_, nn.init.glorot_normal_, nn.init.he_uniform_, nn.init.he_normal_):
        assert init(xg.empty(0, 3)).shape == (0, 3)  # fan_in 0: nothing to draw, as PyTorch
    assert nn.Linear(0, 3, init="he_normal")(xg.ones(2, 0)).shape == (2, 3)


def test_batch_norm_of_zero_channels_is_empty(backend):
    assert F.batch_norm(xg.ones(4, 0), None, None, training=True).shape == (4, 0)
    assert nn.BatchNorm1d(0)(xg.ones(4, 0)).shape == (4, 0)


@pytest.mark.parametrize("size", [np.int64(2), (np.int32(2), 2)])
def test_conv_and_pool_geometry_takes_numpy_integers(backend, size):
    x = xg.ones(1, 1, 4, 4)
    assert F.conv2d(x, xg.ones(1, 1, 2, 2), stride=size).shape == (1, 1, 2, 2)
    assert nn.MaxPool2d(size)(x).shape == (1, 1, 2, 2)
    with pytest.raises(TypeError, match="stride must be an int or a pair of ints, got 1.5"):
        F.conv2d(x, xg.ones(1, 1, 2, 2), stride=1.5)


def test_fans_follow_the_weight_layouts():
    assert nn.init.calculate_fans(xg.empty(784, 512)) == (784, 512)  # Linear (in, out)
    assert nn.init.calculate_fans(xg.empty(16, 8, 3, 5)) == (
        8 * 15,
        16 * 15,
    )  # conv (out, in, kH, kW)
    assert nn.init.calculate_fans(xg.empty(7)) == (7, 7)


def test_initialisation_is_reproducible_and_layers_default_to_glorot(backend):
    xg.manual_seed(3)
    first = nn.Linear(50, 30)
    xg.manual_seed(3)
    second = nn.Linear(50, 30)
    np.testing.assert_array_equal(first.weight.numpy(), second.weight.numpy())
    assert np.abs(first.weight.numpy()).max() <= math.sqrt(6 / 80)
    assert (first.bias.numpy() == 0).all()
    he = nn.Linear(50, 30, init="he_normal")
    assert abs(he.weight.numpy().std() - math.sqrt(2 / 50)) < 0.02
    with pytest.raises(ValueError, match="unknown init"):
        nn.Linear(2, 2, init="magic")


@pytest.mark.parametrize(
    "make",
    [
        lambda dtype: nn.Linear(3, 2, dtype=dtype),
        lambda dtype: nn.Conv2d(2, 3, 3, dtype=dtype),
        lambda dtype: nn.PReLU(3, dtype=dtype),
        lambda dtype: nn.BatchNorm1d(3, dtype=dtype),
        lambda dtype: nn.BatchNorm2d(3, dtype=dtype),
        lambda dtype: nn.Maxout(3, 2, pieces=2, dtype=dtype),
    ],
    ids=["linear", "conv2d", "prelu", "batchnorm", "batchnorm2d", "maxout"],
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layers_create_parameters_and_buffers_of_the_given_dtype(backend, make, dtype):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "overflow in cast" from uninitialised memory
        module = make(dtype)
    state = module.state_dict()
    counters = {k: state.pop(k) for k in list(state) if k.endswith("num_batches_tracked")}
    assert all(t.dtype == np.int64 for t in counters.values())  # as PyTorch's
    assert state and all(t.dtype == np.dtype(dtype) for t in state.values()), {
        k: t.dtype for k, t in state.items()
    }


def test_parameter_keeps_the_dtype_of_what_it_wraps(backend):
    assert nn.Parameter(xg.zeros(2, dtype="float64")).dtype == np.float64
    assert nn.Parameter(np.zeros(2, dtype=np.float64)).dtype == np.float64
    assert nn.Parameter(xg.zeros(2, dtype="float64"), dtype="float32").dtype == np.float32
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32  # Python floats: the default dtype


def test_linear_rejects_a_bias_that_is_not_out_features_on_every_backend(backend):
    x, w = xg.randn(3, 4, requires_grad=True), xg.randn(4, 2, requires_grad=True)
    for bias in (xg.randn(1, requires_grad=True), xg.randn(1, 2), xg.randn(3)):
        shape = re.escape(str(bias.shape))
        with pytest.raises(ValueError, match=rf"bias has shape {shape}, expected \(2,\)"):
            F.linear(x, w, bias)
    b = xg.randn(2, requires_grad=True)
    F.linear(x, w, b).sum().backward()
    assert b.grad.shape == (2,)
    np.testing.assert_allclose(b.grad.numpy(), [3.0, 3.0])


def test_linear_input_shapes(backend):
    layer = nn.Linear(4, 2)
    with pytest.raises(ValueError, match=r"input of shape \(\).*weight of shape \(4, 2\)"):
        layer(xg.tensor(1.0))
    with pytest.raises(ValueError, match=r"input of shape \(3, 5\)"):
        layer(xg.randn(3, 5))
    x = np.arange(4, dtype=np.float32)  # a single sample (in,) gives (out,), as in PyTorch
    expected = x @ layer.weight.numpy() + layer.bias.numpy()
    np.testing.assert_allclose(layer(xg.tensor(x)).numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("x_shape, out", [((2, 3, 0), 4), ((1, 1, 0), 0), ((0, 2, 3), 2)])
@pytest.mark.parametrize("with_bias", [False, True])
def test_linear_of_batched_empty_inputs_matches_pytorch(backend, x_shape, out, with_bias):
    # (..., 0) inputs were reshaped with -1, which NumPy cannot infer for size 0 ("cannot
    # reshape array of size 0 into shape (0)"); PyTorch gives the bias (zeros without one)
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(x_shape)
    w_np = rng.standard_normal((x_shape[-1], out))
    b_np = rng.standard_normal(out)
    x = xg.tensor(x_np, dtype="float64", requires_grad=True)
    w = xg.tensor(w_np, dtype="float64", requires_grad=True)
    b = xg.tensor(b_np, dtype="float64", requires_grad=True) if with_bias else None
    xt = torch.tensor(x_np, requires_grad=True)
    wt = torch.tensor(w_np, requires_grad=True)
    bt = torch.tensor(b_np, requires_grad=True) if with_bias else None
    y, yt = F.linear(x, w, b, activation="tanh"), torch.tanh(torch.nn.functional.linear(xt, wt.T, bt))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12)
    g = rng.standard_normal(y.shape)
    y.backward(xg.tensor(g, dtype="float64"))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-12)
    assert x.grad.shape == x_shape
    if with_bias:
        np.testing.assert_allclose(b.grad.numpy(), bt.grad.numpy(), rtol=1e-12)


def test_unbatched_conv2d_and_max_pool2d_match_pytorch(backend):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 6))
    w, b = rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    xt = torch.tensor(x, requires_grad=True)
    ours_x = xg.tensor(x, dtype="float64", requires_grad=True)
    ours = F.conv2d(ours_x, xg.tensor(w, dtype="float64"), xg.tensor(b, dtype="float64"), 1, 1)
    ours = F.max_pool2d(ours, 3, stride=2, padding=1)
    theirs = torch.nn.functional.conv2d(xt, torch.tensor(w), torch.tensor(b), padding=1)
    theirs = torch.nn.functional.max_pool2d(theirs, 3, stride=2, padding=1)
    assert ours.shape == tuple(theirs.shape) == (3, 3, 3)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10)
    (ours * ours).sum().backward()
    (theirs * theirs).sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_convolution_output_is_channels_last_and_pooled_as_it_lies(backend):
    """conv2d returns the GEMM's (N·OH·OW, O) result viewed as (N, O, OH, OW); activation,
    pooling and their gradients take that layout as it is and agree with the same network on
    (N, C, H, W) copies (clone() copies C-contiguous)."""
    x = leaf((3, 2, 6, 5), backend)
    w, b = leaf((4, 2, 3, 3), backend, seed=1), leaf((4,), backend, seed=2)
    conv = F.conv2d(x, w, b, padding=1)
    assert conv.data.strides[1] == conv.data.itemsize  # channels-last memory
    pooled = F.max_pool2d(F.relu(conv), 2, stride=2, padding=1)
    copied = F.max_pool2d(F.relu(conv.clone()), 2, stride=2, padding=1)
    np.testing.assert_array_equal(pooled.numpy(), copied.numpy())
    gy = leaf(pooled.shape, backend, seed=3)
    ours = xg.grad(pooled, [x, w, b], grad_outputs=gy, retain_graph=True)
    theirs = xg.grad(copied, [x, w, b], grad_outputs=gy)
    for g, want in zip(ours, theirs):
        np.testing.assert_allclose(g.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x: F.max_pool2d(x, 2, padding=2), r"padding \(2, 2\) should be at most half"),
        (lambda x: F.max_pool2d(x, 3, padding=(1, 2)), r"padding \(1, 2\) should be at most half"),
        (lambda x: nn.MaxPool2d(2, padding=(0, 2))(x), "should be at most half"),
        (lambda x: F.max_pool2d(x, 2, stride=0), r"stride must be at least 1, got \(0, 0\)"),
        (lambda x: F.max_pool2d(x, 0), r"kernel_size must be at least 1"),
        (lambda x: F.conv2d(x, xg.randn(1, 2, 2, 2), stride=(1, 0)), r"stride .* \(1, 0\)"),
        (lambda x: F.conv2d(x, xg.randn(1, 2, 2, 2), padding=-1), r"padding must be at least 0"),
        (lambda x: F.max_pool2d(x[0, 0], 2), r"\(N, C, H, W\) or \(C, H, W\), got \(4, 4\)"),
        (lambda x: nn.Conv2d(2, 1, 2, stride=0), "stride must be at least 1"),
        (lambda x: F.conv2d(x, xg.randn(3, 2, 2, 2), xg.randn(2)), r"bias has shape \(2,\), expected \(3,\)"),
        (lambda x: F.conv2d(x, xg.randn(3, 2, 2, 2), xg.randn(1, 3)), r"bias has shape \(1, 3\)"),
        (lambda x: F.conv2d(x, xg.randn(3, 2, 2, 2), activation="softmax"),
         "conv2d: activation must be one of identity, relu, sigmoid, tanh; got 'softmax'"),
        (lambda x: F.linear(x.reshape(8, 4), xg.randn(4, 2), activation=None),
         "linear: activation must be one of identity, relu, sigmoid, tanh; got None"),
    ],
)
def test_pooling_and_convolution_geometry_errors(backend, call, message):
    with pytest.raises(ValueError, match=message):
        call(xg.randn(1, 2, 4, 4))


@pytest.mark.parametrize(
    "call",
    [
        lambda a: nn.Linear(3, 2)(a),
        lambda a: nn.Conv2d(1, 1, 1)(a.reshape(1, 1, 2, 3)),
        lambda a: nn.MaxPool2d(1)(a.reshape(1, 1, 2, 3)),
        lambda a: nn.Dropout(0.5)(a),
        lambda a: nn.PReLU()(a),
        lambda a: nn.Maxout(3, 1, pieces=3)(a),
        lambda a: nn.Softmax()(a),
        lambda a: nn.ReLU()(a),
        lambda a: F.sparsemax(a.tolist()),
        lambda a: xg.exp(a),
        lambda a: xg.maximum(a, a),
        lambda a: xg.matmul(a, a.T),
        lambda a: xg.argmax(a),
        lambda a: xg.zeros_like(a),
    ],
)
def test_layers_and_functions_of_arrays_are_a_type_error_as_pytorch(call):
    with pytest.raises(TypeError, match="xpgrad Tensor"):
        call(np.ones((2, 3), np.float32))


def test_batchnorm_of_an_array_is_a_type_error_that_leaves_the_statistics(backend):
    """The running mean was scaled by 1 − momentum before the array failed (its .data is a
    memoryview): the statistics were corrupted by a call that raised."""
    bn = nn.BatchNorm1d(3)
    bn(xg.tensor(np.random.default_rng(0).normal(5, 1, (8, 3))))
    before = bn.state_dict()
    before = {k: v.numpy().copy() for k, v in before.items()}
    with pytest.raises(TypeError, match="batch_norm: input must be an xpgrad Tensor, got ndarray"):
        bn(np.ones((4, 3)))
    for key, value in bn.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key])


@pytest.mark.parametrize("shape", [(0, 2, 4, 4), (2, 0, 4, 4), (0, 0, 4, 4)])
def test_max_pool2d_double_backward_of_zero_images_or_channels(backend, shape):
    """The adjoint of the gradient reshaped argmax with −1, ambiguous for N·C = 0; PyTorch gives
    an empty second derivative of x's shape (it refuses C = 0, which max_pool2d takes)."""
    x = xg.zeros(*shape, dtype="float64", requires_grad=True)
    y = F.max_pool2d(x, 2)
    (g,) = xg.grad((y * y).sum(), [x], create_graph=True)
    (gg,) = xg.grad(g.sum(), [x])
    assert g.shape == gg.shape == shape
    if shape[1] == 0:
        return
    torch = pytest.importorskip("torch")
    tx = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    ty = torch.nn.functional.max_pool2d(tx, 2)
    (tg,) = torch.autograd.grad((ty * ty).sum(), [tx], create_graph=True)
    (tgg,) = torch.autograd.grad(tg.sum(), [tx], allow_unused=True, materialize_grads=True)
    assert tuple(tgg.shape) == gg.shape


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 2, 2), (2, 3, 0)])
def test_batch_norm_training_on_no_values_per_channel_is_empty(backend, shape):
    """As PyTorch 2.13: an empty result, zero γ and β gradients, the running statistics kept;
    only exactly one value per channel raises (0 raised too)."""
    torch = pytest.importorskip("torch")
    x = xg.zeros(*shape, dtype="float64", requires_grad=True)
    weight, bias = (xg.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True) for _ in range(2))
    running_mean, running_var = xg.zeros(3, dtype="float64"), xg.ones(3, dtype="float64")
    with np.errstate(all="raise"):
        y = F.batch_norm(x, running_mean, running_var, weight, bias, training=True)
        y.sum().backward()
    tx = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    tw, tb = (torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True) for _ in range(2))
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    ty = torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, training=True)
    ty.sum().backward()
    assert y.shape == tuple(ty.shape) and x.grad.shape == shape
    np.testing.assert_array_equal(weight.grad.numpy(), tw.grad.numpy())
    np.testing.assert_array_equal(bias.grad.numpy(), tb.grad.numpy())
    np.testing.assert_array_equal(running_mean.numpy(), trm.numpy())
    np.testing.assert_array_equal(running_var.numpy(), trv.numpy())
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(xg.zeros(1, 3, 1), running_mean, running_var, training=True)


def test_layer_sizes_and_slopes_are_checked_where_they_are_given(backend):
    """Maxout(pieces=0) failed only at forward, Linear(-1, 2) with NumPy's words, and a slope
    that is no number with a NumPy or pybind11 dump naming no argument."""
    with pytest.raises(ValueError, match="Maxout: pieces must be a positive integer, got 0"):
        nn.Maxout(3, 2, 0)
    with pytest.raises(ValueError, match="Linear: in_features must be an int >= 0, got -1"):
        nn.Linear(-1, 2)
    x = xg.randn(3)
    with pytest.raises(TypeError, match="leaky_relu: negative_slope must be a real number, got 'a'"):
        F.leaky_relu(x, "a")
    with pytest.raises(TypeError, match="elu: alpha must be a real number, got None"):
        F.elu(x, None)


def test_counts_and_probabilities_are_checked_by_name(backend):
    """BatchNorm1d(-1) and PReLU(-1) gave NumPy's "negative dimensions"; Dropout('0.5') and
    label_smoothing=None a bare comparison TypeError."""
    with pytest.raises(ValueError, match="BatchNorm1d: num_features must be an int >= 0, got -1"):
        nn.BatchNorm1d(-1)
    with pytest.raises(ValueError, match="PReLU: num_parameters must be a positive integer, got -1"):
        nn.PReLU(-1)
    with pytest.raises(ValueError, match=r"dropout probability must be a number in \[0, 1\], got '0.5'"):
        nn.Dropout("0.5")
    with pytest.raises(ValueError, match=r"label_smoothing must be a number in \[0, 1\], got None"):
        nn.CrossEntropyLoss(label_smoothing=None)(xg.randn(2, 3), xg.tensor([0, 1]))
