"""The message classes codecs build, for rclpy and rosbags alike, and stamps and headers.

`MsgTypes.from_typestore()` gives rosbags' dataclasses (writing and reading bags offline);
`depth_ros.ros.msg_types.rclpy_msg_types()` the generated rclpy classes (the node). Both accept
keyword construction of every field; the only difference, how a uint8[] / float64[] field wants
its data, is held in the `MsgTypes` too. Nothing here imports ROS.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from depth_ros.errors import InputError


# Attribute of MsgTypes -> full ROS type name.
MESSAGES = {
    'Time': 'builtin_interfaces/msg/Time',
    'Header': 'std_msgs/msg/Header',
    'Image': 'sensor_msgs/msg/Image',
    'CameraInfo': 'sensor_msgs/msg/CameraInfo',
    'RegionOfInterest': 'sensor_msgs/msg/RegionOfInterest',
    'PointCloud2': 'sensor_msgs/msg/PointCloud2',
    'PointField': 'sensor_msgs/msg/PointField',
    'Odometry': 'nav_msgs/msg/Odometry',
    'TransformStamped': 'geometry_msgs/msg/TransformStamped',
    'Transform': 'geometry_msgs/msg/Transform',
    'Vector3': 'geometry_msgs/msg/Vector3',
    'Quaternion': 'geometry_msgs/msg/Quaternion',
    'Point': 'geometry_msgs/msg/Point',
    'Pose': 'geometry_msgs/msg/Pose',
    'PoseWithCovariance': 'geometry_msgs/msg/PoseWithCovariance',
    'Twist': 'geometry_msgs/msg/Twist',
    'TwistWithCovariance': 'geometry_msgs/msg/TwistWithCovariance',
    'Float64MultiArray': 'std_msgs/msg/Float64MultiArray',
    'MultiArrayLayout': 'std_msgs/msg/MultiArrayLayout',
    'MultiArrayDimension': 'std_msgs/msg/MultiArrayDimension',
}

@dataclass(frozen=True)
class MsgTypes:
    """The message classes the builders construct, plus how array fields want their data.

    Attributes are named like the messages (`types.Image(...)`). `uint8_array` turns a contiguous
    numpy array into what a uint8[] field accepts (its raw bytes); `float64_array` turns a sequence
    of numbers into what a float64[] / float64[N] field accepts.
    """

    Time: type
    Header: type
    Image: type
    CameraInfo: type
    RegionOfInterest: type
    PointCloud2: type
    PointField: type
    Odometry: type
    TransformStamped: type
    Transform: type
    Vector3: type
    Quaternion: type
    Point: type
    Pose: type
    PoseWithCovariance: type
    Twist: type
    TwistWithCovariance: type
    Float64MultiArray: type
    MultiArrayLayout: type
    MultiArrayDimension: type
    uint8_array: Callable[[np.ndarray], Any]
    float64_array: Callable[[Sequence[float] | np.ndarray], Any]

    @classmethod
    def from_typestore(cls, typestore: Any = None) -> MsgTypes:
        """rosbags message dataclasses; `typestore` defaults to ROS 2 Humble's."""
        if typestore is None:
            from rosbags.typesys import Stores, get_typestore
            typestore = get_typestore(Stores.ROS2_HUMBLE)
        classes = {attr: typestore.types[name] for attr, name in MESSAGES.items()}
        return cls(**classes, uint8_array=numpy_bytes,
                   float64_array=lambda v: np.asarray(v, dtype=np.float64).reshape(-1))


def numpy_bytes(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values).reshape(-1).view(np.uint8)


def stamp_to_ns(stamp: Any) -> int:
    """Nanoseconds since the epoch of a builtin_interfaces/Time (`sec`, `nanosec`)."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def ns_to_stamp(types: MsgTypes, stamp_ns: int) -> Any:
    """builtin_interfaces/Time of `stamp_ns` nanoseconds (sec is int32, so 1901..2038)."""
    sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
    if not -2**31 <= sec < 2**31:
        raise InputError(f'stamp {stamp_ns} ns does not fit builtin_interfaces/Time (int32 sec)')
    return types.Time(sec=sec, nanosec=nanosec)


def make_header(types: MsgTypes, stamp_ns: int, frame_id: str) -> Any:
    """std_msgs/Header with the given stamp and frame."""
    return types.Header(stamp=ns_to_stamp(types, stamp_ns), frame_id=str(frame_id))


def copy_header(types: MsgTypes, header: Any) -> Any:
    """A new Header of `types` equal to `header` (which may come from another message library)."""
    return make_header(types, stamp_to_ns(header.stamp), header.frame_id)


def byte_array(data: Any) -> np.ndarray:
    """uint8 view of a uint8[] field: bytes, array.array (rclpy), ndarray (rosbags) or a list."""
    if isinstance(data, (list, tuple)):
        return np.asarray(data, dtype=np.uint8)
    return np.frombuffer(data, dtype=np.uint8)
