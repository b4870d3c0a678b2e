"""`depth-ros eval-trajectory`: trajectory metrics of a prediction against ground truth."""
from __future__ import annotations

import argparse
from dataclasses import replace
import json
import os

from depth_ros.evaluation.kitti_devkit import DEVKIT_ALIGNMENTS
from depth_ros.evaluation.report import evaluate_trajectory, format_report
from depth_ros.evaluation.results import POSE_CONVENTION
from depth_ros.evaluation.trajectory import APE_ALIGNMENTS, PoseSequence
from depth_ros.evaluation.trajectory_io import associate, load_trajectory
from depth_ros.geometry.frames import cam0_from_cam_of_odometry
from depth_ros.geometry.mounting import parse_mounting


NAME = 'eval-trajectory'
HELP = ('Trajectory metrics: Monodepth2 5-frame ATE, KITTI devkit errors, APE (evo). Poses from '
        "KITTI or TUM files or rosbag2 topics (BAG:TOPIC), including the node's recorded "
        'odometry (BAG:/odom).')
# --pred-frame values: what the prediction's poses are.
PRED_FRAMES = ('auto', 'kitti', 'node')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--gt', required=True, metavar='SOURCE',
                        help='ground truth: KITTI pose file (12/13 columns), TUM file '
                             '(t x y z qx qy qz qw) or BAG:TOPIC (Odometry/PoseStamped)')
    parser.add_argument('--pred', required=True, metavar='SOURCE',
                        help='prediction, in any of the --gt formats')
    parser.add_argument('--json', action='store_true',
                        help='print one JSON object instead of the table')
    parser.add_argument('--align', nargs='+', default=['scale', '7dof', '6dof'],
                        choices=DEVKIT_ALIGNMENTS, metavar='MODE',
                        help='KITTI devkit alignments to report, of '
                             f'{", ".join(DEVKIT_ALIGNMENTS)} (default: scale 7dof 6dof)')
    parser.add_argument('--ape-align', nargs='+', default=['se3', 'sim3'],
                        choices=APE_ALIGNMENTS, metavar='MODE',
                        help=f'APE alignments to report, of {", ".join(APE_ALIGNMENTS)} '
                             '(default: se3 sim3)')
    parser.add_argument('--max-time-diff', type=float, default=0.01, metavar='SECONDS',
                        help='largest timestamp difference when pairing stamped poses '
                             '(default 0.01 s)')
    parser.add_argument('--pred-frame', default='auto', choices=PRED_FRAMES,
                        help="node: the prediction is the node's odometry (REP 103 odometry "
                             'frame, camera optical child), converted to the KITTI camera frame; '
                             'kitti: camera poses in the first camera, as KITTI; auto (default): '
                             'node for BAG:/odom and BAG:/visual_odometry, else kitti')
    parser.add_argument('--base-to-camera', default=None, metavar="'X Y Z ROLL PITCH YAW'",
                        help="node odometry: the camera's mounting in the odometry's child frame "
                             "(the node's base_to_camera; default: the recording's TF, or none "
                             'when the child frame is the camera frame)')
    parser.add_argument('--track-length', type=int, default=5, metavar='FRAMES',
                        help='frames per track of the short-track ATE (Monodepth2: 5)')


def _node_odometry(spec: str, pred_frame: str) -> bool:
    if pred_frame != 'auto':
        return pred_frame == 'node'
    from depth_ros.evaluation.bag_io import split_bag_topic
    from depth_ros.evaluation.recorded import ODOM_TOPICS

    bag_topic = None if os.path.isfile(spec) else split_bag_topic(spec)
    return bag_topic is not None and bag_topic[1] in ODOM_TOPICS


def _camera_trajectory(spec: str, pred: PoseSequence,
                       base_to_camera: str | None) -> tuple[PoseSequence, str]:
    """The node's odometry as camera poses in KITTI's convention, and the mounting's source."""
    from depth_ros.evaluation.bag_io import split_bag_topic
    from depth_ros.evaluation.recorded import recorded_camera_trajectory

    bag_topic = split_bag_topic(spec)
    if bag_topic is None:  # a pose file of node odometry: its child frame is the camera's
        mounting = parse_mounting(base_to_camera) if base_to_camera else None
        poses = cam0_from_cam_of_odometry(pred.world_from_cam, mounting)
        return replace(pred, world_from_cam=poses), base_to_camera or 'none'
    poses, stamps, mounting = recorded_camera_trajectory(*bag_topic, base_to_camera)
    return replace(pred, world_from_cam=poses, stamps_s=stamps * 1e-9), mounting


def run(args: argparse.Namespace) -> int:
    gt = load_trajectory(args.gt)
    pred = load_trajectory(args.pred)
    converted = _node_odometry(args.pred, args.pred_frame)
    if converted:
        pred, mounting = _camera_trajectory(args.pred, pred, args.base_to_camera)
    gt_poses, pred_poses = associate(gt, pred, args.max_time_diff)
    report = evaluate_trajectory(gt_poses, pred_poses, tuple(dict.fromkeys(args.align)),
                                 tuple(dict.fromkeys(args.ape_align)), args.track_length)
    conventions = {'poses': POSE_CONVENTION}
    if converted:
        from depth_ros.evaluation.recorded import ODOMETRY_CONVENTION

        conventions['odometry'] = f'{ODOMETRY_CONVENTION}; mounting: {mounting}'
    duplicates = {'gt': gt.duplicates, 'pred': pred.duplicates}
    if args.json:
        out = {'gt': gt.source, 'pred': pred.source, 'conventions': conventions,
               'duplicates': duplicates, 'reordered': {'gt': gt.reordered,
                                                       'pred': pred.reordered},
               **report.to_dict()}
        print(json.dumps(out, indent=1))
    else:
        print(f'ground truth: {gt.source} ({len(gt)} poses)\nprediction:   {pred.source} '
              f'({len(pred)} poses)')
        for key, text in conventions.items():
            print(f'{key}: {text}')
        if gt.duplicates or pred.duplicates:
            print(f'repeated stamps dropped: {gt.duplicates} in the ground truth, '
                  f'{pred.duplicates} in the prediction')
        print(format_report(report))
    return 0
