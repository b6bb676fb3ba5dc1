"""In-place writes that backward must see, as PyTorch's version counters do: writes to an op's
saved output, and writes through views (slices, reshapes, transposes, detach()) of the memory
an op used. Each scenario states PyTorch's behaviour; with torch installed a test checks it."""

import gc
import weakref

import numpy as np
import pytest

import xpgrad as xg
import xpgrad.nn as nn
import xpgrad.nn.functional as F

RAISES = "raises"


# ---- scenarios written once for both libraries (``lib`` is xpgrad or torch) -----------------
def exp_output_written(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # backward: ∂L/∂x = g·y, read from the saved output
    with lib.no_grad():
        y[0] = 5.0
    y.sum().backward()
    return x.grad


def sigmoid_output_written_through_a_slice(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.sigmoid()
    with lib.no_grad():
        y[1:][0] = 0.5
    y.sum().backward()
    return x.grad


def tanh_output_written_through_detach(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x.tanh()
    y.detach()[0] = 0.0
    y.sum().backward()
    return x.grad


def add_output_written(lib):
    """Add's backward reads nothing: y[0] = 5 is simply a new value of y."""
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x + 1.0
    with lib.no_grad():
        y[0] = 5.0
    (y * y).sum().backward()  # 2y = [10, 6]
    return x.grad


def mul_output_written_after_use(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([3.0, 4.0])
    y = x * w  # Mul's backward reads its inputs, not y
    loss = y.sum()
    with lib.no_grad():
        y[0] = 7.0
    loss.backward()
    return x.grad


def input_written_through_a_slice(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = lib.tensor([3.0, 4.0, 5.0])
    loss = (x * w).sum()
    w[1:][0] = 100.0
    loss.backward()
    return x.grad


def base_written_after_its_view_was_used(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([3.0, 4.0, 5.0])
    loss = (x * w[0:2]).sum()
    w[2] = 0.0  # outside the slice, but one version counter covers the whole memory
    loss.backward()
    return x.grad


def sibling_view_written(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([1.0, 1.0, 1.0, 1.0])
    loss = (x * w[2:4]).sum()
    w[0:2][0] = 5.0
    loss.backward()
    return x.grad


def view_of_unrelated_tensor_written(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([3.0, 4.0])
    other = lib.ones((2, 3))
    loss = (x * w).sum()
    other[0:1][0, 0] = 7.0
    other.T[1, 1] = 7.0
    other.reshape(6)[5] = 7.0
    other.detach()[0, 2] = 7.0
    loss.backward()
    return x.grad  # w = [3, 4]


def input_written_through_detach(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([3.0, 4.0])
    loss = (x * w).sum()
    w.detach().detach()[0] = 9.0
    loss.backward()
    return x.grad


def input_written_through_a_transpose(lib):
    x = lib.ones((2, 3), requires_grad=True)
    w = lib.ones((2, 3))
    loss = (x * w).sum()
    w.T[0, 1] = 7.0
    loss.backward()
    return x.grad


def base_written_after_its_reshape_was_used(lib):
    x = lib.ones(6, requires_grad=True)
    w = lib.ones((2, 3))
    loss = (x * w.reshape(6)).sum()
    w[1, 1] = 7.0
    loss.backward()
    return x.grad


def base_written_after_a_reshaped_copy_was_used(lib):
    """w.T is not contiguous, so reshape copies (in NumPy and PyTorch): no shared memory."""
    x = lib.ones(6, requires_grad=True)
    w = lib.ones((2, 3))
    loss = (x * w.T.reshape(6)).sum()
    w[1, 1] = 7.0
    loss.backward()
    return x.grad


def parameter_written_by_a_no_grad_update(lib):
    """The optimizer pattern: the update runs under no_grad after the forward."""
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with lib.no_grad():
        w[0] = 0.0
    loss.backward()
    return w.grad


def parameter_row_used_then_parameter_written(lib):
    w = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    row = w[0]
    loss = (row * row).sum()
    with lib.no_grad():
        w[1, 1] = 0.0
    loss.backward()
    return w.grad


def written_through_a_view_before_the_op(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([3.0, 4.0, 5.0])
    v = w[0:2]
    v[0] = 10.0
    w.detach()[1] = 20.0
    (x * v).sum().backward()
    return x.grad  # the new values: [10, 20]


def saved_output_written_between_retained_backwards(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    loss = y.sum()
    loss.backward(retain_graph=True)
    with lib.no_grad():
        y[0] = 0.0
    loss.backward()
    return x.grad


SCENARIOS = {
    exp_output_written: RAISES,
    sigmoid_output_written_through_a_slice: RAISES,
    tanh_output_written_through_detach: RAISES,
    add_output_written: [10.0, 6.0],
    mul_output_written_after_use: [3.0, 4.0],
    input_written_through_a_slice: RAISES,
    base_written_after_its_view_was_used: RAISES,
    sibling_view_written: RAISES,
    view_of_unrelated_tensor_written: [3.0, 4.0],
    input_written_through_detach: RAISES,
    input_written_through_a_transpose: RAISES,
    base_written_after_its_reshape_was_used: RAISES,
    base_written_after_a_reshaped_copy_was_used: [1.0] * 6,
    parameter_written_by_a_no_grad_update: RAISES,
    parameter_row_used_then_parameter_written: RAISES,
    written_through_a_view_before_the_op: [10.0, 20.0],
    saved_output_written_between_retained_backwards: RAISES,
}


def check(expected, run):
    """``run()``'s gradient is ``expected``, or it raises PyTorch's error when that is RAISES."""
    if expected == RAISES:
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            run()
    else:
        np.testing.assert_allclose(np.array(run().tolist()), np.array(expected), atol=1e-4)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_inplace_writes_as_pytorch(backend, scenario):
    check(SCENARIOS[scenario], lambda: scenario(xg))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_the_expectations_are_pytorchs(scenario):
    torch = pytest.importorskip("torch")
    check(SCENARIOS[scenario], lambda: scenario(torch))


# ---- tensors an op reads but does not differentiate (a loss target, where's condition, an
# index), and inputs read only for another input's gradient. Each scenario returns
# (leaf, forward, written, index, value): ``written[index] = value`` happens before the op, between
# the op and backward, or after backward (of ``forward().sum()``), and leaf.grad is compared.
def bce_target(lib):
    p = lib.tensor([0.3, 0.6], requires_grad=True)
    t = lib.tensor([0.0, 1.0])
    return p, lambda: lib.nn.functional.binary_cross_entropy(p, t), t, 0, 1.0


def bce_with_logits_target(lib):
    x = lib.tensor([0.5, -1.0], requires_grad=True)
    t = lib.tensor([0.0, 1.0])
    return x, lambda: lib.nn.functional.binary_cross_entropy_with_logits(x, t), t, 0, 1.0


def cross_entropy_class_indices(lib):
    z = lib.tensor([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]], requires_grad=True)
    t = lib.tensor([0, 1])
    return z, lambda: lib.nn.functional.cross_entropy(z, t), t, 0, 2


def cross_entropy_probabilities(lib):
    z = lib.tensor([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]], requires_grad=True)
    t = lib.tensor([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]])
    return z, lambda: lib.nn.functional.cross_entropy(z, t), t, (0, 0), 0.0


def cross_entropy_logits(lib):
    """The logits themselves: the gradient (softmax − target) is formed in forward, as PyTorch
    keeps log_softmax's result, so a write after the op changes nothing."""
    z = lib.tensor([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]], requires_grad=True)
    t = lib.tensor([0, 1])
    return z, lambda: lib.nn.functional.cross_entropy(z, t), z, (0, 0), 3.0


def nll_loss_target(lib):
    z = lib.tensor([[-1.0, -2.0, -3.0], [-1.0, -0.5, -0.2]], requires_grad=True)
    t = lib.tensor([0, 1])
    return z, lambda: lib.nn.functional.nll_loss(z, t, reduction="sum"), t, 0, 2


def l1_loss_target(lib):
    """l1 is |p − t| as two ops there and here: the subtraction keeps nothing."""
    p = lib.tensor([0.3, 0.6], requires_grad=True)
    t = lib.tensor([0.0, 1.0])
    return p, lambda: lib.nn.functional.l1_loss(p, t), t, 0, 1.0


def where_condition(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    c = lib.tensor([True, False])
    return a, lambda: lib.where(c, a, lib.zeros(2)), c, 1, True


def index_tensor(lib):
    a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    i = lib.tensor([0, 1])
    return a, lambda: a[i], i, 1, 2


def second_of_two_index_tensors(lib):
    a = lib.ones((2, 3), requires_grad=True)
    i, j = lib.tensor([0, 1]), lib.tensor([2, 0])
    return a, lambda: a[i, j], j, 0, 1


def indexed_tensor(lib):
    """Indexing keeps the indices, not the tensor indexed."""
    a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    i = lib.tensor([0, 2])
    return a, lambda: a[i], a, 0, 7.0


def mul_factor_that_wants_a_gradient(lib):
    """∂(w·x)/∂w = x: w's own values are needed only for a gradient of x, which wants none."""
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    x = lib.tensor([3.0, 4.0])
    return w, lambda: w * x, w, 0, 0.0


def div_numerator_that_wants_a_gradient(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    x = lib.tensor([3.0, 4.0])
    return w, lambda: w / x, w, 0, 0.0


def div_denominator_that_wants_a_gradient(lib):
    """∂(x/w)/∂w = −x/w² reads w."""
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    x = lib.tensor([3.0, 4.0])
    return w, lambda: x / w, w, 0, 5.0


def matmul_weight_that_wants_a_gradient(lib):
    w = lib.ones((2, 2), requires_grad=True)
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    return w, lambda: x @ w, w, (0, 0), 5.0


def sigmoid_input(lib):
    """σ' = σ(1 − σ) is read from the saved output: the input's later values do not matter."""
    x = lib.tensor([0.5, -1.0], requires_grad=True)
    return x, lambda: x.sigmoid(), x, 0, 2.0


def tanh_input(lib):
    x = lib.tensor([0.5, -1.0], requires_grad=True)
    return x, lambda: x.tanh(), x, 0, 2.0


def relu_input(lib):
    x = lib.tensor([0.5, -1.0], requires_grad=True)
    return x, lambda: x.relu(), x, 0, -2.0


def exp_input(lib):
    x = lib.tensor([0.5, -1.0], requires_grad=True)
    return x, lambda: x.exp(), x, 0, 2.0


def log_softmax_input(lib):
    x = lib.tensor([0.5, -1.0], requires_grad=True)
    return x, lambda: lib.nn.functional.log_softmax(x, -1), x, 0, 2.0


WHEN = ("before_the_op", "before_backward", "after_backward")

# PyTorch's outcome for each time of the write, in the order of WHEN.
WRITTEN_READ_SCENARIOS = {
    bce_target: ([-1.6667, -0.8333], RAISES, [0.7143, -0.8333]),
    bce_with_logits_target: ([-0.1888, -0.3655], RAISES, [0.3112, -0.3655]),
    cross_entropy_class_indices: (
        [[0.045, 0.1224, -0.1674], [0.2881, -0.394, 0.106]], RAISES,
        [[-0.455, 0.1224, 0.3326], [0.2881, -0.394, 0.106]],
    ),
    cross_entropy_probabilities: (
        [[0.0225, -0.1888, 0.1663], [0.2881, -0.394, 0.106]], RAISES,
        [[-0.205, -0.1276, 0.3326], [0.2881, -0.394, 0.106]],
    ),
    cross_entropy_logits: (
        [[-0.2888, 0.0777, 0.2112], [0.2881, -0.394, 0.106]],
        [[-0.455, 0.1224, 0.3326], [0.2881, -0.394, 0.106]],
        [[-0.455, 0.1224, 0.3326], [0.2881, -0.394, 0.106]],
    ),
    nll_loss_target: ([[0, 0, -1], [0, -1, 0]], RAISES, [[-1, 0, 0], [0, -1, 0]]),
    l1_loss_target: ([-0.5, -0.5], [0.5, -0.5], [0.5, -0.5]),
    where_condition: ([1.0, 1.0], RAISES, [1.0, 0.0]),
    index_tensor: ([1.0, 0.0, 1.0], RAISES, [1.0, 1.0, 0.0]),
    second_of_two_index_tensors: ([[0, 1, 0], [1, 0, 0]], RAISES, [[0, 0, 1], [1, 0, 0]]),
    indexed_tensor: ([1.0, 0.0, 1.0],) * 3,
    mul_factor_that_wants_a_gradient: ([3.0, 4.0],) * 3,
    div_numerator_that_wants_a_gradient: ([1 / 3, 1 / 4],) * 3,
    div_denominator_that_wants_a_gradient: ([-0.12, -1.0], RAISES, [-3.0, -1.0]),
    matmul_weight_that_wants_a_gradient: ([[9.0, 9.0], [12.0, 12.0]],) * 3,
    sigmoid_input: ([0.104994, 0.196612], [0.235004, 0.196612], [0.235004, 0.196612]),
    tanh_input: ([0.070651, 0.419974], [0.786448, 0.419974], [0.786448, 0.419974]),
    relu_input: ([0.0, 0.0], [1.0, 0.0], [1.0, 0.0]),
    exp_input: ([7.389056, 0.367879], [1.648721, 0.367879], [1.648721, 0.367879]),
    log_softmax_input: ([-0.905148, 0.905148], [-0.635148, 0.635148], [-0.635148, 0.635148]),
}
WRITTEN_READ_CASES = [(s, i) for s in WRITTEN_READ_SCENARIOS for i in range(len(WHEN))]


def _case_id(case):
    return f"{case[0].__name__}-{WHEN[case[1]]}" if isinstance(case, tuple) else None


def run_writing(scenario, lib, when):
    """leaf.grad of ``scenario`` with its write done at ``WHEN[when]``."""
    leaf, forward, written, index, value = scenario(lib)

    def write():
        with lib.no_grad():
            written[index] = value

    if when == 0:
        write()
    loss = forward().sum()
    if when == 1:
        write()
    loss.backward()
    if when == 2:
        write()
    return leaf.grad


@pytest.mark.parametrize("case", WRITTEN_READ_CASES, ids=_case_id)
def test_writes_to_what_backward_reads_as_pytorch(backend, case):
    scenario, when = case
    check(WRITTEN_READ_SCENARIOS[scenario][when], lambda: run_writing(scenario, xg, when))


@pytest.mark.parametrize("case", WRITTEN_READ_CASES, ids=_case_id)
def test_those_expectations_are_pytorchs(case):
    torch = pytest.importorskip("torch")
    scenario, when = case
    check(WRITTEN_READ_SCENARIOS[scenario][when], lambda: run_writing(scenario, torch, when))


# ---- xpgrad only ---------------------------------------------------------------------------
# Ops whose backward reads their output: writing it raises. (PyTorch raises for each of these
# too, max over an axis as torch.amax does.)
OUTPUT_READERS = {
    "sqrt": lambda x: x.sqrt(),
    "relu": lambda x: x.relu(),
    "softmax": lambda x: F.softmax(x),
    "log_softmax": lambda x: F.log_softmax(x),
    "sparsemax": lambda x: F.sparsemax(x),
    "max": lambda x: x.max(),
    "max_axis": lambda x: x.max(axis=1),
    "linear_relu": lambda x: F.relu(F.linear(x, xg.ones((2, 3)))),
}

# Ops that keep no output: a write to it is a new value, the gradient is that of the new graph.
OUTPUT_IGNORERS = {
    "linear": lambda x: F.linear(x, xg.ones((2, 3))),
    "leaky_relu": lambda x: F.leaky_relu(x),
    "elu": lambda x: F.elu(x),  # its backward reads the input, as PyTorch's
    "sum_axis": lambda x: x.sum(axis=1),
    "getitem_copy": lambda x: x[[1, 0]],
}


def _output_written(op):
    x = xg.tensor([[1.0, 4.0], [0.5, 2.0]], requires_grad=True)
    y = op(x)
    with xg.no_grad():
        y[(0,) * y.ndim] = 0.25
    y.sum().backward()
    return x


@pytest.mark.parametrize("name", OUTPUT_READERS)
def test_writing_an_output_that_backward_reads_raises(backend, name):
    with pytest.raises(RuntimeError, match="the output of .* was written"):
        _output_written(OUTPUT_READERS[name])


@pytest.mark.parametrize("name", OUTPUT_IGNORERS)
def test_writing_an_output_that_backward_ignores_is_fine(backend, name):
    op = OUTPUT_IGNORERS[name]
    x = _output_written(op)
    fresh = xg.tensor(x.numpy(), requires_grad=True)
    op(fresh).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), fresh.grad.numpy())


def test_optimizer_step_through_a_view_raises(backend):
    w = nn.Parameter(xg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    opt = xg.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    loss = (w[0] * w[0]).sum()  # recorded before the step
    opt.step()
    with pytest.raises(RuntimeError, match="input 0 of Mul"):
        loss.backward()


def test_a_tensor_wrapping_another_shares_its_counter(backend):
    w = xg.ones(2)
    p = nn.Parameter(w)  # same memory (Tensor(w) without a copy)
    x = xg.ones(2, requires_grad=True)
    loss = (x * p).sum()
    w[0] = 3.0
    with pytest.raises(RuntimeError, match="input 1 of Mul"):
        loss.backward()
    copied = xg.tensor(w)  # xg.tensor copies: a write to w is no longer one to it
    loss = (x * copied).sum()
    w[0] = 4.0
    loss.backward()


def test_to_a_backend_on_the_same_memory_shares_the_counter(backend):
    """numpy and cpu both hold NumPy arrays: .to() between them moves no data."""
    if backend not in ("numpy", "cpu"):
        pytest.skip("only numpy and cpu share host memory")
    other = "cpu" if backend == "numpy" else "numpy"
    if other not in xg.available_backends():
        pytest.skip(f"backend {other!r} unavailable")
    x = xg.tensor([1.0, 2.0], requires_grad=True, backend=other)
    w = xg.tensor([3.0, 4.0])
    loss = (x * w.to(other)).sum()
    w[0] = 9.0
    with pytest.raises(RuntimeError, match="input 1 of Mul"):
        loss.backward()


def test_writes_to_data_are_not_seen(backend):
    """As PyTorch's ``.data``: the raw array bypasses the version counter."""
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    w = xg.tensor([3.0, 4.0])
    loss = (x * w).sum()
    w.data[0] = 9.0
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [9.0, 4.0])


def test_counters_keep_no_tensor_alive(backend):
    """A node keeps its output's counter, not the output (no cycle output → node → output), and
    a detached view keeps the counter, not the graph: both are freed by reference counting."""
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    gc.disable()
    try:
        y = x.exp()
        detached = y.detach()
        detached[0] = 1.0  # gives the counter to y's node
        assert y._node.output_version is detached._version
        node, output = weakref.ref(y._node), weakref.ref(y)
        del y
        assert output() is None and node() is None
        assert detached[0].item() == 1.0
    finally:
        gc.enable()


@pytest.mark.parametrize("target", [[2, 0], [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]])
def test_writing_a_sparsemax_loss_target_raises(backend, target):
    z = xg.tensor([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]], requires_grad=True)
    t = xg.tensor(target)
    loss = F.sparsemax_loss(z, t)
    t[0] = 1 if t.ndim == 1 else 0.0
    with pytest.raises(RuntimeError, match="input 1 of SparsemaxLoss"):
        loss.backward()


def test_linear_reads_the_input_whose_gradient_needs_it(backend):
    """As matmul: ∂L/∂W reads x, ∂L/∂x reads W, and the fused activation's derivative the saved
    output; a create_graph backward recomputes act'(x·W + b) from every input."""
    x, w, b = xg.ones((3, 2)), xg.ones((2, 2), requires_grad=True), xg.zeros(2, requires_grad=True)
    for activation in ("identity", "relu"):
        loss = F.linear(x, w, b, activation).sum()
        with xg.no_grad():
            w[0, 0] = 2.0
            b[0] = 1.0
        w.grad = None
        loss.backward()
        np.testing.assert_array_equal(w.grad.numpy(), np.full((2, 2), 3.0))
    loss = F.linear(x, w, b, "relu").sum()
    with xg.no_grad():
        w[0, 0] = 3.0
    with pytest.raises(RuntimeError, match="input 1 of Linear"):
        xg.grad(loss, [w], create_graph=True)
    x.requires_grad_()
    loss = F.linear(x, w, b).sum()
    with xg.no_grad():
        w[0, 0] = 4.0
    with pytest.raises(RuntimeError, match="input 1 of Linear"):
        loss.backward()


# PyTorch raises for these (its fused ops keep the tensor written); here the ops that keep
# anything keep a result computed from it, so the gradient is that of the forward's values.
CONSTANTS_NOT_READ = {
    "mse_target": lambda x, c: F.mse_loss(x[0], c),
    "batch_norm_running_var": lambda x, c: F.batch_norm(x, xg.zeros(2), c) ** 2,
}


@pytest.mark.parametrize("name", CONSTANTS_NOT_READ)
def test_writing_a_constant_backward_does_not_read_is_fine(backend, name):
    op = CONSTANTS_NOT_READ[name]
    x = xg.tensor([[1.0, 4.0], [0.5, 2.0]], requires_grad=True)
    c = xg.ones(2)
    loss = op(x, c).sum()
    c[0] = 4.0
    loss.backward()
    fresh = xg.tensor(x.numpy(), requires_grad=True)
    op(fresh, xg.ones(2)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), fresh.grad.numpy())


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "exp", "sqrt", "softmax", "log_softmax"])
def test_a_create_graph_backward_reads_the_input_of_an_output_reader(backend, name):
    """A first-order backward of these reads only the saved output (the input may be written
    after the op, as in PyTorch); a create_graph backward rebuilds the derivative from the input,
    so there a write to it raises rather than differentiate the new values."""
    op = {"sigmoid": lambda x: x.sigmoid(), "tanh": lambda x: x.tanh(), "relu": lambda x: x.relu(),
          "exp": lambda x: x.exp(), "sqrt": lambda x: x.sqrt(), "softmax": lambda x: F.softmax(x),
          "log_softmax": lambda x: F.log_softmax(x)}[name]
    x = xg.tensor([[0.5, 2.0], [1.5, 0.25]], requires_grad=True)
    loss = (op(x) * xg.tensor([[1.0, 2.0], [3.0, 4.0]])).sum()
    with xg.no_grad():
        x[0, 0] = 0.75
    with pytest.raises(RuntimeError, match="input 0 of"):
        xg.grad(loss, x, create_graph=True)
