"""The metric scale of a frame's depth, by source (pure numpy).

Sources: 'none' (the weights as they are), 'fixed' (times `scale`), 'camera_height' and
'tf' (the ground plane against the camera's mounting height, filtered over frames by
`inference.scale.CameraHeightScale`; 'tf' only differs in where the ROS layer gets the mounting
from). A ground factor is trusted when the filter's confidence is at least `min_confidence`;
while it is not (the road hidden by traffic, say) the last trusted factor is kept, and before
any was trusted the camera-height sources fall back to `scale`.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np

from depth_ros.errors import ConfigError
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.inference.scale import (
    LOW_CONFIDENCE,
    CameraHeightScale,
    ScaleEstimate,
    camera_pitch_up,
)


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
        from_ground: the factor comes from the ground plane, this frame's filter or the last
            trusted one (False: fixed, none, or the `scale` fallback before any was trusted).
        confidence: 0..1, the camera-height filter's confidence this frame (also when it was
            not trusted); 1 for none / fixed.
        estimate: the camera-height filter's output (None for none / fixed).
        mounting: the mounting used (None for none / fixed).
        held: the filter's factor was not trusted this frame and the last trusted one is
            applied instead.
    """

    factor: float
    source: str
    from_ground: bool
    confidence: float
    estimate: ScaleEstimate | None = None
    mounting: Mounting | None = None
    held: bool = False

    @property
    def trusted(self) -> bool:
        """The factor is the camera-height filter's own this frame (neither held nor the
        `scale` fallback, nor a fixed source)."""
        return self.from_ground and not self.held


class ScaleTracker:
    """Picks each frame's scale factor; keeps the camera-height filter between frames.

    Args:
        source: one of SCALE_SOURCES.
        scale: the fixed factor, and the camera-height sources' fallback.
        window: frames in the camera-height filter.
        min_confidence: 0..1, the least confidence of a camera-height factor that is applied
            (0: every factor is).
    """

    def __init__(self, source: str, scale: float, window: int,
                 min_confidence: float = LOW_CONFIDENCE) -> None:
        if source not in SCALE_SOURCES:
            raise ConfigError(f"scale source must be one of {', '.join(SCALE_SOURCES)}, got "
                              f'{source!r}')
        if not (scale > 0 and math.isfinite(scale)):
            raise ConfigError(f'scale must be positive, got {scale}')
        self.source, self.scale, self.window = source, float(scale), int(window)
        self.min_confidence = _checked_confidence(min_confidence)
        self._filter: tuple[tuple, CameraHeightScale] | None = None
        self._trusted: float | None = None

    def reset(self) -> None:
        """Forget the ground-plane history (the camera-height filter starts again)."""
        if self._filter is not None:
            self._filter[1].reset()
        self._trusted = None

    def set_min_confidence(self, min_confidence: float) -> None:
        """Change the threshold from the next frame on; the filter's history stays."""
        self.min_confidence = _checked_confidence(min_confidence)

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
            self._trusted = None  # measured for another mounting
        return self.judge(self._filter[1].update(depth_m, intr), mounting)

    def judge(self, estimate: ScaleEstimate, mounting: Mounting) -> ScaleResult:
        """The factor applied for the camera-height filter's `estimate`: the filter's when it
        is confident enough, else the last trusted one, else `scale`."""
        confidence = estimate.confidence
        if estimate.factor is not None and confidence >= self.min_confidence:
            self._trusted = estimate.factor
            return ScaleResult(estimate.factor, self.source, True, confidence, estimate, mounting)
        if self._trusted is not None:
            return ScaleResult(self._trusted, self.source, True, confidence, estimate, mounting,
                               held=True)
        return ScaleResult(self.scale, self.source, False, confidence, estimate, mounting)


def _checked_confidence(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f'min_confidence must be within 0..1, got {value}')
    return float(value)
