"""The frame pipeline and the message codecs import no ROS and no torch (checked in a fresh
interpreter, so nothing imported by another test hides a dependency)."""
import subprocess
import sys

import pytest


@pytest.mark.parametrize('module, forbidden', [
    ('depth_ros.pipeline', ('rclpy', 'torch', 'rosbags', 'sensor_msgs', 'training')),
    ('depth_ros.ros.codecs', ('rclpy', 'torch', 'rosbags', 'sensor_msgs')),
    ('depth_ros.colormaps', ('matplotlib', 'torch', 'rclpy')),
    ('depth_ros.geometry.frames', ('torch', 'rclpy')),
    ('depth_ros.geometry.camera', ('torch', 'rclpy')),
])
def test_imports_alone(module, forbidden):
    code = (f'import sys, {module}; '
            f'print(",".join(m for m in {forbidden!r} if m in sys.modules))')
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '', f'{module} imported {done.stdout.strip()}'
