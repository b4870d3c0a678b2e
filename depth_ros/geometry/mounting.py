"""Camera motion as robot-base motion (REP 105), and the base -> camera mounting (pure numpy).

With base_from_cam the camera's (optical) pose in the base frame, a camera chain cam0_from_cam
becomes the base's odometry by conjugation: odom_from_base = B @ cam0_from_cam @ inv(B), where
odom is the base frame at the start of the chain. A frame-to-frame camera motion becomes base
motion the same way; its twist is in the base frame (nav_msgs/Odometry's child frame).
"""
from __future__ import annotations

import math

import numpy as np

from depth_ros.geometry.se3 import invert, quaternion_to_rotation, relative_pose_to_twist


def rpy_to_rotation(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """[3, 3] R = Rz(yaw) Ry(pitch) Rx(roll) (fixed-axis roll, pitch, yaw, as tf2 uses)."""
    cr, sr, cp, sp = math.cos(roll), math.sin(roll), math.cos(pitch), math.sin(pitch)
    cy, sy = math.cos(yaw), math.sin(yaw)
    return np.array([[cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
                     [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
                     [-sp, cp * sr, cp * cr]])


def parse_mounting(text: str) -> np.ndarray:
    """base_from_cam [4, 4] from 'x y z roll pitch yaw' (metres, radians).

    Raises:
        ValueError: not six finite numbers.
    """
    parts = text.replace(',', ' ').split()
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 6 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"base_to_camera must be 'x y z roll pitch yaw' (six numbers, metres "
                         f"and radians), got {text!r}")
    pose = np.eye(4)
    pose[:3, :3] = rpy_to_rotation(*values[3:])
    pose[:3, 3] = values[:3]
    return pose


def transform_to_matrix(translation: tuple[float, float, float],
                        rotation_xyzw: tuple[float, float, float, float]) -> np.ndarray:
    """[4, 4] from a geometry_msgs/Transform's translation and quaternion."""
    pose = np.eye(4)
    pose[:3, :3] = quaternion_to_rotation(np.asarray(rotation_xyzw, dtype=np.float64))
    pose[:3, 3] = translation
    return pose


def base_pose(base_from_cam: np.ndarray, cam0_from_cam: np.ndarray) -> np.ndarray:
    """odom_from_base [4, 4] of a camera chain (odom = the base at the chain's start)."""
    return base_from_cam @ np.asarray(cam0_from_cam, dtype=np.float64) @ invert(base_from_cam)


def base_twist(base_from_cam: np.ndarray, previous_from_current_cam: np.ndarray,
               dt_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Linear (m/s) and angular (rad/s) velocity of the base, in the base frame."""
    motion = base_pose(base_from_cam, previous_from_current_cam)
    return relative_pose_to_twist(motion, dt_s)
