"""The rclpy message classes behind `depth_ros.ros.codecs.MsgTypes` (needs a ROS 2 env)."""
from __future__ import annotations

import array
import importlib

import numpy as np

from depth_ros.ros.codecs import MESSAGES, MsgTypes, numpy_bytes


def rclpy_msg_types() -> MsgTypes:
    """Generated rclpy message classes for the pure conversion functions."""
    classes = {}
    for attr, name in MESSAGES.items():
        package, _, message = name.split('/')
        classes[attr] = getattr(importlib.import_module(f'{package}.msg'), message)
    # array.array is the fast path of rclpy's uint8[] setter; a list suits every float64 field.
    return MsgTypes(**classes, uint8_array=lambda a: array.array('B', numpy_bytes(a).tobytes()),
                    float64_array=lambda v: np.asarray(v, dtype=np.float64).reshape(-1).tolist())
