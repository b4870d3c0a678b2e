"""The node with the real tf2: mounting from /tf_static, odometry read back with tf2_ros.Buffer.

A real StaticTransformBroadcaster publishes the robot's frames; the node (its networks replaced
by a scripted camera with known motion, see scripted.py) finds base_link -> camera on TF,
publishes odom -> base_link, and a real tf2_ros.Buffer in this process looks it up.
"""
from __future__ import annotations

import math

from geometry_msgs.msg import TransformStamped
from nav_msgs.msg import Odometry
import numpy as np
import pytest
import rclpy
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.time import Time
import scripted
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Float64MultiArray
from tf2_ros import Buffer, StaticTransformBroadcaster, TransformListener

from depth_ros.geometry.mounting import rpy_to_rotation


WIDTH, HEIGHT = 96, 64
FX = 80.0
FRAME_ID = 'test_cam_optical'
SECOND = 10**9
T0 = 1_800_000_000 * SECOND


def _pose(x=0.0, y=0.0, z=0.0, roll=0.0, pitch=0.0, yaw=0.0):
    pose = np.eye(4)
    pose[:3, :3] = rpy_to_rotation(roll, pitch, yaw)
    pose[:3, 3] = [x, y, z]
    return pose


def _transform(parent, child, pose):
    t = TransformStamped()
    t.header.frame_id, t.child_frame_id = parent, child
    t.transform.translation.x, t.transform.translation.y, t.transform.translation.z = (
        float(v) for v in pose[:3, 3])
    r = pose[:3, :3]  # rotation matrix -> quaternion (w > 0 branch is enough for these)
    w = math.sqrt(max(0.0, 1.0 + r[0, 0] + r[1, 1] + r[2, 2])) / 2.0
    x = (r[2, 1] - r[1, 2]) / (4 * w)
    y = (r[0, 2] - r[2, 0]) / (4 * w)
    z = (r[1, 0] - r[0, 1]) / (4 * w)
    t.transform.rotation.x, t.transform.rotation.y = x, y
    t.transform.rotation.z, t.transform.rotation.w = z, w
    return t


def _matrix(transform):
    q = transform.rotation
    x, y, z, w = q.x, q.y, q.z, q.w
    pose = np.eye(4)
    pose[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                    [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                    [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
    pose[:3, 3] = [transform.translation.x, transform.translation.y, transform.translation.z]
    return pose


def _messages(index, stamp_ns):
    image = Image(height=HEIGHT, width=WIDTH, encoding='rgb8', step=WIDTH * 3)
    image.data = scripted.frame(index, HEIGHT, WIDTH).tobytes()
    info = CameraInfo(width=WIDTH, height=HEIGHT, distortion_model='plumb_bob', d=[0.0] * 5,
                      k=[FX, 0.0, WIDTH / 2, 0.0, FX, HEIGHT / 2, 0.0, 0.0, 1.0],
                      p=[FX, 0.0, WIDTH / 2, 0.0, 0.0, FX, HEIGHT / 2, 0.0, 0.0, 0.0, 1.0, 0.0])
    for msg in (image, info):
        msg.header.frame_id = FRAME_ID
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, SECOND)
    return image, info


class _Rig:
    """The node under test, a probe with publishers and a real tf2 buffer, a static TF tree."""

    def __init__(self, camera, static, name, **overrides):
        self.node = scripted.make_node(camera, name, **overrides)
        self.probe = rclpy.create_node(f'{name}_probe')
        self.static = StaticTransformBroadcaster(self.probe)
        self.static.sendTransform([_transform(p, c, pose) for p, c, pose in static])
        self.buffer = Buffer()
        self.listener = TransformListener(self.buffer, self.probe)
        self.odometry, self.scale = [], []
        self.probe.create_subscription(Odometry, 'visual_odometry', self.odometry.append, 10)
        self.probe.create_subscription(Float64MultiArray, 'depth/scale', self.scale.append, 10)
        self.image_pub = self.probe.create_publisher(Image, 'image', 10)
        self.info_pub = self.probe.create_publisher(CameraInfo, 'camera_info', 10)
        self.executor, self.thread = scripted.spin(self.node, self.probe)
        assert self.node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        assert self.node.trigger_activate() == TransitionCallbackReturn.SUCCESS
        assert scripted.wait_for(lambda: self.image_pub.get_subscription_count() > 0)

    def send(self, index, stamp_ns):
        image, info = _messages(index, stamp_ns)
        self.info_pub.publish(info)
        self.image_pub.publish(image)
        assert scripted.wait_for(lambda: any(
            m.header.stamp.sec * SECOND + m.header.stamp.nanosec == stamp_ns
            for m in self.odometry)), dict(self.node.inputs.drops)

    def close(self):
        self.executor.shutdown(timeout_sec=5.0)
        self.node.worker.stop()
        self.node.destroy_node()
        self.probe.destroy_node()


@pytest.fixture
def rigs():
    made = []
    yield lambda *a, **k: made.append(_Rig(*a, **k)) or made[-1]
    for rig in made:
        rig.close()


def test_odom_to_base_from_tf_reproduces_the_constructed_motion(rigs):
    # Camera 0.4 m ahead, 0.1 m right of and 1.3 m above base_link, pitched 10 degrees down.
    base_from_cam = _pose(0.4, -0.1, 1.3, -math.pi / 2 - math.radians(10), 0.0, -math.pi / 2)
    world_from_base = [_pose(), _pose(0.8, 0.0, 0.0, yaw=0.05), _pose(1.7, 0.1, 0.0, yaw=0.15),
                       _pose(2.5, 0.3, 0.02, yaw=0.3)]
    camera = scripted.ScriptedCamera([w @ base_from_cam for w in world_from_base],
                                     np.full((HEIGHT, WIDTH), 8.0))
    rig = rigs(camera, [('base_link', FRAME_ID, base_from_cam)], 'tf_odom',
               publish_tf=True, base_to_camera='', tf_timeout_s=10.0)
    stamps = [T0 + k * SECOND // 10 for k in range(len(world_from_base))]
    for k, stamp in enumerate(stamps):
        rig.send(k, stamp)
    for k, stamp in enumerate(stamps):
        assert scripted.wait_for(lambda s=stamp: rig.buffer.can_transform(
            'odom', 'base_link', Time(nanoseconds=s)))
        looked_up = rig.buffer.lookup_transform('odom', 'base_link', Time(nanoseconds=stamp))
        np.testing.assert_allclose(_matrix(looked_up.transform), world_from_base[k], atol=1e-6)
    last = [m for m in rig.odometry if m.header.stamp.sec * SECOND + m.header.stamp.nanosec
            == stamps[-1]][0]
    assert (last.header.frame_id, last.child_frame_id) == ('odom', 'base_link')
    # Twist in base_link: the step from frame 2 to 3 over 0.1 s, seen from the new base pose.
    step = np.linalg.inv(world_from_base[2]) @ world_from_base[3]
    expected = step[:3, :3].T @ step[:3, 3] / 0.1
    twist = last.twist.twist.linear
    np.testing.assert_allclose([twist.x, twist.y, twist.z], expected, atol=1e-6)
    print(f'tf2: odom -> base_link looked up at {len(stamps)} stamps matches the constructed '
          f'base trajectory (mounting from /tf_static, 10 deg pitch)')


def test_tf_scale_source_reads_the_camera_height_from_the_tf_tree(rigs):
    # Level camera; the weights see a ground 1.0 m below the camera, TF says 0.3 + 1.3 m.
    v = np.arange(HEIGHT)[:, None] - HEIGHT / 2  # pixel centres at integer coordinates
    depth = np.where(v >= 1, 1.0 * FX / np.maximum(v, 1e-3), 60.0) * np.ones((1, WIDTH))
    level = _pose(0.2, 0.0, 1.3, -math.pi / 2, 0.0, -math.pi / 2)
    camera = scripted.ScriptedCamera([level] * 3, np.minimum(depth, 60.0))
    rig = rigs(camera, [('base_footprint', 'base_link', _pose(z=0.3)),
                        ('base_link', FRAME_ID, level)], 'tf_scale',
               scale_source='tf', ground_frame='base_footprint', base_to_camera='',
               scale_window=1, motion_gate_threshold=0.0)
    for k in range(3):
        rig.send(k, T0 + k * SECOND // 10)
    assert scripted.wait_for(lambda: len(rig.scale) >= 3)
    factor, confidence, _, height, applied = rig.scale[-1].data
    assert height == pytest.approx(1.6, abs=1e-6)
    assert factor == pytest.approx(1.6, rel=0.02) and confidence > 0
    # A flat ground in a one-frame window is trusted (confidence = plane support): applied.
    assert confidence >= 0.4 and applied == factor
    print(f'tf2 scale: camera height {height:.3f} m from base_footprint -> base_link -> camera, '
          f'factor {factor:.3f} (expected 1.6)')
