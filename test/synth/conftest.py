"""Shared helpers for the synthetic-world tests: small frames keep the suite fast."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from depth_ros.synth import Renderer, make_world


@pytest.fixture(scope='module')
def drive():
    """World, renderer and the first 6 frames of seed 5 at 96x320."""
    world = make_world(5, 40, 320, 96)
    renderer = Renderer(world)
    return world, renderer, [renderer.frame(i) for i in range(6)]


@pytest.fixture
def warp_error() -> Callable[..., tuple[np.ndarray, float]]:
    return reproject


def reproject(rgb_t: np.ndarray, depth_t: np.ndarray, rgb_s: np.ndarray, depth_s: np.ndarray,
              k: np.ndarray, s_from_t: np.ndarray, max_depth_m: float = 60.0):
    """Warp frame s into frame t with t's depth and the relative pose (independent reference).

    Returns:
        (abs colour error [N] of t's pixels that land visibly inside s, fraction of t's valid
        pixels that do).
    """
    h, w = depth_t.shape
    v, u = np.mgrid[0:h, 0:w].astype(np.float64)
    valid = (depth_t > 0) & (depth_t < max_depth_m)
    z = depth_t[valid].astype(np.float64)
    pts = np.stack([(u[valid] - k[0, 2]) / k[0, 0] * z, (v[valid] - k[1, 2]) / k[1, 1] * z, z])
    p = s_from_t[:3, :3] @ pts + s_from_t[:3, 3:]
    us = k[0, 0] * p[0] / p[2] + k[0, 2]
    vs = k[1, 1] * p[1] / p[2] + k[1, 2]
    inside = (p[2] > 0.5) & (us >= 0) & (us <= w - 1.001) & (vs >= 0) & (vs <= h - 1.001)
    us, vs, zs = us[inside], vs[inside], p[2][inside]
    # Visible (not occluded) where s's own depth at the landing pixel agrees with the warp.
    near = depth_s[np.round(vs).astype(int), np.round(us).astype(int)]
    visible = np.abs(near - zs) < 0.03 * zs + 0.05
    u0, v0 = np.floor(us).astype(int), np.floor(vs).astype(int)
    fu, fv = (us - u0)[:, None], (vs - v0)[:, None]
    img = rgb_s.astype(np.float64)
    sample = ((1 - fu) * (1 - fv) * img[v0, u0] + fu * (1 - fv) * img[v0, u0 + 1]
              + (1 - fu) * fv * img[v0 + 1, u0] + fu * fv * img[v0 + 1, u0 + 1])
    target = rgb_t[valid][inside].astype(np.float64)
    err = np.abs(sample - target).mean(axis=1)[visible]
    return err, visible.sum() / max(valid.sum(), 1)
