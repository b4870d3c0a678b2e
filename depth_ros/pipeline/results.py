"""What the frame pipeline (`pipeline.frame`) gives for a frame: a result, or why there is none."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.pipeline.odometry import Event, OdometryStep
from depth_ros.pipeline.scale import ScaleResult


@dataclass(frozen=True, eq=False)
class FrameResult:
    """Everything one frame gave.

    Attributes:
        stamp_ns: the frame's stamp.
        depth_m: [h, w] float32 depth in metres (times `scale.factor`), NaN-free, at the
            published resolution (the input subsampled by `depth_downsample`).
        intrinsics: intrinsics of `depth_m`.
        rgb: [h, w, 3] uint8 colours of the pixels of `depth_m`.
        unscaled_inv_depth_m: [H, W] float32 inverse depth in 1/m as the weights give it
            (refined when `depth_refinement` is on; before the scale factor) at the input
            resolution, for evaluation.
        scale: the scale applied.
        odometry: the chained pose (optical axes) and the motion, None when nothing measures
            motion (the posenet source with depth-only weights).
        chain: the chain's step even without a pose network: its `event` (a reset by a time
            jump) and `dt_s`.
        static: the motion gate's verdict when motion was measured (True: the motion is the
            identity), None when the gate is off or no motion was measured.
        notes: things worth a warning that did not stop the frame.
        network_s: seconds spent in the networks (with the epipolar odometry and the
            refinement's corner tracking beside them).
        odometry_status: what measured this frame's motion and how it went, for diagnostics:
            'epipolar: motion (812 tracks, 640 inliers)', 'epipolar: still (no flow)',
            'epipolar: lost, last motion repeated (12 tracks, 0 inliers)', 'epipolar: first
            frame', 'epipolar: repeated stamp', 'posenet', 'none (no pose network)'.
        depth_refinement: 'off', or what `depth_refinement: tracks` did to this frame
            (`TrackPoints.describe`): 'tracks: 512 points, 3 frames back', 'tracks: still (no
            earlier frame far enough)', ...
    """

    stamp_ns: int
    depth_m: np.ndarray = field(repr=False)
    intrinsics: Intrinsics
    rgb: np.ndarray = field(repr=False)
    unscaled_inv_depth_m: np.ndarray = field(repr=False)
    scale: ScaleResult
    odometry: OdometryStep | None = field(repr=False)
    chain: OdometryStep = field(repr=False)
    static: bool | None = None
    notes: tuple[str, ...] = ()
    network_s: float = 0.0
    odometry_status: str = ''
    depth_refinement: str = 'off'

    @property
    def event(self) -> Event | None:
        return None if self.odometry is None else self.odometry.event


@dataclass(frozen=True)
class DroppedFrame:
    """A frame that gave no result, and why (`cause` is a short key for counters)."""

    stamp_ns: int
    cause: str
    reason: str
