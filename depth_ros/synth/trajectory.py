"""Car-like camera motion: a smooth speed profile along the road, sampled at 10 Hz.

The camera drives in the right-hand lane at a constant lateral offset from the centreline, with
its heading equal to the road's, at a fixed height and zero pitch and roll (a rigid mount on a car
on a flat road). Poses are `world_from_cam` in the first camera's frame, so frame 0 is identity.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depth_ros.synth.road import Road


FRAME_RATE_HZ = 10.0


@dataclass(frozen=True)
class SpeedProfile:
    """Speed v(t) = mean + sum_i a_i sin(w_i t + phi_i) in m/s; distance is its exact integral."""

    mean_mps: float
    amplitudes: tuple[float, ...]
    frequencies: tuple[float, ...]
    phases: tuple[float, ...]

    @classmethod
    def random(cls, rng: np.random.Generator, min_mps: float = 5.0,
               max_mps: float = 12.0) -> SpeedProfile:
        """Two sinusoids with periods of 12-40 s spanning [min_mps, max_mps] at most."""
        weights = rng.uniform(0.3, 1.0, size=2)
        swing = 0.5 * (max_mps - min_mps) * rng.uniform(0.5, 1.0)
        periods = rng.uniform(12.0, 40.0, size=2)
        phases = rng.uniform(0.0, 2.0 * np.pi, size=2)
        amps = swing * weights / weights.sum()
        return cls(0.5 * (min_mps + max_mps), tuple(amps.tolist()),
                   tuple((2.0 * np.pi / periods).tolist()), tuple(phases.tolist()))

    def speed(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        return self.mean_mps + sum(a * np.sin(w * t + p) for a, w, p in
                                   zip(self.amplitudes, self.frequencies, self.phases))

    def distance(self, t: np.ndarray) -> np.ndarray:
        """Distance travelled since t = 0 in metres."""
        t = np.asarray(t, dtype=np.float64)
        return self.mean_mps * t + sum(a / w * (np.cos(p) - np.cos(w * t + p)) for a, w, p in
                                       zip(self.amplitudes, self.frequencies, self.phases))


@dataclass(frozen=True)
class Trajectory:
    """Camera motion over K frames.

    Attributes:
        times_s: [K] timestamps, 0.0, 0.1, ...
        arc_m: [K] arc length of each camera's foot point along the centreline.
        speed_mps: [K] forward speed.
        world_from_cam: [K, 4, 4] camera-to-world poses, frame 0 = identity.
    """

    times_s: np.ndarray
    arc_m: np.ndarray
    speed_mps: np.ndarray
    world_from_cam: np.ndarray


def frame_times(frames: int) -> np.ndarray:
    """Timestamps of `frames` frames at FRAME_RATE_HZ, starting at 0."""
    return np.arange(frames, dtype=np.float64) / FRAME_RATE_HZ


def camera_poses(road: Road, s: np.ndarray, lane_offset_m: float) -> np.ndarray:
    """world_from_cam [N, 4, 4] of forward-looking cameras at arc lengths s [N].

    The rotation is R_y(psi): the optical axis z maps to the road tangent (sin psi, 0, cos psi)
    and x to the right-hand normal (cos psi, 0, -sin psi). The camera sits `lane_offset_m` right
    of the centreline; its height is implicit: world y = 0 is the camera plane and the ground is
    y = camera_height_m.
    """
    s = np.asarray(s, dtype=np.float64)
    psi = road.heading(s)
    x, z = road.point(s, lane_offset_m)
    c, sn = np.cos(psi), np.sin(psi)
    poses = np.tile(np.eye(4), (s.size, 1, 1))
    poses[:, 0, 0], poses[:, 0, 2], poses[:, 2, 0], poses[:, 2, 2] = c, sn, -sn, c
    poses[:, 0, 3], poses[:, 2, 3] = x, z
    return poses


def make_trajectory(road: Road, speed: SpeedProfile, frames: int,
                    lane_offset_m: float) -> Trajectory:
    """Sample the drive at FRAME_RATE_HZ; `road` must extend past the last frame."""
    times = frame_times(frames)
    arc = speed.distance(times)
    poses = camera_poses(road, arc, lane_offset_m)
    poses[0] = np.eye(4)  # exact by construction; remove rounding noise
    return Trajectory(times, arc, speed.speed(times), poses)
