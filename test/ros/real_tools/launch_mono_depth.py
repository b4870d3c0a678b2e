"""launch_testing test of mono_depth.launch.py (run by test_launch.py through launch_test).

Starts the installed launch file, feeds the real KITTI frame from a probe node in this process,
and checks that the node comes up, its topics appear, depth and cloud arrive with the camera's
header, and that every process exits cleanly when the launch shuts down.
"""
import os
from pathlib import Path
import tempfile
import time
import unittest

from ament_index_python.packages import get_package_share_directory
import frames
from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
import launch_testing
import launch_testing.actions
import launch_testing.asserts
from nav_msgs.msg import Odometry
import pytest
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image, PointCloud2
import tools


IMAGE, INFO = '/test_camera/image_rect', '/test_camera/camera_info'
TIMEOUT_S = float(os.environ.get('LAUNCH_TEST_TIMEOUT_S', '150'))


@pytest.mark.launch_test
def generate_test_description():
    path = os.path.join(get_package_share_directory('depth_ros'), 'launch',
                        'mono_depth.launch.py')
    params = tools.params_file(Path(tempfile.mkdtemp()) / 'params.yaml',
                               base_to_camera=tools.OPTICAL_AT_BASE)
    include = IncludeLaunchDescription(PythonLaunchDescriptionSource(path),
                                       launch_arguments={'image': IMAGE, 'camera_info': INFO,
                                                         'params_file': str(params)}.items())
    return LaunchDescription([include, launch_testing.actions.ReadyToTest()])


class TestMonoDepthLaunch(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.probe = rclpy.create_node('launch_test_probe')

    @classmethod
    def tearDownClass(cls):
        cls.probe.destroy_node()
        rclpy.shutdown()

    def _spin_until(self, predicate, timeout_s):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not predicate():
            rclpy.spin_once(self.probe, timeout_sec=0.1)
        return predicate()

    def test_node_topics_and_outputs(self):
        names = lambda: self.probe.get_node_names()  # noqa: E731
        self.assertTrue(self._spin_until(lambda: 'mono_depth' in names(), 60.0), names())
        received = {'depth': [], 'info': [], 'points': [], 'odometry': []}
        reliable = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
        self.probe.create_subscription(Image, '/depth/image', received['depth'].append, reliable)
        self.probe.create_subscription(CameraInfo, '/depth/camera_info', received['info'].append,
                                       reliable)
        self.probe.create_subscription(PointCloud2, '/points', received['points'].append,
                                       reliable)
        self.probe.create_subscription(Odometry, '/visual_odometry', received['odometry'].append,
                                       reliable)
        image_pub = self.probe.create_publisher(Image, IMAGE, reliable)
        info_pub = self.probe.create_publisher(CameraInfo, INFO, reliable)
        rgb = frames.load_rgb()
        sent = []
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline and not all(received.values()):
            stamp = self.probe.get_clock().now().to_msg()
            sent.append((stamp.sec, stamp.nanosec))
            info_pub.publish(frames.info_msg(rgb.shape[1], rgb.shape[0], stamp))
            image_pub.publish(frames.image_msg(rgb, stamp))
            self._spin_until(lambda: False, 0.5)
        self.assertTrue(all(received.values()), {k: len(v) for k, v in received.items()})
        depth = received['depth'][0]
        print(f'launch test: sent {len(sent)} frames, received {len(received["depth"])} depth '
              f'images, {len(received["points"])} clouds')
        self.assertEqual((depth.width, depth.height, depth.encoding), (1242, 375, '32FC1'))
        self.assertEqual(depth.header.frame_id, frames.FRAME_ID)
        self.assertIn((depth.header.stamp.sec, depth.header.stamp.nanosec), sent)
        odometry = received['odometry'][0]
        self.assertEqual((odometry.header.frame_id, odometry.child_frame_id),
                         ('odom', 'base_link'))
        topics = {name for name, _ in self.probe.get_topic_names_and_types()}
        self.assertLessEqual({'/depth/image', '/depth/camera_info', '/points', '/visual_odometry',
                              '/diagnostics', IMAGE, INFO}, topics)


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_every_process_exits_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
