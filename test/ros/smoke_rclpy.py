"""Proof of life of the isolated rclpy env: one Image published and received in-process.

Run by `bash test/ros/rclpy_env.sh --smoke`; exits non-zero if nothing arrives within 10 s or if
the launch libraries, tf2 or OpenCV the env also holds do not import.
"""
import importlib
import sys
import time

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import Image


EXTRA_MODULES = ('launch', 'launch_ros', 'launch_testing', 'launch_testing_ros', 'launch_xml',
                 'launch_yaml', 'tf2_ros', 'tf2_msgs.msg', 'composition_interfaces.srv', 'cv2')


def main() -> int:
    for name in EXTRA_MODULES:
        importlib.import_module(name)
    sys.stdout.write(f'imports: ok ({", ".join(EXTRA_MODULES)})\n')
    rclpy.init()
    talker, listener = Node('smoke_talker'), Node('smoke_listener')
    received = []
    listener.create_subscription(Image, 'smoke_image', received.append, 10)
    publisher = talker.create_publisher(Image, 'smoke_image', 10)
    executor = SingleThreadedExecutor()
    executor.add_node(talker)
    executor.add_node(listener)
    sent = Image(height=2, width=3, encoding='rgb8', step=9, data=bytes(range(18)))
    deadline = time.monotonic() + 10.0
    while not received and time.monotonic() < deadline:
        publisher.publish(sent)
        executor.spin_once(timeout_sec=0.1)
    ok = bool(received) and bytes(received[0].data) == bytes(range(18))
    sys.stdout.write(f'rclpy smoke: {"ok" if ok else "FAILED"} '
                     f'({rclpy.get_rmw_implementation_identifier()})\n')
    executor.shutdown()
    rclpy.shutdown()
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
