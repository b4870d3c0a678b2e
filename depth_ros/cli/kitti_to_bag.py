"""`depth-ros kitti-to-bag`: a KITTI odometry sequence or raw drive as a rosbag2."""
from __future__ import annotations

import argparse
import json


NAME = 'kitti-to-bag'
HELP = ('convert a KITTI odometry sequence (sequences/XX) or raw drive (..._drive_XXXX_sync) to a '
        'rosbag2: images, camera_info, ground-truth odometry and depth')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--sequence-dir', required=True, metavar='DIR',
                        help='KITTI odometry sequences/XX folder, or a KITTI raw '
                             '..._drive_XXXX_sync folder')
    parser.add_argument('--out', '-o', required=True, metavar='BAG',
                        help='rosbag2 folder to create (must not exist)')
    parser.add_argument('--poses', default=None, metavar='FILE',
                        help='KITTI ground-truth pose file (default: DIR/../../poses/XX.txt '
                             'when it exists); trimmed to the frames')
    parser.add_argument('--storage', default='sqlite3', choices=('sqlite3', 'mcap'),
                        help='rosbag2 storage plugin (default: sqlite3)')
    parser.add_argument('--camera', type=int, default=None, choices=(0, 1, 2, 3),
                        help='camera index: 2 colour (default when present), 0 grey')
    parser.add_argument('--rate', type=float, default=None, metavar='HZ',
                        help='stamp frames at this nominal rate instead of times.txt '
                             '(default: times.txt, else 10 Hz)')
    parser.add_argument('--calib-dir', default=None, metavar='DIR',
                        help="KITTI raw calibration folder (default: the drive folder's parent)")
    parser.add_argument('--start-time', type=float, default=None, metavar='SECONDS',
                        help='stamp of the first frame, seconds since 1970 (default: '
                             '1700000000 for times.txt or nominal stamps; a raw drive keeps its '
                             'measured UTC stamps)')
    parser.add_argument('--json', action='store_true', help='print a JSON summary')


def run(args: argparse.Namespace) -> int:
    from depth_ros.evaluation.kitti_to_bag import kitti_to_bag

    summary = kitti_to_bag(args.sequence_dir, args.out, poses=args.poses, storage=args.storage,
                           camera=args.camera, rate_hz=args.rate, calib_dir=args.calib_dir,
                           start_time_s=args.start_time)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=1))
        return 0
    print(f'wrote {summary.bag} ({summary.storage}): {summary.frames} frames of '
          f'{summary.width}x{summary.height}')
    for topic, count in summary.topics.items():
        print(f'  {topic}: {count} messages')
    stamps = summary.stamps_source
    if stamps.startswith('nominal'):
        stamps += ' (no times file: stamps are frame index / rate, not measured times)'
    print(f'stamps: {stamps}; first stamp {summary.first_stamp_ns / 1e9:.9f} s')
    print(f'ground truth: {summary.gt_source or "none found"}')
    return 0
