"""A camera in its own process: real 1242x375 KITTI frames and their camera_info at a rate.

    python camera_publisher.py RATE_HZ DURATION_S QOS(reliable|best_effort) [still|drive]

still (default): one frame over and over (a camera standing still); drive: the first 60 frames
of the real dev drive in a loop (a moving camera).

Both topics get the stamp of the moment of publishing (system time), camera_info first. Prints
'published N frames' at the end.
"""
import sys
import time

from builtin_interfaces.msg import Time
import frames
import rclpy
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image


def main(rate_hz: float, duration_s: float, reliability: str, scene: str = 'still') -> int:
    rclpy.init()
    node = rclpy.create_node('kitti_camera')
    policy = (ReliabilityPolicy.RELIABLE if reliability == 'reliable'
              else ReliabilityPolicy.BEST_EFFORT)
    qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=policy)
    image_pub = node.create_publisher(Image, 'camera/image_rect', qos)
    # Depth 10, like camera drivers. A reliable writer overwrites samples still unacknowledged
    # when its history is full, so a reader busy for over a second can lose a camera_info (the
    # rare no_camera_info drops of this test). A deeper camera_info history (100) was tried:
    # in-order repair then delayed every later camera_info behind the 1.4 MB images, and on
    # the loaded test machine three quarters of the images outlived the pairing queue.
    info_pub = node.create_publisher(CameraInfo, 'camera/camera_info', qos)
    clip = frames.load_drive() if scene == 'drive' else [frames.load_rgb()]
    images = [frames.image_msg(rgb, Time()) for rgb in clip]  # built once, stamped below
    rgb = clip[0]
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline and not (image_pub.get_subscription_count()
                                              and info_pub.get_subscription_count()):
        time.sleep(0.05)  # wait for the node's subscriptions
    start, sent = time.monotonic(), 0
    while time.monotonic() - start < duration_s:
        stamp = node.get_clock().now().to_msg()
        info_pub.publish(frames.info_msg(rgb.shape[1], rgb.shape[0], stamp))
        image = images[sent % len(images)]
        image.header.stamp = stamp
        image_pub.publish(image)
        if sent == 0:
            print(f'first stamp {stamp.sec * 10**9 + stamp.nanosec} ns', flush=True)
        sent += 1
        time.sleep(max(0.0, start + sent / rate_hz - time.monotonic()))
    print(f'published {sent} frames', flush=True)
    time.sleep(1.0)  # let reliable repairs finish
    node.destroy_node()
    rclpy.shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main(float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], *sys.argv[4:5]))
