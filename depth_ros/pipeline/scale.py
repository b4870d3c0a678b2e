"""The metric scale of a frame's depth, by source (pure numpy).

Sources: 'none' (the weights as they are), 'fixed' (times `scale`), 'camera_height' and
'tf' (the ground plane against the camera's mounting height, filtered over frames by
`inference.scale.CameraHeightScale`; 'tf' only differs in where the ROS layer gets the mounting
from). Until a ground plane has been seen the camera-height sources fall back to `scale`.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np

from depth_ros.errors import ConfigError
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.inference.scale import CameraHeightScale, ScaleEstimate, camera_pitch_up


SCALE_SOURCES = ('none', 'fixed', 'camera_height', 'tf')
GROUND_SOURCES = ('camera_height', 'tf')


@dataclass(frozen=True)
class Mounting:
    """How the camera sits above the ground.

    Attributes:
        height_m: the camera's height above the ground.
        up: [3] the ground's up direction in the camera optical frame (unit length).
    """

    height_m: float
    up: tuple[float, float, float]

    @classmethod
    def from_pitch(cls, height_m: float, pitch_down_deg: float = 0.0) -> Mounting:
        """A camera `height_m` above level ground, pitched down by `pitch_down_deg`."""
        return cls(float(height_m), tuple(float(v) for v in camera_pitch_up(pitch_down_deg)))

    def key(self) -> tuple:
        """Equality up to float noise (a TF lookup gives slightly different numbers each time)."""
        return (round(self.height_m, 6), tuple(np.round(self.up, 6)))


@dataclass(frozen=True)
class ScaleResult:
    """The scale applied to one frame.

    Attributes:
        factor: multiplier applied to depth and motion (metres per unit of the weights).
        source: the configured source.
        from_ground: the factor comes from the ground plane (False: fixed, none, or the
            `scale` fallback before any ground was seen).
        confidence: 0..1 for ground-plane factors; 1 for none / fixed; 0 for the fallback.
        estimate: the camera-height filter's output (None for none / fixed).
        mounting: the mounting used (None for none / fixed).
    """

    factor: float
    source: str
    from_ground: bool
    confidence: float
    estimate: ScaleEstimate | None = None
    mounting: Mounting | None = None


class ScaleTracker:
    """Picks each frame's scale factor; keeps the camera-height filter between frames."""

    def __init__(self, source: str, scale: float, window: int) -> None:
        if source not in SCALE_SOURCES:
            raise ConfigError(f"scale source must be one of {', '.join(SCALE_SOURCES)}, got "
                              f'{source!r}')
        if not (scale > 0 and math.isfinite(scale)):
            raise ConfigError(f'scale must be positive, got {scale}')
        self.source, self.scale, self.window = source, float(scale), int(window)
        self._filter: tuple[tuple, CameraHeightScale] | None = None

    def reset(self) -> None:
        """Forget the ground-plane history (the camera-height filter starts again)."""
        if self._filter is not None:
            self._filter[1].reset()

    def update(self, depth_m: np.ndarray, intr: Intrinsics, mounting: Mounting) -> ScaleResult:
        """The factor for this frame's unscaled depth `depth_m` [H, W] (intrinsics `intr`)."""
        if self.source == 'none':
            return ScaleResult(1.0, self.source, False, 1.0)
        if self.source == 'fixed':
            return ScaleResult(self.scale, self.source, False, 1.0)
        key = (mounting.key(), self.window)
        if self._filter is None or self._filter[0] != key:
            self._filter = (key, CameraHeightScale(mounting.height_m, np.asarray(mounting.up),
                                                   self.window))
        estimate = self._filter[1].update(depth_m, intr)
        if estimate.factor is None:
            return ScaleResult(self.scale, self.source, False, 0.0, estimate, mounting)
        return ScaleResult(estimate.factor, self.source, True, estimate.confidence, estimate,
                           mounting)
