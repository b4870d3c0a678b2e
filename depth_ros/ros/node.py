"""Monocular depth and visual odometry as an rclpy lifecycle node.

Subscribes (relative names, remap in launch):
    image (sensor_msgs/Image: rgb8, bgr8, rgba8, bgra8, mono8, mono16), camera_info.
Publishes:
    depth/image (32FC1 metres, REP 118, the input header), depth/camera_info (same header,
    intrinsics of the published resolution), points (PointCloud2 in the camera frame),
    odom (nav_msgs/Odometry odom_frame -> child_frame), the same transform on /tf when tf2_ros
    is importable, and depth/colored (Turbo colour map) when publish_colored is set.

Frame path: camera message -> `codecs` -> `depth_ros.pipeline.FramePipeline` (depth, scale,
motion, chained pose) -> `codecs` -> publish. The pipeline keeps poses in optical axes; odometry
is published in REP 103 axes (`depth_ros.geometry.frames`).

Lifecycle: configure loads the model (a failure returns to unconfigured with the reason
logged), activate subscribes, deactivate unsubscribes. Images are paired with camera_info by
stamp and handed to a worker thread that processes only the newest frame, so the output never
lags behind the camera. Nothing is inferred while no one subscribes to an output. Bad frames
are logged (throttled) and dropped; the node stays up.

Odometry covariance: the pose network reports no uncertainty, so pose and twist covariances
are `UNKNOWN_VARIANCE` (1e6) on the diagonal; fusion filters should treat them as uninformed.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
import functools
import sys
from typing import Any

import numpy as np
from rcl_interfaces.msg import SetParametersResult
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.time import Time

from depth_ros.colormaps import colorize_depth
from depth_ros.errors import InputError
from depth_ros.geometry.frames import odom_from_optical_chain
from depth_ros.geometry.se3 import quaternion_to_rotation
from depth_ros.pipeline import (
    DroppedFrame,
    Event,
    FramePipeline,
    FrameResult,
    Mounting,
    PipelineConfig,
)
from depth_ros.ros import codecs, params
from depth_ros.ros.msg_types import rclpy_msg_types
from depth_ros.ros.pairing import PairResult, StampPairer
from depth_ros.ros.topics import OUTPUTS
from depth_ros.ros.worker import LatestWorker


NODE_NAME = 'mono_depth'
THROTTLE_S = 5.0
# Outputs are reliable so both RViz (reliable) and sensor-data (best-effort) subscribers match.
OUTPUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=5,
                        reliability=ReliabilityPolicy.RELIABLE)


def _logged_transition(callback: Callable) -> Callable:
    """Log an exception escaping a transition callback (rclpy turns it into a silent ERROR)."""
    @functools.wraps(callback)
    def wrapper(self: DepthNode, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            return callback(self, state)
        except Exception as exc:  # reported, then rclpy's error handling
            self.get_logger().error(f'{callback.__name__} failed: {type(exc).__name__}: {exc}')
            return TransitionCallbackReturn.ERROR
    return wrapper


@dataclass
class Frame:
    """One image with its camera_info."""

    image: Any
    info: Any


def pipeline_config(config: params.NodeConfig) -> PipelineConfig:
    """The frame pipeline's settings from the node's parameters."""
    return PipelineConfig(
        scale_source=config.scale_source, depth_scale=config.depth_scale,
        mounting=Mounting.from_pitch(config.camera_height_m, config.camera_pitch_deg),
        scale_window=config.scale_window, depth_downsample=config.depth_downsample,
        max_pose_gap_s=config.max_pose_gap_s)


class DepthNode(LifecycleNode):
    """Depth image, point cloud and odometry from one camera."""

    def __init__(self, node_name: str = NODE_NAME, **kwargs: Any):
        super().__init__(node_name, **kwargs)
        self.types = rclpy_msg_types()
        for name, default in params.defaults().items():
            self.declare_parameter(name, default, params.descriptor(name))
        values = {name: self.get_parameter(name).value for name in params.defaults()}
        self.config = params.NodeConfig.from_values(values)
        self._config_error = self._first_invalid(values)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.predictor: Any = None
        self.pipeline: FramePipeline | None = None
        self.stats: Counter[str] = Counter()
        self.worker = LatestWorker(self._process, self._on_worker_error)
        self._pairer = StampPairer()
        self._output_pubs: dict[str, Any] = {}
        self._input_subs: list[Any] = []
        self._tf: Any = None
        self._tf_buffer: Any = None
        self._apply(self.config)

    # --- lifecycle -----------------------------------------------------------------------------

    @_logged_transition
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load the model and create the publishers; fail with the reason logged."""
        if self._config_error:
            self.get_logger().error(f'configure failed: {self._config_error}')
            return TransitionCallbackReturn.FAILURE
        try:
            self.predictor = self._load_predictor(self.config)
        except Exception as exc:  # any backend failure is a configure failure
            self.get_logger().error(f'configure failed: cannot load the depth model: {exc}')
            return TransitionCallbackReturn.FAILURE
        self.pipeline = FramePipeline(self.predictor, pipeline_config(self.config))
        for topic, message in OUTPUTS.items():
            self._output_pubs[topic] = self.create_lifecycle_publisher(
                getattr(self.types, message), topic, OUTPUT_QOS)
        self._tf = self._make_tf_broadcaster()
        self._tf_buffer = self._make_tf_buffer()
        height, width = self.predictor.input_size
        odometry = 'on' if self.predictor.has_pose else 'off: the weights have no pose network'
        self.get_logger().info(f'model loaded ({self.config.backend} on {self.config.device}, '
                               f'network input {width}x{height}, odometry {odometry})')
        return TransitionCallbackReturn.SUCCESS

    @_logged_transition
    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Subscribe to the camera and start the worker."""
        qos = self._input_qos(self.config)
        self._pairer.reset()
        if self.pipeline is not None:
            self.pipeline.reset()
        self._input_subs = [
            self.create_subscription(self.types.Image, 'image', self._on_image, qos),
            self.create_subscription(self.types.CameraInfo, 'camera_info', self._on_camera_info,
                                     qos),
        ]
        self.worker.start()
        return super().on_activate(state)

    @_logged_transition
    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Unsubscribe and stop the worker after the frame in progress."""
        self._unsubscribe()
        return super().on_deactivate(state)

    @_logged_transition
    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release the model and the publishers."""
        self._release()
        return TransitionCallbackReturn.SUCCESS

    @_logged_transition
    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._unsubscribe()
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def _unsubscribe(self) -> None:
        for subscription in self._input_subs:
            self.destroy_subscription(subscription)
        self._input_subs = []
        self.worker.stop()

    def _release(self) -> None:
        for publisher in self._output_pubs.values():
            self.destroy_publisher(publisher)
        self._output_pubs = {}
        self._tf = None
        self.pipeline = None
        self.predictor = None

    def _load_predictor(self, config: params.NodeConfig) -> Any:
        from depth_ros.inference import Predictor  # torch: imported when configuring only
        from depth_ros.memory import keep_heap_warm

        keep_heap_warm()  # per-frame MB-sized arrays without page faults (depth_ros.memory)
        return Predictor.from_checkpoint(config.weights or None, device=config.device,
                                         backend=config.backend)

    def _make_tf_broadcaster(self) -> Any:
        try:
            from tf2_ros import TransformBroadcaster
        except ImportError:
            if self.config.publish_tf:
                self.get_logger().warn('tf2_ros is not importable: odometry is published on '
                                       'odom only, not on /tf')
            return None
        return TransformBroadcaster(self)

    def _make_tf_buffer(self) -> Any:
        if self.config.scale_source != 'tf':
            return None
        try:
            from tf2_ros import Buffer, TransformListener
        except ImportError:
            self.get_logger().warn('tf2_ros is not importable: scale_source tf falls back to '
                                   'camera_height_m and camera_pitch_deg')
            return None
        buffer = Buffer()
        self._tf_listener = TransformListener(buffer, self)
        return buffer

    @staticmethod
    def _input_qos(config: params.NodeConfig) -> QoSProfile:
        reliability = (ReliabilityPolicy.RELIABLE if config.qos_reliability == 'reliable'
                       else ReliabilityPolicy.BEST_EFFORT)
        return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=config.qos_depth,
                          reliability=reliability, durability=DurabilityPolicy.VOLATILE)

    # --- parameters ----------------------------------------------------------------------------

    def _first_invalid(self, values: dict[str, Any]) -> str | None:
        for name, value in values.items():
            reason = params.check(name, value, self.config)
            if reason:
                return reason
        return None

    def _on_set_parameters(self, parameters: list[Any]) -> SetParametersResult:
        config = self.config
        for parameter in parameters:
            reason = params.check(parameter.name, parameter.value, config)
            if reason:
                return SetParametersResult(successful=False, reason=reason)
            if parameter.name in params.SPECS:
                config = replace(config, **{parameter.name: parameter.value})
        self._config_error = None
        self._apply(config)
        return SetParametersResult(successful=True)

    def _apply(self, config: params.NodeConfig) -> None:
        self.config = config
        self._pairer.tolerance_ns = int(round(config.sync_tolerance_s * 1e9))
        if self.pipeline is not None:
            self.pipeline.reconfigure(pipeline_config(config))

    # --- input ---------------------------------------------------------------------------------

    def _on_image(self, msg: Any) -> None:
        self.stats['images'] += 1
        if not self._anyone_listening():
            self.stats['skipped_no_subscribers'] += 1
            return
        self._dispatch(self._pairer.add_image(codecs.stamp_to_ns(msg.header.stamp), msg))

    def _on_camera_info(self, msg: Any) -> None:
        self._dispatch(self._pairer.add_info(codecs.stamp_to_ns(msg.header.stamp), msg))

    def _dispatch(self, result: PairResult) -> None:
        for stamp_ns in result.unpaired_ns:
            self.stats['dropped_no_camera_info'] += 1
            self.get_logger().error(
                f'frame dropped: no camera_info with the stamp of image {stamp_ns} ns '
                f'(sync_tolerance_s={self.config.sync_tolerance_s}); is camera_info remapped '
                "to the camera's topic?", throttle_duration_sec=THROTTLE_S)
        if result.pair is not None:
            self.stats['dropped_busy'] += int(self.worker.submit(Frame(*result.pair)))

    def output_subscribers(self, topic: str) -> int:
        """Subscriptions matched to output `topic` (0 while unconfigured)."""
        publisher = self._output_pubs.get(topic)
        return publisher.get_subscription_count() if publisher is not None else 0

    def _anyone_listening(self) -> bool:
        topics = [t for t in OUTPUTS if t != 'depth/colored' or self.config.publish_colored]
        if any(self.output_subscribers(topic) > 0 for topic in topics):
            return True
        tf_publisher = getattr(self._tf, 'pub_tf', None)
        return tf_publisher is not None and tf_publisher.get_subscription_count() > 0

    # --- worker --------------------------------------------------------------------------------

    def _process(self, frame: Frame) -> None:
        """Camera message -> codec -> frame pipeline -> codec -> publish."""
        config, pipeline = self.config, self.pipeline
        if pipeline is None:
            return
        header = frame.image.header
        try:
            rgb = codecs.image_to_rgb(frame.image, mono16_max=config.mono16_max)
            intr = codecs.camera_info_to_intrinsics(frame.info)
        except InputError as exc:
            self._drop('invalid', str(exc))
            return
        result = pipeline.process(rgb, intr, codecs.stamp_to_ns(header.stamp),
                                  self._mounting(config, header.frame_id))
        if isinstance(result, DroppedFrame):
            self._drop('invalid', result.reason)
            return
        self._report(result, config)
        self._publish_depth(header, result, config)
        if result.odometry is not None:
            self._publish_odometry(header, result, config)
        self.stats['processed'] += 1

    def _drop(self, cause: str, reason: str) -> None:
        self.stats[f'dropped_{cause}'] += 1
        self.get_logger().error(f'frame dropped: {reason}', throttle_duration_sec=THROTTLE_S)

    def _on_worker_error(self, exc: BaseException) -> None:
        self.stats['dropped_error'] += 1
        self.get_logger().error(f'frame dropped: {type(exc).__name__}: {exc}',
                                throttle_duration_sec=THROTTLE_S)

    def _report(self, result: FrameResult, config: params.NodeConfig) -> None:
        """Log the result's warnings; publish the camera-height scale status."""
        for note in result.notes:
            self.get_logger().warn(note, throttle_duration_sec=THROTTLE_S)
        if result.event is Event.BACKWARDS:
            self.get_logger().warn(f'time went backwards (to {result.stamp_ns} ns; a bag '
                                   'restarted?): odometry reset', throttle_duration_sec=1.0)
        scale = result.scale
        if scale.estimate is None:
            return
        estimate = scale.estimate
        publisher = self._output_pubs.get('depth/scale')
        if publisher is not None:
            publisher.publish(codecs.scale_status(
                self.types, estimate.factor, estimate.confidence, estimate.frame_factor,
                scale.mounting.height_m))
        if not scale.from_ground:
            self.get_logger().warn('no ground plane seen yet: publishing depth with depth_scale '
                                   f'{config.depth_scale} until one is',
                                   throttle_duration_sec=THROTTLE_S)

    def _mounting(self, config: params.NodeConfig, frame_id: str) -> Mounting | None:
        """The camera's mounting from TF for scale_source tf; None: the parameters'."""
        if config.scale_source != 'tf' or self._tf_buffer is None:
            return None
        try:
            t = self._tf_buffer.lookup_transform(config.base_frame, frame_id, Time())
        except Exception as exc:  # tf2 raises several lookup exception types
            self.get_logger().warn(f'no TF {config.base_frame} -> {frame_id} ({exc}); using '
                                   'camera_height_m', throttle_duration_sec=THROTTLE_S)
            return None
        q = t.transform.rotation
        base_from_cam = quaternion_to_rotation([q.x, q.y, q.z, q.w])
        up = base_from_cam.T @ np.array([0, 0, 1.0])
        return Mounting(float(t.transform.translation.z), tuple(float(v) for v in up))

    # --- output --------------------------------------------------------------------------------

    def _publish_depth(self, header: Any, result: FrameResult,
                       config: params.NodeConfig) -> None:
        types, pubs = self.types, self._output_pubs
        depth, intr = result.depth_m, result.intrinsics
        pubs['depth/image'].publish(codecs.depth_to_image(types, depth, header))
        pubs['depth/camera_info'].publish(codecs.intrinsics_to_camera_info(types, intr, header))
        if pubs['points'].get_subscription_count() > 0:
            rgb = result.rgb if config.points_rgb else None
            pubs['points'].publish(codecs.depth_to_pointcloud(
                types, depth, intr, header, rgb=rgb, stride=config.point_stride))
        if config.publish_colored and pubs['depth/colored'].get_subscription_count() > 0:
            colored = colorize_depth(depth, config.colored_min_depth_m,
                                     config.colored_max_depth_m)
            pubs['depth/colored'].publish(
                codecs.rgb_to_image(types, colored, header, config.colored_encoding))

    def _publish_odometry(self, header: Any, result: FrameResult,
                          config: params.NodeConfig) -> None:
        step = result.odometry
        odom_from_cam = odom_from_optical_chain(step.cam0_from_cam)
        child = config.child_frame or header.frame_id
        odom_header = codecs.make_header(self.types, result.stamp_ns, config.odom_frame)
        self._output_pubs['odom'].publish(codecs.pose_to_odometry(
            self.types, odom_from_cam, odom_header, child,
            linear_velocity=step.linear_velocity, angular_velocity=step.angular_velocity))
        if self._tf is not None and config.publish_tf:
            self._tf.sendTransform(codecs.pose_to_transform_stamped(
                self.types, odom_from_cam, odom_header, child))


def main(args: list[str] | None = None) -> int:
    """Run the node; with autostart (the default) it configures and activates itself."""
    try:
        rclpy.init(args=args)
    except Exception as exc:  # e.g. malformed --ros-args: rcl's error, without a traceback
        print(f'{NODE_NAME}: cannot start: {exc}', file=sys.stderr)
        return 1
    logger = rclpy.logging.get_logger(NODE_NAME)
    try:
        node = DepthNode()
    except Exception as exc:  # e.g. a parameter override out of range
        logger.fatal(f'cannot start: {exc}')
        rclpy.try_shutdown()
        return 1
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        if node.config.autostart and not _autostart(node):
            return 1
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.worker.stop()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


def _autostart(node: DepthNode) -> bool:
    if node.trigger_configure() != TransitionCallbackReturn.SUCCESS:
        node.get_logger().fatal('configure failed (reason above); exiting')
        return False
    return node.trigger_activate() == TransitionCallbackReturn.SUCCESS


if __name__ == '__main__':
    sys.exit(main())
