"""xg.save / xg.load: round trips, atomic writes, and files that are truncated, corrupt or
hostile (pickles, lying headers, bombs), which must raise ValueError and execute nothing."""

import io
import json
import math
import os
import pickle
import zipfile

import numpy as np
import pytest

import xpgrad as xg
from xpgrad import serialization
from xpgrad.serialization import load, save

EXECUTED = []


def _mark_executed(*args):
    EXECUTED.append(args)
    return args


class _Exploit:
    """Unpickling this calls _mark_executed: a stand-in for arbitrary code execution."""

    def __reduce__(self):
        return (_mark_executed, ("pwned",))


def npy_bytes(array, allow_pickle=False) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def write_npz(path, manifest, members: dict[str, bytes], compression=zipfile.ZIP_STORED):
    """An .npz whose manifest and members are exactly what the test says (valid or not)."""
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        if manifest is not None:
            text = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
            zf.writestr("__manifest__.npy", npy_bytes(np.frombuffer(text, np.uint8)))
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def manifest_for(arrays: dict, tree=None):
    return {"format": "xpgrad-state", "version": 1,
            "tree": tree if tree is not None else {"t": "dict", "v": [
                [k, {"t": "array", "key": k}] for k in arrays]},
            "arrays": {k: {"dtype": a.dtype.str, "shape": list(a.shape)} for k, a in arrays.items()}}


def assert_same(a, b):
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert type(b) is dict and list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b)
    else:
        assert type(a) is type(b) and a == b


# ---- round trips ------------------------------------------------------------------------------
def test_round_trip_of_a_nested_state(tmp_path):
    state = {
        "model": {"0.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
                  "0.bias": np.zeros(3, np.float64), "bn.num_batches": np.array(7, np.int64)},
        "optimizer": {"state": {0: {"step": 3, "exp_avg": np.ones((2, 3), np.float32)}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1],
                                        "nesterov": False, "name": None}]},
        "epoch": 12, "best": float("inf"), "worst": float("-inf"), "nan": float("nan"),
        "tiny": 5e-324, "big": 2**100, "text": "λ ünïcode", "empty": {}, "nothing": [],
        "dtypes": [np.array([True, False]), np.arange(3, dtype=np.int8),
                   np.arange(3, dtype=np.uint16), np.ones(2, np.float16),
                   np.array([1 + 2j], np.complex64), np.zeros((0, 4), np.float32),
                   np.asfortranarray(np.arange(6.0).reshape(2, 3))],
        "scalar": np.float32(2.5),
    }
    path = tmp_path / "ckpt.npz"
    save(state, path)
    loaded = load(path)
    expected = dict(state)
    expected["dtypes"] = [np.asarray(a) for a in state["dtypes"]]
    assert_same(expected, loaded)
    assert loaded["dtypes"][-1].flags.writeable


def test_tensors_are_stored_as_arrays(tmp_path, backend):
    w = xg.tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    path = str(tmp_path / "t.xg")  # any name: no .npz is appended
    save({"w": w, "labels": xg.tensor([1, 2])}, path)
    assert os.listdir(tmp_path) == ["t.xg"]
    loaded = load(path)
    assert isinstance(loaded["w"], np.ndarray) and loaded["w"].dtype == np.float32
    np.testing.assert_array_equal(loaded["w"], w.numpy())
    assert loaded["labels"].dtype == np.int64


@pytest.mark.parametrize("scalar", [
    np.float64(0.25), np.float64("nan"), np.float32(0.1), np.float16(-2.5), np.int64(-3),
    np.uint8(255), np.int32(2**31 - 1), np.bool_(True), np.complex128(1 - 2j)])
def test_numpy_scalars_load_back_as_the_same_numpy_scalars(tmp_path, scalar):
    save({"x": scalar, "in_list": [scalar]}, tmp_path / "s")
    loaded = load(tmp_path / "s")
    for value in (loaded["x"], loaded["in_list"][0]):
        assert type(value) is type(scalar) and value.dtype == scalar.dtype
        np.testing.assert_array_equal(value, scalar)


def test_a_checkpoint_with_numpy_scalars_round_trips(tmp_path):
    """np.logspace learning rates end up in the optimizer state and in History: a real
    checkpoint of them must load back and resume the optimizer with the same rates."""
    model = xg.nn.Linear(3, 2)
    lr = np.logspace(-3, -1, 5)[2]  # np.float64
    opt = xg.optim.Adam(model.parameters(), lr=lr)
    loss = (model(xg.tensor(np.ones((4, 3), np.float32))) ** 2).mean()
    loss.backward()
    opt.step()
    history = xg.train.History()
    history.record(1, {"loss": loss.item(), "lr": opt.param_groups[0]["lr"]})
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(),
             "history": history.history, "best_loss": np.float64(0.25), "epoch": np.int64(1)}
    save(state, tmp_path / "ckpt.npz")
    loaded = load(tmp_path / "ckpt.npz")
    assert loaded["best_loss"] == 0.25 and type(loaded["best_loss"]) is np.float64
    assert loaded["epoch"] == 1 and type(loaded["epoch"]) is np.int64
    assert loaded["history"]["lr"] == [lr] and type(loaded["history"]["lr"][0]) is np.float64
    resumed = xg.optim.Adam(model.parameters(), lr=1.0)
    resumed.load_state_dict(loaded["optimizer"])
    assert resumed.param_groups[0]["lr"] == lr
    np.testing.assert_array_equal(loaded["model"]["weight"], model.weight.numpy())


def test_a_scalar_node_must_reference_a_0d_array(tmp_path):
    arrays = {"a0": np.zeros(2)}
    write_npz(tmp_path / "f", manifest_for(arrays, {"t": "scalar", "key": "a0"}),
              {"a0.npy": npy_bytes(arrays["a0"])})
    with pytest.raises(ValueError, match="scalar a0 has shape"):
        load(tmp_path / "f")


def test_int_and_str_keys_stay_distinct(tmp_path):
    save({1: "int", "1": "str"}, tmp_path / "k")
    assert load(tmp_path / "k") == {1: "int", "1": "str"}


@pytest.mark.parametrize("bad", [object(), {(1, 2): 1}, {1.5: 1}, np.array([object()]),
                                 np.array(["text"]), lambda: 0])
def test_save_rejects_what_it_cannot_store_and_writes_nothing(tmp_path, bad):
    with pytest.raises(TypeError):
        save({"x": bad}, tmp_path / "f")
    assert os.listdir(tmp_path) == []


# ---- atomic writes ----------------------------------------------------------------------------
def test_a_failing_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    save({"w": np.ones(3)}, path)
    before = path.read_bytes()

    def broken_savez(f, **members):
        f.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(serialization.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save({"w": np.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt"]  # the temporary file is gone
    monkeypatch.undo()
    np.testing.assert_array_equal(load(path)["w"], np.ones(3))


def test_an_unstorable_object_leaves_the_existing_file_untouched(tmp_path):
    path = tmp_path / "ckpt"
    save({"w": np.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        save({"w": np.zeros(3), "bad": object()}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("umask,expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_its_mode_from_the_umask(tmp_path, umask, expected):
    old = os.umask(umask)
    try:
        save({"v": 1}, tmp_path / "new")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "new").st_mode & 0o7777 == expected


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_overwriting_keeps_the_files_mode(tmp_path):
    path = tmp_path / "c"
    save({"v": 1}, path)
    os.chmod(path, 0o640)
    save({"v": 2}, path)
    assert os.stat(path).st_mode & 0o7777 == 0o640 and load(path) == {"v": 2}


def test_an_error_names_the_file_asked_for(tmp_path):
    path = tmp_path / "missing" / "ckpt.npz"
    with pytest.raises(FileNotFoundError) as info:
        save({"v": 1}, path)
    assert info.value.filename == str(path) and ".tmp" not in str(info.value)


def test_save_replaces_an_existing_file(tmp_path):
    save({"v": 1}, tmp_path / "c")
    save({"v": 2}, tmp_path / "c")
    assert load(tmp_path / "c") == {"v": 2}
    assert os.listdir(tmp_path) == ["c"]


def test_tuple_and_list_subclasses_are_stored_as_their_base(tmp_path):
    import collections

    Pair = collections.namedtuple("Pair", "a b")

    class Steps(list):
        pass

    save({"pair": Pair(1, np.ones(2)), "steps": Steps([1, 2])}, tmp_path / "c")
    state = load(tmp_path / "c")
    assert type(state["pair"]) is tuple and state["pair"][0] == 1
    np.testing.assert_array_equal(state["pair"][1], np.ones(2))
    assert type(state["steps"]) is list and state["steps"] == [1, 2]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_saving_through_a_symbolic_link_replaces_its_target(tmp_path):
    save({"v": 1}, tmp_path / "target")
    os.symlink(tmp_path / "target", tmp_path / "link")
    save({"v": 2}, tmp_path / "link")
    assert os.path.islink(tmp_path / "link")
    assert load(tmp_path / "target") == {"v": 2}
    assert sorted(os.listdir(tmp_path)) == ["link", "target"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_saving_into_a_fifo_writes_into_it_instead_of_replacing_it(tmp_path):
    """A device or FIFO is written into, as open(path, "wb") would: the rename replaced it by a
    regular file (as root, xg.save(obj, "/dev/null") would have replaced /dev/null)."""
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    save({"v": np.arange(3)}, fifo)
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and sorted(os.listdir(tmp_path)) == ["pipe"]
    (tmp_path / "copy").write_bytes(received[0])
    np.testing.assert_array_equal(load(tmp_path / "copy")["v"], np.arange(3))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="POSIX permissions, not root")
def test_a_read_only_file_is_not_replaced(tmp_path):
    path = tmp_path / "kept"
    save({"v": 1}, path)
    os.chmod(path, 0o444)
    with pytest.raises(PermissionError):
        save({"v": 2}, path)
    assert load(path) == {"v": 1}


# ---- truncated, corrupt and hostile files -----------------------------------------------------
def _valid_bytes(tmp_path):
    save({"w": np.arange(1000, dtype=np.float32), "step": 3}, tmp_path / "good")
    return (tmp_path / "good").read_bytes()


def test_a_compressed_member_is_rejected_before_it_is_inflated(tmp_path):
    """A 64 MiB array deflates to ~64 KiB: a small hostile file could make load allocate
    gigabytes (the declared sizes are right). save stores members uncompressed."""
    import zipfile

    save({"w": np.zeros(1 << 24, np.float32)}, tmp_path / "plain")
    with zipfile.ZipFile(tmp_path / "plain") as source, zipfile.ZipFile(
            tmp_path / "bomb", "w", compression=zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            bomb.writestr(info.filename, source.read(info))
    assert os.path.getsize(tmp_path / "bomb") < 1 << 20
    with pytest.raises(ValueError, match="is compressed; xpgrad writes stored members only"):
        load(tmp_path / "bomb")


def test_every_truncation_is_rejected(tmp_path):
    data = _valid_bytes(tmp_path)
    for cut in sorted({0, 1, 3, 10, 50, 100, 500, len(data) // 2, len(data) - 30, len(data) - 1}):
        (tmp_path / "cut").write_bytes(data[:cut])
        with pytest.raises(ValueError, match="not a valid xpgrad state file"):
            load(tmp_path / "cut")


def test_flipped_bytes_are_rejected(tmp_path):
    data = _valid_bytes(tmp_path)
    start = data.index(b"a0.npy") + 200  # inside the stored array values
    corrupt = bytearray(data)
    corrupt[start] ^= 0xFF
    (tmp_path / "bad").write_bytes(bytes(corrupt))
    with pytest.raises(ValueError, match="CRC|not a valid"):
        load(tmp_path / "bad")


@pytest.mark.parametrize("offset, value", [(10, 99), (8, 0x1), (8, 0x40), (6, 97)])
def test_zip_features_that_zipfile_cannot_read_are_rejected(tmp_path, offset, value):
    # In the last member's central directory entry: an unknown compression method (offset 10),
    # the encryption flags (8: traditional, strong), a later zip version needed to extract (6).
    # zipfile raises NotImplementedError or RuntimeError for these; load, its ValueError.
    data = bytearray(_valid_bytes(tmp_path))
    entry = data.rfind(b"PK\x01\x02")
    data[entry + offset : entry + offset + 2] = value.to_bytes(2, "little")
    (tmp_path / "bad").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not a valid xpgrad state file"):
        load(tmp_path / "bad")


def test_a_pickle_file_is_rejected_without_running_it(tmp_path):
    (tmp_path / "evil").write_bytes(pickle.dumps({"w": _Exploit()}))
    with pytest.raises(ValueError):
        load(tmp_path / "evil")
    assert EXECUTED == []


def test_a_pickled_object_array_is_rejected_without_running_it(tmp_path):
    evil = np.array([_Exploit(), 1], dtype=object)
    for dtype in ("|O", "<f8"):  # the manifest tells the truth, or lies about the dtype
        manifest = manifest_for({"a0": np.zeros(2)})
        manifest["arrays"]["a0"]["dtype"] = dtype
        write_npz(tmp_path / "evil", manifest, {"a0.npy": npy_bytes(evil, allow_pickle=True)})
        with pytest.raises(ValueError):
            load(tmp_path / "evil")
    assert EXECUTED == []


@pytest.mark.parametrize("manifest,match", [
    (b"{not json", "not a valid"),
    (b"[1, 2]", "manifest"),
    ({"format": "other", "version": 1, "tree": {"t": "none"}, "arrays": {}}, "manifest"),
    ({"format": "xpgrad-state", "version": 2, "tree": {"t": "none"}, "arrays": {}}, "version"),
    ({"format": "xpgrad-state", "version": 1, "tree": {"t": "eval", "v": "1"}, "arrays": {}},
     "unknown node"),
    ({"format": "xpgrad-state", "version": 1, "tree": {"t": "int", "v": "1"}, "arrays": {}},
     "int node"),
    ({"format": "xpgrad-state", "version": 1, "tree": {"t": "array", "key": "a0"}, "arrays": {}},
     "missing"),
    ({"format": "xpgrad-state", "version": 1, "tree": {"t": "none"}, "arrays": {},
      "extra": 1}, "malformed"),
])
def test_bad_manifests_are_rejected(tmp_path, manifest, match):
    write_npz(tmp_path / "f", manifest, {})
    with pytest.raises(ValueError, match=match):
        load(tmp_path / "f")


def test_deeply_nested_structure_is_rejected(tmp_path):
    text = ('{"format":"xpgrad-state","version":1,"arrays":{},"tree":'
            + '{"t":"list","v":[' * 5000 + '{"t":"none"}' + "]}" * 5000 + "}").encode()
    write_npz(tmp_path / "deep", text, {})
    with pytest.raises(ValueError):
        load(tmp_path / "deep")


def test_members_must_match_the_manifest(tmp_path):
    a = np.zeros(3, np.float32)
    write_npz(tmp_path / "extra", manifest_for({"a0": a}), {"a0.npy": npy_bytes(a),
                                                            "a1.npy": npy_bytes(a)})
    write_npz(tmp_path / "missing", manifest_for({"a0": a, "a1": a}), {"a0.npy": npy_bytes(a)})
    twice = manifest_for({"a0": a}, tree={"t": "list", "v": [{"t": "array", "key": "a0"}] * 2})
    write_npz(tmp_path / "twice", twice, {"a0.npy": npy_bytes(a)})
    unused = manifest_for({"a0": a}, tree={"t": "none"})
    write_npz(tmp_path / "unused", unused, {"a0.npy": npy_bytes(a)})
    wrong = manifest_for({"a0": np.zeros(4, np.float32)})
    write_npz(tmp_path / "shape", wrong, {"a0.npy": npy_bytes(a)})
    write_npz(tmp_path / "nomanifest", None, {"a0.npy": npy_bytes(a)})
    for name in ("extra", "missing", "twice", "unused", "shape", "nomanifest"):
        with pytest.raises(ValueError):
            load(tmp_path / name)


def test_lying_sizes_are_rejected_before_allocating(tmp_path):
    # An .npy header claiming 10^12 float64 values over a few bytes of data.
    header = npy_bytes(np.zeros(1))
    lie = header.replace(b"(1,)", b"(1000000000000,)".ljust(4))
    huge = {"format": "xpgrad-state", "version": 1, "tree": {"t": "array", "key": "a0"},
            "arrays": {"a0": {"dtype": "<f8", "shape": [10**12]}}}
    write_npz(tmp_path / "lie", huge, {"a0.npy": _fix_header(lie)})
    with pytest.raises(ValueError, match="declares|max_bytes"):
        load(tmp_path / "lie")


def _fix_header(npy: bytes) -> bytes:
    """Re-pad an edited .npy v1 header so its length field is right again."""
    length = int.from_bytes(npy[8:10], "little")
    header = npy[10:].split(b"\n", 1)[0].rstrip() + b"\n"
    header = header[:-1].ljust(length - 1) + b"\n" if len(header) <= length else header
    return npy[:8] + len(header).to_bytes(2, "little") + header + b"\0" * 8


def test_other_files_are_rejected(tmp_path):
    np.save(tmp_path / "plain.npy", np.ones(3))
    with pytest.raises(ValueError, match="zip"):
        load(tmp_path / "plain.npy")
    np.savez(tmp_path / "foreign.npz", w=np.ones(3))
    with pytest.raises(ValueError, match="manifest"):
        load(tmp_path / "foreign.npz")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(ValueError):
        load(tmp_path / "empty")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "does-not-exist")


def test_numpy_strings_are_saved_as_str(tmp_path):
    """np.str_ (what indexing a NumPy array of names gives) was refused though str is saved."""
    names = np.array(["relu", "tanh"])
    save({"act": names[0], "acts": list(names), names[1]: 1}, tmp_path / "s")
    loaded = load(tmp_path / "s")
    assert loaded == {"act": "relu", "acts": ["relu", "tanh"], "tanh": 1}
    assert type(loaded["act"]) is str and type(loaded["acts"][1]) is str


def test_names_up_to_the_file_systems_limit_are_saved(tmp_path):
    # The temporary file ".{name}.{16 hex}.tmp" was 22 characters longer than the name: a name
    # of 234-255 characters, which open() takes, failed as "File name too long".
    for length in (230, 240, 255):
        path = tmp_path / ("x" * (length - 4) + ".npz")
        xg.save({"a": 1}, path)
        assert xg.load(path) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted("x" * (n - 4) + ".npz" for n in (230, 240, 255))


def test_saving_onto_a_directory_names_it(tmp_path):
    with pytest.raises(IsADirectoryError) as raised:  # the message named '.tmp…tmp' -> dir
        xg.save({"a": 1}, tmp_path)
    assert raised.value.filename == str(tmp_path) and ".tmp" not in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_an_empty_path_is_rejected_before_anything_is_written(tmp_path, monkeypatch):
    """abspath("") is the current directory: save wrote its temporary file beside it, in the
    parent, then failed renaming it to ''. Now FileNotFoundError, as open("") and load("")."""
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    for call in (lambda: xg.save({"a": 1}, ""), lambda: xg.load("")):
        with pytest.raises(FileNotFoundError, match=r"No such file or directory: ''$"):
            call()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["cwd"]
