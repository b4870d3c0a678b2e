"""Bag work of the node-vs-evaluate tests, run with the main environment's interpreter.

The isolated ROS env holds rclpy and the node but not `rosbags`; the evaluator's side (reading
and writing bags) runs where a user runs `depth-ros`, in the main environment:

    python main_env.py export-frames BAG OUT.npz      camera frames + intrinsics of a bag
    python main_env.py export-result RESULT_BAG OUT.npz   evaluate's published depth and poses
    python main_env.py write-recording NODE.npz BAG   the node's raw CDR messages as a rosbag2
"""
from __future__ import annotations

import sys

import numpy as np
from rosbags.rosbag2 import Writer

from depth_ros.evaluation.bag_io import BAG_VERSION, BagReader, read_bag_poses_ns, typestore
from depth_ros.ros.codecs import camera_info_to_intrinsics, image_to_depth, image_to_rgb


def export_frames(bag: str, out: str) -> None:
    with BagReader(bag) as reader:
        images = [decode() for _, _, _, decode in reader.messages(['/camera/image_raw'])]
        infos = [decode() for _, _, _, decode in reader.messages(['/camera/camera_info'])]
    intr = [camera_info_to_intrinsics(info) for info in infos]
    np.savez(out, rgb=np.stack([image_to_rgb(m) for m in images]),
             stamps_ns=np.array([m.header.stamp.sec * 10**9 + m.header.stamp.nanosec
                                 for m in images], dtype=np.int64),
             intrinsics=np.array([[i.fx, i.fy, i.cx, i.cy, i.width, i.height] for i in intr]),
             frame_id=images[0].header.frame_id)


def export_result(result_bag: str, out: str) -> None:
    with BagReader(result_bag) as reader:
        depths = [decode() for _, _, _, decode in reader.messages(['/depth_ros/depth'])]
    poses, stamps = read_bag_poses_ns(result_bag, '/depth_ros/odom')
    np.savez(out, depth=np.stack([image_to_depth(m) for m in depths]), poses=poses,
             stamps_ns=stamps)


def write_recording(node_npz: str, bag: str) -> None:
    """Messages exactly as the node serialised them (what `ros2 bag record` stores)."""
    data = np.load(node_npz, allow_pickle=False)
    store = typestore()
    with Writer(bag, version=BAG_VERSION) as writer:
        for topic, msgtype in (('/depth/image', 'sensor_msgs/msg/Image'),
                               ('/visual_odometry', 'nav_msgs/msg/Odometry')):
            key = topic.strip('/').replace('/', '_')
            connection = writer.add_connection(topic, msgtype, typestore=store)
            for stamp, offset, size in zip(data[f'{key}_stamps'], data[f'{key}_offsets'],
                                           data[f'{key}_sizes']):
                raw = data[f'{key}_bytes'][offset:offset + size].tobytes()
                writer.write(connection, int(stamp), raw)


if __name__ == '__main__':
    commands = {'export-frames': export_frames, 'export-result': export_result,
                'write-recording': write_recording}
    commands[sys.argv[1]](*sys.argv[2:])
