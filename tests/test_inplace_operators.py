"""x += y, -=, *=, /=, **=: in place outside the graph (NumPy's and PyTorch's semantics: the
memory is written, so aliases and views see it), out of place on a tensor in the graph, an
error on a leaf that requires grad (as PyTorch)."""

import operator

import numpy as np
import pytest

import xpgrad as xg
from xpgrad import nn

IN_PLACE = {
    "+=": (operator.iadd, np.add),
    "-=": (operator.isub, np.subtract),
    "*=": (operator.imul, np.multiply),
    "/=": (operator.itruediv, np.divide),
    "**=": (operator.ipow, np.power),
}


@pytest.mark.parametrize("symbol", IN_PLACE)
def test_writes_the_memory_that_aliases_and_views_see(backend, symbol):
    update, reference = IN_PLACE[symbol]
    x0 = np.array([[1.5, 2.0, 3.0], [0.5, 4.0, 2.5]], np.float32)
    y0 = np.array([2.0, 0.5, 3.0], np.float32)  # broadcast over x's rows
    x = xg.tensor(x0)
    alias, row = x, x[1]
    result = update(x, xg.tensor(y0))
    expected = reference(x0, y0)
    assert result is alias
    np.testing.assert_allclose(alias.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(row.numpy(), expected[1], rtol=1e-6)
    assert x.dtype == np.float32


def test_a_view_written_in_place_writes_its_base(backend):
    x = xg.zeros(2, 3)
    row = x[0]
    row += 5.0
    np.testing.assert_array_equal(x.numpy(), [[5, 5, 5], [0, 0, 0]])


def test_parameter_update_under_no_grad_keeps_the_parameter(backend):
    model = nn.Linear(3, 2)
    model(xg.ones(4, 3)).sum().backward()
    weight, before = model.weight, model.weight.numpy().copy()
    expected = before - 0.1 * weight.grad.numpy()
    with xg.no_grad():
        model.weight -= 0.1 * model.weight.grad
    assert model.weight is weight and weight.is_leaf and weight.requires_grad
    np.testing.assert_allclose(weight.numpy(), expected, rtol=1e-6)


def test_leaf_that_requires_grad_raises_and_is_left_as_it_was(backend):
    w = xg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w -= 1.0
    np.testing.assert_array_equal(w.numpy(), [1, 1, 1])
    assert w.is_leaf


def test_tensor_in_the_graph_is_updated_out_of_place_with_correct_gradients(backend):
    x = xg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    before = y
    y *= x  # y = x³
    y += 2.0 * x  # y = x³ + 2x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.array([1.0, 4.0, 9.0]) + 2, rtol=1e-6)
    np.testing.assert_allclose(before.numpy(), [1, 4, 9])  # the old tensor keeps its values


def test_operand_that_requires_grad_puts_the_target_in_the_graph(backend):
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    total = xg.zeros(())
    for scale in (1.0, 2.0, 3.0):
        total += (scale * x * x).sum()  # Σ 6x²
    assert total.requires_grad
    total.backward()
    np.testing.assert_allclose(x.grad.numpy(), [12.0, 24.0])


def test_writing_a_saved_input_makes_backward_raise(backend):
    w = xg.ones(3, requires_grad=True)
    scale = xg.full((3,), 2.0)
    loss = (w * scale).sum()
    scale *= 3.0  # Mul's backward reads scale for ∂loss/∂w
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_errors_name_the_shapes_and_dtypes(backend):
    counts = xg.arange(3)
    with pytest.raises(TypeError, match=r"dtype int64.*dtype float64"):
        counts += 1.5
    x = xg.ones(3)
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2, 3\)"):
        x += xg.ones(2, 3)
    np.testing.assert_array_equal(x.numpy(), [1, 1, 1])


def test_operands_on_two_backends_raise():
    x = xg.ones(2, backend="numpy")
    with pytest.raises(xg.BackendMismatchError, match="different backends"):
        x += xg.ones(2, backend="cpu")


def test_in_place_operators_in_the_graph_keep_shape_and_dtype(backend):
    """x op= y on a tensor in the graph follows the in-place rules as without grad (NumPy's
    out=, PyTorch): the result may not broadcast x to a new shape, and is cast to x's dtype
    where that is a same-kind cast (it used to become (2, 3), or float64)."""
    w = xg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = w * 1
    with pytest.raises(ValueError, match=r"the result's shape \(2, 3\) is not x's"):
        h += xg.ones(2, 3)
    counts = xg.tensor([1, 2, 3])
    with pytest.raises(TypeError, match="the result's dtype float64 cannot be cast to x's"):
        counts += w
    h += xg.tensor([1.0, 2.0, 3.0], dtype="float64")
    assert h.dtype == np.float32
    h.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0, 1.0]
