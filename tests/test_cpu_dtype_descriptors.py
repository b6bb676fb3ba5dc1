"""The C++ kernels compare dtypes by equality, not descriptor identity.

Unpickled or deep-copied arrays carry their own (equal) dtype descriptor objects; the kernels
must take them like any float32 array and still refuse non-native byte order.
"""

import copy
import pickle

import numpy as np
import pytest

import xpgrad as xg

pytest.importorskip("xpgrad._C")


def _fresh_descriptor(a):
    b = pickle.loads(pickle.dumps(a))
    assert b.dtype == a.dtype
    return b


@pytest.fixture
def cpu():
    return xg.get_backend("cpu")


def test_linear_and_gemm_take_unpickled_arrays(cpu):
    rng = np.random.default_rng(0)
    x = _fresh_descriptor(rng.standard_normal((4, 3)).astype(np.float32))
    w = copy.deepcopy(rng.standard_normal((3, 5)).astype(np.float32))
    b = _fresh_descriptor(np.zeros(5, np.float32))
    np.testing.assert_allclose(cpu.linear(x, w, b), x @ w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cpu.gemm(x, w), x @ w, rtol=1e-5, atol=1e-6)


def test_row_kernels_take_unpickled_arrays(cpu):
    rng = np.random.default_rng(1)
    logits = _fresh_descriptor(rng.standard_normal((6, 10)))
    target = _fresh_descriptor(np.arange(6, dtype=np.int64))
    ref = xg.get_backend("numpy")
    np.testing.assert_allclose(cpu.softmax(logits), ref.softmax(logits), rtol=1e-12)
    for got, want in zip(cpu.cross_entropy(logits, target), ref.cross_entropy(logits, target)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_kernels_refuse_non_native_byte_order(cpu):
    swapped = np.arange(12, dtype=np.float32).reshape(3, 4).astype(np.float32().dtype.newbyteorder())
    with pytest.raises(ValueError, match="float32 or float64"):
        cpu.kernels.relu_forward(swapped)
