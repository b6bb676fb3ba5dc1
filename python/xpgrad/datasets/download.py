"""Fetching a file into a cache directory: checksum-verified, atomic, with a progress bar."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import secrets
import time
import urllib.request
from collections.abc import Sequence

_CHUNK = 1 << 16
TIMEOUT_S = 30.0  # for connecting, and for each read
DEADLINE_S = 1200.0  # for a whole file: the largest (Fashion-MNIST's 26 MB) needs 22 kB/s


class _MirrorFailure(Exception):
    """One mirror did not deliver the file (unreachable, not HTTP, cut short, too slow, wrong
    checksum): the next one is worth trying."""


@contextlib.contextmanager
def _mirror_side():
    """Errors of the network calls inside become the mirror's _MirrorFailure."""
    try:
        yield
    except http.client.HTTPException as exc:  # not HTTP (BadStatusLine), a cut chunked body
        raise _MirrorFailure(f"bad HTTP response: {exc!r}") from exc
    except (OSError, ValueError) as exc:  # URLError, HTTPError, timeouts; unknown url type
        raise _MirrorFailure(str(exc)) from exc


def _local_error(exc: OSError, doing: str) -> OSError:
    """``exc`` (same type and errno) saying what was being done on the local disk."""
    return type(exc)(exc.errno, f"{doing}: {exc.strerror or exc}")


def md5sum(path: str | os.PathLike) -> str:
    """Hex MD5 digest of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _progress(total: int | None, desc: str):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a dependency, but a download must not fail for a progress bar
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                leave=False, disable=None)


def _temp_beside(dest: str) -> tuple[int, str]:
    """A new empty file in ``dest``'s directory (created if need be): its descriptor and path.
    Raises OSError saying which directory cannot be written: a local problem, not a mirror's."""
    directory = os.path.dirname(dest) or "."
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        os.makedirs(directory, exist_ok=True)
        while True:
            tmp = os.path.join(directory, f".{os.path.basename(dest)}.{secrets.token_hex(4)}.part")
            try:  # mode 0o666 less the umask, like any new file (mkstemp's 0o600 would leave the
                # renamed file unreadable to the other users of a shared data directory)
                return os.open(tmp, flags, 0o666), tmp
            except FileExistsError:
                continue
    except OSError as exc:
        raise _local_error(exc, f"cannot write into {directory}") from exc


def _receive(url: str, out, desc: str) -> str:
    """Write the body of ``url`` into the open file ``out``; returns its MD5 hex digest.
    What the mirror does wrong raises _MirrorFailure; an error writing ``out`` passes through.

    TIMEOUT_S bounds each read, so a server that sends a byte now and then is never timed out:
    DEADLINE_S bounds the whole file, checked after each read (so overrun by TIMEOUT_S at most).
    """
    give_up = time.monotonic() + DEADLINE_S
    digest = hashlib.md5(usedforsecurity=False)
    received = 0
    with _mirror_side():
        response = urllib.request.urlopen(url, timeout=TIMEOUT_S)
    with response:
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        bar = _progress(expected, desc)
        try:
            while True:
                with _mirror_side():
                    chunk = response.read1(_CHUNK)  # what one read got, not a full _CHUNK
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
                if time.monotonic() > give_up:
                    raise _MirrorFailure(f"not complete within the {DEADLINE_S:g} s deadline "
                                         f"({received} bytes received)")
        finally:
            if bar is not None:
                bar.close()
    if expected is not None and received != expected:
        raise _MirrorFailure(f"connection closed after {received} of {expected} bytes")
    return digest.hexdigest()


def _fetch(url: str, fd: int, tmp: str, dest: str, md5: str) -> None:
    """Stream ``url`` into ``tmp`` (open as ``fd``, beside ``dest``); rename it into place only
    once its MD5 matches, so ``dest`` is either absent, the old file, or complete and verified.
    ``tmp`` is removed on any failure. Raises _MirrorFailure for what the mirror did wrong; an
    OSError is the local disk's (full, read-only, ...)."""
    try:
        # the file first: when urlopen fails, leaving the with closes the descriptor
        with os.fdopen(fd, "wb") as out:
            digest = _receive(url, out, os.path.basename(dest))
            out.flush()
            os.fsync(out.fileno())
        if digest != md5:
            raise _MirrorFailure(f"checksum mismatch: MD5 {digest}, expected {md5}")
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def download(filename: str, directory: str | os.PathLike, md5: str,
             mirrors: Sequence[str]) -> str:
    """Download ``filename`` into ``directory`` from the first mirror that serves it with the
    expected MD5 (each mirror is a base URL, a single string is one mirror; the file's URL is
    mirror + filename).

    A mirror fails when it cannot be reached, sends no byte for TIMEOUT_S, has not sent the
    whole file within DEADLINE_S, or sends the wrong bytes.

    Returns the path. Raises RuntimeError listing every mirror's failure when none worked, and
    OSError at once when ``directory`` cannot be created or written, or writing the file fails
    (a full disk): no mirror is to blame, and the next would fail the same way.
    """
    if isinstance(mirrors, str):  # one base URL, not a sequence of one-letter "mirrors"
        mirrors = [mirrors]
    if not mirrors:
        raise RuntimeError(f"could not download {filename}: no mirrors given")
    dest = os.path.join(os.fspath(directory), filename)
    created = _missing_directories(os.path.dirname(dest) or ".")
    failures = []
    try:
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + filename
            fd, tmp = _temp_beside(dest)
            try:
                _fetch(url, fd, tmp, dest, md5)
                return dest
            except _MirrorFailure as exc:
                failures.append(f"{url}: {exc}")
            except OSError as exc:  # every network error is a _MirrorFailure by now
                raise _local_error(exc, f"writing {dest} failed") from exc
        raise RuntimeError(f"could not download {filename}:\n  " + "\n  ".join(failures))
    except BaseException:
        _remove_empty(created)  # a failed download leaves no directory behind (a typo'd root)
        raise


def _missing_directories(directory: str) -> list[str]:
    """``directory`` and those of its ancestors that do not exist yet, deepest first."""
    missing, path = [], os.path.abspath(directory)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        missing.append(path)
        path = os.path.dirname(path)
    return missing


def _remove_empty(directories: list[str]) -> None:
    """Remove these directories, deepest first, while they are empty."""
    for path in directories:
        try:
            os.rmdir(path)
        except OSError:  # not empty (another file arrived), or already gone
            return
