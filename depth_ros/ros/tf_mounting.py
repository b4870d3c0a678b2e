"""The camera's mounting on the robot: base_frame -> camera from TF, or from a parameter.

One tf2 buffer serves the odometry (base_frame -> image frame) and the `tf` scale source
(ground_frame -> image frame: the camera's height and the ground's up direction, the first one
found checked against the height the weights learned the road at). Its listener runs on a
hidden helper node with its own spin thread, so TF arrives while the node is still configuring
(autostart runs before the executor spins). Lookups of a frame pair that succeeded are cached:
mountings are static.
"""
from __future__ import annotations

from collections.abc import Callable
import time
from typing import Any

import numpy as np
import yaml

from depth_ros.geometry.mounting import parse_mounting, transform_to_matrix
from depth_ros.inference.packaged import camera_height_warning
from depth_ros.pipeline import Mounting


class CameraMounting:
    """base_from_cam for each camera frame_id.

    Args:
        base_to_camera: the parameter ('x y z roll pitch yaw'); empty: look it up in TF.
    """

    def __init__(self, base_to_camera: str):
        self.fixed = parse_mounting(base_to_camera) if base_to_camera.strip() else None
        self.buffer: Any = None
        self._listener: Any = None
        self._helper: Any = None
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self._height_checked = False

    def start(self, node: Any, base_frame: str, scale_from_tf: bool, odometry: bool,
              timeout_s: float) -> str | None:
        """Listen to TF when needed; why configure must fail (no mounting for odometry), or None.

        Args:
            node: the depth node (its name, namespace and context are reused).
            base_frame: the odometry's child frame, which must be on TF without the parameter.
            scale_from_tf: scale_source is 'tf' (the listener is needed for the height).
            odometry: odometry will be published (it needs the mounting).
            timeout_s: how long to wait for base_frame on TF.
        """
        if (scale_from_tf or self.fixed is None) and not self.start_tf(node):
            node.get_logger().warn('tf2_ros is not importable: no TF lookups')
        if not odometry or self.fixed is not None:
            return None
        if self.wait_for_frame(base_frame, timeout_s):
            return None
        return (f"the odometry needs the camera's mounting: TF has no '{base_frame}' frame "
                f'after {timeout_s} s and base_to_camera is empty. Publish {base_frame} -> '
                '<camera frame> (robot_state_publisher, static_transform_publisher) or set '
                "base_to_camera 'x y z roll pitch yaw', or publish_odometry false")

    def start_tf(self, node: Any) -> bool:
        """Listen to /tf and /tf_static; False when tf2_ros is not importable."""
        try:
            import rclpy
            from tf2_ros import Buffer, TransformListener
        except ImportError:
            return False
        self._helper = rclpy.create_node(f'_{node.get_name()}_tf_listener',
                                         namespace=node.get_namespace(), context=node.context)
        self.buffer = Buffer()
        self._listener = TransformListener(self.buffer, self._helper, spin_thread=True)
        return True

    def wait_for_frame(self, frame: str, timeout_s: float) -> bool:
        """Whether `frame` shows up on TF within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.buffer is not None and frame in self._known_frames():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def base_from_camera(self, base_frame: str, frame_id: str) -> np.ndarray:
        """[4, 4] pose of the camera frame `frame_id` in `base_frame` (parameter first).

        Raises:
            LookupError: TF has no such transform (yet).
        """
        if self.fixed is not None:
            return self.fixed
        return self.lookup(base_frame, frame_id)

    def ground_mounting(self, ground_frame: str, frame_id: str) -> Mounting:
        """The camera's height above `ground_frame` and the ground's up direction in the camera
        frame `frame_id` (the 'tf' scale source).

        Raises:
            LookupError: TF has no such transform (yet).
        """
        ground_from_cam = self.lookup(ground_frame, frame_id)
        up = ground_from_cam[:3, :3].T @ np.array([0, 0, 1.0])
        return Mounting(float(ground_from_cam[2, 3]), tuple(float(v) for v in up))

    def scale_mounting(self, ground_frame: str, frame_id: str, weights: str,
                       warn_cause: Callable[[str, str], None],
                       warn: Callable[[str], None]) -> Mounting | None:
        """`ground_mounting` for the `tf` scale source; None while TF lacks it (said through
        `warn_cause('no_ground_tf', message)`: camera_height_m is used meanwhile).

        The first mounting found is checked against the camera height `weights` learned the road
        at (`camera_height_warning`, said through `warn`): once, as the node makes a new
        `CameraMounting` at each configure and the mounting rarely changes.
        """
        try:
            mounting = self.ground_mounting(ground_frame, frame_id)
        except LookupError as exc:
            warn_cause('no_ground_tf', f'{exc}; using camera_height_m')
            return None
        if not self._height_checked:
            self._height_checked = True
            message = camera_height_warning(weights, mounting.height_m, (
                f'{ground_frame} -> {frame_id} {mounting.height_m:.2f} m from TF'))
            if message:
                warn(message)
        return mounting

    def lookup(self, target: str, source: str) -> np.ndarray:
        """target_from_source [4, 4] from TF (latest), cached once found."""
        key = (target, source)
        if key in self._cache:
            return self._cache[key]
        if self.buffer is None:
            raise LookupError('tf2_ros is not available')
        from rclpy.time import Time

        try:
            t = self.buffer.lookup_transform(target, source, Time()).transform
        except Exception as exc:  # tf2 raises several exception types
            raise LookupError(f'no TF {target} -> {source}: {exc}') from exc
        pose = transform_to_matrix((t.translation.x, t.translation.y, t.translation.z),
                                   (t.rotation.x, t.rotation.y, t.rotation.z, t.rotation.w))
        self._cache[key] = pose
        return pose

    def close(self) -> None:
        """Stop the listener thread and destroy the helper node."""
        listener, self._listener = self._listener, None
        if listener is not None:
            executor = getattr(listener, 'executor', None)
            if executor is not None:
                executor.shutdown()
                listener.dedicated_listener_thread.join(5.0)
            listener.unregister()
            # Its __del__ would shut the executor down and unregister again, on the node
            # destroyed below by then.
            for name in ('executor', 'dedicated_listener_thread'):
                listener.__dict__.pop(name, None)
            listener.unregister = lambda: None
        if self._helper is not None:
            self._helper.destroy_node()
            self._helper = None
        self.buffer = None
        self._cache.clear()

    def _known_frames(self) -> set[str]:
        frames = yaml.safe_load(self.buffer.all_frames_as_yaml()) or {}
        known = set(frames)
        known.update(str(v.get('parent', '')) for v in frames.values() if isinstance(v, dict))
        return known
