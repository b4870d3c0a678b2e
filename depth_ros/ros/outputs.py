"""The node's output side: its publishers, and a frame result turned into messages.

Mirrors `frame_input` on the way out: `FrameResult` -> `codecs` -> publish. The publishers are
lifecycle publishers (silent while the node is inactive); point clouds and colour images are
only built while someone subscribes to them.
"""
from __future__ import annotations

from typing import Any

from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

from depth_ros.colormaps import colorize_depth
from depth_ros.geometry.mounting import base_pose, base_twist
from depth_ros.pipeline import FrameResult, ScaleResult
from depth_ros.pipeline.twist_noise import twist_noise
from depth_ros.ros import codecs
from depth_ros.ros.params import NodeConfig
from depth_ros.ros.topics import OUTPUTS


# Outputs are reliable so both RViz (reliable) and sensor-data (best-effort) subscribers match.
OUTPUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=5,
                        reliability=ReliabilityPolicy.RELIABLE)


class NodeOutputs:
    """Publishers of one configured node (created in configure, destroyed in cleanup).

    Args:
        node: the lifecycle node that owns the publishers.
        types: message classes (`MsgTypes`).
        publish_tf: also broadcast odom_frame -> base_frame on /tf.
        warn: the node's logger warn method.
    """

    def __init__(self, node: Any, types: Any, publish_tf: bool, warn: Any) -> None:
        self.types = types
        self.pubs = {topic: node.create_lifecycle_publisher(getattr(types, message), topic,
                                                            OUTPUT_QOS)
                     for topic, message in OUTPUTS.items()}
        self.tf = _tf_broadcaster(node, warn) if publish_tf else None

    def destroy(self, node: Any) -> None:
        """Destroy every publisher (the TF broadcaster's goes with the node)."""
        for publisher in self.pubs.values():
            node.destroy_publisher(publisher)
        self.pubs, self.tf = {}, None

    def subscribers(self, topic: str) -> int:
        """Subscriptions matched to output `topic`."""
        publisher = self.pubs.get(topic)
        return publisher.get_subscription_count() if publisher is not None else 0

    def anyone_listening(self, publish_colored: bool) -> bool:
        """Whether any output (or /tf) has a subscriber: otherwise inference can be skipped."""
        topics = [t for t in OUTPUTS if t != 'depth/colored' or publish_colored]
        if any(self.subscribers(topic) > 0 for topic in topics):
            return True
        tf_publisher = getattr(self.tf, 'pub_tf', None)
        return tf_publisher is not None and tf_publisher.get_subscription_count() > 0

    def depth(self, header: Any, result: FrameResult, config: NodeConfig) -> None:
        """depth/image, depth/camera_info, and points / depth/colored when subscribed."""
        types, pubs = self.types, self.pubs
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

    def scale(self, scale: ScaleResult) -> None:
        """The camera-height scale status on depth/scale (`scale.estimate` must be set)."""
        publisher = self.pubs.get('depth/scale')
        if publisher is not None:
            estimate = scale.estimate
            publisher.publish(codecs.scale_status(
                self.types, estimate.factor, estimate.confidence, estimate.frame_factor,
                scale.mounting.height_m, scale.factor))

    def odometry(self, result: FrameResult, base_from_cam: Any, config: NodeConfig) -> None:
        """odom_frame -> base_frame: the camera chain seen from the base, twist in the base.

        Args:
            result: a frame result with `odometry`.
            base_from_cam: [4, 4] the camera's (optical) pose in base_frame.
            config: the node's parameters (frames).
        """
        step = result.odometry
        odom_from_base = base_pose(base_from_cam, step.cam0_from_cam)
        linear = angular = covariance = None
        if step.previous_from_current is not None and step.dt_s > 0:
            linear, angular = base_twist(base_from_cam, step.previous_from_current, step.dt_s)
            noise = (twist_noise(config.odometry_source, config.scale_source,
                                 result.scale.from_ground)
                     if config.twist_covariance == 'measured' else None)
            if noise is not None:
                covariance = noise.covariance(linear, step.dt_s, base_from_cam)
        odom_header = codecs.make_header(self.types, result.stamp_ns, config.odom_frame)
        self.pubs['visual_odometry'].publish(codecs.pose_to_odometry(
            self.types, odom_from_base, odom_header, config.base_frame,
            linear_velocity=linear, angular_velocity=angular, twist_covariance=covariance))
        if self.tf is not None:
            self.tf.sendTransform(codecs.pose_to_transform_stamped(
                self.types, odom_from_base, odom_header, config.base_frame))


def _tf_broadcaster(node: Any, warn: Any) -> Any:
    try:
        from tf2_ros import TransformBroadcaster
    except ImportError:
        warn('tf2_ros is not importable: odometry is published on visual_odometry only, not '
             'on /tf')
        return None
    return TransformBroadcaster(node)
