"""MNIST and Fashion-MNIST from their original IDX files, verified against the official MD5s.

Files are looked for in ``root/<name>/`` and then in ``root`` itself, where ``root`` is the
argument, else ``$XPGRAD_DATA``, else ``~/.cache/xpgrad``. Missing (or corrupt) files are
downloaded into ``root/<name>/`` from the official mirrors unless ``download=False``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .download import download as download_file
from .download import md5sum
from .idx import read_idx

Split = tuple[np.ndarray, np.ndarray]

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")


@dataclass(frozen=True)
class IdxDataset:
    """Where an IDX image-classification set lives: its folder name, files, MD5s and mirrors.
    ``unpacked_md5``: role -> MD5 of the file gunzipped (its name without ".gz"), so that a
    directory of decompressed official files (gunzip's output, torchvision's raw/) is found too."""

    name: str
    files: dict[str, tuple[str, str]]  # role -> (file name, official MD5)
    mirrors: list[str] = field(default_factory=list)
    unpacked_md5: dict[str, str] = field(default_factory=dict)


MNIST = IdxDataset(
    name="mnist",
    files={
        "train_images": ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        "train_labels": ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        "test_images": ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        "test_labels": ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    },
    mirrors=["https://ossci-datasets.s3.amazonaws.com/mnist/",
             "http://yann.lecun.com/exdb/mnist/"],
    unpacked_md5={
        "train_images": "6bbc9ace898e44ae57da46a324031adb",
        "train_labels": "a25bea736e30d166cdddb491f175f624",
        "test_images": "2646ac647ad5339dbf082846283269ea",
        "test_labels": "27ae3e4e09519cfbb04c329615203637",
    },
)

FASHION_MNIST = IdxDataset(
    name="fashion-mnist",
    files={
        "train_images": ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        "train_labels": ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        "test_images": ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        "test_labels": ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    },
    mirrors=["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    unpacked_md5={
        "train_images": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train_labels": "9018921c3c673c538a1fc5bad174d6f9",
        "test_images": "8181f5470baa50b63fa0f6fddb340f0a",
        "test_labels": "15d484375f8d13e6eb1aabb0c3f46965",
    },
)


def data_root(root: str | os.PathLike | None = None) -> str:
    """The data directory: ``root``, else ``$XPGRAD_DATA``, else ``~/.cache/xpgrad``; a leading
    ``~`` is the home directory (as torchvision and Keras read it)."""
    if root is None:
        root = os.environ.get("XPGRAD_DATA") or os.path.join("~", ".cache", "xpgrad")
    return os.path.expanduser(os.fspath(root))


def _find(spec: IdxDataset, root: str, role: str) -> tuple[str | None, list[str]]:
    """The first verified copy of role's file in root/<name>/ or root, gzipped or (when its
    unpacked MD5 is known) decompressed; and the bad copies seen."""
    filename, md5 = spec.files[role]
    candidates = [(filename, md5)]
    if role in spec.unpacked_md5 and filename.endswith(".gz"):
        candidates.append((filename[:-3], spec.unpacked_md5[role]))
    bad = []
    for directory in (os.path.join(root, spec.name), root):
        for name, expected in candidates:
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                if md5sum(path) == expected:
                    return path, bad
                bad.append(path)
    return None, bad


def _unusable(spec: IdxDataset, directory: str) -> OSError | None:
    """Why files cannot be looked up in ``directory`` although it exists (``os.path.isfile``
    says False for every file then, which read as "missing files"), or None."""
    try:
        status = os.stat(directory)
    except (FileNotFoundError, NotADirectoryError):
        return None  # absent: the files are missing, or downloaded into it
    except PermissionError:
        return PermissionError(f"{spec.name}: permission denied: {directory}")
    if not stat.S_ISDIR(status.st_mode):
        return NotADirectoryError(f"{spec.name}: {directory} is not a directory")
    if not os.access(directory, os.X_OK):
        return PermissionError(f"{spec.name}: permission denied: {directory} "
                               "(it cannot be searched for the files)")
    return None


def _missing_message(spec: IdxDataset, root: str, paths: dict[str, str | None],
                     bad_copies: list[str]) -> str:
    """What is missing now (``paths[role]`` None) and where it was looked for."""
    missing = [filename for role, (filename, _) in spec.files.items() if paths[role] is None]
    bad = [path for path in bad_copies if {os.path.basename(path), os.path.basename(path) + ".gz"} & set(missing)]
    lines = [f"{spec.name}: missing files {', '.join(missing)}",
             f"looked in {os.path.join(root, spec.name)} and {root}"]
    if bad:
        lines.append("files with the right name but the wrong MD5 checksum (corrupt, incomplete, "
                     "or another data set's file of the same name): " + ", ".join(bad))
    lines.append("put the official files there (gzipped or not), point the XPGRAD_DATA environment variable at "
                 "a directory holding them, or call with download=True while online")
    return "\n".join(lines)


def load_idx_dataset(spec: IdxDataset, root: str | os.PathLike | None = None,
                     download: bool = True,
                     mirrors: Sequence[str] | None = None) -> tuple[Split, Split]:
    """Locate (downloading if allowed) and read the four IDX files of ``spec``.

    Returns ``((X_train, y_train), (X_test, y_test))``: images as uint8 arrays (N, H, W) with
    values 0..255, labels as int64 arrays (N,). ``mirrors`` replaces ``spec.mirrors``.
    Raises FileNotFoundError when files are missing and ``download`` is False, RuntimeError
    when downloading failed (offline, mirror down); both name the files, the directory and
    ``XPGRAD_DATA``. Files missing because ``root`` or ``root/<name>`` is not a directory or
    cannot be searched raise NotADirectoryError or PermissionError naming it.
    """
    root = data_root(root)
    target = os.path.join(root, spec.name)
    paths, bad_copies = {}, []
    for role in spec.files:
        paths[role], bad = _find(spec, root, role)
        bad_copies += bad
    if None in paths.values():
        for directory in (root, target):
            problem = _unusable(spec, directory)
            if problem is not None:
                raise problem
        if not download:
            raise FileNotFoundError(_missing_message(spec, root, paths, bad_copies))
    for role, (filename, md5) in spec.files.items():
        if paths[role] is None:
            try:
                paths[role] = download_file(filename, target, md5,
                                            spec.mirrors if mirrors is None else mirrors)
            except (RuntimeError, OSError) as exc:
                raise RuntimeError(_missing_message(spec, root, paths, bad_copies)
                                   + f"\ndownloading into {target} failed:\n{exc}") from None
    arrays = {role: read_idx(path) for role, path in paths.items()}
    for part in ("train", "test"):
        images, labels = arrays[part + "_images"], arrays[part + "_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{spec.name} {part}: images of shape {images.shape} do not match "
                             f"labels of shape {labels.shape}")
    return ((arrays["train_images"], arrays["train_labels"].astype(np.int64)),
            (arrays["test_images"], arrays["test_labels"].astype(np.int64)))


def load_mnist(root: str | os.PathLike | None = None, download: bool = True,
               mirrors: Sequence[str] | None = None) -> tuple[Split, Split]:
    """MNIST handwritten digits (LeCun, Cortes & Burges): 60000 training and 10000 test images.

    Returns ``((X_train, y_train), (X_test, y_test))`` as NumPy arrays: X uint8 of shape
    (N, 28, 28) with pixel values 0..255 (divide by 255 for [0, 1]), y int64 digits 0..9.
    See :func:`load_idx_dataset` for where files are looked for and the errors raised.
    """
    return load_idx_dataset(MNIST, root, download, mirrors)


def load_fashion_mnist(root: str | os.PathLike | None = None, download: bool = True,
                       mirrors: Sequence[str] | None = None) -> tuple[Split, Split]:
    """Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, Zalando, MIT licence): 28×28 grey images of
    10 clothing classes (``FASHION_MNIST_CLASSES``: 0 T-shirt/top, 1 trouser, 2 pullover,
    3 dress, 4 coat, 5 sandal, 6 shirt, 7 sneaker, 8 bag, 9 ankle boot); same return value as
    :func:`load_mnist`, in ``root/fashion-mnist/``.
    """
    return load_idx_dataset(FASHION_MNIST, root, download, mirrors)
