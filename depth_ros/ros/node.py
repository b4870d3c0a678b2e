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
`depth_ros.pipeline.FramePipeline` (depth, scale, motion gate, motion, chained pose, reset
events) -> `NodeOutputs` (codecs, publish). The pipeline keeps camera poses in optical axes;
the outputs turn them into base_frame motion with the base -> camera mounting
(`depth_ros.geometry.mounting`, `tf_mounting`).

Lifecycle: configure loads the model (a failure returns to unconfigured with the reason
logged), activate subscribes, deactivate unsubscribes. Images are paired with camera_info by
stamp and handed to a worker thread that processes only the newest frame, so the output never
lags behind the camera. Nothing is inferred while no one subscribes to an output. Bad messages
are dropped, counted by cause and logged at most once per cause per 5 s; the node stays up.

Odometry covariance: the epipolar odometry's twist carries its measured noise
(`pipeline.twist_noise`, parameter twist_covariance); its pose, and the pose network's pose and
twist, are `UNKNOWN_VARIANCE` (1e6) on the diagonal: fusion filters treat them as uninformed.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
import functools
import sys
import time
from typing import Any

import diagnostic_msgs.msg
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import CompressedImage

from depth_ros.errors import ConfigError, InputError
from depth_ros.pipeline import DroppedFrame, FramePipeline, FrameResult, Mounting
from depth_ros.ros import codecs, frame_report, model_loading, params, settings
from depth_ros.ros.diagnostics import DiagnosticsCollector
from depth_ros.ros.frame_input import Frame, FrameInput
from depth_ros.ros.msg_types import rclpy_msg_types
from depth_ros.ros.outputs import NodeOutputs
from depth_ros.ros.subscriptions import input_qos, take_waiting
from depth_ros.ros.tf_mounting import CameraMounting
from depth_ros.ros.worker import LatestWorker


NODE_NAME = 'mono_depth'
THROTTLE_S = 5.0
DIAGNOSTICS_PERIOD_S = 1.0
# camera_info history depth per `queue_size` (10 x 10: 10 s of camera_info at 10 Hz).
INFO_HISTORY_PER_QUEUED = 10
_DIAGNOSTIC_TYPES = diagnostic_msgs.msg


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


class DepthNode(LifecycleNode):
    """Depth image, point cloud and odometry from one camera."""

    def __init__(self, node_name: str = NODE_NAME, **kwargs: Any):
        super().__init__(node_name, **kwargs)
        self.types = rclpy_msg_types()
        for name, default in params.defaults().items():
            self.declare_parameter(name, default, params.descriptor(name))
        values = {name: self.get_parameter(name).value for name in params.defaults()}
        self.config = params.NodeConfig.from_values(values)
        self._config_error = params.first_invalid(values, self.config)
        for message in params.deprecation_warnings(values):
            self.get_logger().warn(message)
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
        self.outputs: NodeOutputs | None = None
        self._input_subs: list[Any] = []
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
        for message in settings.scale_warnings(config):
            self.get_logger().warn(message)
        try:
            predictor = self._load_predictor(config)
        except Exception as exc:  # any backend failure is a configure failure
            self.get_logger().error(f'configure failed: cannot load the depth model: {exc}')
            return TransitionCallbackReturn.FAILURE
        reason = self._start_mounting(config, settings.measures_motion(config, predictor.has_pose))
        if reason:
            self.get_logger().error(f'configure failed: {reason}')
            return TransitionCallbackReturn.FAILURE
        try:
            pipeline = FramePipeline(predictor, settings.pipeline_config(config))
        except ConfigError as exc:  # e.g. odometry_source epipolar without OpenCV
            self.get_logger().error(f'configure failed: {exc}')
            return TransitionCallbackReturn.FAILURE
        self.predictor, self.pipeline = predictor, pipeline
        self.outputs = NodeOutputs(self, self.types, config.publish_tf, self.get_logger().warn)
        model_loading.record_loaded(self.diagnostics.state, predictor, config)
        self.get_logger().info(model_loading.loaded_message(predictor, config))
        return TransitionCallbackReturn.SUCCESS

    @_logged_transition
    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Subscribe to the camera and start the worker."""
        config = self.config
        qos = input_qos(config.qos_reliability, config.qos_depth)
        self.inputs.pairer.reset()
        if self.pipeline is not None:
            self.pipeline.reset()
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
        if self.outputs is not None:
            self.outputs.destroy(self)
            self.outputs = None
        self.pipeline = None
        self.predictor = None
        self.diagnostics.state.configured = False
        if self.mounting is not None:
            self.mounting.close()
            self.mounting = None

    def _load_predictor(self, config: params.NodeConfig) -> Any:
        """The depth model (`model_loading.load_predictor`; tests put a scripted one here)."""
        return model_loading.load_predictor(config)

    def _start_mounting(self, config: params.NodeConfig, has_pose: bool) -> str | None:
        """Set up the base -> camera mounting; the reason configure must fail, or None."""
        self.mounting = CameraMounting(config.base_to_camera)
        return self.mounting.start(self, config.base_frame, config.scale_source == 'tf',
                                   has_pose and config.publish_odometry, config.tf_timeout_s)

    # --- parameters ----------------------------------------------------------------------------

    def _on_set_parameters(self, parameters: list[Any]) -> SetParametersResult:
        config, reason = params.apply_changes(self.config,
                                              [(p.name, p.value) for p in parameters])
        if reason:
            return SetParametersResult(successful=False, reason=reason)
        for message in params.deprecation_warnings({p.name: p.value for p in parameters}):
            self.get_logger().warn(message)
        self._config_error = None
        self._apply(config)
        return SetParametersResult(successful=True)

    def _apply(self, config: params.NodeConfig) -> None:
        self.config = config
        self.inputs.configure(config.queue_size, config.sync_tolerance_s,
                              config.reuse_camera_info,
                              INFO_HISTORY_PER_QUEUED * config.queue_size)
        if self.pipeline is not None:
            self.pipeline.reconfigure(settings.pipeline_config(config))

    # --- input ---------------------------------------------------------------------------------

    def _on_image(self, msg: Any, compressed: bool = False) -> None:
        self.stats['images'] += 1
        if self.outputs is None or not self.outputs.anyone_listening(self.config.publish_colored):
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
        return 0 if self.outputs is None else self.outputs.subscribers(topic)

    # --- worker --------------------------------------------------------------------------------

    def _process(self, frame: Frame) -> None:
        """Frame -> decoding and rectification -> frame pipeline -> codecs -> publish."""
        config, pipeline, outputs = self.config, self.pipeline, self.outputs
        if pipeline is None or outputs is None:
            return
        header = frame.image.header
        stamp_ns = codecs.stamp_to_ns(header.stamp)
        try:
            rgb, intr = self.inputs.decode(frame, config.rectify, config.mono16_max)
        except InputError as exc:
            self.inputs.drop('invalid_input', f'frame dropped: {exc}')
            return
        result = pipeline.process(rgb, intr, stamp_ns, self._scale_mounting(config,
                                                                            header.frame_id))
        if isinstance(result, DroppedFrame):
            self.inputs.drop(result.cause, f'frame dropped: {result.reason}')
            return
        self._report(result, config)
        outputs.depth(header, result, config)
        if result.odometry is not None and config.publish_odometry:
            self._publish_odometry(outputs, header, result, config)
        self.stats['processed'] += 1
        self.diagnostics.output(time.monotonic(), time.monotonic() - frame.arrived_s)

    def _on_worker_error(self, exc: BaseException) -> None:
        self.inputs.drop('error', f'frame dropped: {type(exc).__name__}: {exc}')

    def _report(self, result: FrameResult, config: params.NodeConfig) -> None:
        """Log the result's warnings, update the diagnostics, publish the camera-height scale
        status."""
        for cause, message in frame_report.frame_warnings(result, config):
            self.inputs.warn(cause, message)
        frame_report.record(self.diagnostics.state, result, config)
        if result.scale.estimate is not None:
            self.outputs.scale(result.scale)

    def _scale_mounting(self, config: params.NodeConfig, frame_id: str) -> Mounting | None:
        """The camera's height and up direction from TF for scale_source tf; None: the
        parameters'."""
        if config.scale_source != 'tf' or self.mounting is None:
            return None
        return self.mounting.scale_mounting(config.ground_frame, frame_id, config.weights,
                                            self.inputs.warn, self.get_logger().warn)

    # --- output ---------------------------------------------------------------------------------

    def _publish_odometry(self, outputs: NodeOutputs, header: Any, result: FrameResult,
                          config: params.NodeConfig) -> None:
        try:
            base_from_cam = self.mounting.base_from_camera(config.base_frame, header.frame_id)
        except LookupError as exc:
            self.inputs.drop('no_base_to_camera', f'odometry dropped: {exc}')
            return
        outputs.odometry(result, base_from_cam, config)

    def _publish_diagnostics(self) -> None:
        pairer, extra = self.inputs.pairer, self.diagnostics.state.extra
        extra['frames paired (total)'] = str(pairer.paired)
        extra['paired with the latest camera_info (total)'] = str(pairer.reused)
        extra['camera_info changes (total)'] = str(pairer.info_changes)
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
