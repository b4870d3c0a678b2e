"""Keeping large numpy / torch temporaries cheap: glibc's heap top pad.

Per-frame work (rendering, the node's depth upsampling and point cloud) allocates and frees
arrays of 100 KB to a few MB. By default glibc hands that memory back to the OS and page-faults
it in again on the next allocation; on the development VM a page fault is slow enough that a
1242x375 depth post-processing took 5.6 ms instead of 1.1 ms, and shading was about 4x slower.
"""
from __future__ import annotations

import ctypes
import logging


logger = logging.getLogger(__name__)

_HEAP_TUNED = False
_M_TOP_PAD = -2  # glibc mallopt parameter
_TOP_PAD_BYTES = 64 << 20


def keep_heap_warm() -> None:
    """Ask glibc to keep 64 MiB of freed heap at hand (process-wide, once; no-op elsewhere).

    An explicit opt-in for a process's entry point, never called by library functions: the
    node when it configures, the `depth-ros synth` / `demo` commands, the trainer's
    `python -m training.train`, and the rendering processes the synthetic-sequence writer
    spawns. Costs at most 64 MiB of resident memory.
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
