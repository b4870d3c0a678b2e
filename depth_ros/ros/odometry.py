"""Chain the pose network's frame-to-frame motion into odometry (pure numpy).

Poses from the network are between camera optical frames (x right, y down, z forward). The
odometry frame is the first camera pose with REP 103 axes (x forward, y left, z up), so
odom_from_cam = BODY_FROM_OPTICAL @ cam0_from_cam; the child frame keeps optical axes.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import enum

import numpy as np

from depth_ros.conversions import BODY_FROM_OPTICAL, relative_pose_to_twist


class Event(enum.Enum):
    """How a frame's stamp relates to the previous one."""

    START = 'start'          # first frame: pose is the identity
    MOTION = 'motion'        # relative pose measured and chained
    BACKWARDS = 'backwards'  # stamp older than the previous: odometry reset to the identity
    GAP = 'gap'              # too long since the previous frame: pose kept, motion unmeasured
    REPEAT = 'repeat'        # same stamp again: nothing changes


@dataclass(frozen=True)
class OdometryStep:
    """The odometry after one frame.

    Attributes:
        event: what happened (see `Event`).
        odom_from_cam: [4, 4] pose of the camera (optical axes) in the odometry frame.
        linear_velocity, angular_velocity: [3] m/s and rad/s in the camera frame, or None when
            no motion was measured for this frame.
    """

    event: Event
    odom_from_cam: np.ndarray
    linear_velocity: np.ndarray | None = None
    angular_velocity: np.ndarray | None = None


class OdometryIntegrator:
    """cam0_from_cam = cam0_from_prev @ prev_from_cam, frame after frame."""

    def __init__(self, max_gap_ns: int):
        self.max_gap_ns = int(max_gap_ns)
        self.reset()

    def reset(self) -> None:
        """Start again at the identity with the next frame."""
        self._cam0_from_cam = np.eye(4)
        self.last_ns: int | None = None

    def update(self, stamp_ns: int,
               previous_from_current: Callable[[], np.ndarray]) -> OdometryStep:
        """Advance to the frame at `stamp_ns`.

        Args:
            stamp_ns: the frame's stamp.
            previous_from_current: computes the relative pose from the previous frame to this
                one; only called when it will be used (MOTION), since it runs the pose network.
        """
        event = self._classify(stamp_ns)
        linear = angular = None
        if event is Event.BACKWARDS:
            self._cam0_from_cam = np.eye(4)
        elif event is Event.MOTION:
            relative = np.asarray(previous_from_current(), dtype=np.float64)
            self._cam0_from_cam = self._cam0_from_cam @ relative
            dt_s = (stamp_ns - self.last_ns) * 1e-9
            linear, angular = relative_pose_to_twist(relative, dt_s)
        self.last_ns = stamp_ns if event is not Event.REPEAT else self.last_ns
        return OdometryStep(event, BODY_FROM_OPTICAL @ self._cam0_from_cam, linear, angular)

    def _classify(self, stamp_ns: int) -> Event:
        if self.last_ns is None:
            return Event.START
        if stamp_ns < self.last_ns:
            return Event.BACKWARDS
        if stamp_ns == self.last_ns:
            return Event.REPEAT
        if stamp_ns - self.last_ns > self.max_gap_ns:
            return Event.GAP
        return Event.MOTION
