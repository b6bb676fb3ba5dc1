"""xg.data: DataLoader, train_val_test_split, StandardScaler / MinMaxScaler, one_hot."""

import warnings

import numpy as np
import pytest

import xpgrad as xg
from xpgrad.data import DataLoader, MinMaxScaler, StandardScaler, one_hot, train_val_test_split
from xpgrad.data.split import split_counts


def _epoch_labels(loader):
    return np.concatenate([yb.numpy() for _, yb in loader])


# ---- DataLoader -------------------------------------------------------------------------------
def test_loader_yields_every_sample_once_per_epoch_on_the_current_backend(backend):
    X = np.arange(50, dtype=np.float32).reshape(25, 2)
    y = np.arange(25)
    loader = DataLoader(X, y, batch_size=4, seed=0)
    seen = []
    for xb, yb in loader:
        assert xb.backend == backend and yb.backend == backend
        assert isinstance(xb, xg.Tensor)
        np.testing.assert_array_equal(xb.numpy(), X[yb.numpy()])  # pairs stay together
        seen.append(yb.numpy())
    assert [len(s) for s in seen] == [4] * 6 + [1]
    assert sorted(np.concatenate(seen)) == list(range(25))


def test_loader_reshuffles_every_epoch():
    loader = DataLoader(np.zeros((100, 1)), np.arange(100), batch_size=10, seed=1)
    epochs = [_epoch_labels(loader) for _ in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(100))
    assert not np.array_equal(epochs[0], epochs[1])
    assert not np.array_equal(epochs[1], epochs[2])


def test_loader_seed_makes_the_epoch_sequence_reproducible():
    X, y = np.zeros((40, 3)), np.arange(40)
    a, b = DataLoader(X, y, 8, seed=7), DataLoader(X, y, 8, seed=7)
    for _ in range(3):
        np.testing.assert_array_equal(_epoch_labels(a), _epoch_labels(b))
    assert not np.array_equal(_epoch_labels(DataLoader(X, y, 8, seed=8)),
                              _epoch_labels(DataLoader(X, y, 8, seed=7)))


def test_loader_without_seed_follows_manual_seed():
    X, y = np.zeros((30, 2)), np.arange(30)
    xg.manual_seed(3)
    first = _epoch_labels(DataLoader(X, y, 7))
    xg.manual_seed(3)
    np.testing.assert_array_equal(_epoch_labels(DataLoader(X, y, 7)), first)


def test_loader_without_shuffle_keeps_the_order():
    y = np.arange(10)
    np.testing.assert_array_equal(_epoch_labels(DataLoader(y[:, None], y, 3, shuffle=False)), y)


@pytest.mark.parametrize("n,batch,drop_last,expected", [
    (10, 3, False, [3, 3, 3, 1]), (10, 3, True, [3, 3, 3]), (9, 3, True, [3, 3, 3]),
    (2, 5, False, [2]), (2, 5, True, []), (0, 4, False, []),
])
def test_loader_len_and_drop_last(n, batch, drop_last, expected):
    loader = DataLoader(np.zeros((n, 2)), np.zeros(n, dtype=int), batch, drop_last=drop_last)
    assert len(loader) == len(expected)
    assert [len(yb) for _, yb in loader] == expected


def test_loader_without_labels_yields_inputs_alone():
    batches = list(DataLoader(np.ones((5, 2)), batch_size=2))
    assert [b.shape for b in batches] == [(2, 2), (2, 2), (1, 2)]


def test_loader_dtypes():
    images = np.zeros((6, 4, 4), dtype=np.uint8)
    xb, yb = next(iter(DataLoader(images, np.zeros(6, dtype=np.int32), 3)))
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    xb, yb = next(iter(DataLoader(np.zeros((6, 2)), np.zeros((6, 1)), 3)))
    assert xb.dtype == np.float32 and yb.dtype == np.float32  # float64 input, float32 batches
    xb, yb = next(iter(DataLoader(np.zeros((6, 2)), np.zeros((6, 1)), 3, dtype="float64")))
    assert xb.dtype == np.float64 and yb.dtype == np.float64
    _, yb = next(iter(DataLoader(np.zeros((6, 2)), np.zeros(6, dtype=bool), 3)))
    assert yb.dtype == np.float32


def test_loader_accepts_tensors_and_lists(backend):
    X = xg.tensor(np.arange(12.0).reshape(6, 2))
    batches = list(DataLoader(X, [0, 1, 2, 3, 4, 5], batch_size=4, shuffle=False))
    np.testing.assert_array_equal(batches[0][0].numpy(), np.arange(8.0).reshape(4, 2))
    np.testing.assert_array_equal(batches[1][1].numpy(), [4, 5])


def test_loader_rejects_bad_arguments():
    with pytest.raises(ValueError, match="different numbers of samples: 5 and 4"):
        DataLoader(np.zeros((5, 2)), np.zeros(4))
    for bad in (0, -3):
        with pytest.raises(ValueError, match="batch_size"):
            DataLoader(np.zeros((5, 2)), batch_size=bad)
    with pytest.raises(TypeError, match="batch_size"):
        DataLoader(np.zeros((5, 2)), batch_size=2.5)
    with pytest.raises(ValueError, match="sample axis"):
        DataLoader(np.float32(1.0))
    with pytest.raises(ValueError, match="numbers"):
        DataLoader(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="floating-point"):
        DataLoader(np.zeros((2, 2)), dtype="int32")


# ---- train_val_test_split ---------------------------------------------------------------------
def test_split_fractions_partition_the_data_reproducibly():
    X = np.arange(200).reshape(100, 2)
    y = np.arange(100)
    parts = train_val_test_split(X, y, (0.7, 0.2, 0.1), seed=0)
    assert [len(p[1]) for p in parts] == [70, 20, 10]
    ids = np.concatenate([p[1] for p in parts])
    assert sorted(ids) == list(range(100))
    for Xp, yp in parts:
        np.testing.assert_array_equal(Xp, X[yp])
    again = train_val_test_split(X, y, (0.7, 0.2, 0.1), seed=0)
    for (_, a), (_, b) in zip(parts, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(train_val_test_split(X, y, (0.7, 0.2, 0.1), seed=1)[0][1],
                              parts[0][1])


def test_split_counts_and_leftovers():
    assert split_counts(1797, (0.8, 0.1, 0.1)) == [1439, 179, 179]  # rounding loss to train
    assert split_counts(10, (0.5, 0.2)) == [5, 2]  # fractions below 1 drop the rest
    assert split_counts(10, (6, 2, 2)) == [6, 2, 2]
    assert split_counts(10, (3, 3)) == [3, 3]
    X = np.arange(10)
    train, test = train_val_test_split(X, None, (8, 2), seed=0)
    assert len(train) == 8 and len(test) == 2 and not set(train) & set(test)


@pytest.mark.parametrize("sizes", [(0.8, 0.3), (-0.1, 0.5), (8, 5), (), (5, -1)])
def test_split_rejects_bad_sizes(sizes):
    with pytest.raises(ValueError):
        train_val_test_split(np.zeros((10, 2)), np.zeros(10), sizes)


def test_split_rejects_mismatched_lengths_and_accepts_tensors():
    with pytest.raises(ValueError, match="different numbers of samples"):
        train_val_test_split(np.zeros((10, 2)), np.zeros(9), (0.5, 0.5))
    (Xa, ya), (Xb, yb) = train_val_test_split(xg.tensor(np.ones((4, 2))), xg.tensor([0, 1, 2, 3]),
                                              (2, 2), seed=0)
    assert isinstance(Xa, np.ndarray) and Xa.shape == Xb.shape == (2, 2)
    assert ya.dtype == np.int64 and sorted(np.concatenate([ya, yb])) == [0, 1, 2, 3]


# ---- scalers ---------------------------------------------------------------------------------
def test_standard_scaler_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    train = rng.normal(5.0, 3.0, size=(500, 3))
    test = rng.normal(-2.0, 1.0, size=(50, 3))
    scaler = StandardScaler().fit(train)
    z = scaler.transform(train)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-12)
    expected = (test - train.mean(axis=0)) / train.std(axis=0)
    np.testing.assert_allclose(scaler.transform(test), expected, rtol=1e-12)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test, rtol=1e-12)
    np.testing.assert_allclose(StandardScaler().fit_transform(train), z)


def test_min_max_scaler_with_shift():
    train = np.array([[0.0, 10.0], [5.0, 20.0], [10.0, 30.0]])
    scaler = MinMaxScaler(shift=0.5).fit(train)
    np.testing.assert_allclose(scaler.transform(train), [[-0.5, -0.5], [0, 0], [0.5, 0.5]])
    np.testing.assert_allclose(scaler.transform(np.array([[20.0, 0.0]])), [[1.5, -1.0]])
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(train)), train)
    np.testing.assert_allclose(MinMaxScaler().fit_transform(train)[:, 0], [0, 0.5, 1])


def test_constant_features_do_not_divide_by_zero():
    train = np.array([[1.0, 7.0], [3.0, 7.0]])
    with np.errstate(all="raise"):
        z = StandardScaler().fit(train).transform(train)
        m = MinMaxScaler(shift=0.25).fit(train).transform(train)
    np.testing.assert_array_equal(z[:, 1], [0, 0])
    np.testing.assert_array_equal(m[:, 1], [-0.25, -0.25])


@pytest.mark.parametrize("value", [0.1, 1 / 3, 123.456, -7.77e-5, 1e8 + 0.1])
@pytest.mark.parametrize("n", [3, 10, 1000])
def test_a_constant_column_standardises_to_zero_despite_rounding(value, n):
    train = np.stack([np.full(n, value), np.arange(n, dtype=np.float64)], axis=1)
    scaler = StandardScaler().fit(train)
    z = scaler.transform(train)
    assert scaler.scale_[0] == 1.0  # not σ ≈ 1e-17, which mapped the column to ±1
    # x − μ: 0 up to the rounding of μ itself
    np.testing.assert_allclose(z[:, 0], 0.0, atol=n * np.finfo(np.float64).eps * abs(value))
    np.testing.assert_allclose(z[:, 1], (train[:, 1] - train[:, 1].mean()) / train[:, 1].std())


def test_a_nearly_constant_column_is_still_standardised():
    train = 1.0 + 1e-13 * np.arange(4.0)[:, None]
    z = StandardScaler().fit_transform(train)
    np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-3)


@pytest.mark.parametrize("scaler", [StandardScaler(), MinMaxScaler(shift=0.5)])
def test_scalers_accept_array_likes_wherever_fit_does(scaler):
    X = np.array([[1.0, 2.0], [3.0, 6.0], [4.0, 7.0]])
    expected = scaler.fit(X).transform(X)
    scaler.fit(X.tolist())
    np.testing.assert_array_equal(scaler.transform(X.tolist()), expected)
    np.testing.assert_array_equal(scaler.fit_transform(X.tolist()), expected)
    np.testing.assert_allclose(scaler.inverse_transform(expected.tolist()), X)
    assert isinstance(scaler.transform(tuple(map(tuple, X))), np.ndarray)


def test_scalers_keep_float_dtype_and_feature_shape():
    images = np.arange(2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 3)
    out = StandardScaler().fit(images).transform(images)
    assert out.dtype == np.float32 and out.shape == (2, 2, 3)
    x32 = np.ones((3, 2), np.float32)
    assert MinMaxScaler().fit(x32).transform(x32).dtype == np.float32
    x64 = np.ones((3, 2))
    assert StandardScaler().fit(x64).transform(x64).dtype == np.float64


def test_scalers_on_tensors(backend):
    X = np.array([[1.0, 2.0], [3.0, 6.0]], np.float32)
    t = xg.tensor(X)
    scaler = StandardScaler().fit(t)
    out = scaler.transform(t)
    assert isinstance(out, xg.Tensor) and out.backend == backend and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), [[-1, -1], [1, 1]], atol=1e-6)
    np.testing.assert_allclose(scaler.inverse_transform(out).numpy(), X, atol=1e-6)


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_scaler_errors(cls):
    with pytest.raises(RuntimeError, match="not fitted"):
        cls().transform(np.ones((2, 2)))
    scaler = cls().fit(np.ones((4, 3)))
    with pytest.raises(ValueError, match="shape"):
        scaler.transform(np.ones((4, 2)))
    with pytest.raises(ValueError, match="at least one sample"):
        cls().fit(np.ones((0, 3)))


# ---- one_hot ---------------------------------------------------------------------------------
def test_one_hot_values_and_shape():
    out = one_hot(np.array([2, 0, 1, 2]), 3)
    np.testing.assert_array_equal(out, np.eye(3)[[2, 0, 1, 2]])
    assert out.dtype == np.float32
    assert one_hot([[0, 1], [1, 0]], 2).shape == (2, 2, 2)
    assert one_hot([0, 4]).shape == (2, 5)  # num_classes inferred as max + 1
    assert one_hot([1.0, 0.0], 2, dtype="float64").dtype == np.float64


@pytest.mark.parametrize("labels,k", [([0, 3], 3), ([-1, 0], 3), ([0.5], 2), ([0], 0)])
def test_one_hot_validates(labels, k):
    with pytest.raises(ValueError):
        one_hot(np.array(labels), k)


def test_one_hot_on_tensors(backend):
    out = one_hot(xg.tensor([1, 0]), 2)
    assert isinstance(out, xg.Tensor) and out.backend == backend
    np.testing.assert_array_equal(out.numpy(), [[0, 1], [1, 0]])


@pytest.mark.parametrize("scaler, expected", [
    (StandardScaler, [[-1.224744871391589, np.nan, np.nan], [0.0, -1.0, np.nan], [1.224744871391589, 1.0, np.nan]]),
    (MinMaxScaler, [[0.0, np.nan, np.nan], [0.5, 0.0, np.nan], [1.0, 1.0, np.nan]]),
])
def test_scalers_leave_missing_values_out_of_the_statistics(scaler, expected):
    # as scikit-learn: one NaN made a whole column NaN; a column of NaNs stays NaN, quietly
    X = np.array([[1.0, np.nan, np.nan], [2.0, 4.0, np.nan], [3.0, 6.0, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(scaler().fit_transform(X), expected, rtol=1e-12)


@pytest.mark.parametrize("call, error, match", [
    (lambda: DataLoader(i for i in range(3)), TypeError, "needs arrays .* got generator"),
    (lambda: DataLoader(None), TypeError, "got NoneType"),
    (lambda: DataLoader(np.ones((4, 2)), seed=-1), ValueError, "seed must be None or an integer >= 0"),
    (lambda: DataLoader(np.ones((4, 2)), seed=1.5), ValueError, "seed must be None or an integer >= 0"),
    (lambda: DataLoader(np.ones((2, 2)), np.array([1, 2**63], np.uint64)), ValueError, "beyond the int64"),
    (lambda: train_val_test_split(np.ones((10, 2)), None, (float("nan"), 0.5)), ValueError, "fractions"),
    (lambda: one_hot([1e20]), ValueError, "too large to be classes"),
])
def test_bad_data_arguments_are_clear_errors_up_front(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("option", ["shuffle", "drop_last"])
def test_loader_flags_must_be_bools(option):
    """shuffle="no" shuffled (any non-empty string is true)."""
    for flag in ("no", 1, None):
        with pytest.raises(TypeError, match=f"{option} must be a bool, got {flag!r}"):
            DataLoader(np.zeros((4, 2)), **{option: flag})
    assert getattr(DataLoader(np.zeros((4, 2)), **{option: np.bool_(False)}), option) is False


@pytest.mark.parametrize("sizes", [0.8, 8, "0.8", None])
def test_split_sizes_must_be_a_sequence(sizes):
    """train_val_test_split(X, y, 0.8) failed with "object of type 'float' has no len()"."""
    with pytest.raises(TypeError, match="sizes must be a sequence of fractions or counts"):
        train_val_test_split(np.zeros((10, 2)), np.zeros(10), sizes)
    assert [len(p) for p in train_val_test_split(np.zeros(10), None, np.array([0.5, 0.5]))] == [5, 5]
