"""Where the epipolar odometry may place new corners (`pipeline.epipolar`).

Two rules: keep a corner's distance from the corners already tracked (`far_from`), and none on
the depth network's occlusion boundaries (`depth_contrast`): a corner there is no 3D point, and
such corners biased the direction of travel (docs/learning/real_world_recipe.md, "Session 9").
"""
from __future__ import annotations

import numpy as np


def far_from(points: np.ndarray, others: np.ndarray, distance: float) -> np.ndarray:
    """[N] bool: no point of `others` within `distance` (strictly farther) of each point.

    The same answer as the minimum over all N x M distances, from the pairs less than
    `distance` + 1 apart in x only (sorted, so a few per point instead of M).
    """
    order = np.argsort(others[:, 0], kind='stable')
    xs, sorted_others = others[order, 0], others[order]
    margin = distance + 1.0  # wider than needed: rounding never drops a candidate
    lo = np.searchsorted(xs, points[:, 0] - margin, 'left')
    counts = np.searchsorted(xs, points[:, 0] + margin, 'right') - lo
    rows = np.repeat(np.arange(len(points)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    candidates = np.arange(len(rows)) - starts + np.repeat(lo, counts)
    nearest = np.full(len(points), np.inf, dtype=np.float64)
    gaps = np.linalg.norm(points[rows] - sorted_others[candidates], axis=1)
    np.minimum.at(nearest, rows, gaps)
    return nearest > distance


def depth_contrast(depth: np.ndarray, grid: tuple[int, int], corners: np.ndarray) -> np.ndarray:
    """Max over min depth around each corner (5x5 cells of the tracking grid; a missing or
    invalid depth counts as far)."""
    import cv2
    small = cv2.resize(np.where(np.isfinite(depth) & (depth > 0), depth, 1e3).astype(np.float32),
                       (grid[1], grid[0]), interpolation=cv2.INTER_NEAREST)
    kernel = np.ones((5, 5), np.uint8)
    ratio = cv2.dilate(small, kernel) / np.maximum(cv2.erode(small, kernel), 1e-6)
    rows = np.clip(np.round(corners[:, 1]).astype(int), 0, grid[0] - 1)
    cols = np.clip(np.round(corners[:, 0]).astype(int), 0, grid[1] - 1)
    return ratio[rows, cols]
