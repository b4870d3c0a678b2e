"""rosbag2 access for evaluation: the one module of `evaluation` that touches bags.

Reads and writes with the pure-Python `rosbags` library, so no ROS installation is needed.
Poses are read from nav_msgs/Odometry, geometry_msgs/PoseStamped or
geometry_msgs/PoseWithCovarianceStamped topics as `world_from_body` = (header.frame_id from
child frame) transforms, stamped with the message header time.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from rosbags.highlevel import AnyReader, AnyReaderError
from rosbags.rosbag2 import Writer, WriterError
from rosbags.serde import SerdeError
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.store import Typestore

from depth_ros.errors import InputError, OutputError
from depth_ros.evaluation.trajectory import PoseSequence
from depth_ros.geometry.se3 import (
    check_rigid,
    from_rotation_translation,
    quaternion_to_rotation,
    rotation_to_quaternion,
)


LOG = logging.getLogger(__name__)

POSE_MSGTYPES = (
    'nav_msgs/msg/Odometry',
    'geometry_msgs/msg/PoseStamped',
    'geometry_msgs/msg/PoseWithCovarianceStamped',
)


def typestore() -> Typestore:
    """The ROS 2 Humble message typestore used when a bag carries no definitions."""
    return get_typestore(Stores.ROS2_HUMBLE)


def split_bag_topic(spec: str) -> tuple[Path, str] | None:
    """Split 'BAG:TOPIC' into (bag path, topic), or None when `spec` is not of that form.

    The topic is what follows the last ':' and must start with '/'.
    """
    bag, sep, topic = str(spec).rpartition(':')
    if not sep or not bag or not topic.startswith('/'):
        return None
    return Path(bag), topic


def _pose_of(msg: object, msgtype: str) -> tuple[np.ndarray, np.ndarray, object]:
    """(position [3], quaternion xyzw [4], header) of a supported pose message."""
    pose = msg.pose if msgtype == 'geometry_msgs/msg/PoseStamped' else msg.pose.pose
    p, q = pose.position, pose.orientation
    return np.array([p.x, p.y, p.z]), np.array([q.x, q.y, q.z, q.w]), msg.header


def _read_messages(bag: Path, topic: str) -> tuple[list, list, list, list]:
    positions, quaternions, stamps_ns, log_ns = [], [], [], []
    with AnyReader([bag], default_typestore=typestore()) as reader:
        connections = [c for c in reader.connections if c.topic == topic]
        if not connections:
            topics = sorted({c.topic for c in reader.connections})
            raise InputError(f'{bag} has no topic {topic}; it has {", ".join(topics) or "none"}')
        msgtype = connections[0].msgtype
        if msgtype not in POSE_MSGTYPES:
            raise InputError(f'{bag}:{topic} has type {msgtype}; poses are read from '
                             f'{", ".join(POSE_MSGTYPES)}')
        for connection, timestamp, raw in reader.messages(connections=connections):
            position, quaternion, header = _pose_of(
                reader.deserialize(raw, connection.msgtype), connection.msgtype)
            positions.append(position)
            quaternions.append(quaternion)
            stamps_ns.append(header.stamp.sec * 1_000_000_000 + header.stamp.nanosec)
            log_ns.append(timestamp)
    return positions, quaternions, stamps_ns, log_ns


def read_bag_poses(bag: str | os.PathLike, topic: str) -> PoseSequence:
    """Read the poses of one topic of a rosbag2 (or ROS 1) bag.

    Args:
        bag: rosbag2 folder (or ROS 1 .bag file).
        topic: a nav_msgs/Odometry, geometry_msgs/PoseStamped or PoseWithCovarianceStamped topic.

    Returns:
        PoseSequence with `world_from_cam` [N, 4, 4] and header stamps in seconds (the bag's
        receive time when every header stamp is zero).

    Raises:
        InputError: missing or unreadable bag, unknown topic, unsupported type, no messages,
            or a pose that is not finite / has a zero quaternion.
    """
    bag = Path(bag)
    if not bag.exists():
        raise InputError(f'bag not found: {bag}')
    try:
        positions, quaternions, stamps_ns, log_ns = _read_messages(bag, topic)
    except (AnyReaderError, SerdeError, OSError) as exc:
        raise InputError(f'cannot read bag {bag}: {exc}') from None
    if not positions:
        raise InputError(f'{bag}:{topic} has no messages')
    stamps = np.asarray(stamps_ns, dtype=np.int64)
    if not stamps.any():
        LOG.warning('%s:%s: header stamps are all zero; using bag receive times', bag, topic)
        stamps = np.asarray(log_ns, dtype=np.int64)
    quaternions = np.asarray(quaternions)
    if not np.isfinite(quaternions).all():
        raise InputError(f'{bag}:{topic}: a pose orientation contains NaN or infinity')
    poses = from_rotation_translation(quaternion_to_rotation(quaternions), np.asarray(positions))
    check_rigid(poses, what=f'{bag}:{topic} message')
    return PoseSequence(poses, stamps * 1e-9, None, f'{bag}:{topic}')


def _odometry_message(store: Typestore, pose: np.ndarray, stamp_ns: int, frame_id: str,
                      child_frame_id: str) -> object:
    """A nav_msgs/Odometry message of one pose with zero twist and covariances."""
    types = store.types
    header = types['std_msgs/msg/Header'](
        stamp=types['builtin_interfaces/msg/Time'](sec=int(stamp_ns // 1_000_000_000),
                                                   nanosec=int(stamp_ns % 1_000_000_000)),
        frame_id=frame_id)
    q = rotation_to_quaternion(pose[:3, :3])
    ros_pose = types['geometry_msgs/msg/Pose'](
        position=types['geometry_msgs/msg/Point'](x=pose[0, 3], y=pose[1, 3], z=pose[2, 3]),
        orientation=types['geometry_msgs/msg/Quaternion'](x=q[0], y=q[1], z=q[2], w=q[3]))
    zero = types['geometry_msgs/msg/Vector3'](x=0.0, y=0.0, z=0.0)
    twist = types['geometry_msgs/msg/TwistWithCovariance'](
        twist=types['geometry_msgs/msg/Twist'](linear=zero, angular=zero),
        covariance=np.zeros(36))
    return types['nav_msgs/msg/Odometry'](
        header=header, child_frame_id=child_frame_id,
        pose=types['geometry_msgs/msg/PoseWithCovariance'](pose=ros_pose,
                                                           covariance=np.zeros(36)),
        twist=twist)


def write_bag_poses(bag: str | os.PathLike, topic: str, world_from_cam: np.ndarray,
                    stamps_ns: np.ndarray, frame_id: str = 'world',
                    child_frame_id: str = 'camera') -> None:
    """Write poses [N, 4, 4] as nav_msgs/Odometry messages to a new rosbag2 folder.

    Args:
        bag: folder to create (must not exist).
        topic: topic name, e.g. '/odom'.
        world_from_cam: [N, 4, 4] rigid poses.
        stamps_ns: [N] header and receive times in nanoseconds.
        frame_id, child_frame_id: the Odometry frames (world, camera).

    Raises:
        InputError: poses not rigid or stamps of another length. OutputError: bag not writable.
    """
    poses = np.asarray(world_from_cam, dtype=np.float64)
    check_rigid(poses, what='pose')
    stamps_ns = np.asarray(stamps_ns, dtype=np.int64)
    if stamps_ns.shape != (len(poses),):
        raise InputError(f'{len(poses)} poses but {stamps_ns.size} stamps')
    store = typestore()
    msgtype = 'nav_msgs/msg/Odometry'
    try:
        with Writer(Path(bag), version=8) as writer:
            connection = writer.add_connection(topic, msgtype, typestore=store)
            for pose, stamp in zip(poses, stamps_ns):
                msg = _odometry_message(store, pose, int(stamp), frame_id, child_frame_id)
                writer.write(connection, int(stamp), store.serialize_cdr(msg, msgtype))
    except (WriterError, OSError) as exc:
        raise OutputError(f'cannot write bag {bag}: {exc}') from None
