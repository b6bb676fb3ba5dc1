"""The Tensor API of API.md: creation, attributes, conversion, operators, indexing, errors."""

import numpy as np
import pytest

import xpgrad as xg


def test_tensor_defaults_to_float32(backend):
    t = xg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.dtype == xg.float32 and t.shape == (2, 2) and t.ndim == 2 and t.size == 4
    assert t.backend == backend and not t.requires_grad and t.grad is None and t.is_leaf
    assert xg.tensor(np.zeros(3)).dtype == xg.float32
    assert xg.tensor([1, 2]).dtype == xg.int64
    assert xg.tensor([1.0], dtype="float64").dtype == xg.float64


def test_only_floats_require_grad(backend):
    with pytest.raises(TypeError, match="floating"):
        xg.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize(
    "factory, expected",
    [
        (lambda: xg.zeros(2, 3), np.zeros((2, 3))),
        (lambda: xg.ones((2,)), np.ones(2)),
        (lambda: xg.full((2, 2), 7.0), np.full((2, 2), 7.0)),
        (lambda: xg.arange(4), np.arange(4)),
        (lambda: xg.arange(0.0, 1.0, 0.5), np.arange(0.0, 1.0, 0.5)),
        (lambda: xg.eye(3), np.eye(3)),
        (lambda: xg.zeros_like(xg.ones(2, 2)), np.zeros((2, 2))),
        (lambda: xg.ones_like(xg.zeros(3)), np.ones(3)),
    ],
)
def test_factories(backend, factory, expected):
    t = factory()
    assert t.backend == backend
    np.testing.assert_array_equal(t.numpy(), expected)


@pytest.mark.parametrize("fill, dtype", [(7.0, "float32"), (7, "int64"), (True, "bool"), (np.float64(7), "float32")])
def test_full_takes_its_dtype_from_the_fill_value_as_tensor_does(backend, fill, dtype):
    assert xg.full((2,), fill).dtype == dtype == xg.tensor(fill).dtype
    assert xg.full(2, fill, dtype="float64").dtype == "float64"


@pytest.mark.parametrize("factory", [xg.zeros, xg.ones, xg.empty, xg.rand, xg.randn, xg.eye])
def test_dtype_none_is_the_default_float32(backend, factory):
    assert factory(2, dtype=None).dtype == xg.float32 == xg.tensor([1.0], dtype=None).dtype


@pytest.mark.parametrize("factory", [xg.rand, xg.randn])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", bool])
def test_random_factories_refuse_non_floating_dtypes(backend, factory, dtype):
    with pytest.raises(TypeError, match=f"dtype {np.dtype(dtype)}"):
        factory(5, dtype=dtype)


@pytest.mark.parametrize("args, dtype", [
    ((0.5, 3), "float32"), ((np.float64(0.5), 3), "float32"), ((np.float32(0.5), 3), "float32"),
    ((0, 3, np.float32(0.5)), "float32"), ((xg.tensor(2.5, backend="numpy"),), "float32"),
    ((3,), "int64"), ((np.int32(3),), "int64"),
])
def test_arange_of_any_floating_argument_is_float32(backend, args, dtype):
    assert xg.arange(*args).dtype == dtype


def test_full_takes_any_integer_as_its_shape(backend):
    assert xg.full(np.int64(2), 1.0).shape == (2,) == xg.zeros(np.int64(2)).shape
    assert xg.full((np.int32(2), 3), 1.0).shape == (2, 3)


def test_eye_takes_numpys_diagonal_offset(backend):
    np.testing.assert_array_equal(xg.eye(3, 3, 1).numpy(), np.eye(3, 3, 1))
    assert xg.eye(3, 3, 1).dtype == xg.float32
    np.testing.assert_array_equal(xg.eye(N=2, M=3, k=-1, dtype="int64").numpy(), np.eye(2, 3, -1))


def test_empty_rand_randn_and_seed(backend):
    assert xg.empty(2, 3).shape == (2, 3)
    xg.manual_seed(123)
    a, b = xg.rand(1000), xg.randn(1000, dtype="float64")
    xg.manual_seed(123)
    np.testing.assert_array_equal(a.numpy(), xg.rand(1000).numpy())
    np.testing.assert_array_equal(b.numpy(), xg.randn(1000, dtype="float64").numpy())
    assert 0 <= a.numpy().min() and a.numpy().max() < 1 and a.dtype == xg.float32
    assert abs(b.numpy().mean()) < 0.15 and abs(b.numpy().std() - 1) < 0.1
    assert xg.zeros(2, requires_grad=True).requires_grad


def test_conversions(backend):
    t = xg.tensor([[1.0, 2.0]])
    host = t.numpy()
    host[0, 0] = 99  # a copy: the tensor is unchanged
    assert t.tolist() == [[1.0, 2.0]]
    assert xg.tensor(3.5).item() == 3.5
    with pytest.raises(ValueError, match=r"\(1, 2\)"):
        t.item()
    if backend in ("numpy", "cpu"):
        np.testing.assert_array_equal(np.asarray(t), [[1.0, 2.0]])
        np.testing.assert_array_equal(np.from_dlpack(t), [[1.0, 2.0]])


def test_detach_clone_astype(backend):
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.data is x.data
    c = x.clone()
    (c * x.astype("float64")).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert x.grad.dtype == xg.float32


def test_astype_copies_unless_copy_false_and_nothing_changes(backend):
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    same = x.astype("float32")
    assert same is not x and same.data is not x.data and same.requires_grad
    (same * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    assert x.astype("float32", copy=False) is x
    assert x.astype("float64", copy=False).dtype == xg.float64


def test_to_other_backend_keeps_values_and_gradient(backend):
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("numpy")
    assert y.backend == "numpy"
    (y * y).sum().backward()
    assert x.grad.backend == backend
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_mixing_backends_raises_naming_both():
    if "cpu" not in xg.available_backends():
        pytest.skip("needs the cpu backend beside numpy")
    a = xg.tensor([1.0], backend="numpy")
    b = xg.tensor([1.0], backend="cpu")
    with pytest.raises(xg.BackendMismatchError, match="'numpy' and 'cpu'"):
        a + b


def test_operators_match_numpy(backend):
    a_np = np.array([[1.0, -2.0, 3.0]], dtype=np.float32)
    b_np = np.array([[0.5], [2.0]], dtype=np.float32)
    a, b = xg.tensor(a_np), xg.tensor(b_np)
    for got, want in [
        (a + b, a_np + b_np), (a - b, a_np - b_np), (a * b, a_np * b_np), (a / b, a_np / b_np),
        (b**2, b_np**2), (-a, -a_np), (2 - a, 2 - a_np), (1 / b, 1 / b_np), (2.0**b, 2.0**b_np),
        (a.T @ a, a_np.T @ a_np), (a_np + a, a_np + a_np),
    ]:
        assert got.dtype == xg.float32
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    np.testing.assert_array_equal((a > 0).numpy(), a_np > 0)
    np.testing.assert_array_equal((a == 3.0).numpy(), a_np == 3.0)
    assert not (a > 0).requires_grad


def test_indexing_with_gradient(backend):
    x = xg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = x[xg.tensor([0, 0, 2])]  # repeated rows accumulate
    assert y.shape == (3, 4)
    (y[:, 1:3].sum() + x[1, -1]).backward()
    expected = np.zeros((3, 4))
    expected[0, 1:3] = 2
    expected[2, 1:3] = 1
    expected[1, -1] = 1
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_reductions_and_shapes(backend):
    data = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    t = xg.tensor(data)
    np.testing.assert_allclose(t.sum(axis=(0, 2)).numpy(), data.sum(axis=(0, 2)))
    np.testing.assert_allclose(t.mean(axis=1, keepdims=True).numpy(), data.mean(axis=1, keepdims=True))
    np.testing.assert_allclose(t.var().numpy(), data.var(), rtol=1e-6)
    np.testing.assert_allclose(t.max(axis=-1).numpy(), data.max(axis=-1))
    np.testing.assert_array_equal(t.argmax(axis=1).numpy(), data.argmax(axis=1))
    np.testing.assert_array_equal(t.argmin().numpy(), data.argmin())
    assert t.transpose(2, 0, 1).shape == (4, 2, 3)
    assert t.reshape(6, 4).shape == (6, 4) and t.reshape((4, 6)).shape == (4, 6)
    assert t.flatten().shape == (24,) and t.flatten(1).shape == (2, 12)
    assert xg.expand_dims(t, -1).shape == (2, 3, 4, 1)
    assert xg.squeeze(xg.zeros(1, 3, 1)).shape == (3,)
    assert [p.shape for p in t.split([1, 3], axis=2)] == [(2, 3, 1), (2, 3, 2), (2, 3, 1)]
    assert xg.concatenate([t, t], axis=1).shape == (2, 6, 4)
    assert xg.stack([t, t]).shape == (2, 2, 3, 4)
    assert t.pad(((0, 0), (1, 1), (0, 2))).shape == (2, 5, 6)
    np.testing.assert_allclose(xg.clip(t, 3, 5).numpy(), np.clip(data, 3, 5))
    np.testing.assert_allclose(xg.where(t > 5, t, 0.0).numpy(), np.where(data > 5, data, 0))


@pytest.mark.parametrize(
    "bad",
    [
        lambda: xg.ones(2, 3) @ xg.ones(2, 3),
        lambda: xg.ones(2, 3) + xg.ones(4),
        lambda: xg.ones(2, 3).reshape(4),
        lambda: xg.concatenate([xg.ones(2, 3), xg.ones(3, 3)], axis=1),
        lambda: xg.stack([xg.ones(2), xg.ones(3)]),
        lambda: xg.ones(2, 3).squeeze(0),
        lambda: xg.ones(2, 3).transpose(0, 0),
        lambda: xg.ones(2, 3).sum(axis=2),
    ],
)
def test_bad_shapes_raise_value_error_naming_them(backend, bad):
    with pytest.raises(ValueError, match=r"\(|axis"):
        bad()


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (2, 3, 4)), ((2, 4, 3), (3,))])
def test_matmul_promotes_vectors_like_numpy(backend, shapes):
    """1-D operands are promoted and the promoted axis dropped: vector @ vector is 0-d."""
    rng = np.random.default_rng(0)
    a_np, b_np = (rng.standard_normal(s) for s in shapes)
    a = xg.tensor(a_np, dtype="float64", requires_grad=True)
    b = xg.tensor(b_np, dtype="float64", requires_grad=True)
    y = a @ b
    want = np.matmul(a_np, b_np)
    assert y.shape == want.shape
    np.testing.assert_allclose(y.numpy(), want)
    assert xg.gradcheck(lambda u, v: u @ v, (a, b))


def test_vector_dot_vector_gradient(backend):
    """y = a·b:  ∂y/∂a = b, ∂y/∂b = a."""
    a = xg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = xg.tensor([4.0, 5.0, 6.0], requires_grad=True)
    y = a @ b
    assert y.shape == () and y.item() == 32.0
    y.backward()
    np.testing.assert_array_equal(a.grad.numpy(), [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "make, want",
    [
        (lambda: xg.tensor([1.0, 3.0]).argmax(), np.int64(1)),
        (lambda: xg.tensor([1.0, 3.0]).argmin(), np.int64(0)),
        (lambda: xg.tensor(1.0) > 0, np.True_),
        (lambda: xg.tensor(1.0) == 2.0, np.False_),
        (lambda: xg.tensor(-2.0).sign(), np.float32(-1.0)),
    ],
)
def test_zero_d_results_hold_arrays(backend, make, want):
    """0-d results keep a 0-d array in .data (NumPy returns scalars for them)."""
    t = make()
    assert t.shape == () and t.data.shape == () and t.data.dtype == np.asarray(want).dtype
    assert t.item() == want
    if backend in ("numpy", "cpu"):
        assert isinstance(t.data, np.ndarray)
        np.testing.assert_array_equal(np.asarray(t), want)
        np.testing.assert_array_equal(np.from_dlpack(t), want)


def test_array_protocol_honours_copy(backend):
    if backend not in ("numpy", "cpu"):
        pytest.skip("__array__ is for host tensors")
    t = xg.tensor([1.0, 2.0])
    a = np.array(t)  # copy=True: a new array
    a[0] = 99
    assert t.tolist() == [1.0, 2.0]
    assert np.shares_memory(np.asarray(t), t.data)  # copy=None: shared when possible
    assert np.shares_memory(np.asarray(t, copy=False), t.data)
    assert not np.shares_memory(np.array(t, dtype=np.float32), t.data)
    assert np.array(t, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="without a copy"):
        np.asarray(t, dtype=np.float64, copy=False)


@pytest.mark.parametrize("dtype", [None, "float64"])
def test_tensor_copies_its_data(backend, dtype):
    """xg.tensor copies arrays and Tensors (torch.tensor, np.array): an update reaches neither."""
    arr = np.array([1.0, 2.0], dtype=np.float32)
    p = xg.tensor(arr, dtype=dtype, requires_grad=True)
    with xg.no_grad():
        p[0] = 5.0
    np.testing.assert_array_equal(arr, [1.0, 2.0])
    arr[1] = 7.0
    assert p.tolist() == [5.0, 2.0]
    q = xg.tensor(p, dtype=dtype)
    q[1] = 9.0
    assert p.tolist() == [5.0, 2.0]
    assert xg.tensor([1, 2]).tolist() == [1, 2]


@pytest.mark.parametrize(
    "reduce_xg, reduce_np, shape",
    [
        (lambda t: t.mean(), lambda a: a.mean(), (0,)),
        (lambda t: t.mean(axis=0), lambda a: a.mean(axis=0), (0, 3)),
        (lambda t: t.mean(axis=1), lambda a: a.mean(axis=1), (0, 3)),
        (lambda t: t.var(), lambda a: a.var(), (0,)),
        (lambda t: t.var(ddof=1), lambda a: a.var(ddof=1), (1,)),
        (lambda t: t.var(ddof=2), lambda a: a.var(ddof=2), (2,)),
        (lambda t: t.var(axis=1, ddof=3), lambda a: a.var(axis=1, ddof=3), (2, 3)),
    ],
)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_mean_var_without_enough_elements_match_numpy(backend, reduce_xg, reduce_np, shape):
    """Empty means and variances with ddof ≥ n are NaN (or ∞ for a nonzero sum), not 0."""
    data = np.arange(float(np.prod(shape)), dtype=np.float32).reshape(shape) + 1
    got = reduce_xg(xg.tensor(data)).numpy()
    want = reduce_np(data)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)  # NaN compares equal to NaN here


@pytest.mark.parametrize(
    "shape, name, args",
    [
        ((2, 3), "transpose", (3, 0)),
        ((2, 3), "transpose", (0, 3)),
        ((2, 3), "swapaxes", (0, 2)),
        ((2, 3), "expand_dims", (5,)),
        ((2, 3), "expand_dims", (-4,)),
        ((2, 3), "sum", (2,)),
        ((2, 3), "squeeze", (2,)),
        ((), "sum", (1,)),
        ((), "expand_dims", (1,)),
    ],
)
def test_out_of_range_axes_raise_like_numpy(backend, shape, name, args):
    """NumPy raises AxisError (a ValueError and an IndexError) naming the axis and ndim."""
    with pytest.raises(np.exceptions.AxisError):
        getattr(np, name)(np.ones(shape), *((args,) if name == "transpose" else args))
    with pytest.raises(xg.AxisError, match="axis -?[0-9] is out of bounds for an array of dimension") as info:
        getattr(xg.ones(*shape), name)(*args)
    assert isinstance(info.value, ValueError) and isinstance(info.value, IndexError)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "max", "min", "squeeze"])
def test_repeated_axes_raise_like_numpy(backend, name):
    """NumPy rejects a repeated axis ('duplicate value in axis'); it was silently dropped."""
    with pytest.raises(ValueError):
        getattr(np, name)(np.ones((2, 1)), axis=(1, -1))
    with pytest.raises(ValueError, match=r"repeated axis in \(1, -1\) for an array of dimension 2"):
        getattr(xg.ones(2, 1), name)(axis=(1, -1))


@pytest.mark.parametrize(
    "op_xg, op_np",
    [
        (lambda t: t.sum(axis=np.int64(1)), lambda a: a.sum(axis=1)),
        (lambda t: t.mean(axis=np.int64(-1)), lambda a: a.mean(axis=-1)),
        (lambda t: t.var(axis=(np.int32(0),)), lambda a: a.var(axis=0)),
        (lambda t: t.max(axis=np.int64(0)), lambda a: a.max(axis=0)),
        (lambda t: t.transpose(np.int64(1), np.int64(0)), lambda a: a.T),
        (lambda t: t.swapaxes(np.int64(0), np.int64(1)), lambda a: a.T),
        (lambda t: t.expand_dims(np.int64(1)), lambda a: a[:, None]),
        (lambda t: t.split(np.int64(2), axis=np.int64(1))[1], lambda a: a[:, 2:]),
        (lambda t: t.split([np.int64(1)])[1], lambda a: a[1:]),
    ],
)
def test_numpy_integer_arguments(backend, op_xg, op_np):
    data = np.arange(8.0, dtype=np.float32).reshape(2, 4)
    np.testing.assert_allclose(op_xg(xg.tensor(data)).numpy(), op_np(data))


def test_split_of_an_empty_axis_into_sections(backend):
    """np.split(np.zeros((0, 2)), 2) gives two (0, 2) parts (the step 0 broke range())."""
    parts = xg.zeros(0, 2).split(2)
    assert [p.shape for p in parts] == [(0, 2), (0, 2)]


@pytest.mark.parametrize("pad_width", [1, np.int64(1), (1,), (1, 2), [(1, 2)], ((1,), (2,)), ((0, 1), (2, 0))])
def test_pad_width_broadcasts_like_numpy(backend, pad_width):
    data = np.arange(4.0, dtype=np.float32).reshape(2, 2)
    np.testing.assert_array_equal(xg.tensor(data).pad(pad_width).numpy(), np.pad(data, pad_width))


def test_pad_value_by_numpys_name_too(backend):
    data = np.arange(4.0, dtype=np.float32).reshape(2, 2)
    np.testing.assert_array_equal(xg.tensor(data).pad(1, constant_values=7).numpy(), np.pad(data, 1, constant_values=7))
    np.testing.assert_array_equal(xg.tensor(data).pad(1, value=7).numpy(), np.pad(data, 1, constant_values=7))
    with pytest.raises(ValueError, match="not both"):
        xg.tensor(data).pad(1, value=1.0, constant_values=2.0)


@pytest.mark.parametrize("pad_width", [(1, 2, 3), ((1, 2),) * 3, -1, ((1, 2, 3),)])
def test_pad_width_that_does_not_broadcast_raises(backend, pad_width):
    with pytest.raises(ValueError, match="pad_width"):
        xg.ones(2, 2).pad(pad_width)


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a < b, lambda a, b: a <= b, lambda a, b: a > b, lambda a, b: a >= b,
        lambda a, b: a == b, lambda a, b: a != b,
        lambda a, b: xg.where(a > 1, b, b), lambda a, b: xg.where(b > 1, a, a),
    ],
)
def test_comparisons_and_where_check_backends(op):
    if "cpu" not in xg.available_backends():
        pytest.skip("needs the cpu backend beside numpy")
    a = xg.tensor([1.0, 2.0], backend="cpu")
    b = xg.tensor([1.0, 2.0], backend="numpy")
    with pytest.raises(xg.BackendMismatchError, match="'cpu' and 'numpy'|'numpy' and 'cpu'"):
        op(a, b)


def test_where_of_two_scalars_makes_them_as_tensor_does(backend):
    cond = xg.tensor([True, False, True])
    y = xg.where(cond, 1.0, 0.0)
    assert y.dtype == np.float32 and y.backend == backend
    np.testing.assert_array_equal(y.numpy(), [1, 0, 1])
    assert xg.where([True, False], 1, 2).tolist() == [1, 2]


@pytest.mark.parametrize("name, axis", [("sum", 0), ("max", -1), ("min", 0), ("squeeze", 0)])
def test_axis_zero_of_a_zero_d_tensor_reduces_nothing(backend, name, axis):
    """NumPy (and PyTorch) accept axis 0 / -1 on a 0-d array and return its value."""
    x = xg.tensor(3.0, requires_grad=True)
    y = getattr(x, name)(axis)
    want = getattr(np, name)(np.float32(3.0), axis)
    assert y.shape == np.shape(want) and y.item() == want
    y.backward()
    assert x.grad.item() == 1.0


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32"])
def test_integer_tensors_keep_their_dtype_with_python_scalars_as_numpy(backend, dtype):
    """NumPy 2's weak Python scalars (NEP 50), as PyTorch: int8 + 100 stays int8 (wrapping as
    NumPy does); a lifted scalar used to be an int64 0-d array, promoting to int64."""
    values = np.array([1, 2, 100], dtype=dtype)
    t = xg.tensor(values)
    for result, expected in ((t + 100, values + 100), (2 * t, 2 * values), (t - 1, values - 1),
                             (2**t, 2**values), (xg.maximum(t, 0), np.maximum(values, 0)),
                             (xg.where(t > 1, t, 0), np.where(values > 1, values, 0))):
        assert result.dtype == expected.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(result.numpy(), expected)
    assert (t + 1.5).dtype == np.float64 and (xg.tensor([True]) + 1).dtype == np.int64
    with pytest.raises(OverflowError):
        xg.tensor(np.array([1], np.int8)) + 300  # NumPy's error, not a silent int64


def test_indexing_with_an_empty_list_selects_nothing(backend):
    x = xg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    y = x[[]]
    assert y.shape == (0, 2)
    (y.sum() + x.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 2)))
    assert x[[[]]].shape == np.ones((3, 2))[[[]]].shape


@pytest.mark.parametrize("data", [None, [1, None], {"a": 1}, ["a"], b"xy"])
def test_tensors_of_non_numbers_are_refused_at_construction(data):
    """NumPy makes object or string arrays of these; a tensor of them failed later, in some
    unrelated op."""
    with pytest.raises(TypeError, match="cannot make a tensor of"):
        xg.tensor(data)


@pytest.mark.parametrize("make, dtype", [
    (lambda: xg.tensor([1], dtype=object), "object"),
    (lambda: xg.tensor([1], dtype=str), "<U"),
    (lambda: xg.Tensor([1.0], dtype="datetime64[s]"), "datetime64"),
    (lambda: xg.zeros(2, dtype=object), "object"),
    (lambda: xg.arange(3, dtype=object), "object"),
    (lambda: xg.full(2, "a"), "<U1"),
    (lambda: xg.full(2, None), "object"),
    (lambda: xg.tensor([1.0]).astype(object), "object"),
])
def test_every_creation_path_refuses_non_numeric_dtypes(backend, make, dtype):
    with pytest.raises(TypeError, match=f"dtype {dtype}"):
        make()
    assert xg.tensor([1 + 2j]).dtype == "complex128"  # complex stays, as NumPy


def test_axis_arguments_checked_with_clear_errors(backend):
    x = xg.ones(2, 3, 4)
    with pytest.raises(TypeError, match="axis must be None, an integer or a tuple of integers, got 1.5"):
        x.sum(axis=1.5)
    with pytest.raises(TypeError, match="axis must be an integer, got 1.5"):
        x.mean(axis=[0, 1.5])
    with pytest.raises(ValueError, match=r"flatten: start_dim 2 comes after end_dim 0 for shape \(2, 3, 4\)"):
        x.flatten(2, 0)


@pytest.mark.parametrize("axis", [0, -1, 2, (0, 1), (0, -1), (1, 3)])
def test_expand_dims_takes_a_tuple_of_axes_as_numpy(backend, axis):
    x = xg.ones(2, 3)
    assert x.expand_dims(axis).shape == np.expand_dims(np.ones((2, 3)), axis).shape


def test_where_concatenate_and_stack_are_also_methods(backend):
    """API.md lists them among the methods that are also xg.<name> functions."""
    a, b = xg.tensor([1.0, 2.0], requires_grad=True), xg.tensor([3.0, 4.0])
    assert a.where(a > 1, b).tolist() == [3.0, 2.0]  # PyTorch's x.where(condition, y)
    assert a.concatenate([b]).tolist() == [1.0, 2.0, 3.0, 4.0]
    assert a.stack([b], axis=1).tolist() == [[1.0, 3.0], [2.0, 4.0]]
    a.stack([b]).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]


def test_abs_builtin_is_the_abs_op_with_its_gradient(backend):
    """abs(t) raised TypeError: Tensor had t.abs() but no __abs__."""
    t = xg.tensor([-1.5, 2.0, -3.0], requires_grad=True)
    out = abs(t)
    assert out.tolist() == [1.5, 2.0, 3.0] and out.backend == backend
    out.sum().backward()
    assert t.grad.tolist() == [-1.0, 1.0, -1.0]


def test_in_tests_every_element_as_numpy(backend):
    t = xg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert 2.0 in t and xg.tensor(4.0) in t and 5.0 not in t
    assert 1 in xg.tensor(1) and [1.0, 2.0] in t


def test_dlpack_passes_on_the_standards_keywords(backend):
    t = xg.tensor([1.0, 2.0])
    if t.backend_obj.xp is not np:
        pytest.skip("NumPy imports host arrays only")
    copied = np.from_dlpack(t, copy=True)
    copied[0] = 5.0
    assert t.tolist() == [1.0, 2.0]
    np.testing.assert_array_equal(np.from_dlpack(t, device="cpu"), [1.0, 2.0])
    assert type(t.__dlpack__(max_version=(1, 0), copy=False)).__name__ == "PyCapsule"
    w = xg.tensor([1.0, 2.0], requires_grad=True)
    np.testing.assert_array_equal(np.from_dlpack(xg.grad(w.sum(), w)[0]), [1.0, 1.0])  # read-only


def test_zero_d_integer_tensors_are_indices(backend):
    assert [10, 20, 30][xg.tensor(1)] == 20 and list(range(xg.tensor(3))) == [0, 1, 2]
    assert xg.arange(5)[xg.tensor(1):xg.tensor(3)].tolist() == [1, 2]
    for bad in (xg.tensor(1.0), xg.tensor(True), xg.tensor([1, 2]), xg.tensor([1]), xg.tensor([[1]])):
        with pytest.raises(TypeError, match=f"only integer scalar arrays .* dtype {bad.dtype} and shape"):
            [10, 20, 30][bad]


def test_one_element_index_tensors_are_sequences_in_split_and_pad(backend):
    """As np.split(a, np.array([3])) and np.pad(m, np.array([[1], [2]])): a (1,) or (1, 1)
    tensor is a sequence of indices, not one index."""
    t = xg.arange(6.0)
    assert [p.shape for p in t.split(xg.tensor([3]))] == [(3,), (3,)]
    assert xg.ones((2, 3)).pad(xg.tensor([[1], [2]])).shape == (4, 7)
    assert [p.shape for p in t.split(xg.tensor(3))] == [(2,), (2,), (2,)]


def test_repr_rows_align_under_the_first(backend):
    first, second = repr(xg.tensor([[1.0, 2.0], [3.0, 4.0]])).splitlines()
    assert first.startswith("tensor([[1., 2.],") and second.startswith(" " * 8 + "[3., 4.]]")


def test_a_numpy_scalar_exponent_keeps_a_float32_tensor_float32(backend):
    x = xg.tensor([1.5, 2.0], requires_grad=True)
    for exponent in (np.float64(2), np.float32(0.5), np.int64(3)):
        y = x**exponent  # np.float64 made float64, unlike x * np.float64(2)
        assert y.dtype == np.float32 and (x * exponent).dtype == np.float32
        np.testing.assert_allclose(y.numpy(), x.numpy() ** float(exponent), rtol=1e-6)
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_array_of_a_grad_tensor_is_read_only(backend):
    """np.asarray of a tensor that requires grad is a read-only view: a write through it would
    change values saved for backward unseen (PyTorch refuses the conversion outright)."""
    if backend not in ("numpy", "cpu"):
        pytest.skip("__array__ is for host tensors")
    x = xg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    y = x * 2
    z = (y * y).sum()
    view = np.asarray(y)
    assert np.shares_memory(view, y.data) and np.shares_memory(np.asarray(y, copy=False), y.data)
    with pytest.raises(ValueError, match="read-only"):
        view[0] = 100.0
    z.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 16.0])
    copied = np.array(y)  # a copy, and the tensor's own storage, stay writable
    copied[0] = 100.0
    assert y.data.flags.writeable and np.asarray(y.detach()).flags.writeable
    assert np.array(y, dtype=np.float32).flags.writeable


def test_truth_value_of_many_or_no_elements_is_ambiguous(backend):
    """NumPy's ValueError and wording ("array" read "tensor"), not item()'s message."""
    assert bool(xg.tensor([2.0])) and not bool(xg.tensor(0))
    with pytest.raises(ValueError, match=r"more than one element is ambiguous\. Use a\.any\(\) or a\.all\(\)"):
        bool(xg.tensor([1.0, 2.0]) > 0)
    with pytest.raises(ValueError, match=r"truth value of an empty tensor is ambiguous\. Use `tensor\.size > 0`"):
        bool(xg.tensor([]))


def test_pad_refuses_a_tensor_value(backend):
    """A Tensor fill would be a constant of Pad and silently get no gradient (PyTorch's F.pad
    refuses it too); numbers and NumPy scalars stay accepted."""
    t = xg.tensor([[1.0, 2.0]], requires_grad=True)
    for kwargs in ({"value": xg.tensor(5.0, requires_grad=True)}, {"constant_values": xg.tensor(5.0)}):
        with pytest.raises(TypeError, match="not a Tensor"):
            t.pad(1, **kwargs)
    assert t.pad(1, value=np.float32(5.0)).sum().item() == 53.0


def test_pad_mode_is_constant_only_and_a_zero_d_tensor_is_unchanged(backend):
    """np.pad(a, 1, "constant") / mode="constant" as NumPy; other modes refused clearly; a 0-d
    tensor comes back as a copy with its gradient (np.pad returns it unchanged)."""
    data = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    for padded in (xg.tensor(data).pad(1, "constant"), xg.tensor(data).pad(1, mode="constant")):
        np.testing.assert_array_equal(padded.numpy(), np.pad(data, 1, "constant"))
    for mode in ("reflect", "edge", 0.5):
        with pytest.raises(ValueError, match=f"only mode='constant' is supported, got {mode!r}"):
            xg.tensor(data).pad(1, mode)
    x = xg.tensor(2.0, requires_grad=True)
    y = x.pad(1)
    assert y.shape == () and y.item() == 2.0 and y is not x
    y.backward()
    assert x.grad.item() == 1.0


def test_every_function_api_md_lists_is_also_xg_name(backend):
    """API.md: "Methods/functions (each also xg.<name>(t, ...))", T included (xg.T was missing)."""
    t = xg.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(xg.T(t).numpy(), t.T.numpy())
    for name in ("exp", "log", "sqrt", "sin", "cos", "tanh", "abs", "sigmoid", "relu", "maximum",
                 "minimum", "clip", "where", "sum", "mean", "var", "max", "min", "argmax", "argmin",
                 "reshape", "transpose", "swapaxes", "expand_dims", "squeeze", "flatten",
                 "concatenate", "stack", "split", "pad"):
        assert callable(getattr(xg, name)) and hasattr(xg.Tensor, name), name
