"""Metric scale from the camera's mounting height, filtered over time.

Each frame: fit the ground plane to the predicted depth (geometry.ground_plane), take
factor = camera_height_m / plane distance. Frames without a trustworthy plane give no factor. The
published factor is a confidence-weighted median over a sliding window, which ignores the odd
frame where a car or a wall was fitted, and its confidence says how much to trust it
(`pipeline.scale.ScaleTracker` keeps the last trusted factor while it is under a minimum).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import math

import numpy as np

from depth_ros.errors import ConfigError
from depth_ros.geometry.ground_plane import (
    LEVEL_CAMERA_UP,
    GroundPlane,
    PlaneFitConfig,
    fit_ground_plane,
)
from depth_ros.geometry.intrinsics import Intrinsics


# KITTI's colour cameras are 1.65 m above the road (Geiger et al., IJRR 2013, Fig. 3).
KITTI_CAMERA_HEIGHT_M = 1.65
# A filtered factor less confident than this is unreliable: in a traffic queue hiding the road
# the confidence stays at most 0.24 with the tilt weight below (0.37 before it; factor 1.38x
# LiDAR's), on drives with road in view at least 0.36 from the fifth frame on, whatever frame
# they start at, under 0.4 on 0.1 % of their frames (`benchmarks/scale_gate.py`; chosen on KITTI
# 00, the queue and synthetic seeds 5-8; docs/learning/real_world_recipe.md, "Sessions 22,
# 23"). The default of the node's scale_min_confidence.
LOW_CONFIDENCE = 0.4
# Frames in the sliding median (the node's scale_window default).
DEFAULT_WINDOW = 30
# A plane tilted from the mounting's up direction by more than TILT_FULL_DEG counts less, and
# from TILT_ZERO_DEG on not at all (its weight falls linearly between): behind a traffic queue
# the fit takes in the cars and tilts (median 10-11 degrees on KITTI's stop-and-go drive and
# two synthetic queues, 90 % over 7), where fits of visible road tilt under 5 degrees (90 % of
# the dev drive's and synthetic seeds' frames; KITTI 00's grey frames 3.6 median, 8.7 at
# 90 %). Without it a filter started with a synthetic queue 6-8 m ahead trusted factors
# 30-45 % too large at confidence 0.40-0.49 (`benchmarks/scale_gate.py`;
# docs/learning/real_world_recipe.md, "Session 23").
TILT_FULL_DEG = 7.0
TILT_ZERO_DEG = 13.0


@dataclass(frozen=True)
class ScaleEstimate:
    """Scale for one frame.

    Attributes:
        factor: multiplier turning the given depth into metres (filtered), None until a plane
            has been seen.
        confidence: 0..1; 0 when `factor` is None.
        frame_factor: this frame's own factor, None when it showed no usable ground.
        plane: this frame's fitted plane, if any.
    """

    factor: float | None
    confidence: float
    frame_factor: float | None
    plane: GroundPlane | None


def camera_pitch_up(pitch_down_deg: float) -> np.ndarray:
    """'Up' in the optical frame of a camera pitched down by `pitch_down_deg` degrees."""
    p = math.radians(pitch_down_deg)
    # Rotating a level camera down about x turns world up (-y) towards -z in its frame.
    return np.array([0.0, -math.cos(p), -math.sin(p)])


class CameraHeightScale:
    """Filter of per-frame ground-plane scale factors.

    Args:
        camera_height_m: the camera's height above the ground.
        prior_up: expected up direction in the camera frame (see `camera_pitch_up`).
        window: frames in the sliding median.
        config: plane-fit settings.
    """

    def __init__(self, camera_height_m: float, prior_up=LEVEL_CAMERA_UP,
                 window: int = DEFAULT_WINDOW, config: PlaneFitConfig | None = None) -> None:
        if not (camera_height_m > 0 and math.isfinite(camera_height_m)):
            raise ConfigError(f'camera_height_m must be positive, got {camera_height_m}')
        if window < 1:
            raise ConfigError(f'window must be >= 1, got {window}')
        self.camera_height_m = float(camera_height_m)
        self.prior_up = np.asarray(prior_up, dtype=np.float64)
        self.config = config or PlaneFitConfig()
        self._history: deque[tuple[float, float]] = deque(maxlen=window)
        self._rng = np.random.default_rng(0)

    def reset(self) -> None:
        self._history.clear()

    def frame_factor(self, depth: np.ndarray, intr: Intrinsics) -> tuple[float | None,
                                                                         GroundPlane | None]:
        """This frame's factor and plane, without touching the filter."""
        plane = fit_ground_plane(depth, intr, self.prior_up, self.config, self._rng)
        if plane is None:
            return None, None
        return self.camera_height_m / plane.distance, plane

    def update(self, depth: np.ndarray, intr: Intrinsics) -> ScaleEstimate:
        """Fit this frame, add its factor to the window, return the filtered estimate."""
        return self.add(*self.frame_factor(depth, intr))

    def add(self, factor: float | None, plane: GroundPlane | None) -> ScaleEstimate:
        """Add a frame's factor and plane (`frame_factor`'s; None, None: no ground seen) to the
        window, weighted by the plane's support and `tilt_weight` (a plane tilted from
        TILT_ZERO_DEG on is left out); the filtered estimate."""
        weight = 0.0 if factor is None else plane.inlier_ratio * tilt_weight(plane.tilt_deg)
        if weight > 0:
            self._history.append((factor, weight))
        filtered, confidence = self._filtered()
        return ScaleEstimate(filtered, confidence, factor, plane)

    def _filtered(self) -> tuple[float | None, float]:
        if not self._history:
            return None, 0.0
        factors = np.array([f for f, _ in self._history])
        weights = np.array([w for _, w in self._history])
        median = _weighted_median(factors, weights)
        # Confidence: plane support, how many frames agree (five, or the whole window when it
        # is shorter), and how tightly.
        spread = float(np.median(np.abs(factors - median)) / median)
        support = float(np.mean(weights))
        count = min(1.0, len(factors) / min(5.0, self._history.maxlen))
        confidence = support * count * max(0.0, 1.0 - spread / 0.2)
        return float(median), float(np.clip(confidence, 0.0, 1.0))


def tilt_weight(tilt_deg: float) -> float:
    """How much a plane tilted `tilt_deg` from the expected up direction counts: 1 up to
    TILT_FULL_DEG, 0 from TILT_ZERO_DEG, linear between."""
    return float(np.clip((TILT_ZERO_DEG - tilt_deg) / (TILT_ZERO_DEG - TILT_FULL_DEG), 0.0, 1.0))


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])
