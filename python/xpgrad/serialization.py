"""xg.save / xg.load: state dicts in an .npz file that loads without pickle.

The file is a NumPy ``.npz`` (a zip of ``.npy`` members): one member ``a<i>.npy`` per array and
a member ``__manifest__.npy`` holding UTF-8 JSON::

    {"format": "xpgrad-state", "version": 1,
     "tree": <the structure, arrays replaced by {"t": "array", "key": "a0"}>,
     "arrays": {"a0": {"dtype": "<f4", "shape": [784, 512]}, ...}}

A NumPy scalar (``np.float64(0.25)``, ``np.int64(3)``, ``np.bool_(True)``...) is stored as a
0-d array referenced by ``{"t": "scalar", "key": ...}`` and loads back as the same NumPy
scalar, dtype included.

Loading parses and checks the manifest and every ``.npy`` header against it before any array
is read, reads with ``allow_pickle=False``, and rejects anything unexpected (unknown members,
object or structured dtypes, sizes beyond the declared ones) with a ValueError: a file can
describe data, never run code.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import secrets
import stat
import zipfile
import zlib
from typing import Any

import numpy as np

FORMAT = "xpgrad-state"
VERSION = 1
MANIFEST = "__manifest__"
MAX_DEPTH = 64
MAX_MANIFEST_BYTES = 64 << 20
_NPY_HEADER_SLACK = 1 << 16  # an .npy member is its header (< 64 KiB) plus the raw values
_DTYPE_KINDS = "biufc"


class _Encoder:
    """Turns a state dict into a JSON-able tree plus a dict of named arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, value, kind: str = "array") -> dict:
        array = np.asarray(value)
        if array.dtype.kind not in _DTYPE_KINDS or array.dtype.fields is not None:
            raise TypeError(f"cannot save arrays of dtype {array.dtype}: only bool, integer, "
                            "float and complex arrays")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = array if array.flags.c_contiguous else np.ascontiguousarray(array)
        return {"t": kind, "key": key}

    def node(self, obj, depth: int = 0) -> dict:
        if depth > MAX_DEPTH:
            raise ValueError(f"state nested deeper than {MAX_DEPTH} levels")
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, str):  # before np.generic: np.str_ is a str, stored as one
            return {"t": "str", "v": str(obj)}
        if isinstance(obj, np.generic):  # before bool/int/float: np.float64 is a float
            return self.array(obj, "scalar")
        if isinstance(obj, bool):
            return {"t": "bool", "v": obj}
        if isinstance(obj, int):
            return {"t": "int", "v": obj}
        if isinstance(obj, float):
            # float's repr round-trips exactly, nan/inf included (a subclass's own repr may not)
            return {"t": "float", "v": float.__repr__(obj)}
        if isinstance(obj, (list, tuple)):  # a subclass (a namedtuple) is stored as its base
            return {"t": "tuple" if isinstance(obj, tuple) else "list", "v": [self.node(x, depth + 1) for x in obj]}
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise TypeError(f"dict keys must be str or int, got {type(key).__name__}")
                items.append([key, self.node(value, depth + 1)])
            return {"t": "dict", "v": items}
        if isinstance(obj, np.ndarray):
            return self.array(obj)
        if callable(getattr(obj, "numpy", None)):  # Tensor
            return self.array(obj.numpy())
        if hasattr(obj, "__cuda_array_interface__") and callable(getattr(obj, "get", None)):
            return self.array(obj.get())  # a CuPy array, copied to the host
        raise TypeError(f"cannot save an object of type {type(obj).__name__}")


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of arrays, Tensors, NumPy scalars, int, float,
    bool, str, None; dict keys str or int) to ``path`` atomically (:func:`atomic_file`).

    ``obj`` is encoded first, so something that cannot be stored raises TypeError before any
    file is touched. Tensors are stored as NumPy arrays of the same dtype and shape; dict, list
    and tuple subclasses (a namedtuple) as plain dicts, lists and tuples, a NumPy string
    (``np.str_``) as a str.
    """
    encoder = _Encoder()
    tree = encoder.node(obj)
    manifest = {"format": FORMAT, "version": VERSION, "tree": tree,
                "arrays": {k: {"dtype": a.dtype.str, "shape": list(a.shape)}
                           for k, a in encoder.arrays.items()}}
    text = json.dumps(manifest, allow_nan=False, separators=(",", ":")).encode()
    members = {MANIFEST: np.frombuffer(text, dtype=np.uint8), **encoder.arrays}
    with atomic_file(path) as f:
        np.savez(f, **members)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike):
    """``with atomic_file(path) as f: f.write(...)`` writes ``path`` all or nothing.

    The data goes to a temporary file in the same directory, flushed to disk (fsync) and renamed
    over ``path`` when the block ends: a crash or error leaves either the old file or the new
    one, never a mixture (an error removes the temporary file). A symbolic link is followed: its
    target is replaced, the link kept. The file gets the permissions a plain ``open(path, "wb")``
    would give it: those of the file it replaces, else 0o666 less the umask; a file that
    ``open`` could not write (read-only) is not replaced either. A device or FIFO (/dev/null, a
    pipe) is written into, as ``open`` would, not replaced by a regular file.
    """
    path = os.fspath(path)
    if not path:  # abspath("") is the cwd: the temporary file would go into its parent
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
    if os.path.islink(path):
        path = os.path.realpath(path)
    try:
        status = os.stat(path)
    except FileNotFoundError:
        status = None
    if status is not None and stat.S_ISDIR(status.st_mode):  # (the rename would name the temporary file)
        raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
    if status is not None and not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, "Permission denied (the file is read-only)", path)
    if status is not None and not stat.S_ISREG(status.st_mode):
        with open(path, "wb") as f:
            yield f
        return
    mode = None if status is None else stat.S_IMODE(status.st_mode)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(os.path.dirname(os.path.abspath(path)))


def _create_temporary(path: str) -> tuple[int, str]:
    """A new, empty file next to ``path``: (descriptor open for writing, its name).

    Created with mode 0o666, which the umask reduces as for any new file (``tempfile.mkstemp``
    would make it 0o600, and the rename would carry that over to ``path``).
    """
    directory, name = os.path.split(os.path.abspath(path))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    # ".{name}.{16 hex digits}.tmp" is 22 characters longer than the name: cut the name so that
    # any name the file system takes (255 bytes) has a temporary one too.
    stem = os.fsdecode(os.fsencode(name)[:200])
    for _ in range(100):
        tmp = os.path.join(directory, f".{stem}.{secrets.token_hex(8)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
        except OSError as exc:  # name the file asked for, not the temporary one
            raise type(exc)(exc.errno, exc.strerror, path) from None
    raise FileExistsError(f"no unused temporary file name next to {path}")


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- loading --------------------------------------------------------------------------------
_ARRAY_KEY = re.compile(r"a[0-9]{1,9}")
_DTYPE = re.compile(r"[<>|=]?[biufc][0-9]{1,2}")
_LEAF_TYPES = {"bool": bool, "int": int, "str": str}


def _npy_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo):
    """(shape, dtype, header length) of an ``.npy`` member, read without touching its data
    (NumPy's own header parser, which limits the header's size and uses ast.literal_eval)."""
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"member {info.filename}: unsupported .npy version {version}")
        return shape, dtype, f.tell()


def _check_member(zf, info, dtype: np.dtype, shape: tuple) -> int:
    """The member's .npy header must match the manifest, and its size must be header + data;
    returns that size."""
    found_shape, found_dtype, header = _npy_header(zf, info)
    if found_dtype != dtype or tuple(found_shape) != shape:
        raise ValueError(f"member {info.filename} holds {found_dtype} {tuple(found_shape)}, "
                         f"the manifest says {dtype} {shape}")
    nbytes = math.prod(shape) * dtype.itemsize
    if info.file_size != header + nbytes:
        raise ValueError(f"member {info.filename} declares {info.file_size} bytes, "
                         f"expected {header + nbytes} for {dtype} {shape}")
    return info.file_size


def _parse_manifest(text: bytes) -> tuple[Any, dict[str, tuple[np.dtype, tuple]]]:
    manifest = json.loads(text.decode("utf-8"))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"not an {FORMAT} manifest")
    version = manifest.get("version")
    if version != VERSION:
        raise ValueError(f"format version {version!r}; this xpgrad reads version {VERSION}")
    if set(manifest) != {"format", "version", "tree", "arrays"} \
            or not isinstance(manifest["arrays"], dict):
        raise ValueError("malformed manifest")
    arrays = {}
    for key, spec in manifest["arrays"].items():
        if not _ARRAY_KEY.fullmatch(key) or not isinstance(spec, dict) \
                or set(spec) != {"dtype", "shape"}:
            raise ValueError(f"malformed array entry {key!r}")
        dtype, shape = spec["dtype"], spec["shape"]
        if not isinstance(dtype, str) or not _DTYPE.fullmatch(dtype):
            raise ValueError(f"array {key}: dtype {dtype!r} is not allowed")
        if not isinstance(shape, list) or len(shape) > 32 or not all(
                type(n) is int and n >= 0 for n in shape):
            raise ValueError(f"array {key}: bad shape {shape!r}")
        arrays[key] = (np.dtype(dtype), tuple(shape))
    return manifest["tree"], arrays


def _decode(node, arrays: dict, used: set, depth: int = 0):
    if depth > MAX_DEPTH:
        raise ValueError(f"structure nested deeper than {MAX_DEPTH} levels")
    if not isinstance(node, dict) or not isinstance(node.get("t"), str):
        raise TypeError(f"malformed node {node!r:.80}")
    kind = node["t"]
    expected_keys = ({"t"} if kind == "none" else {"t", "key"} if kind in ("array", "scalar")
                     else {"t", "v"})
    if set(node) != expected_keys:
        raise ValueError(f"malformed {kind} node")
    value = node.get("v")
    if kind == "none":
        return None
    if kind in _LEAF_TYPES:
        if type(value) is not _LEAF_TYPES[kind]:
            raise ValueError(f"{kind} node holds {type(value).__name__}")
        return value
    if kind == "float":
        if not isinstance(value, str):
            raise ValueError("float node must hold its repr")
        return float(value)
    if kind in ("list", "tuple"):
        if not isinstance(value, list):
            raise ValueError(f"{kind} node must hold a list")
        items = [_decode(x, arrays, used, depth + 1) for x in value]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        if not isinstance(value, list):
            raise ValueError("dict node must hold a list of pairs")
        out = {}
        for pair in value:
            if not isinstance(pair, list) or len(pair) != 2 or type(pair[0]) not in (str, int):
                raise ValueError("dict entries must be [str or int key, node] pairs")
            out[pair[0]] = _decode(pair[1], arrays, used, depth + 1)
        return out
    if kind in ("array", "scalar"):
        key = node["key"]
        if not isinstance(key, str) or key not in arrays or key in used:
            raise ValueError(f"array reference {key!r} is missing or used twice")
        used.add(key)
        if kind == "array":
            return arrays[key]
        if arrays[key].ndim != 0:
            raise ValueError(f"scalar {key} has shape {arrays[key].shape}")
        return arrays[key][()]
    raise ValueError(f"unknown node type {kind!r}")


def load(path: str | os.PathLike, max_bytes: int = 1 << 34) -> Any:
    """Read a file written by :func:`save`; arrays come back as NumPy arrays (Tensors were
    stored as arrays: ``Module.load_state_dict`` and the optimizers move them to a backend).

    Everything is checked before it is used: the zip structure, the manifest's format and
    version, that the members are exactly the arrays the manifest lists, each ``.npy`` header
    against the manifest's dtype and shape, the declared sizes (at most ``max_bytes`` in all),
    that no member is compressed (``save`` stores them; a compressed one could inflate a small
    file to gigabytes), and that every array is referenced once. Arrays are read with ``allow_pickle=False``.
    A truncated, corrupt or hostile file raises ValueError; nothing in it is executed.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        try:
            return _load(f, max_bytes)
        except (ValueError, KeyError, TypeError, OSError, EOFError, SyntaxError, RecursionError,
                NotImplementedError, RuntimeError, zipfile.BadZipFile, zlib.error) as exc:
            # (zipfile raises NotImplementedError for an unknown compression or zip version,
            # RuntimeError for an encrypted member)
            raise ValueError(f"{path} is not a valid xpgrad state file: {exc}") from None


def _load(f, max_bytes: int):
    if f.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise ValueError("not a zip/.npz file")
    f.seek(0)
    with zipfile.ZipFile(f) as zf:
        infos = zf.infolist()
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            raise ValueError("duplicate members")
        for info in infos:  # save stores them: a compressed member could inflate a small file to GiBs
            if info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"member {info.filename} is compressed; xpgrad writes stored members only")
        members = dict(zip(names, infos))
        manifest_info = members.get(MANIFEST + ".npy")
        if manifest_info is None or manifest_info.file_size > MAX_MANIFEST_BYTES:
            raise ValueError("no manifest, or one larger than the limit")
        shape, dtype, _ = _npy_header(zf, manifest_info)
        if dtype != np.uint8 or len(shape) != 1:
            raise ValueError("malformed manifest member")
        _check_member(zf, manifest_info, dtype, tuple(shape))
        f.seek(0)
        with np.load(f, allow_pickle=False) as npz:
            tree, specs = _parse_manifest(npz[MANIFEST].tobytes())
            if set(names) != {MANIFEST + ".npy"} | {key + ".npy" for key in specs}:
                raise ValueError("the members do not match the arrays in the manifest")
            total = 0
            for key, (dtype, shape) in specs.items():
                total += _check_member(zf, members[key + ".npy"], dtype, shape)
                if total > max_bytes:
                    raise ValueError(f"the arrays declared add up to more than max_bytes={max_bytes}")
            arrays = {key: npz[key] for key in specs}
    used: set = set()
    obj = _decode(tree, arrays, used)
    if used != set(arrays):
        raise ValueError(f"arrays {sorted(set(arrays) - used)} are never referenced")
    return obj
