"""Colour maps for depth pictures: one table per map, built once, read-only.

Each map is 17 colours sampled every 1/16 of the published 256-entry map and interpolated
linearly, which reproduces it within a few levels of 255 (checked against matplotlib's tables
by test/test_colormaps.py):
- Turbo (A. Mikhailov, Google, 2019; within 7/255): the node's `depth/colored`, near red and
  far blue;
- magma (N. Smith and S. van der Walt, matplotlib, CC0; within 3/255): inverse-depth previews
  of `predict` and `evaluate`, near bright.

Nothing here needs matplotlib. A map is a [256, 3] uint8 lookup table indexed by the value
scaled to 0..255.
"""
from __future__ import annotations

import functools

import numpy as np

from depth_ros.errors import InputError


# Entries 0, 16, 32, ..., 239, 255 of each published map, RGB 0..255.
_SAMPLES = {
    'turbo': ((48, 18, 59), (64, 64, 162), (70, 107, 227), (66, 148, 255), (40, 188, 235),
              (24, 221, 194), (50, 242, 152), (109, 254, 98), (164, 252, 60), (203, 237, 52),
              (236, 209, 58), (253, 174, 53), (251, 129, 34), (236, 83, 15), (210, 49, 5),
              (172, 23, 1), (122, 4, 3)),
    'magma': ((0, 0, 4), (10, 8, 34), (29, 17, 71), (54, 16, 107), (81, 18, 124),
              (106, 28, 129), (131, 38, 129), (156, 46, 127), (183, 55, 121), (207, 64, 112),
              (229, 80, 100), (244, 105, 92), (251, 135, 97), (254, 165, 113), (254, 194, 135),
              (253, 224, 161), (252, 253, 191)),
}


@functools.cache
def _table(name: str) -> np.ndarray:
    samples = np.asarray(_SAMPLES[name], dtype=np.float64)
    x = np.linspace(0.0, 1.0, 256)
    at = np.linspace(0.0, 1.0, len(samples))
    rgb = np.rint(np.stack([np.interp(x, at, samples[:, c]) for c in range(3)], axis=-1))
    table = rgb.astype(np.uint8)
    table.flags.writeable = False
    return table


def turbo_table() -> np.ndarray:
    """[256, 3] uint8 Turbo colours, low (dark blue) to high (dark red); read-only."""
    return _table('turbo')


def magma_table() -> np.ndarray:
    """[256, 3] uint8 magma colours, dark to bright; read-only."""
    return _table('magma')


def colorize_depth(depth_m: np.ndarray, min_depth_m: float, max_depth_m: float) -> np.ndarray:
    """[H, W] metres -> [H, W, 3] uint8 RGB Turbo colours, near red and far blue; invalid black.

    Inverse depth is mapped linearly between 1/max_depth_m and 1/min_depth_m, so near structure
    gets most of the colour range.
    """
    if not 0 < min_depth_m < max_depth_m:
        raise InputError(f'need 0 < min_depth_m < max_depth_m, got {min_depth_m}, {max_depth_m}')
    depth = np.asarray(depth_m, dtype=np.float32)
    valid = np.isfinite(depth) & (depth > 0)
    inv = 1.0 / np.where(valid, depth, np.float32(max_depth_m))
    x = np.clip((inv - 1.0 / max_depth_m) / (1.0 / min_depth_m - 1.0 / max_depth_m), 0.0, 1.0)
    rgb = turbo_table()[np.rint(x * 255).astype(np.uint8)]
    rgb[~valid] = 0
    return rgb


def colorize_inv_depth(inv: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """Inverse depth (near = bright) as [H, W, 3] uint8 magma colours; NaN/inf black.

    The range is the valid minimum to `vmax`, which defaults to the 95th percentile, as
    Monodepth2's visualisations do.

    Args:
        inv: [H, W] inverse depth in any unit (1/m or network units): the colours depend only
            on the values relative to their range, so the name says neither.
        vmax: the value shown brightest, in the unit of `inv`.
    """
    inv = np.asarray(inv, dtype=np.float32)
    valid = np.isfinite(inv)
    if vmax is None:
        vmax = float(np.percentile(inv[valid], 95)) if valid.any() else 1.0
    vmin = float(inv[valid].min()) if valid.any() else 0.0
    scaled = (inv - vmin) / max(vmax - vmin, 1e-12)
    index = np.clip(np.nan_to_num(scaled, nan=0.0, posinf=1.0, neginf=0.0) * 255, 0, 255)
    out = magma_table()[index.astype(np.uint8)]
    out[~valid] = 0
    return out
