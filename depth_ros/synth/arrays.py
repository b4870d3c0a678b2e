"""Array plumbing for speed: row gather/scatter, and keeping numpy temporaries cheap.

Numpy's fancy indexing of 2-D rows is several times slower than the calls below.

`a[idx]` on an [N, k] array and `a[idx] = b` go through a generic path; `np.take(axis=0)` and
`np.put` on a void view of whole rows do the same work as one 1-D gather or scatter.
"""
from __future__ import annotations

import ctypes
import logging

import numpy as np


logger = logging.getLogger(__name__)


def take_rows(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """a[idx] for an [N, ...] array and an integer index array."""
    return np.take(a, idx, axis=0)


def put_rows(dst: np.ndarray, idx: np.ndarray, rows: np.ndarray) -> None:
    """dst[idx] = rows for C-contiguous [N, k] arrays of the same dtype."""
    if idx.size == 0:
        return
    void = np.dtype((np.void, dst.dtype.itemsize * dst.shape[1]))
    src = np.ascontiguousarray(rows, dtype=dst.dtype)
    np.put(dst.view(void).ravel(), idx, src.view(void).ravel())


_HEAP_TUNED = False
_M_TOP_PAD = -2  # glibc mallopt parameter
_TOP_PAD_BYTES = 64 << 20


def keep_heap_warm() -> None:
    """Ask glibc to keep 64 MiB of freed heap at hand (process-wide, once; no-op elsewhere).

    Rendering allocates and frees many 100 KB-1 MB numpy temporaries per frame. By default glibc
    hands that memory back to the OS and page-faults it in again on the next allocation, which
    made shading about 4x slower on the development VM. Keeping a top pad costs at most 64 MiB
    of resident memory.
    """
    global _HEAP_TUNED
    if _HEAP_TUNED:
        return
    _HEAP_TUNED = True
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return  # not glibc
    if mallopt(_M_TOP_PAD, _TOP_PAD_BYTES) != 1:
        logger.debug('mallopt(M_TOP_PAD) refused; numpy temporaries may page-fault')
