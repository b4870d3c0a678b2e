"""rosbag2 pose reading: bags written here with rosbags' own Writer, read back, evaluated."""
from __future__ import annotations

import numpy as np
import pytest
from rosbags.rosbag2 import Writer
from rosbags.typesys import Stores, get_typestore

from depth_ros.errors import InputError
from depth_ros.evaluation.bag_io import read_bag_poses, split_bag_topic, write_bag_poses
from depth_ros.evaluation.report import evaluate_trajectory
from depth_ros.evaluation.trajectory_io import associate, load_trajectory
from depth_ros.geometry.se3 import rotation_to_quaternion


STORE = get_typestore(Stores.ROS2_HUMBLE)
T = STORE.types
START_NS = 1_700_000_000_123_000_000


def _header(stamp_ns: int):
    stamp = T['builtin_interfaces/msg/Time'](sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9)
    return T['std_msgs/msg/Header'](stamp=stamp, frame_id='map')


def _pose(world_from_cam: np.ndarray):
    q = rotation_to_quaternion(world_from_cam[:3, :3])
    x, y, z = world_from_cam[:3, 3]
    return T['geometry_msgs/msg/Pose'](
        position=T['geometry_msgs/msg/Point'](x=x, y=y, z=z),
        orientation=T['geometry_msgs/msg/Quaternion'](x=q[0], y=q[1], z=q[2], w=q[3]))


def _odometry(world_from_cam: np.ndarray, stamp_ns: int):
    zero = T['geometry_msgs/msg/Vector3'](x=0.0, y=0.0, z=0.0)
    return T['nav_msgs/msg/Odometry'](
        header=_header(stamp_ns), child_frame_id='base_link',
        pose=T['geometry_msgs/msg/PoseWithCovariance'](pose=_pose(world_from_cam),
                                                        covariance=np.zeros(36)),
        twist=T['geometry_msgs/msg/TwistWithCovariance'](
            twist=T['geometry_msgs/msg/Twist'](linear=zero, angular=zero),
            covariance=np.zeros(36)))


def _write_bag(path, poses, stamps_ns):
    """A bag with /odom (Odometry), /pose (PoseStamped) and /chatter (String)."""
    with Writer(path, version=8) as writer:
        odom = writer.add_connection('/odom', 'nav_msgs/msg/Odometry', typestore=STORE)
        pose = writer.add_connection('/pose', 'geometry_msgs/msg/PoseStamped', typestore=STORE)
        chatter = writer.add_connection('/chatter', 'std_msgs/msg/String', typestore=STORE)
        for world_from_cam, stamp in zip(poses, stamps_ns):
            stamp = int(stamp)
            writer.write(odom, stamp, STORE.serialize_cdr(
                _odometry(world_from_cam, stamp), 'nav_msgs/msg/Odometry'))
            stamped = T['geometry_msgs/msg/PoseStamped'](header=_header(stamp),
                                                         pose=_pose(world_from_cam))
            writer.write(pose, stamp, STORE.serialize_cdr(stamped,
                                                          'geometry_msgs/msg/PoseStamped'))
            writer.write(chatter, stamp, STORE.serialize_cdr(
                T['std_msgs/msg/String'](data='hi'), 'std_msgs/msg/String'))


@pytest.fixture
def bag(tmp_path, make_trajectory):
    poses = make_trajectory(30)
    stamps = START_NS + np.arange(30, dtype=np.int64) * 100_000_000
    path = tmp_path / 'poses_bag'
    _write_bag(path, poses, stamps)
    return path, poses, stamps


@pytest.mark.parametrize('topic', ['/odom', '/pose'])
def test_read_back_poses_and_stamps(bag, topic):
    path, poses, stamps = bag
    read = read_bag_poses(path, topic)
    np.testing.assert_allclose(read.world_from_cam, poses, atol=1e-12)
    np.testing.assert_allclose(read.stamps_s, stamps * 1e-9, rtol=0, atol=1e-6)


def test_bag_against_itself_is_zero(bag):
    path, _, _ = bag
    odom = load_trajectory(f'{path}:/odom')
    pose = load_trajectory(f'{path}:/pose')
    report = evaluate_trajectory(*associate(odom, pose), devkit_alignments=('scale', '6dof'))
    assert report.n_poses == 30
    assert report.ate_5frame.mean == pytest.approx(0.0, abs=1e-9)
    for result in report.ape.values():
        assert result.max == pytest.approx(0.0, abs=1e-9)
    for result in report.kitti_devkit.values():
        assert result.ate_m == pytest.approx(0.0, abs=1e-9)
        assert result.rpe_deg == pytest.approx(0.0, abs=1e-5)


def test_write_bag_poses_round_trip(tmp_path, make_trajectory):
    poses = make_trajectory(12)
    stamps = START_NS + np.arange(12, dtype=np.int64) * 50_000_000
    write_bag_poses(tmp_path / 'out', '/gt', poses, stamps)
    read = read_bag_poses(tmp_path / 'out', '/gt')
    np.testing.assert_allclose(read.world_from_cam, poses, atol=1e-12)
    np.testing.assert_allclose(read.stamps_s, stamps * 1e-9, atol=1e-6)


def test_bag_errors(bag, tmp_path):
    path, _, _ = bag
    with pytest.raises(InputError, match='no topic /missing; it has /chatter, /odom, /pose'):
        read_bag_poses(path, '/missing')
    with pytest.raises(InputError, match='std_msgs/msg/String'):
        read_bag_poses(path, '/chatter')
    with pytest.raises(InputError, match='bag not found'):
        read_bag_poses(tmp_path / 'nothing', '/odom')


def test_split_bag_topic():
    assert split_bag_topic('/data/run1:/odom') is not None
    bag, topic = split_bag_topic('/data/run1:/odom')
    assert (str(bag), topic) == ('/data/run1', '/odom')
    assert split_bag_topic('/data/poses.txt') is None
    assert split_bag_topic('run:odom') is None
