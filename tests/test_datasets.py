"""xg.datasets: the IDX reader, MNIST / Fashion-MNIST (local files, download, offline errors),
the shipped digits and the synthetic sets. No test reaches the network: downloads come from
a local HTTP server on 127.0.0.1."""

import contextlib
import dataclasses
import errno
import functools
import gzip
import hashlib
import http.server
import io
import math
import os
import re
import shutil
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import xpgrad.datasets as D
from xpgrad.datasets import download as download_module
from xpgrad.datasets import mnist
from xpgrad.datasets.download import download
from xpgrad.datasets.idx import read_idx

SHARED = Path(os.environ["XPGRAD_DATA"]) if os.environ.get("XPGRAD_DATA") else None


def shared_files(name: str, spec) -> Path:
    """XPGRAD_DATA/<name> when it holds all of spec's real files, else skip the test."""
    folder = SHARED / name if SHARED else None
    if folder is None or not all((folder / f).is_file() for f, _ in spec.files.values()):
        pytest.skip(f"real {name} files not found under XPGRAD_DATA={SHARED}")
    return folder
MNIST_HIST = {"train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
              "test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]}
FASHION_HIST = {"train": [6000] * 10, "test": [1000] * 10}


def idx_bytes(array: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
            np.float32: 0x0D, np.float64: 0x0E}[array.dtype.type]
    head = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# ---- IDX reader ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path, dtype, compress):
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    data = idx_bytes(array)
    path = write(tmp_path / "a.idx", gzip.compress(data) if compress else data)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("cut", [0, 3, 7, 20, -1])
def test_idx_truncated_raises(tmp_path, compress, cut):
    data = idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
    data = data[:cut]
    if compress:
        data = gzip.compress(data)
    with pytest.raises(ValueError, match="a.idx"):
        read_idx(write(tmp_path / "a.idx", data))


def test_idx_truncated_gzip_stream_raises(tmp_path):
    packed = gzip.compress(idx_bytes(np.arange(5000, dtype=np.int32)))
    with pytest.raises(ValueError, match="corrupt or truncated|truncated"):
        read_idx(write(tmp_path / "a.gz", packed[: len(packed) // 2]))


def test_idx_corrupt_gzip_raises(tmp_path):
    packed = bytearray(gzip.compress(idx_bytes(np.arange(5000, dtype=np.int32))))
    packed[len(packed) // 2] ^= 0xFF
    with pytest.raises(ValueError, match="a.gz"):
        read_idx(write(tmp_path / "a.gz", bytes(packed)))


@pytest.mark.parametrize("head,match", [
    (b"\x01\x00\x08\x01", "magic"), (b"\x00\x00\x07\x01", "magic"),
    (b"\x00\x00\x08\x00", "dimensions"), (b"\x00\x00\x08\x20", "dimensions"),
])
def test_idx_bad_header_raises(tmp_path, head, match):
    with pytest.raises(ValueError, match=match):
        read_idx(write(tmp_path / "a.idx", head + b"\x00" * 16))


def test_idx_never_trusts_declared_sizes(tmp_path):
    huge = struct.pack(">HBB", 0, 0x0E, 3) + struct.pack(">3I", 2**31, 2**31, 2**20) + b"\0" * 8
    for name, data in (("raw", huge), ("gz", gzip.compress(huge))):
        with pytest.raises(ValueError, match="max_bytes"):
            read_idx(write(tmp_path / name, data))
    small = struct.pack(">HBB", 0, 0x08, 1) + struct.pack(">I", 1000) + b"\0" * 10
    with pytest.raises(ValueError, match="1000"):
        read_idx(write(tmp_path / "small", small))  # raw: checked against the file size
    with pytest.raises(ValueError, match="truncated"):
        read_idx(write(tmp_path / "small.gz", gzip.compress(small)))
    with pytest.raises(ValueError, match="trailing"):
        read_idx(write(tmp_path / "long.gz", gzip.compress(idx_bytes(np.zeros(3, np.uint8)) + b"x")))



def test_a_tiny_gzip_declaring_gigabytes_allocates_only_what_it_holds(tmp_path):
    """A 30-byte gzip whose header declares 2 GiB of values allocated all of it (taking seconds)
    before it was found truncated: gzip values are now read in chunks."""
    import tracemalloc

    header = struct.pack(">HBB", 0, 0x08, 1) + struct.pack(">I", 2**31 - 1)
    path = write(tmp_path / "liar.gz", gzip.compress(header + b"\0" * 100))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="truncated IDX file: 100 of 2147483647 bytes"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20


# ---- MNIST / Fashion-MNIST from the real files ------------------------------------------------
@pytest.mark.parametrize("loader,name,spec,hist", [
    (D.load_mnist, "mnist", mnist.MNIST, MNIST_HIST),
    (D.load_fashion_mnist, "fashion-mnist", mnist.FASHION_MNIST, FASHION_HIST),
])
def test_real_dataset_from_xpgrad_data(loader, name, spec, hist):
    shared_files(name, spec)
    (X, y), (Xt, yt) = loader(download=False)  # root from $XPGRAD_DATA
    assert X.shape == (60000, 28, 28) and Xt.shape == (10000, 28, 28)
    assert X.dtype == np.uint8 and y.dtype == np.int64
    assert X.max() == 255 and X.min() == 0
    assert np.bincount(y).tolist() == hist["train"]
    assert np.bincount(yt).tolist() == hist["test"]


# ---- locating, verifying and downloading files (a tiny fake data set) ------------------------
@pytest.fixture
def tiny(tmp_path):
    """A 2-image IDX data set in tmp_path/source, and an IdxDataset naming it."""
    rng = np.random.default_rng(0)
    contents = {
        "train_images": idx_bytes(rng.integers(0, 256, (3, 28, 28)).astype(np.uint8)),
        "train_labels": idx_bytes(np.array([1, 2, 3], np.uint8)),
        "test_images": idx_bytes(rng.integers(0, 256, (2, 28, 28)).astype(np.uint8)),
        "test_labels": idx_bytes(np.array([4, 5], np.uint8)),
    }
    files = {}
    for role, data in contents.items():
        packed = gzip.compress(data, mtime=0)
        filename = role.replace("_", "-") + ".gz"
        write(tmp_path / "source" / filename, packed)
        files[role] = (filename, hashlib.md5(packed).hexdigest())
    return mnist.IdxDataset(name="tiny", files=files, mirrors=[]), tmp_path / "source"


@pytest.fixture
def server():
    """Serve a directory over HTTP on 127.0.0.1; yields serve(dir) -> base URL."""
    servers = []

    def serve(directory):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}/"

    yield serve
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _closed_port_url():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


@pytest.mark.parametrize("layout", ["named", "flat"])
def test_local_files_found_in_root_or_root_name(tiny, tmp_path, layout):
    spec, source = tiny
    root = tmp_path / "root"
    shutil.copytree(source, root / "tiny" if layout == "named" else root)
    (X, y), (Xt, yt) = mnist.load_idx_dataset(spec, root, download=False)
    assert X.shape == (3, 28, 28) and Xt.shape == (2, 28, 28) and y.tolist() == [1, 2, 3] and yt.tolist() == [4, 5]
    assert y.dtype == np.int64


def test_decompressed_official_files_are_found_by_their_own_checksums(tiny, tmp_path):
    # a directory of gunzipped files (torchvision's raw/ holds them so) was reported missing
    spec, source = tiny
    root = tmp_path / "root" / "tiny"
    root.mkdir(parents=True)
    unpacked_md5 = {}
    for role, (filename, _) in spec.files.items():
        data = gzip.decompress((source / filename).read_bytes())
        write(root / filename.removesuffix(".gz"), data)
        unpacked_md5[role] = hashlib.md5(data).hexdigest()
    spec = dataclasses.replace(spec, unpacked_md5=unpacked_md5)
    (X, y), (Xt, yt) = mnist.load_idx_dataset(spec, tmp_path / "root", download=False)
    assert X.shape == (3, 28, 28) and y.tolist() == [1, 2, 3] and yt.tolist() == [4, 5]
    write(root / "train-labels", b"corrupt")
    with pytest.raises(FileNotFoundError, match=r"missing files train-labels.gz(.|\n)*wrong MD5(.|\n)*train-labels"):
        mnist.load_idx_dataset(spec, tmp_path / "root", download=False)


def test_the_shipped_checksums_of_the_decompressed_files_are_the_official_files(tmp_path):
    data = os.environ.get("XPGRAD_DATA")
    if not data or not os.path.isfile(os.path.join(data, "mnist", "train-labels-idx1-ubyte.gz")):
        pytest.skip("needs the MNIST / Fashion-MNIST files in $XPGRAD_DATA")
    for spec in (mnist.MNIST, mnist.FASHION_MNIST):
        for role, (filename, _) in spec.files.items():
            with gzip.open(os.path.join(data, spec.name, filename)) as f:
                assert hashlib.md5(f.read()).hexdigest() == spec.unpacked_md5[role], (spec.name, role)


def test_missing_files_without_download_name_files_directory_and_env(tiny, tmp_path):
    spec, _ = tiny
    with pytest.raises(FileNotFoundError) as err:
        mnist.load_idx_dataset(spec, tmp_path / "empty", download=False)
    message = str(err.value)
    for expected in ("train-images.gz", "test-labels.gz", str(tmp_path / "empty" / "tiny"),
                     "XPGRAD_DATA"):
        assert expected in message


@pytest.mark.parametrize("download", [False, True])
def test_a_data_root_that_is_a_file_is_named_as_such(tiny, tmp_path, monkeypatch, download):
    # XPGRAD_DATA at a regular file was reported as "missing files ... looked in FILE/tiny and FILE"
    spec, _ = tiny
    root = tmp_path / "afile"
    root.write_bytes(b"")
    monkeypatch.setenv("XPGRAD_DATA", str(root))
    with pytest.raises(NotADirectoryError, match=f"^tiny: {re.escape(str(root))} is not a directory"):
        mnist.load_idx_dataset(spec, None, download=download)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root searches any directory")
def test_a_data_directory_that_cannot_be_searched_is_named_as_such(tiny, tmp_path):
    # the files were there, but os.path.isfile said False: "missing files", download them again
    spec, source = tiny
    shutil.copytree(source, tmp_path / "root" / "tiny")
    (tmp_path / "root" / "tiny").chmod(0o600)
    try:
        with pytest.raises(PermissionError, match=f"^tiny: permission denied: {re.escape(str(tmp_path / 'root' / 'tiny'))}"):
            mnist.load_idx_dataset(spec, tmp_path / "root", download=False)
    finally:
        (tmp_path / "root" / "tiny").chmod(0o700)


def test_offline_download_error_is_clear(tiny, tmp_path):
    spec, _ = tiny
    with pytest.raises(RuntimeError) as err:
        mnist.load_idx_dataset(spec, tmp_path / "r", mirrors=[_closed_port_url()])
    message = str(err.value)
    for expected in ("train-images.gz", str(tmp_path / "r" / "tiny"), "XPGRAD_DATA",
                     "127.0.0.1"):
        assert expected in message
    assert not any(p.is_file() for p in (tmp_path / "r").rglob("*"))  # no partial files left


def test_download_from_local_mirror_with_fallback(tiny, tmp_path, server):
    spec, source = tiny
    empty = tmp_path / "nothing"
    empty.mkdir()
    mirrors = [server(empty), server(source)]  # the first mirror answers 404 for everything
    root = tmp_path / "r"
    _, (Xt, yt) = mnist.load_idx_dataset(spec, root, mirrors=mirrors)
    assert Xt.shape == (2, 28, 28) and yt.tolist() == [4, 5]
    assert sorted(p.name for p in (root / "tiny").iterdir()) == sorted(
        f for f, _ in spec.files.values())
    for filename, _ in spec.files.values():
        assert (root / "tiny" / filename).read_bytes() == (source / filename).read_bytes()


def test_a_failed_download_names_only_the_files_still_missing(tiny, tmp_path, server):
    """The error listed every file missing before downloading, so when only the last download
    failed it called the three files just downloaded missing (and their replaced bad copies
    corrupt)."""
    spec, source = tiny
    (source / "test-labels.gz").unlink()  # the mirror lacks one file
    root = tmp_path / "r"
    write(root / "tiny" / "train-labels.gz", b"corrupt")
    write(root / "tiny" / "test-labels.gz", b"corrupt")
    with pytest.raises(RuntimeError) as err:
        mnist.load_idx_dataset(spec, root, mirrors=[server(source)])
    message = str(err.value)
    assert message.startswith("tiny: missing files test-labels.gz\n")
    assert "wrong MD5 checksum" in message and str(root / "tiny" / "test-labels.gz") in message
    assert "train-labels.gz" not in message
    assert "test-labels.gz: HTTP Error 404" in message


def test_a_failed_download_leaves_no_directory_behind(tiny, tmp_path, server):
    """A typo'd root (--data-root /typo) was left created, with its dataset folder, after the
    download failed."""
    spec, _ = tiny
    empty = tmp_path / "nothing"
    empty.mkdir()
    with pytest.raises(RuntimeError, match="HTTP Error 404"):
        mnist.load_idx_dataset(spec, tmp_path / "typo" / "deeper", mirrors=[server(empty)])
    assert not (tmp_path / "typo").exists()


def test_download_rejects_a_wrong_checksum_and_leaves_nothing(tiny, tmp_path, server):
    spec, source = tiny
    bad = tmp_path / "bad"
    shutil.copytree(source, bad)
    (bad / "train-labels.gz").write_bytes(gzip.compress(b"not the right file"))
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        mnist.load_idx_dataset(spec, tmp_path / "r", mirrors=[server(bad)])
    assert not (tmp_path / "r" / "tiny" / "train-labels.gz").exists()
    assert not list((tmp_path / "r" / "tiny").glob(".*part"))


def test_corrupt_local_copy_is_reported_or_replaced(tiny, tmp_path, server):
    spec, source = tiny
    root = tmp_path / "r"
    shutil.copytree(source, root / "tiny")
    (root / "tiny" / "test-images.gz").write_bytes(b"garbage")
    with pytest.raises(FileNotFoundError, match="wrong MD5"):
        mnist.load_idx_dataset(spec, root, download=False)
    _, (Xt, _) = mnist.load_idx_dataset(spec, root, mirrors=[server(source)])
    assert Xt.shape == (2, 28, 28)
    assert (root / "tiny" / "test-images.gz").read_bytes() == (source / "test-images.gz").read_bytes()


def test_load_mnist_downloads_real_files_from_a_local_mirror(tmp_path, server):
    source = shared_files("mnist", mnist.MNIST)
    (X, y), (Xt, yt) = D.load_mnist(tmp_path, mirrors=[server(source)])
    assert X.shape == (60000, 28, 28) and Xt.shape == (10000, 28, 28)
    assert np.bincount(y).tolist() == MNIST_HIST["train"]
    assert np.bincount(yt).tolist() == MNIST_HIST["test"]
    assert {p.name for p in (tmp_path / "mnist").iterdir()} == {
        f for f, _ in mnist.MNIST.files.values()}


def test_root_defaults_to_env_then_cache(monkeypatch, tmp_path, tiny):
    monkeypatch.setenv("XPGRAD_DATA", str(tmp_path / "env"))
    assert mnist.data_root() == str(tmp_path / "env")
    assert mnist.data_root(tmp_path / "x") == str(tmp_path / "x")
    monkeypatch.delenv("XPGRAD_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist.data_root() == str(tmp_path / "home" / ".cache" / "xpgrad")
    assert mnist.data_root("~/x") == str(tmp_path / "home" / "x")  # a '~' directory was made
    monkeypatch.setenv("XPGRAD_DATA", "~/env")
    assert mnist.data_root() == str(tmp_path / "home" / "env")
    monkeypatch.delenv("XPGRAD_DATA")
    spec, source = tiny
    shutil.copytree(source, tmp_path / "home" / ".cache" / "xpgrad" / "tiny")
    monkeypatch.setattr(mnist, "MNIST", spec)
    (X, _), _ = D.load_mnist(download=False)
    assert X.shape == (3, 28, 28)


def test_download_helper_validates_mirrors(tmp_path, server):
    payload = b"hello" * 1000
    src = tmp_path / "src"
    write(src / "f.bin", payload)
    path = download("f.bin", tmp_path / "out", hashlib.md5(payload).hexdigest(), [server(src)])
    assert Path(path).read_bytes() == payload
    with pytest.raises(RuntimeError, match="could not download f.bin"):
        download("f.bin", tmp_path / "out2", "0" * 32, [server(src)])


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_failed_downloads_leak_no_file_descriptors(tmp_path):
    """Each failed mirror left the temporary file's descriptor open (urlopen raised before
    os.fdopen took it over)."""
    def open_fds():
        return len(os.listdir("/proc/self/fd"))

    before = open_fds()
    for _ in range(5):
        with pytest.raises(RuntimeError, match="could not download"):
            download("f.bin", tmp_path, "0" * 32, [_closed_port_url()])
    assert open_fds() == before
    assert os.listdir(tmp_path) == []


def test_an_unwritable_directory_is_a_local_error_not_a_mirror_failure(tiny, tmp_path, server,
                                                                        monkeypatch):
    """A directory that cannot be created or written was reported as each mirror's failure
    ('http://mirror/f: [Errno 13] Permission denied: .../.f.xyz.part'), after trying them all."""
    spec, source = tiny
    blocker = write(tmp_path / "a-file", b"")  # root/<name> cannot be created under a file
    with pytest.raises(OSError, match=re.escape(f"cannot write into {blocker / 'out'}")):
        download("train-labels.gz", blocker / "out", spec.files["train_labels"][1],
                 [server(source)])
    with pytest.raises(NotADirectoryError, match=f"{re.escape(str(blocker))} is not a directory"):
        mnist.load_idx_dataset(spec, blocker, mirrors=[server(source)])  # found before downloading

    def read_only(path, *args, **kwargs):  # what a read-only directory does to a non-root user
        raise PermissionError(13, "Permission denied", path)

    mirror = server(source)
    with monkeypatch.context() as patch:
        patch.setattr(download_module.os, "open", read_only)
        with pytest.raises(PermissionError) as err:
            download("train-labels.gz", tmp_path, spec.files["train_labels"][1], [mirror])
    assert f"cannot write into {tmp_path}: Permission denied" in str(err.value)
    assert mirror not in str(err.value)


def test_downloaded_files_get_the_usual_permissions(tmp_path, server):
    """Downloads were left with mkstemp's mode 0o600: a data directory shared through
    XPGRAD_DATA was unreadable to everyone but the user who downloaded it."""
    payload = b"shared" * 100
    write(tmp_path / "src" / "f.bin", payload)
    old = os.umask(0o022)
    try:
        path = download("f.bin", tmp_path / "out", hashlib.md5(payload).hexdigest(),
                        [server(tmp_path / "src")])
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o644


class _FullDisk(io.FileIO):
    """A file on a full disk: every write fails with ENOSPC."""

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")


def _no_space(*args):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("call,replacement", [
    ("fdopen", _FullDisk), ("fsync", _no_space), ("replace", _no_space),
], ids=["write", "fsync", "rename"])
def test_a_full_disk_is_a_local_error_not_a_mirror_failure(tmp_path, server, monkeypatch, call,
                                                           replacement):
    """ENOSPC (any OSError) writing the download was reported as the mirror's failure
    ('could not download f.bin: http://mirror/f.bin: [Errno 28] ...') and the next mirror tried,
    to fail the same way. It is now raised at once, as the OSError it is, naming the file; no
    temporary file is left and the file the user had is untouched."""
    payload = b"hello" * 1000
    write(tmp_path / "src" / "f.bin", payload)
    old = write(tmp_path / "out" / "f.bin", b"the file before")
    mirrors = [server(tmp_path / "src"), server(tmp_path / "src")]
    with monkeypatch.context() as patch:
        patch.setattr(download_module.os, call, replacement)
        with pytest.raises(OSError) as err:  # not RuntimeError: no list of mirror failures
            download("f.bin", tmp_path / "out", hashlib.md5(payload).hexdigest(), mirrors)
    assert err.value.errno == errno.ENOSPC
    assert str(err.value) == f"[Errno 28] writing {old} failed: No space left on device"
    assert os.listdir(tmp_path / "out") == ["f.bin"] and old.read_bytes() == b"the file before"


@pytest.fixture
def raw_server():
    """A TCP server on 127.0.0.1 that answers every connection with fixed bytes, then sends
    ``drip`` one byte every 10 ms (reply None: reads the request and never answers); yields
    serve(reply, drip=b"") -> base URL."""
    import socket

    listeners, stop = [], threading.Event()

    def answer(conn, reply, drip):
        with conn, contextlib.suppress(OSError):  # the client hung up
            conn.recv(65536)
            if reply is None:
                stop.wait()  # keep it open, silent
                return
            conn.sendall(reply)
            for i in range(len(drip)):
                if stop.wait(0.01):
                    return
                conn.sendall(drip[i:i + 1])

    def serve(reply, drip=b""):
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.1)
        listeners.append(listener)

        def loop():
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                threading.Thread(target=answer, args=(conn, reply, drip), daemon=True).start()

        threading.Thread(target=loop, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/"

    yield serve
    stop.set()
    for listener in listeners:
        listener.close()


@pytest.mark.parametrize("reply,match", [
    (b"GARBAGE\r\n\r\n", "bad HTTP response: BadStatusLine"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" + b"x" * 1000 + b"\r\n",
     "bad HTTP response: IncompleteRead"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 100,
     "connection closed after 100 of 5000 bytes"),
], ids=["not-http", "chunked-cut-short", "length-cut-short"])
def test_a_broken_mirror_is_reported_and_the_next_one_tried(tmp_path, server, raw_server, reply,
                                                            match):
    """A reply that is not HTTP, or a body cut short, is that mirror's failure: the next mirror
    is tried, and when none works the error names each (it was an uncaught http.client error)."""
    payload = b"hello" * 1000
    write(tmp_path / "src" / "f.bin", payload)
    md5 = hashlib.md5(payload).hexdigest()
    broken = raw_server(reply)
    path = download("f.bin", tmp_path / "out", md5, [broken, server(tmp_path / "src")])
    assert Path(path).read_bytes() == payload
    with pytest.raises(RuntimeError, match=match) as err:
        download("f.bin", tmp_path / "out2", md5, [broken])
    assert broken + "f.bin" in str(err.value)
    assert not (tmp_path / "out2").exists()  # nothing left, not even the directory


def test_a_server_that_never_answers_times_out(tmp_path, raw_server, monkeypatch):
    monkeypatch.setattr(download_module, "TIMEOUT_S", 0.3)
    silent = raw_server(None)
    with pytest.raises(RuntimeError, match="timed out"):
        download("f.bin", tmp_path / "out", "0" * 32, [silent])
    assert not (tmp_path / "out").exists()  # nothing left, not even the directory


def test_a_dripping_mirror_is_given_up_at_the_deadline(tmp_path, server, raw_server,
                                                      monkeypatch):
    """A server sending one byte every 10 ms never trips the per-read TIMEOUT_S, so the download
    took as long as the server liked. DEADLINE_S bounds the whole file: past it, that mirror has
    failed (named, with the bytes received and the deadline), nothing is left, the next is tried."""
    monkeypatch.setattr(download_module, "DEADLINE_S", 0.1)
    payload = b"hello" * 1000
    write(tmp_path / "src" / "f.bin", payload)
    md5 = hashlib.md5(payload).hexdigest()
    dripping = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", drip=payload)
    start = time.monotonic()
    path = download("f.bin", tmp_path / "out", md5, [dripping, server(tmp_path / "src")])
    assert Path(path).read_bytes() == payload
    with pytest.raises(RuntimeError) as err:
        download("f.bin", tmp_path / "out2", md5, [dripping])
    assert time.monotonic() - start < 5  # 50 s of dripping without the deadline
    assert re.search(re.escape(dripping) + r"f\.bin: not complete within the 0\.1 s deadline "
                     r"\(\d+ bytes received\)", str(err.value))
    assert not (tmp_path / "out2").exists()  # nothing left, not even the directory


def test_one_mirror_given_as_a_string_and_no_mirrors(tmp_path, server, tiny):
    """mirrors="http://host/" was iterated letter by letter ('h/f.bin: unknown url type' for
    each character); an empty list gave 'could not download f.bin:' and no reason."""
    spec, source = tiny
    _, (Xt, _) = mnist.load_idx_dataset(spec, tmp_path / "r", mirrors=server(source))
    assert Xt.shape == (2, 28, 28)
    with pytest.raises(RuntimeError, match="could not download f.bin: no mirrors given"):
        download("f.bin", tmp_path / "out", "0" * 32, [])


# ---- shipped digits and synthetic sets ---------------------------------------------------------
def test_load_digits_is_shipped_and_offline():
    X, y = D.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.uint8 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    shipped = Path(D.__file__).parent / "data"
    assert (shipped / "digits.csv.gz").is_file() and "CC BY 4.0" in (shipped / "README.md").read_text()


def test_make_xor_truth_table_and_noise():
    X, y = D.make_xor(4, noise=0.0)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    X, y = D.make_xor(400, noise=0.1, seed=0)
    assert X.dtype == np.float32 and y.dtype == np.int64 and np.bincount(y).tolist() == [200, 200]
    np.testing.assert_array_equal(X, D.make_xor(400, noise=0.1, seed=0)[0])
    assert 0.05 < np.std(X - np.round(X)) < 0.15


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_make_spirals(classes):
    X, y = D.make_spirals(301, classes=classes, noise=0.0, seed=0)
    assert X.shape == (301, 2) and set(y.tolist()) == set(range(classes))
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.max() == pytest.approx(1.0, abs=1e-6)


def test_make_moons_shape_and_geometry():
    X, y = D.make_moons(101, noise=0.0)
    assert X.shape == (101, 2) and np.bincount(y).tolist() == [51, 50]
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1, atol=1e-6)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1, atol=1e-6)
    assert not np.array_equal(D.make_moons(50, 0.1, seed=1)[0], D.make_moons(50, 0.1, seed=2)[0])


@pytest.mark.parametrize("call", [lambda: D.make_xor(0), lambda: D.make_moons(10, noise=-1),
                                  lambda: D.make_spirals(10, classes=1)])
def test_synthetic_validation(call):
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize("seed", ["a", 1.5, -1, True])
def test_synthetic_sets_check_their_seed(seed):
    for make in (D.make_xor, D.make_spirals, D.make_moons):  # "a" and 1.5: NumPy's TypeError
        with pytest.raises(ValueError, match="seed must be None or an integer >= 0"):
            make(10, seed=seed)


@pytest.mark.parametrize("noise", [math.inf, math.nan, -0.1, "0.1", True])
def test_synthetic_sets_check_their_noise(noise):
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        D.make_moons(10, noise=noise)
