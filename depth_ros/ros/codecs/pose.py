"""Poses as messages: nav_msgs/Odometry, geometry_msgs/Pose and TransformStamped, and the
scale status (std_msgs/Float64MultiArray). Poses are 4x4 `target_from_source` arrays.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from depth_ros.errors import InputError
from depth_ros.geometry.se3 import check_rigid, quaternion_to_rotation, rotation_to_quaternion
from depth_ros.ros.codecs.types import MsgTypes, copy_header


# Variance written for a quantity the node cannot estimate (m^2, rad^2, (m/s)^2, (rad/s)^2). A
# diagonal this large tells fusion filters (robot_localization) the value carries no information,
# which is honest for monocular pose-network odometry that reports no uncertainty of its own.
UNKNOWN_VARIANCE = 1.0e6


def covariance_6x6(variances: Sequence[float] | np.ndarray | None) -> np.ndarray:
    """Row-major 36-vector covariance from 6 variances, a full 6x6, or None (all unknown)."""
    if variances is None:
        return (np.eye(6) * UNKNOWN_VARIANCE).reshape(-1)
    values = np.asarray(variances, dtype=np.float64)
    if values.shape == (6,):
        return np.diag(values).reshape(-1)
    if values.shape in ((6, 6), (36,)):
        return values.reshape(-1).copy()
    raise InputError(f'covariance must be 6 variances or a 6x6 matrix, got shape {values.shape}')


def pose_to_msg(types: MsgTypes, target_from_source: np.ndarray) -> Any:
    """geometry_msgs/Pose of a 4x4 rigid transform."""
    m = _check_pose(target_from_source)
    t = m[:3, 3]
    return types.Pose(position=types.Point(x=float(t[0]), y=float(t[1]), z=float(t[2])),
                      orientation=_quaternion(types, m))


def msg_to_pose(pose: Any) -> np.ndarray:
    """4x4 float64 from a geometry_msgs/Pose or a geometry_msgs/Transform."""
    t = pose.position if hasattr(pose, 'position') else pose.translation
    q = pose.orientation if hasattr(pose, 'orientation') else pose.rotation
    m = np.eye(4)
    m[:3, :3] = quaternion_to_rotation([q.x, q.y, q.z, q.w])
    m[:3, 3] = [t.x, t.y, t.z]
    return m


def pose_to_odometry(types: MsgTypes, world_from_body: np.ndarray, header: Any,
                     child_frame_id: str, pose_covariance: Any = None,
                     linear_velocity: Sequence[float] | None = None,
                     angular_velocity: Sequence[float] | None = None,
                     twist_covariance: Any = None) -> Any:
    """nav_msgs/Odometry of a pose in `header.frame_id`, velocities in `child_frame_id`.

    Args:
        world_from_body: 4x4 pose of the child frame in the header's frame.
        pose_covariance, twist_covariance: 6 variances or 6x6 (x, y, z, roll, pitch, yaw);
            None writes `UNKNOWN_VARIANCE` on the diagonal.
        linear_velocity, angular_velocity: m/s and rad/s in the child frame; None writes zeros
            and an unknown twist covariance.
    """
    if linear_velocity is None or angular_velocity is None:
        linear_velocity, angular_velocity, twist_covariance = (0.0,) * 3, (0.0,) * 3, None
    twist = types.Twist(linear=_vector3(types, linear_velocity),
                        angular=_vector3(types, angular_velocity))
    return types.Odometry(
        header=copy_header(types, header), child_frame_id=str(child_frame_id),
        pose=types.PoseWithCovariance(
            pose=pose_to_msg(types, world_from_body),
            covariance=types.float64_array(covariance_6x6(pose_covariance))),
        twist=types.TwistWithCovariance(
            twist=twist, covariance=types.float64_array(covariance_6x6(twist_covariance))))


def odometry_to_pose(msg: Any) -> np.ndarray:
    """4x4 float64 pose of the child frame in the header's frame from a nav_msgs/Odometry."""
    return msg_to_pose(msg.pose.pose)


def pose_to_transform_stamped(types: MsgTypes, parent_from_child: np.ndarray, header: Any,
                              child_frame_id: str) -> Any:
    """geometry_msgs/TransformStamped (for /tf) from `header.frame_id` to `child_frame_id`."""
    m = _check_pose(parent_from_child)
    return types.TransformStamped(
        header=copy_header(types, header), child_frame_id=str(child_frame_id),
        transform=types.Transform(translation=_vector3(types, m[:3, 3]),
                                  rotation=_quaternion(types, m)))


def _check_pose(target_from_source: np.ndarray) -> np.ndarray:
    m = np.asarray(target_from_source, dtype=np.float64)
    check_rigid(m)
    return m


def _vector3(types: MsgTypes, values: Sequence[float]) -> Any:
    x, y, z = (float(v) for v in values)
    return types.Vector3(x=x, y=y, z=z)


def _quaternion(types: MsgTypes, m: np.ndarray) -> Any:
    x, y, z, w = (float(v) for v in rotation_to_quaternion(m[:3, :3]))
    return types.Quaternion(x=x, y=y, z=z, w=w)


# Labels of the values in the scale status message, in order.
SCALE_STATUS_LABELS = ('factor', 'confidence', 'frame_factor', 'camera_height_m',
                       'applied_factor')


def scale_status(types: MsgTypes, factor: float | None, confidence: float,
                 frame_factor: float | None, camera_height_m: float,
                 applied_factor: float) -> Any:
    """std_msgs/Float64MultiArray [factor, confidence, frame_factor, camera_height_m,
    applied_factor]: the filter's factor and confidence, this frame's own factor, the height,
    and the factor the depth was published with (the filter's, the last trusted one while the
    confidence is under scale_min_confidence, or scale before any was trusted).

    A factor that is unknown is sent as -1 (never NaN), with confidence 0.
    """
    values = [-1.0 if factor is None else float(factor), float(confidence),
              -1.0 if frame_factor is None else float(frame_factor), float(camera_height_m),
              float(applied_factor)]
    dim = types.MultiArrayDimension(label=','.join(SCALE_STATUS_LABELS), size=len(values),
                                    stride=len(values))
    layout = types.MultiArrayLayout(dim=[dim], data_offset=0)
    return types.Float64MultiArray(layout=layout, data=types.float64_array(values))
