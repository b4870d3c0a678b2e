"""Chain the pose network's frame-to-frame motion into a trajectory (pure numpy).

cam0_from_cam = cam0_from_prev @ prev_from_cam, frame after frame, re-orthonormalised after
every composition (float32 network rotations drift off SO(3) otherwise). Poses stay in the
camera's optical axes (x right, y down, z forward) with the first frame of the chain as the
origin, KITTI's convention; the ROS layer turns them into REP 103 odometry
(`depth_ros.geometry.frames`).

How each frame's stamp relates to the previous one decides what happens (`Event`):
- the first frame starts the chain at the identity;
- time going backwards (a bag restarted) resets the chain to the identity;
- a step forward longer than `max_gap_ns` (frames lost, a bag skipped ahead) resets it too: the
  previous frame is too old to pair with, and a pose chained across the jump would be a guess;
- the same stamp again changes nothing.

`GatedMotion` is the motion the frame pipeline hands the chain: the motion gate's identity or
the measured motion at the frame's scale.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import enum
import time

import numpy as np

from depth_ros.geometry.se3 import orthonormalize, relative_pose_to_twist


class Event(enum.Enum):
    """How a frame's stamp relates to the previous one."""

    START = 'start'          # first frame: pose is the identity
    MOTION = 'motion'        # relative pose measured and chained
    BACKWARDS = 'backwards'  # stamp older than the previous: chain reset to the identity
    GAP = 'gap'              # too long since the previous frame: chain reset to the identity
    REPEAT = 'repeat'        # same stamp again: nothing changes

    @property
    def resets(self) -> bool:
        """The chain restarted here (no motion links this frame to the previous one)."""
        return self in (Event.START, Event.BACKWARDS, Event.GAP)


@dataclass(frozen=True, eq=False)
class OdometryStep:
    """The chained pose after one frame.

    Attributes:
        event: what happened (see `Event`).
        cam0_from_cam: [4, 4] float64 pose of this camera (optical axes) in the first camera of
            the chain.
        previous_from_current: [4, 4] the measured motion (metres), or None when none was.
        linear_velocity, angular_velocity: [3] m/s and rad/s in the camera frame, or None when
            no motion was measured for this frame.
        dt_s: seconds from the previous frame's stamp to this one (negative when time went
            backwards, 0 for the first frame).
    """

    event: Event
    cam0_from_cam: np.ndarray
    previous_from_current: np.ndarray | None = None
    linear_velocity: np.ndarray | None = None
    angular_velocity: np.ndarray | None = None
    dt_s: float = 0.0


class OdometryChain:
    """The one odometry chaining of the package (node and evaluator alike)."""

    def __init__(self, max_gap_ns: int):
        self.max_gap_ns = int(max_gap_ns)
        self.reset()

    def reset(self) -> None:
        """Start again at the identity with the next frame."""
        self._cam0_from_cam = np.eye(4)
        self.last_ns: int | None = None

    def classify(self, stamp_ns: int) -> Event:
        """What `update(stamp_ns, ...)` would do, without changing anything."""
        if self.last_ns is None:
            return Event.START
        if stamp_ns < self.last_ns:
            return Event.BACKWARDS
        if stamp_ns == self.last_ns:
            return Event.REPEAT
        if stamp_ns - self.last_ns > self.max_gap_ns:
            return Event.GAP
        return Event.MOTION

    def update(self, stamp_ns: int,
               previous_from_current: Callable[[], np.ndarray]) -> OdometryStep:
        """Advance to the frame at `stamp_ns`.

        Args:
            stamp_ns: the frame's stamp.
            previous_from_current: computes the relative pose (metres) from the previous frame
                to this one; called only for MOTION, since it runs the pose network.
        """
        event = self.classify(stamp_ns)
        dt_s = 0.0 if self.last_ns is None else (stamp_ns - self.last_ns) * 1e-9
        relative = linear = angular = None
        if event in (Event.BACKWARDS, Event.GAP):
            self._cam0_from_cam = np.eye(4)
        elif event is Event.MOTION:
            relative = np.asarray(previous_from_current(), dtype=np.float64)
            self._cam0_from_cam = orthonormalize(self._cam0_from_cam @ relative)
            linear, angular = relative_pose_to_twist(relative, dt_s)
        if event is not Event.REPEAT:
            self.last_ns = int(stamp_ns)
        return OdometryStep(event, self._cam0_from_cam.copy(), relative, linear, angular, dt_s)


class GatedMotion:
    """previous_from_current for `OdometryChain.update`: the gate's identity or the measured
    motion (pose network or epipolar), translation times the frame's scale; remembers what it
    did."""

    def __init__(self, measure: Callable[[], np.ndarray] | None, factor: float,
                 static: Callable[[], bool | None]) -> None:
        self._measure, self._factor, self._static = measure, factor, static
        self.static: bool | None = None
        self.network_s = 0.0

    def __call__(self) -> np.ndarray:
        if self._measure is None:
            return np.eye(4)  # nothing measures motion: the chain only keeps time
        self.static = self._static()
        if self.static:
            return np.eye(4)  # the same view: the camera stood still, whatever the network says
        start = time.perf_counter()
        pose = np.array(self._measure(), dtype=np.float64)
        self.network_s = time.perf_counter() - start
        pose[:3, 3] *= self._factor  # the same scale as this frame's depth
        return pose
