"""`depth-ros bag-to-kitti`: a camera topic of a rosbag2 as a KITTI sequence, to train on."""
from __future__ import annotations

import argparse
import json


NAME = 'bag-to-kitti'
HELP = ("export a bag's camera topic (Image or CompressedImage + camera_info) to the KITTI "
        'odometry layout that training reads (docs/TRAINING.md, "Your own robot")')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--bag', required=True, help='rosbag2 folder (or a ROS 1 .bag)')
    parser.add_argument('--image-topic', required=True, metavar='TOPIC',
                        help='sensor_msgs/Image or CompressedImage topic, e.g. '
                             '/camera/image_rect or /camera/image_raw/compressed')
    parser.add_argument('--info-topic', metavar='TOPIC',
                        help="its CameraInfo topic (default: camera_info beside the image's, "
                             'e.g. /camera/camera_info)')
    parser.add_argument('--out', '-o', required=True, metavar='DIR',
                        help='folder to create (must not exist); the frames go to '
                             'DIR/sequences/NAME')
    parser.add_argument('--name', default='robot', help='sequence name (default: robot)')
    parser.add_argument('--every', type=int, default=1, metavar='N',
                        help='keep every N-th image (default: all; a 30 Hz camera at 10 Hz: 3)')
    parser.add_argument('--start', type=int, default=0, metavar='I',
                        help='first image to keep (position on the topic, default 0)')
    parser.add_argument('--max-frames', type=int, metavar='N', help='stop after N frames')
    parser.add_argument('--rectify', action='store_true',
                        help="undistort raw frames onto the camera_info's P (as the node's "
                             'rectify parameter does)')
    parser.add_argument('--allow-distorted', action='store_true',
                        help='write frames whose camera_info has distortion without '
                             'undistorting them (training would learn the distortion)')
    parser.add_argument('--mono16-max', type=int, default=65535, metavar='V',
                        help='mono16 value written as white (default 65535; 4095 for 12 bit)')
    parser.add_argument('--json', action='store_true', help='print a JSON summary')


def run(args: argparse.Namespace) -> int:
    from depth_ros.evaluation.bag_to_kitti import bag_to_kitti

    summary = bag_to_kitti(args.bag, args.image_topic, args.out, name=args.name,
                           info_topic=args.info_topic, every=args.every, start=args.start,
                           max_frames=args.max_frames, rectify=args.rectify,
                           allow_distorted=args.allow_distorted, mono16_max=args.mono16_max)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=1))
        return 0
    i = summary.intrinsics
    print(f'wrote {summary.sequence_dir}: {summary.frames} frames of {i.width}x{i.height} '
          f'over {summary.duration_s:.1f} s'
          f"{', rectified' if summary.rectified else ''} (fx {i.fx:.1f}, fy {i.fy:.1f}, "
          f'cx {i.cx:.1f}, cy {i.cy:.1f})')
    print('to train on it, add to a copy of config/real_mix.yaml under sources:\n'
          f'  - name: {summary.sequence_dir.name}\n'
          f'    sequence_dir: {summary.sequence_dir.resolve()}\n'
          '    camera: 2\n'
          '    # crop_bottom: N   rows of your robot in view')
    return 0
