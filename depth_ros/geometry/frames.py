"""Axis conventions: camera optical frames and REP 103 body frames, in one place.

Optical frames (REP 103 "_optical" suffix, KITTI's cameras): x right, y down, z forward.
Body frames (REP 103): x forward, y left, z up.

The frame pipeline keeps every pose in optical axes (`cam0_from_cam`: the camera's pose in the
first camera of the chain, KITTI's convention). The node publishes odometry whose parent frame
has body axes at the first camera pose and whose child is the camera optical frame:

    odom_from_cam = BODY_FROM_OPTICAL @ cam0_from_cam.

Evaluating what the node published converts back with `cam0_from_cam_of_odometry`.
"""
from __future__ import annotations

import numpy as np

from depth_ros.geometry.se3 import invert


# Rotation taking camera optical axes to REP 103 body axes: body_from_optical.
BODY_FROM_OPTICAL = np.array([[0.0, 0.0, 1.0, 0.0],
                              [-1.0, 0.0, 0.0, 0.0],
                              [0.0, -1.0, 0.0, 0.0],
                              [0.0, 0.0, 0.0, 1.0]])
BODY_FROM_OPTICAL.flags.writeable = False


def odom_from_optical_chain(cam0_from_cam: np.ndarray) -> np.ndarray:
    """Odometry pose (body-axes parent at the first camera pose, optical child) of a chained
    optical-frame pose: BODY_FROM_OPTICAL @ cam0_from_cam. [.., 4, 4] -> [.., 4, 4]."""
    return BODY_FROM_OPTICAL @ np.asarray(cam0_from_cam, dtype=np.float64)


def cam0_from_cam_of_odometry(odom_from_child: np.ndarray,
                              child_from_cam: np.ndarray | None = None) -> np.ndarray:
    """Camera trajectory in optical axes, relative to its first pose, from odometry poses.

    cam_0_from_cam_i = inv(odom_from_cam_0) @ odom_from_cam_i with
    odom_from_cam = odom_from_child @ child_from_cam. Whatever axes the odometry frame has
    (REP 103 at the first pose, or a map frame), the result is in the camera's optical axes,
    which is KITTI's convention for ground truth.

    Args:
        odom_from_child: [N, 4, 4] poses of the odometry's child frame.
        child_from_cam: [4, 4] pose of the camera optical frame in the child frame; None when
            the child frame is the camera optical frame itself.

    Returns:
        [N, 4, 4] cam_0_from_cam_i (the first is the identity).
    """
    poses = np.asarray(odom_from_child, dtype=np.float64)
    if child_from_cam is not None:
        poses = poses @ np.asarray(child_from_cam, dtype=np.float64)
    return invert(poses[0]) @ poses
