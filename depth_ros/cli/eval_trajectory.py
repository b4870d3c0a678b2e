"""`depth-ros eval-trajectory`: trajectory metrics of a prediction against ground truth."""
from __future__ import annotations

import argparse
import json

from depth_ros.evaluation.kitti_devkit import DEVKIT_ALIGNMENTS
from depth_ros.evaluation.report import evaluate_trajectory, format_report
from depth_ros.evaluation.trajectory import APE_ALIGNMENTS
from depth_ros.evaluation.trajectory_io import associate, load_trajectory


NAME = 'eval-trajectory'
HELP = ('Trajectory metrics: Monodepth2 5-frame ATE, KITTI devkit errors, APE (evo). Poses from '
        'KITTI or TUM files or rosbag2 topics (BAG:TOPIC).')


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
    parser.add_argument('--track-length', type=int, default=5, metavar='FRAMES',
                        help='frames per track of the short-track ATE (Monodepth2: 5)')


def run(args: argparse.Namespace) -> int:
    gt = load_trajectory(args.gt)
    pred = load_trajectory(args.pred)
    gt_poses, pred_poses = associate(gt, pred, args.max_time_diff)
    report = evaluate_trajectory(gt_poses, pred_poses, tuple(dict.fromkeys(args.align)),
                                 tuple(dict.fromkeys(args.ape_align)), args.track_length)
    if args.json:
        out = {'gt': gt.source, 'pred': pred.source, **report.to_dict()}
        print(json.dumps(out, indent=1))
    else:
        print(f'ground truth: {gt.source} ({len(gt)} poses)\nprediction:   {pred.source} '
              f'({len(pred)} poses)')
        print(format_report(report))
    return 0
