"""Fetching a file into a cache directory: checksum-verified, atomic, with a progress bar."""

from __future__ import annotations

import hashlib
import http.client
import os
import secrets
import urllib.request
from collections.abc import Sequence

_CHUNK = 1 << 16
TIMEOUT_S = 30.0


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
        raise type(exc)(exc.errno, f"cannot write into {directory}: "
                                   f"{exc.strerror or exc}") from exc


def _fetch(url: str, fd: int, tmp: str, dest: str, md5: str) -> None:
    """Stream ``url`` into ``tmp`` (open as ``fd``, beside ``dest``); rename it into place only
    once its MD5 matches, so ``dest`` is either absent, the old file, or complete and verified.
    ``tmp`` is removed on any failure."""
    try:
        digest = hashlib.md5(usedforsecurity=False)
        # the file first: when urlopen fails, leaving the with closes the descriptor
        with os.fdopen(fd, "wb") as out, \
                urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            length = response.headers.get("Content-Length")
            bar = _progress(int(length) if length and length.isdigit() else None,
                            os.path.basename(dest))
            try:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
            if length and length.isdigit() and out.tell() != int(length):
                raise ValueError(f"connection closed after {out.tell()} of {length} bytes")
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != md5:
            raise ValueError(f"checksum mismatch: MD5 {digest.hexdigest()}, expected {md5}")
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

    Returns the path. Raises RuntimeError listing every mirror's failure when none worked, and
    OSError at once when ``directory`` cannot be created or written (no mirror is to blame).
    """
    if isinstance(mirrors, str):  # one base URL, not a sequence of one-letter "mirrors"
        mirrors = [mirrors]
    if not mirrors:
        raise RuntimeError(f"could not download {filename}: no mirrors given")
    dest = os.path.join(os.fspath(directory), filename)
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        fd, tmp = _temp_beside(dest)
        try:
            _fetch(url, fd, tmp, dest, md5)
            return dest
        except (OSError, ValueError) as exc:  # URLError, HTTPError, timeouts are OSErrors
            failures.append(f"{url}: {exc}")
        except http.client.HTTPException as exc:  # not HTTP (BadStatusLine), a cut chunked body
            failures.append(f"{url}: bad HTTP response: {exc!r}")
    raise RuntimeError(f"could not download {filename}:\n  " + "\n  ".join(failures))
