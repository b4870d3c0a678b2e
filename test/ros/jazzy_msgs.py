"""Real ROS 2 Jazzy message classes without ROS (rosbags' typestore), for the pure-module tests."""
from __future__ import annotations

from typing import Any

import numpy as np


def typestore() -> Any:
    from rosbags.typesys import Stores, get_typestore

    return get_typestore(Stores.ROS2_JAZZY)


def msg_class(name: str) -> Any:
    """The message class of 'package/msg/Name'."""
    return typestore().types[name]


def header(frame_id: str = 'camera_optical', stamp_ns: int = 0) -> Any:
    time = msg_class('builtin_interfaces/msg/Time')
    stamp = time(sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9)
    return msg_class('std_msgs/msg/Header')(stamp=stamp, frame_id=frame_id)


def image(width: int = 64, height: int = 48, encoding: str = 'rgb8', frame_id: str = 'cam',
          channels: int = 3, step: int | None = None, data: Any = None) -> Any:
    step = width * channels if step is None else step
    data = np.zeros(step * height, dtype=np.uint8) if data is None else data
    return msg_class('sensor_msgs/msg/Image')(
        header=header(frame_id), height=height, width=width, encoding=encoding,
        is_bigendian=0, step=step, data=data)


def camera_info(width: int = 64, height: int = 48, fx: float = 50.0, frame_id: str = 'cam',
                d: Any = (), model: str = 'plumb_bob', k: Any = None, p: Any = None) -> Any:
    k = [fx, 0, width / 2, 0, fx, height / 2, 0, 0, 1] if k is None else k
    p = [fx, 0, width / 2, 0, 0, fx, height / 2, 0, 0, 0, 1, 0] if p is None else p
    roi = msg_class('sensor_msgs/msg/RegionOfInterest')(
        x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
    return msg_class('sensor_msgs/msg/CameraInfo')(
        header=header(frame_id), height=height, width=width, distortion_model=model,
        d=np.array(d, dtype=np.float64), k=np.array(k, dtype=np.float64),
        r=np.eye(3).reshape(-1), p=np.array(p, dtype=np.float64), binning_x=0, binning_y=0,
        roi=roi)


def compressed(data: bytes, fmt: str = 'jpeg', frame_id: str = 'cam') -> Any:
    return msg_class('sensor_msgs/msg/CompressedImage')(
        header=header(frame_id), format=fmt, data=np.frombuffer(data, dtype=np.uint8))
