"""Monocular depth and visual odometry as an rclpy lifecycle node.

Subscribes (relative names, remap in launch):
    image (sensor_msgs/Image: rgb8, bgr8, rgba8, bgra8, mono8, mono16; rectified unless
    `rectify`), or image/compressed (sensor_msgs/CompressedImage, `image_transport:
    compressed`), and camera_info; paired by stamp with bounded queues.
Publishes:
    depth/image (32FC1 metres, REP 118, the input header), depth/camera_info (same header,
    intrinsics of the published resolution, no distortion), points (PointCloud2 in the camera
    frame), visual_odometry (nav_msgs/Odometry odom_frame -> base_frame, REP 105; twist in
    base_frame), odom_frame -> base_frame on /tf when publish_tf, depth/colored (Turbo colour
    map) when publish_colored is set, and /diagnostics once a second.

Frame path: camera message -> `FrameInput` (checks, decoding, pairing, rectification) ->
`depth_ros.pipeline.FramePipeline` (depth, scale, motion, chained pose; the motion gate wraps
its predictor) -> `codecs` -> publish. The pipeline keeps camera poses in optical axes; the node
turns them into base_frame motion with the base -> camera mounting (`base_motion`).

Lifecycle: configure loads the model (a failure returns to unconfigured with the reason
logged), activate subscribes, deactivate unsubscribes. Images are paired with camera_info by
stamp and handed to a worker thread that processes only the newest frame, so the output never
lags behind the camera. Nothing is inferred while no one subscribes to an output. Bad messages
are dropped, counted by cause and logged at most once per cause per 5 s; the node stays up.

Odometry covariance: the pose network reports no uncertainty, so pose and twist covariances
are `UNKNOWN_VARIANCE` (1e6) on the diagonal; fusion filters should treat them as uninformed.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
import functools
import sys
import time
from typing import Any

import diagnostic_msgs.msg
from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
from rcl_interfaces.msg import SetParametersResult
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage

from depth_ros.colormaps import colorize_depth
from depth_ros.errors import InputError
from depth_ros.pipeline import (
    DroppedFrame,
    FramePipeline,
    FrameResult,
    Mounting,
    PipelineConfig,
)
from depth_ros.ros import base_motion, codecs, params
from depth_ros.ros.diagnostics import DiagnosticsCollector
from depth_ros.ros.frame_input import Frame, FrameInput
from depth_ros.ros.motion_gate import GatedPredictor
from depth_ros.ros.msg_types import rclpy_msg_types
from depth_ros.ros.subscriptions import input_qos, take_waiting
from depth_ros.ros.tf_mounting import CameraMounting
from depth_ros.ros.topics import OUTPUTS
from depth_ros.ros.worker import LatestWorker


NODE_NAME = 'mono_depth'
THROTTLE_S = 5.0
DIAGNOSTICS_PERIOD_S = 1.0
# camera_info history depth per `queue_size` (10 x 10: 10 s of camera_info at 10 Hz).
INFO_HISTORY_PER_QUEUED = 10
_DIAGNOSTIC_TYPES = diagnostic_msgs.msg
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
        self.diagnostics = DiagnosticsCollector(f'{self.get_name()}: depth and odometry')
        logger = self.get_logger()
        self.inputs = FrameInput(self.types, self.diagnostics, logger.error, logger.warn,
                                 THROTTLE_S)
        self.mounting: CameraMounting | None = None
        self._output_pubs: dict[str, Any] = {}
        self._input_subs: list[Any] = []
        self._tf: Any = None
        self._last_stamp_ns: int | None = None
        self._dt_s = 0.0  # stamp step to the previous processed frame
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.create_timer(DIAGNOSTICS_PERIOD_S, self._publish_diagnostics)
        self._apply(self.config)

    # --- lifecycle -----------------------------------------------------------------------------

    @_logged_transition
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load the model, find the camera mounting, create the publishers; fail with the reason
        logged."""
        config = self.config
        if self._config_error:
            self.get_logger().error(f'configure failed: {self._config_error}')
            return TransitionCallbackReturn.FAILURE
        try:
            predictor = self._load_predictor(config)
        except Exception as exc:  # any backend failure is a configure failure
            self.get_logger().error(f'configure failed: cannot load the depth model: {exc}')
            return TransitionCallbackReturn.FAILURE
        reason = self._start_mounting(config, predictor.has_pose)
        if reason:
            self.get_logger().error(f'configure failed: {reason}')
            return TransitionCallbackReturn.FAILURE
        self.predictor = GatedPredictor(predictor, config.motion_gate_threshold)
        self.pipeline = FramePipeline(self.predictor, pipeline_config(config))
        for topic, message in OUTPUTS.items():
            self._output_pubs[topic] = self.create_lifecycle_publisher(
                getattr(self.types, message), topic, OUTPUT_QOS)
        self._tf = self._make_tf_broadcaster() if config.publish_tf else None
        state_ = self.diagnostics.state
        state_.backend, state_.device, state_.configured = config.backend, config.device, True
        height, width = predictor.input_size
        odometry = 'on' if self._odometry_on() else 'off'
        self.get_logger().info(f'model loaded ({config.backend} on {config.device}, network '
                               f'input {width}x{height}, odometry {odometry})')
        return TransitionCallbackReturn.SUCCESS

    @_logged_transition
    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Subscribe to the camera and start the worker."""
        config = self.config
        qos = input_qos(config.qos_reliability, config.qos_depth)
        self.inputs.pairer.reset()
        if self.pipeline is not None:
            self.pipeline.reset()
        self._last_stamp_ns = None
        if config.image_transport == 'compressed':
            topic = self.resolve_topic_name('image') + '/compressed'
            image_sub = self.create_subscription(
                CompressedImage, topic, self._on_compressed, qos)
        else:
            image_sub = self.create_subscription(self.types.Image, 'image', self._on_image, qos)
        # camera_info is tiny (~300 bytes): a deep history keeps every one through a busy spell.
        info_qos = input_qos(config.qos_reliability,
                             max(config.qos_depth, INFO_HISTORY_PER_QUEUED * config.queue_size))
        self._info_sub = self.create_subscription(
            self.types.CameraInfo, 'camera_info', self._on_camera_info, info_qos)
        self._input_subs = [image_sub, self._info_sub]
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

    def destroy_node(self) -> None:
        """Stop the TF listener's thread too (it spins a helper node of its own)."""
        if self.mounting is not None:
            self.mounting.close()
            self.mounting = None
        super().destroy_node()

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
        self.diagnostics.state.configured = False
        if self.mounting is not None:
            self.mounting.close()
            self.mounting = None

    def _load_predictor(self, config: params.NodeConfig) -> Any:
        from depth_ros.inference import Predictor  # torch: imported when configuring only
        from depth_ros.memory import keep_heap_warm

        keep_heap_warm()  # per-frame MB-sized arrays without page faults (depth_ros.memory)
        return Predictor.from_checkpoint(config.weights or None, device=config.device,
                                         backend=config.backend)

    def _start_mounting(self, config: params.NodeConfig, has_pose: bool) -> str | None:
        """Set up the base -> camera mounting; the reason configure must fail, or None."""
        self.mounting = CameraMounting(config.base_to_camera)
        return self.mounting.start(self, config.base_frame, config.scale_source == 'tf',
                                   has_pose and config.publish_odometry, config.tf_timeout_s)

    def _odometry_on(self) -> bool:
        return bool(self.predictor is not None and self.predictor.has_pose
                    and self.config.publish_odometry)

    def _make_tf_broadcaster(self) -> Any:
        try:
            from tf2_ros import TransformBroadcaster
        except ImportError:
            self.get_logger().warn('tf2_ros is not importable: odometry is published on '
                                   'visual_odometry only, not on /tf')
            return None
        return TransformBroadcaster(self)

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
        self.inputs.configure(config.queue_size, config.sync_tolerance_s,
                              config.reuse_camera_info,
                              INFO_HISTORY_PER_QUEUED * config.queue_size)
        if isinstance(self.predictor, GatedPredictor):
            self.predictor.threshold = config.motion_gate_threshold
        if self.pipeline is not None:
            self.pipeline.reconfigure(pipeline_config(config))

    # --- input ---------------------------------------------------------------------------------

    def _on_image(self, msg: Any, compressed: bool = False) -> None:
        self.stats['images'] += 1
        if not self._anyone_listening():
            self.stats['skipped_no_subscribers'] += 1
            return
        self._take_waiting_camera_infos()
        self._submit(self.inputs.image(msg, compressed))

    def _take_waiting_camera_infos(self) -> None:
        """Pair with every camera_info received before this image (`take_waiting`)."""
        sub = getattr(self, '_info_sub', None)
        if sub is not None and sub in self._input_subs:
            take_waiting(sub, self._on_camera_info,
                         INFO_HISTORY_PER_QUEUED * max(self.config.queue_size, 1))

    def _on_compressed(self, msg: Any) -> None:
        self._on_image(msg, compressed=True)

    def _on_camera_info(self, msg: Any) -> None:
        self._submit(self.inputs.camera_info(msg))

    def _submit(self, frame: Frame | None) -> None:
        if frame is not None and self.worker.submit(frame):
            self.stats['dropped_busy'] += 1
            self.diagnostics.drop(time.monotonic(), 'busy')

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
        """Frame -> decoding and rectification -> frame pipeline -> codecs -> publish."""
        config, pipeline = self.config, self.pipeline
        if pipeline is None:
            return
        header = frame.image.header
        stamp_ns = codecs.stamp_to_ns(header.stamp)
        try:
            rgb, intr = self.inputs.decode(frame, config.rectify, config.mono16_max)
        except InputError as exc:
            self.inputs.drop('invalid_input', f'frame dropped: {exc}')
            return
        self._check_time(stamp_ns, config)
        result = pipeline.process(rgb, intr, stamp_ns, self._scale_mounting(config,
                                                                            header.frame_id))
        if isinstance(result, DroppedFrame):
            self.inputs.drop(result.cause, f'frame dropped: {result.reason}')
            return
        self._report(result, config)
        self._publish_depth(header, result, config)
        if result.odometry is not None and config.publish_odometry:
            self._publish_odometry(header, result, config)
        self.stats['processed'] += 1
        self.diagnostics.output(time.monotonic(), time.monotonic() - frame.arrived_s)

    def _check_time(self, stamp_ns: int, config: params.NodeConfig) -> None:
        """A jump back, or forward by more than max_pose_gap_s, restarts the odometry."""
        last, self._last_stamp_ns = self._last_stamp_ns, stamp_ns
        self._dt_s = 0.0 if last is None else (stamp_ns - last) * 1e-9
        if last is None or 0 <= stamp_ns - last <= config.max_pose_gap_s * 1e9:
            return
        direction = 'backwards' if stamp_ns < last else 'forward'
        self.get_logger().warn(f'time jumped {direction} ({last} -> {stamp_ns} ns; a bag '
                               'restarted or frames were lost?): odometry reset',
                               throttle_duration_sec=1.0)
        self.pipeline.reset()

    def _on_worker_error(self, exc: BaseException) -> None:
        self.inputs.drop('error', f'frame dropped: {type(exc).__name__}: {exc}')

    def _report(self, result: FrameResult, config: params.NodeConfig) -> None:
        """Log the result's warnings; publish the camera-height scale status."""
        for note in result.notes:
            self.inputs.warn('note', note)
        scale = result.scale
        gate = getattr(self.predictor, 'last_static', None)
        self.diagnostics.state.motion_gate = (
            'off' if config.motion_gate_threshold <= 0 else
            'static (motion published as zero)' if gate else 'moving')
        if scale.estimate is None:
            return
        estimate = scale.estimate
        self.diagnostics.state.scale_confidence = float(estimate.confidence)
        publisher = self._output_pubs.get('depth/scale')
        if publisher is not None:
            publisher.publish(codecs.scale_status(
                self.types, estimate.factor, estimate.confidence, estimate.frame_factor,
                scale.mounting.height_m))
        if not scale.from_ground:
            self.inputs.warn('no_ground', 'no ground plane seen yet: publishing depth with '
                             f'depth_scale {config.depth_scale} until one is')

    def _scale_mounting(self, config: params.NodeConfig, frame_id: str) -> Mounting | None:
        """The camera's height and up direction from TF for scale_source tf; None: the
        parameters'."""
        if config.scale_source != 'tf' or self.mounting is None:
            return None
        try:
            ground_from_cam = self.mounting.lookup(config.ground_frame, frame_id)
        except LookupError as exc:
            self.inputs.warn('no_ground_tf', f'{exc}; using camera_height_m')
            return None
        up = ground_from_cam[:3, :3].T @ np.array([0, 0, 1.0])
        return Mounting(float(ground_from_cam[2, 3]), tuple(float(v) for v in up))

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
        """odom_frame -> base_frame: the camera chain seen from the base, twist in the base."""
        try:
            base_from_cam = self.mounting.base_from_camera(config.base_frame, header.frame_id)
        except LookupError as exc:
            self.inputs.drop('no_base_to_camera', f'odometry dropped: {exc}')
            return
        step = result.odometry
        odom_from_base = base_motion.base_pose(base_from_cam, step.cam0_from_cam)
        linear = angular = None
        if step.previous_from_current is not None and self._dt_s > 0:
            linear, angular = base_motion.base_twist(base_from_cam, step.previous_from_current,
                                                     self._dt_s)
        odom_header = codecs.make_header(self.types, result.stamp_ns, config.odom_frame)
        self._output_pubs['visual_odometry'].publish(codecs.pose_to_odometry(
            self.types, odom_from_base, odom_header, config.base_frame,
            linear_velocity=linear, angular_velocity=angular))
        if self._tf is not None:
            self._tf.sendTransform(codecs.pose_to_transform_stamped(
                self.types, odom_from_base, odom_header, config.base_frame))

    def _publish_diagnostics(self) -> None:
        self.diagnostics.state.extra['frames paired (total)'] = str(self.inputs.pairer.paired)
        header = codecs.make_header(self.types, self.get_clock().now().nanoseconds, '')
        self._diagnostics_pub.publish(self.diagnostics.build(
            _DIAGNOSTIC_TYPES, time.monotonic(), header))


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
