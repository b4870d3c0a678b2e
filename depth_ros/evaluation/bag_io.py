"""rosbag2 access for evaluation: the one module of `evaluation` that touches bags.

Reads and writes with the pure-Python `rosbags` library, so no ROS installation is needed.
Poses are read from nav_msgs/Odometry, geometry_msgs/PoseStamped or
geometry_msgs/PoseWithCovarianceStamped topics as `world_from_body` = (header.frame_id from
child frame) transforms, stamped with the message header time.

Besides the pose helpers, `BagWriter` writes any message of the ROS 2 Humble typestore to a new
rosbag2 (sqlite3 or mcap storage) and `BagReader` streams the messages of chosen topics, decoded
with the bag's own message definitions. Message construction and decoding to arrays live in
`depth_ros.ros.codecs`; this module only moves messages in and out of bags.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
import logging
import os
from pathlib import Path
import shutil
from typing import Any

import numpy as np
from rosbags.highlevel import AnyReader, AnyReaderError
from rosbags.rosbag2 import StoragePlugin, Writer, WriterError
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
from depth_ros.ros.codecs import stamp_to_ns


LOG = logging.getLogger(__name__)

# Storage names -> rosbags plugins; sqlite3 is rosbag2's default on Humble, mcap on Iron and later.
STORAGE_PLUGINS = {'sqlite3': StoragePlugin.SQLITE3, 'mcap': StoragePlugin.MCAP}
BAG_VERSION = 8  # readable by Humble and every later distribution
# Suffix of an output still being written (or left by a killed run); never read as a bag.
PARTIAL_SUFFIX = '.partial'

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


def check_bag_path(bag: str | os.PathLike) -> Path:
    """`bag` as a Path if it can be a bag: a rosbag2 folder with metadata.yaml, or a ROS 1 .bag.

    Raises:
        InputError: missing, an unfinished `.partial` output, or not a bag.
    """
    path = Path(bag)
    if path.name.endswith(PARTIAL_SUFFIX):
        raise InputError(f'{path} is the unfinished output of an interrupted run, not a bag; '
                         'delete it and run the command again')
    if not path.exists():
        raise InputError(f'bag not found: {path}')
    if path.is_dir() and not (path / 'metadata.yaml').is_file():
        raise InputError(f'{path} is not a rosbag2 folder (no metadata.yaml); give the folder '
                         'that ros2 bag record or depth-ros kitti-to-bag wrote')
    if path.is_file() and path.suffix != '.bag':
        raise InputError(f'{path} is not a bag: give a rosbag2 folder (or a ROS 1 .bag file)')
    return path


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
    poses, stamps_ns = read_bag_poses_ns(bag, topic)
    return PoseSequence(poses, stamps_ns * 1e-9, None, f'{bag}:{topic}')


def read_bag_poses_ns(bag: str | os.PathLike, topic: str) -> tuple[np.ndarray, np.ndarray]:
    """`read_bag_poses` with exact stamps: (world_from_cam [N, 4, 4], stamps [N] int64 ns)."""
    bag = check_bag_path(bag)
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
    return poses, stamps


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
                    child_frame_id: str = 'camera', storage: str = 'sqlite3') -> None:
    """Write poses [N, 4, 4] as nav_msgs/Odometry messages to a new rosbag2 folder.

    Args:
        bag: folder to create (must not exist).
        topic: topic name, e.g. '/odom'.
        world_from_cam: [N, 4, 4] rigid poses.
        stamps_ns: [N] header and receive times in nanoseconds.
        frame_id, child_frame_id: the Odometry frames (world, camera).
        storage: 'sqlite3' or 'mcap'.

    Raises:
        InputError: poses not rigid or stamps of another length. OutputError: bag not writable.
    """
    poses = np.asarray(world_from_cam, dtype=np.float64)
    check_rigid(poses, what='pose')
    stamps_ns = np.asarray(stamps_ns, dtype=np.int64)
    if stamps_ns.shape != (len(poses),):
        raise InputError(f'{len(poses)} poses but {stamps_ns.size} stamps')
    store = typestore()
    with BagWriter(bag, storage) as writer:
        for pose, stamp in zip(poses, stamps_ns):
            msg = _odometry_message(store, pose, int(stamp), frame_id, child_frame_id)
            writer.write(topic, int(stamp), msg)


def _storage_plugin(storage: str) -> StoragePlugin:
    if storage not in STORAGE_PLUGINS:
        raise InputError(f'unknown bag storage {storage!r}; choose one of '
                         f'{", ".join(STORAGE_PLUGINS)}')
    return STORAGE_PLUGINS[storage]


class BagWriter:
    """A new rosbag2 (version 8) written message by message; a context manager.

    The bag is written to `<bag>.partial` and renamed to `bag` when the block ends without an
    exception; otherwise the partial bag is deleted, so no half-written bag is ever left under
    the requested name.

    Topics are created on first use with the type of their first message. Messages are
    rosbags dataclasses of `typestore()` (what `MsgTypes.from_typestore()` builds).

    Example:
        with BagWriter(path, 'mcap') as writer:
            writer.write('/odom', stamp_ns, odometry_msg)
    """

    def __init__(self, bag: str | os.PathLike, storage: str = 'sqlite3') -> None:
        self.path = Path(bag)
        self.partial = self.path.with_name(self.path.name + PARTIAL_SUFFIX)
        self.storage = storage
        self.store = typestore()
        self.counts: dict[str, int] = {}
        self._connections: dict[str, Any] = {}
        if self.path.exists():
            raise OutputError(f'bag {self.path} exists already; remove it or choose another '
                              'output path')
        # The bag is built inside <bag>.partial/ under its final name, so its storage file is
        # named after the bag, then moved into place.
        self._writer = Writer(self.partial / self.path.name, version=BAG_VERSION,
                              storage_plugin=_storage_plugin(storage))

    def __enter__(self) -> BagWriter:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.partial.exists():
                LOG.warning('removing %s left by an interrupted run', self.partial)
                shutil.rmtree(self.partial)
            self.partial.mkdir()
            self._writer.open()
        except (WriterError, OSError) as exc:
            raise OutputError(f'cannot create bag {self.path}: {exc}') from None
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: Any) -> None:
        """Close the bag; rename it into place when complete, else delete it."""
        try:
            self._writer.close()
            if exc_type is None:
                os.replace(self.partial / self.path.name, self.path)
                self.partial.rmdir()
        except (WriterError, OSError) as error:
            shutil.rmtree(self.partial, ignore_errors=True)
            if exc_type is None:
                raise OutputError(f'cannot finish bag {self.path}: {error}') from None
        if exc_type is not None:
            shutil.rmtree(self.partial, ignore_errors=True)

    def write(self, topic: str, log_ns: int, msg: Any) -> None:
        """Serialise `msg` (CDR) to `topic` with receive time `log_ns`."""
        msgtype = msg.__msgtype__
        try:
            connection = self._connections.get(topic)
            if connection is None:
                connection = self._writer.add_connection(topic, msgtype, typestore=self.store)
                self._connections[topic] = connection
                self.counts[topic] = 0
            elif connection.msgtype != msgtype:
                raise OutputError(f'{self.path}:{topic} holds {connection.msgtype}, not '
                                  f'{msgtype}')
            self._writer.write(connection, int(log_ns), self.store.serialize_cdr(msg, msgtype))
        except (WriterError, OSError) as exc:
            raise OutputError(f'cannot write {topic} to bag {self.path}: {exc}') from None
        self.counts[topic] += 1


@dataclass(frozen=True)
class TopicInfo:
    """One topic of a bag: its message type and message count."""

    topic: str
    msgtype: str
    count: int


class BagReader:
    """Streams the messages of chosen topics of a rosbag2 (or ROS 1) bag; a context manager.

    Messages are decoded with the definitions stored in the bag (ROS 2 Humble's otherwise).
    """

    def __init__(self, bag: str | os.PathLike) -> None:
        self.path = check_bag_path(bag)
        try:
            self._reader = AnyReader([self.path], default_typestore=typestore())
        except (AnyReaderError, OSError) as exc:
            raise InputError(f'cannot read bag {self.path}: {exc}') from None
        self.topics: dict[str, TopicInfo] = {}

    def __enter__(self) -> BagReader:
        try:
            self._reader.open()
        except (AnyReaderError, SerdeError, OSError) as exc:
            raise InputError(f'cannot read bag {self.path}: {exc}') from None
        for connection in self._reader.connections:
            known = self.topics.get(connection.topic)
            count = connection.msgcount + (known.count if known else 0)
            self.topics[connection.topic] = TopicInfo(connection.topic, connection.msgtype,
                                                      count)
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: Any) -> None:
        self._reader.close()

    def require(self, topic: str, msgtypes: Iterable[str]) -> TopicInfo:
        """The topic's info; InputError when it is missing or of another type."""
        msgtypes = tuple(msgtypes)
        info = self.topics.get(topic)
        if info is None:
            raise InputError(f'{self.path} has no topic {topic}; it has '
                             f'{", ".join(sorted(self.topics)) or "none"}')
        if info.msgtype not in msgtypes:
            raise InputError(f'{self.path}:{topic} has type {info.msgtype}, expected '
                             f'{" or ".join(msgtypes)}')
        return info

    def messages(self, topics: Iterable[str]) -> Iterator[tuple[str, int, int, Any]]:
        """(topic, index within the topic, receive time ns, decode) in bag (receive) order.

        `decode()` returns the decoded message, so messages the caller skips cost no decoding.
        """
        topics = set(topics)
        connections = [c for c in self._reader.connections if c.topic in topics]
        index = dict.fromkeys(topics, 0)
        try:
            for connection, log_ns, raw in self._reader.messages(connections=connections):
                position = index[connection.topic]
                index[connection.topic] += 1
                yield connection.topic, position, log_ns, _decoder(self._reader, raw,
                                                                   connection.msgtype)
        except (AnyReaderError, SerdeError, OSError) as exc:
            raise InputError(f'cannot read bag {self.path}: {exc}') from None

    def header_stamps_ns(self, topic: str) -> np.ndarray:
        """[N] int64 header stamps of every message of `topic`, in bag order."""
        stamps = [stamp_to_ns(decode().header.stamp)
                  for _, _, _, decode in self.messages([topic])]
        return np.asarray(stamps, dtype=np.int64)


def _decoder(reader: AnyReader, raw: bytes, msgtype: str) -> Any:
    def decode() -> Any:
        try:
            return reader.deserialize(raw, msgtype)
        except SerdeError as exc:
            raise InputError(f'cannot decode a {msgtype} message: {exc}') from None
    return decode
