"""The direction of travel of a camera on a moving platform, smoothed over frame pairs.

Each pair of frames gives a direction of travel (unit translation, current_from_previous, from
the essential matrix) that scatters by tenths of a degree; a camera rigidly mounted on a vehicle
sees it change slowly, so it is smoothed exponentially over the pairs (`reset` forgets it: the
epipolar odometry does so at a break, a still camera or lost tracks, unless it smooths in the
vehicle's frame, where the mount's direction carries on).

In a bend a vehicle that moves along its heading (a car, a wheeled robot: no side-slip) travels
along the chord of its arc, half-way between its two headings: between two camera poses whose
relative rotation is R, the direction of travel is R^(1/2) applied to the one fixed in the
vehicle's frame. With `turn_compensation` each measurement is turned back by half its pair's
rotation before smoothing and the result turned forward again, so the smoothed quantity is the
mount's direction, which does not change in bends (straight ahead nothing changes).

A measurement further than `max_jump_deg` from the smoothed direction (a robot reversing)
restarts the smoothing. Used by `pipeline.epipolar`; the settings are `EpipolarConfig`'s.
"""
from __future__ import annotations

import math

import numpy as np

from depth_ros.geometry.se3 import half_rotation


class TravelDirection:
    """Exponentially smoothed direction of travel; state: the last smoothed direction.

    Args:
        smoothing: weight of the past in [0, 1) (0: each pair's own direction).
        max_jump_deg: a measurement further than this from the smoothed direction restarts it.
        turn_compensation: smooth in the vehicle's frame (module docstring).
    """

    def __init__(self, smoothing: float, max_jump_deg: float, turn_compensation: bool) -> None:
        self.smoothing, self.max_jump_deg = smoothing, max_jump_deg
        self.turn_compensation = turn_compensation
        self._direction: np.ndarray | None = None

    def reset(self) -> None:
        """A break (a still camera, lost tracks): the next direction starts afresh."""
        self._direction = None

    def update(self, direction: np.ndarray, rotation: np.ndarray) -> np.ndarray:
        """The smoothed unit direction of travel of this pair.

        Args:
            direction: [3] measured unit translation (current_from_previous).
            rotation: [3, 3] the pair's measured rotation (current_from_previous).
        """
        if not self.turn_compensation:
            return self._smooth(direction)
        half = half_rotation(rotation)
        return half @ self._smooth(half.T @ direction)

    def _smooth(self, direction: np.ndarray) -> np.ndarray:
        last = self._direction
        if last is not None and self.smoothing > 0 and (
                math.degrees(math.acos(float(np.clip(last @ direction, -1.0, 1.0))))
                <= self.max_jump_deg):
            mixed = self.smoothing * last + (1.0 - self.smoothing) * direction
            self._direction = mixed / np.linalg.norm(mixed)
        else:
            self._direction = direction
        return self._direction
