"""The node under test and a probe node in one process, spun in a thread (needs rclpy)."""
from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data

from depth_ros.ros import codecs as conv
from depth_ros.ros.msg_types import rclpy_msg_types
from depth_ros.ros.node import DepthNode
from depth_ros.ros.topics import OUTPUTS


WIDTH, HEIGHT = 64, 48
K = [60.0, 0.0, 31.5, 0.0, 62.0, 23.5, 0.0, 0.0, 1.0]
FRAME_ID = 'cam_optical'
# The camera optical frame at base_link's origin with REP 103 optical axes: odometry of the base
# is then the camera's motion in body axes.
OPTICAL_AT_BASE = '0 0 0 -1.5707963267948966 0 -1.5707963267948966'
SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND


def wait_for(predicate, timeout_s: float = 10.0, period_s: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period_s)
    return bool(predicate())


class Harness:
    """The node under test, a probe publishing camera frames and recording every output."""

    count = 0

    def __init__(self, checkpoint: str, namespace: str = '/', subscribe: bool = True,
                 overrides: dict[str, Any] | None = None):
        values = {'weights': checkpoint, 'publish_colored': True,
                  'base_to_camera': OPTICAL_AT_BASE, **(overrides or {})}
        Harness.count += 1
        self.node = DepthNode(f'mono_depth_{Harness.count}', namespace=namespace,
                              parameter_overrides=[
            Parameter(name, value=value) for name, value in values.items()])
        self.probe = rclpy.create_node(f'probe_{Harness.count}', namespace=namespace)
        self.types = rclpy_msg_types()
        self.received: dict[str, list[tuple[float, Any]]] = {t: [] for t in OUTPUTS}
        self.image_pub = self.probe.create_publisher(self.types.Image, 'image',
                                                     qos_profile_sensor_data)
        self.info_pub = self.probe.create_publisher(self.types.CameraInfo, 'camera_info',
                                                    qos_profile_sensor_data)
        if subscribe:
            for topic in OUTPUTS:
                self.listen(topic)
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self.executor.add_node(self.probe)
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._thread.start()

    def listen(self, topic: str) -> None:
        message = getattr(self.types, OUTPUTS[topic])
        self.probe.create_subscription(
            message, topic, lambda msg, t=topic: self.received[t].append((time.monotonic(), msg)),
            10)

    def start(self) -> None:
        from rclpy.lifecycle import TransitionCallbackReturn

        assert self.node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        assert self.node.trigger_activate() == TransitionCallbackReturn.SUCCESS
        assert wait_for(lambda: self.image_pub.get_subscription_count() > 0
                        and self.info_pub.get_subscription_count() > 0)

    def camera_info(self, stamp_ns: int, k=K, width: int = WIDTH, height: int = HEIGHT):
        return self.types.CameraInfo(
            header=conv.make_header(self.types, stamp_ns, FRAME_ID), width=width, height=height,
            distortion_model='plumb_bob', d=[0.0] * 5, k=[float(v) for v in k],
            p=[k[0], 0.0, k[2], 0.0, 0.0, k[4], k[5], 0.0, 0.0, 0.0, 1.0, 0.0])

    def send(self, stamp_ns: int, encoding: str = 'rgb8', image: Any = None,
             info: bool = True, seed: int = 0) -> None:
        if image is None:
            rgb = np.random.default_rng(seed).integers(0, 256, (HEIGHT, WIDTH, 3), np.uint8)
            header = conv.make_header(self.types, stamp_ns, FRAME_ID)
            image = conv.rgb_to_image(self.types, rgb, header, encoding)
        if info:
            self.info_pub.publish(self.camera_info(stamp_ns))
        self.image_pub.publish(image)

    def outputs(self, topic: str, stamp_ns: int) -> list[Any]:
        return [m for _, m in list(self.received[topic])
                if conv.stamp_to_ns(m.header.stamp) == stamp_ns]

    def wait_output(self, topic: str, stamp_ns: int, timeout_s: float = 10.0) -> Any:
        assert wait_for(lambda: self.outputs(topic, stamp_ns), timeout_s), (
            f'no {topic} for stamp {stamp_ns} within {timeout_s} s; stats {dict(self.node.stats)}')
        return self.outputs(topic, stamp_ns)[0]

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=5.0)
        self._thread.join(5.0)
        self.node.worker.stop()
        self.node.destroy_node()
        self.probe.destroy_node()
