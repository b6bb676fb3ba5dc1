"""Process memory settings for training loops that allocate the same big arrays every step.

glibc's malloc serves allocations below a threshold (adjusted up to 32 MiB as big blocks are
freed) from its heap and gives the heap's free top back to the operating system once it exceeds
twice that threshold. A training step that allocates and frees tens of MiB (a CNN's im2col
matrices and activations) then returns the memory at the end of every step and takes it back,
page fault by page fault, each page zeroed by the kernel, in the next: in bench_conv's CNN step
(batch 64) that was ~2000 faults and about a quarter of the step's time.
"""

from __future__ import annotations

import ctypes
import operator
import platform

__all__ = ["retain_freed_memory"]

# mallopt parameters (glibc malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# The largest mmap threshold glibc accepts on 64-bit systems (DEFAULT_MMAP_THRESHOLD_MAX).
_MMAP_THRESHOLD_MAX = 32 << 20


def retain_freed_memory(max_bytes: int = 1 << 30) -> bool:
    """Keep up to ``max_bytes`` of freed heap memory in the process instead of returning it.

    Sets glibc's trim threshold to ``max_bytes`` and its mmap threshold to 32 MiB (fixed, no
    longer adjusted): blocks below 32 MiB come from the heap, and the heap keeps up to
    ``max_bytes`` (at most 2 GiB) free at its top for the next step to reuse without page
    faults. The setting is process-wide (every library's allocations) and lasts until the
    process ends; the resident size can stay up to ``max_bytes`` above what is in use. Returns
    True when applied, False on a C library other than glibc (nothing is changed there).
    """
    try:
        max_bytes = operator.index(max_bytes)
    except TypeError:
        raise TypeError(f"retain_freed_memory: max_bytes must be an integer, got {type(max_bytes).__name__}") from None
    if max_bytes < 0:
        raise ValueError(f"retain_freed_memory: max_bytes must be >= 0, got {max_bytes}")
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)  # the process's own symbols, glibc's among them
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    trim = min(max_bytes, 2**31 - 1)  # mallopt takes an int
    if not (libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX) and libc.mallopt(_M_TRIM_THRESHOLD, trim)):
        raise OSError("retain_freed_memory: glibc's mallopt refused the thresholds")
    return True
