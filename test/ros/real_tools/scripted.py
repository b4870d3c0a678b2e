"""A node whose networks are replaced by a scripted camera (known depth and motion).

The real node code runs (inputs, pairing, pipeline, mounting, odometry, TF); only the depth and
pose networks are swapped for a constructed scene, so the published odometry and scale can be
compared with known values. Each frame carries its index in pixel (0, 0, 0).
"""
from __future__ import annotations

from dataclasses import dataclass
import threading
from typing import Any

import numpy as np
from rclpy.executors import MultiThreadedExecutor
from rclpy.parameter import Parameter
from tools import wait_for  # noqa: F401  (the tests call scripted.wait_for)

from depth_ros.ros.node import DepthNode


@dataclass
class Depth:
    depth_m: np.ndarray
    inv_depth_m: np.ndarray


class ScriptedCamera:
    """Predictor methods over a constructed camera trajectory and depth map.

    Args:
        world_from_cam: [N, 4, 4] camera (optical) poses of frames 0..N-1.
        depth_m: [H, W] depth of every frame.
    """

    has_pose = True
    backend_name = 'scripted'

    def __init__(self, world_from_cam: list[np.ndarray], depth_m: np.ndarray):
        self.world_from_cam = world_from_cam
        self.depth_m = depth_m.astype(np.float32)
        self.input_size = depth_m.shape

    def prepare(self, rgb: np.ndarray) -> int:
        return int(rgb[0, 0, 0])

    def predict(self, index: int) -> Depth:
        return Depth(self.depth_m, 1.0 / self.depth_m)

    def relative_pose(self, previous: int, current: int) -> np.ndarray:
        return np.linalg.inv(self.world_from_cam[previous]) @ self.world_from_cam[current]


class ScriptedNode(DepthNode):
    def __init__(self, camera: ScriptedCamera, **kwargs: Any):
        self.camera = camera
        super().__init__(**kwargs)

    def _load_predictor(self, config: Any) -> ScriptedCamera:
        return self.camera


def frame(index: int, height: int, width: int) -> np.ndarray:
    """A random frame (distinct per index, so the motion gate lets motion through)."""
    rgb = np.random.default_rng(index).integers(0, 256, (height, width, 3), dtype=np.uint8)
    rgb[0, 0, 0] = index
    return rgb


def spin(*nodes: Any) -> tuple[MultiThreadedExecutor, threading.Thread]:
    executor = MultiThreadedExecutor(num_threads=4)
    for node in nodes:
        executor.add_node(node)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    return executor, thread


def make_node(camera: ScriptedCamera, name: str, **overrides: Any) -> ScriptedNode:
    """A node whose odometry is the scripted camera's pose-network answers (random frames
    give two-view geometry, the default source, nothing to track)."""
    overrides = {'odometry_source': 'posenet', **overrides}
    return ScriptedNode(camera, node_name=name, parameter_overrides=[
        Parameter(k, value=v) for k, v in overrides.items()])


