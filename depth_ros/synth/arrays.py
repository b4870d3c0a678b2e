"""Array plumbing for speed: row gather and scatter.

Numpy's fancy indexing of 2-D rows is several times slower than the calls below.

`a[idx]` on an [N, k] array and `a[idx] = b` go through a generic path; `np.take(axis=0)` and
`np.put` on a void view of whole rows do the same work as one 1-D gather or scatter.
"""
from __future__ import annotations

import numpy as np


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
