"""t[index] = value in the graph (PyTorch's index_put_): recorded as SetItem, written in place.

∂L/∂t_before = ∂L/∂t_after with zeros at index; ∂L/∂value = ∂L/∂t_after[index] summed to value's
shape. Checked in closed form, by finite differences (xg.gradcheck, float64), through double
backward, and for the cases the graph cannot follow, which raise instead of giving wrong numbers.
"""

import numpy as np
import pytest

import xpgrad as xg


def test_a_buffer_filled_with_values_that_require_grad(backend):
    """out = zeros(3); out[i] = w·i: the pattern that raised before ("would drop its gradient")."""
    w = xg.tensor([2.0, -1.0], requires_grad=True)
    out = xg.zeros(3)
    out[0:2] = w * 3.0
    out[2] = w[0] * w[1]
    assert out.requires_grad and out.tolist() == [6.0, -3.0, -2.0]
    (out * xg.tensor([1.0, 10.0, 100.0])).sum().backward()
    # ∂/∂w₀ = 3 + 100·w₁, ∂/∂w₁ = 30 + 100·w₀
    np.testing.assert_allclose(w.grad.numpy(), [3 - 100, 30 + 200])


def test_overwritten_elements_pass_no_gradient_to_the_tensor_before(backend):
    x = xg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2.0
    y[1] = 0.0
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 0.0, 24.0])  # ∂(2x)²/∂x = 8x, none at 1


def test_the_write_is_in_place(backend):
    """The memory is written, as in NumPy: another reference to the tensor sees the new values."""
    x = xg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    memory, same = y.data, y
    y[1] = xg.tensor(7.0, requires_grad=True)
    assert same.tolist() == [1.0, 7.0, 3.0] and y.data is memory


INDICES = [
    (1, (1,)),
    (slice(1, 3), (3,)),  # broadcast over the two rows
    ((0, slice(None)), (3,)),
    ((slice(None), 2), (1,)),  # broadcast along the rows
    (np.array([[True, False, True], [False, True, False], [False, False, True]]), ()),  # a mask, one scalar
    ([2, 0, 2], (3,)),  # repeated rows of one broadcast value: row 2 counts once
    ([2, 0, 2], (3, 3)),  # repeated rows: the last write stays, the first gets no gradient
    ((np.array([1, 0]), np.array([2, 2])), (2,)),
    ((Ellipsis, None, 1), (1, 1)),
    (0, (1, 1, 3)),  # extra leading 1s, which NumPy strips
    (np.array([True, False, True]), (1, 1, 3)),  # the same with a mask (NumPy itself refuses)
]


@pytest.mark.parametrize("index, value_shape", INDICES)
def test_gradients_match_finite_differences(backend, index, value_shape):
    rng = np.random.default_rng(0)
    x = xg.tensor(rng.standard_normal((3, 3)), dtype="float64", requires_grad=True)
    v = xg.tensor(rng.standard_normal(value_shape), dtype="float64", requires_grad=True)

    def f(x, v):
        y = x * 1.5
        y[index] = v * v
        return (y * y * y).sum()

    assert xg.gradcheck(f, [x, v])


def test_a_tensor_index_is_an_input(backend):
    x = xg.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    v = xg.tensor([5.0, 6.0], dtype="float64", requires_grad=True)
    where = xg.tensor([2, 0])

    def f(x, v):
        y = x.exp()
        y = y * 1.0
        y[where] = v
        return (y * xg.tensor([1.0, 2.0, 3.0], dtype="float64")).sum()

    assert xg.gradcheck(f, [x, v])
    loss = f(x, v)
    where[0] = 1  # the index backward reads was written
    with pytest.raises(RuntimeError, match="was written|modified"):
        loss.backward()


def test_double_backward(backend):
    """∂/∂v of ∂L/∂v, with L = Σ y³ and y[1] = v²: ∂L/∂v = 3v⁴·2v = 6v⁵, its derivative 30v⁴."""
    x = xg.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    v = xg.tensor(1.5, dtype="float64", requires_grad=True)
    y = x * 1.0
    y[1] = v * v
    (gv,) = xg.grad((y ** 3).sum(), [v], create_graph=True)
    np.testing.assert_allclose(gv.item(), 6 * 1.5 ** 5)
    gv.backward()
    np.testing.assert_allclose(v.grad.item(), 30 * 1.5 ** 4)


def test_retain_grad_follows_the_new_values(backend):
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    y.retain_grad()
    y[0] = 5.0
    (y * 3.0).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [3.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 6.0])


def test_a_value_of_another_dtype_gets_its_gradient_in_its_dtype(backend):
    v = xg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    out = xg.zeros(3)
    out[1:] = v
    assert out.dtype == np.float32
    (out * 2.0).sum().backward()
    assert v.grad.dtype == np.float64 and v.grad.tolist() == [2.0, 2.0]


def test_writing_the_output_an_op_reads_raises_at_backward(backend):
    """exp's backward reads its output: overwriting it makes that backward raise, as in PyTorch."""
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y[0] = 0.0
    with pytest.raises(RuntimeError, match="output of Exp, which its backward reads, was written"):
        y.sum().backward()


def test_what_the_graph_cannot_follow_raises(backend):
    leaf = xg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf that requires grad"):
        leaf[0] = 1.0
    y = leaf * 2.0
    view = y[0:1]
    with pytest.raises(RuntimeError, match="t shares its memory with another tensor"):
        view[0] = 5.0
    z = leaf * 3.0
    used = z + 1.0
    with pytest.raises(RuntimeError, match="an op of the graph has used t already"):
        z[0] = 0.0
    ints = xg.zeros(2, dtype="int32")
    with pytest.raises(RuntimeError, match="non-floating tensor; assign value.detach()"):
        ints[0] = leaf[0]
    assert leaf.tolist() == [1.0, 2.0] and y.tolist() == [2.0, 4.0]
    assert z.tolist() == [3.0, 6.0] and used.tolist() == [4.0, 7.0] and ints.tolist() == [0, 0]
    ints[0] = leaf[0].detach()
    with xg.no_grad():
        leaf[1] = 5.0
    assert ints.tolist() == [1, 0] and leaf.tolist() == [1.0, 5.0]


def test_a_copy_can_be_written(backend):
    """The way out the errors name: assign into t.clone()."""
    x = xg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2.0
    used = y.sum()
    masked = y.clone()
    masked[y > 3.0] = 0.0
    (masked.sum() + used).backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 2.0, 2.0])


def test_a_pickled_copy_is_not_used_by_the_graph(backend):
    """A tensor an op used can't be written in the graph; its unpickled copy, in no graph, can."""
    import pickle

    x = xg.tensor([1.0, 2.0], requires_grad=True)
    buffer = xg.zeros(2)
    _ = buffer + x
    copied = pickle.loads(pickle.dumps(buffer))
    copied[0] = x[0] * 3.0
    copied.sum().backward()
    assert x.grad.tolist() == [3.0, 0.0]


def test_memory_shared_with_another_tensor_is_not_written_in_the_graph(backend):
    """A view made under no_grad of a graph tensor or a leaf, a view of a constant, the tensor a
    view was made of, a detached or wrapped tensor: the write changed memory another tensor
    reads, behind the graph (x.grad [80, 16, 24] for [0, 16, 24]; a constant keeping w's values
    without their gradient). Refused; the tensors stay as they were."""
    x = xg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = xg.tensor([4.0, 5.0], requires_grad=True)
    y = x * 2.0
    constant = xg.zeros((2, 2))
    with xg.no_grad():
        of_graph, of_leaf = y[0:1], x[0:1]
    sharing = [of_graph, of_leaf, y, x.detach(), constant[1], constant, xg.Tensor(xg.ones(2))]
    for t in sharing:
        before = t.tolist()
        with pytest.raises(RuntimeError, match="t shares its memory with another tensor"):
            t[0] = w[0] * 3.0
        assert t.tolist() == before and not (t.requires_grad and t is not y and t is not x)
    assert x.tolist() == [1.0, 2.0, 3.0] and y.tolist() == [2.0, 4.0, 6.0]


def test_a_view_after_its_graph_was_freed_raises_the_same_way(backend):
    """The view check read the freed node's inputs: TypeError 'NoneType' is not subscriptable."""
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    view = (x * 2.0)[0:1]
    view.sum().backward()
    with pytest.raises(RuntimeError, match="t shares its memory with another tensor"):
        view[0] = 1.0


def test_assigning_a_tensor_into_itself_reads_its_previous_values(backend):
    """y[0] = y made the new node its own input and lost the gradient (x.grad [0, 0, 0])."""
    x = xg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    y = x * 2.0
    y[0] = y
    y.sum().backward()
    assert y.tolist() == [[2.0, 4.0, 6.0]] and x.grad.tolist() == [[2.0, 2.0, 2.0]]
    z = x * 1.0
    z[...] = z  # Ellipsis too
    (z * z).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[4.0, 6.0, 8.0]])


def test_a_failed_write_leaves_the_value_free_to_use(backend):
    """A float64 value cast for a float32 t, then a shape mismatch: the cast's node still marked
    the value as used, and a valid write into it was refused afterwards."""
    w = xg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    v = w * 1.0
    t = xg.zeros((3, 3))
    with pytest.raises(ValueError):
        t[0] = v
    assert t.tolist() == [[0.0] * 3] * 3 and not t.requires_grad
    v[0] = 7.0
    v.sum().backward()
    assert w.grad.tolist() == [0.0, 1.0]


def test_a_value_that_does_not_fit_names_both_shapes(backend):
    w = xg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    t = xg.zeros(4)
    with pytest.raises(ValueError, match=r"a value of shape \(3,\) into the \(2,\) elements the index selects"):
        t[[0, 1]] = w
    assert t.tolist() == [0.0] * 4 and not t.requires_grad


def test_a_value_on_another_backend_is_refused_in_and_outside_the_graph():
    if "cpu" not in xg.available_backends():
        pytest.skip("needs the cpu backend beside numpy")
    t = xg.zeros(2, backend="numpy")
    for requires_grad in (False, True):
        value = xg.tensor([1.0], requires_grad=requires_grad, backend="cpu")
        with pytest.raises(xg.BackendMismatchError, match="'numpy' and 'cpu'|'cpu' and 'numpy'"):
            t[0:1] = value
    assert t.tolist() == [0.0, 0.0] and not t.requires_grad
