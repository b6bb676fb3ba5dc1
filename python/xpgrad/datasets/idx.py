"""Reader for the IDX format of MNIST and Fashion-MNIST (raw or gzip-compressed).

An IDX file is a big-endian header followed by the values in C order:
``0x00 0x00 <type code> <ndim>``, then ndim uint32 dimension sizes, then ∏ dims values of the
type (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64).
MNIST images are type 0x08 with dims (N, 28, 28) (magic 2051); labels are (N,) (magic 2049).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MAX_NDIM = 8
DEFAULT_MAX_BYTES = 1 << 31  # 2 GiB of values: far above any IDX dataset in use
_CHUNK = 1 << 22


def _read_exact(stream, buffer: memoryview) -> int:
    """Fill ``buffer`` from ``stream``; returns how many bytes were available."""
    filled = 0
    while filled < len(buffer):
        got = stream.readinto(buffer[filled:filled + _CHUNK])
        if not got:
            break
        filled += got
    return filled


def _parse(stream, path, size_on_disk: int | None, max_bytes: int) -> np.ndarray:
    head = stream.read(4)
    if len(head) < 4:
        raise ValueError(f"{path}: not an IDX file (only {len(head)} bytes)")
    zero, code, ndim = struct.unpack(">HBB", head)
    if zero != 0 or code not in IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file (magic number 0x{head.hex()})")
    if not 1 <= ndim <= MAX_NDIM:
        raise ValueError(f"{path}: IDX header declares {ndim} dimensions (1..{MAX_NDIM} allowed)")
    raw_dims = stream.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise ValueError(f"{path}: truncated IDX header ({ndim} dimensions declared)")
    dims = struct.unpack(f">{ndim}I", raw_dims)
    dtype = np.dtype(IDX_TYPES[code])
    nbytes = int(np.prod(dims, dtype=object)) * dtype.itemsize
    if nbytes > max_bytes:
        raise ValueError(f"{path}: IDX header declares shape {dims} ({nbytes} bytes), more than "
                         f"max_bytes={max_bytes}")
    if size_on_disk is not None and size_on_disk != 4 + 4 * ndim + nbytes:
        raise ValueError(f"{path}: IDX header declares shape {dims} ({nbytes} bytes of values) "
                         f"but the file has {size_on_disk - 4 - 4 * ndim} bytes after the header")
    if size_on_disk is None:  # gzip: the size is known only once inflated, so memory follows the data
        values = bytearray()
        while len(values) < nbytes and (chunk := stream.read(min(nbytes - len(values), 1 << 24))):
            values += chunk
        got = len(values)
    else:
        values = bytearray(nbytes)
        got = _read_exact(stream, memoryview(values))
    if got < nbytes:
        raise ValueError(f"{path}: truncated IDX file: {got} of {nbytes} bytes of values "
                         f"for shape {dims}")
    if stream.read(1):
        raise ValueError(f"{path}: trailing data after the {nbytes} bytes of values for shape {dims}")
    return np.frombuffer(values, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not, told by its first bytes) into a NumPy array.

    The header is checked before anything is allocated (a gzip stream's values are then read
    in chunks, so that a tiny file declaring gigabytes allocates no more than it holds): a bad
    magic number, an unknown type code, a size that does not match the data, more than
    ``max_bytes`` of declared values, a truncated file or a corrupt gzip stream raise
    ValueError naming the file.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
        f.seek(0)
        try:
            if compressed:
                with gzip.GzipFile(fileobj=f) as stream:
                    return _parse(stream, path, None, max_bytes)
            return _parse(f, path, os.fstat(f.fileno()).st_size, max_bytes)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise ValueError(f"{path}: corrupt or truncated gzip data ({exc})") from None
