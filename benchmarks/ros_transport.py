"""Loss of large images between two processes under Fast DDS: best-effort vs reliable QoS.

    bash test/ros/rclpy_env.sh --exec benchmarks/ros_transport.py [SECONDS]

A camera process (test/ros/real_tools/camera_publisher.py) sends the real 1242x375 rgb8 KITTI
frame (1.4 MB) and its camera_info at 10 Hz; a plain subscriber in this process, with the same
QoS, counts the images that arrive. No depth node: this is the transport alone, the figure the
README's QoS advice rests on. Runs inside the env's network namespace (loopback only).
"""
from __future__ import annotations

import os
from pathlib import Path
import subprocess
import sys
import time

import rclpy
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image


ROOT = Path(__file__).resolve().parents[1]
PUBLISHER = ROOT / 'test' / 'ros' / 'real_tools' / 'camera_publisher.py'


def run(reliability: str, seconds: float) -> tuple[int, int]:
    """(sent, received) for one QoS."""
    node = rclpy.create_node(f'transport_probe_{reliability}')
    policy = (ReliabilityPolicy.RELIABLE if reliability == 'reliable'
              else ReliabilityPolicy.BEST_EFFORT)
    received: list[int] = []
    node.create_subscription(Image, 'camera/image_rect', lambda m: received.append(1),
                             QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10,
                                        reliability=policy))
    env = dict(os.environ, PYTHONPATH=f'{PUBLISHER.parent}:{os.environ.get("PYTHONPATH", "")}')
    camera = subprocess.Popen([sys.executable, str(PUBLISHER), '10', str(seconds), reliability],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    while camera.poll() is None:
        rclpy.spin_once(node, timeout_sec=0.05)
    end = time.monotonic() + 2.0
    while time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.05)
    output = camera.communicate()[0]
    node.destroy_node()
    sent = int(output.split('published ')[1].split()[0])
    return sent, len(received)


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    rclpy.init()
    print('| QoS | sent | received | lost |')
    print('|---|---|---|---|')
    for reliability in ('best_effort', 'reliable'):
        sent, got = run(reliability, seconds)
        print(f'| {reliability} | {sent} | {got} | {1 - got / max(sent, 1):.1%} |', flush=True)
    rclpy.shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
