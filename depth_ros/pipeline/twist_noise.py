"""How far to trust the odometry's twist: a measured noise model for its covariance (pure numpy).

Fusion filters (robot_localization's EKF / UKF) weigh a velocity by the covariance its message
carries; an unknown one (REP 147: 1e6 on the diagonal) makes the odometry count for nothing.
The epipolar odometry's errors were measured per frame on the real drives with poses (KITTI
odometry 00, 06, 01 and the dev drive, 10 Hz; docs/learning/real_world_recipe.md, "Session
21"): the speed along the optical axis is off by a fraction of itself (the distance's metres,
the model's largest term), the sideways components by a smaller fraction, the rotation by a
few hundredths of a degree per frame. The model keeps the worst drive's root-mean-square
error of each, bias included, so a filter is not made overconfident. The pose network has no
model (its speed is nearly constant whatever the camera does) and keeps the unknown covariance.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np

from depth_ros.pipeline.scale import GROUND_SOURCES


@dataclass(frozen=True)
class TwistNoise:
    """Standard deviations of one frame pair's twist, in the camera's optical frame.

    Attributes:
        forward_fraction: along the optical axis (z), as a fraction of the speed.
        sideways_fraction: across it (x, y), as a fraction of the speed.
        floor_m_s: added in quadrature to each linear component (a still camera's speed is
            zero, not known to zero).
        rotation_deg: about each axis, per frame pair (divided by the pair's time step).
    """

    forward_fraction: float
    sideways_fraction: float
    floor_m_s: float
    rotation_deg: float

    def covariance(self, linear_velocity: np.ndarray, dt_s: float,
                   base_from_cam: np.ndarray) -> np.ndarray:
        """[6, 6] covariance of the twist (linear m/s, angular rad/s) in the base frame.

        Args:
            linear_velocity: [3] the measured velocity (m/s; only its length is used).
            dt_s: the pair's time step (s), > 0.
            base_from_cam: [4, 4] or [3, 3] the camera's (optical) orientation in the base.
        """
        speed = float(np.linalg.norm(linear_velocity))
        sideways = math.hypot(self.sideways_fraction * speed, self.floor_m_s) ** 2
        forward = math.hypot(self.forward_fraction * speed, self.floor_m_s) ** 2
        rotation = np.asarray(base_from_cam, dtype=np.float64)[:3, :3]
        out = np.zeros((6, 6))
        out[:3, :3] = rotation @ np.diag([sideways, sideways, forward]) @ rotation.T
        out[3:, 3:] = np.eye(3) * (math.radians(self.rotation_deg) / dt_s) ** 2
        return out


# Worst real drive of the four, root-mean-square per-frame error (session 21): the weights'
# metres (scale_source none / fixed) 0.34 of the speed along the axis (KITTI 01, a highway);
# camera-height metres (camera_height / tf) 0.13 (the dev drive, 0.127 since session 22's
# confidence gate: its first frames keep `scale`); sideways 0.04 of the speed and 0.05 degrees
# a frame about each axis (the dev drive, whose GPS/INS poses add their own noise) in both.
WEIGHTS_METRES = TwistNoise(forward_fraction=0.34, sideways_fraction=0.04, floor_m_s=0.02,
                            rotation_deg=0.05)
CAMERA_HEIGHT_METRES = TwistNoise(forward_fraction=0.13, sideways_fraction=0.04,
                                  floor_m_s=0.02, rotation_deg=0.05)
TWIST_COVARIANCES = ('measured', 'unknown')


def twist_noise(odometry_source: str, scale_source: str,
                from_ground: bool = True) -> TwistNoise | None:
    """The measured model of the odometry a node with these sources publishes; None: none
    (the pose network). `from_ground`: the frame's scale is a camera-height factor (False while
    a camera-height source falls back to `scale`: the weights' metres, `ScaleResult.from_ground`).
    """
    if odometry_source != 'epipolar':
        return None
    ground = scale_source in GROUND_SOURCES and from_ground
    return CAMERA_HEIGHT_METRES if ground else WEIGHTS_METRES
