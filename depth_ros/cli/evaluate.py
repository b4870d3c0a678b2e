"""`depth-ros evaluate`: replay a rosbag2 through the frame pipeline, or score a recording of
the node's outputs (`--recorded`), against the bag's ground truth."""
from __future__ import annotations

import argparse
import json

from depth_ros.cli.common import add_model_arguments, load_predictor
from depth_ros.errors import ConfigError
from depth_ros.inference.scale import LOW_CONFIDENCE
from depth_ros.pipeline.epipolar_config import DEFAULT_MOTION_MODEL, MOTION_MODELS
from depth_ros.pipeline.frame import DEFAULT_ODOMETRY_SOURCE, ODOMETRY_SOURCES
from depth_ros.pipeline.motion_gate import DEFAULT_THRESHOLD as GATE_THRESHOLD
from depth_ros.pipeline.track_depth import DEPTH_REFINEMENTS


NAME = 'evaluate'
HELP = ("replay a bag's camera topic through the node's frame pipeline (or, with --recorded, "
        "take the node's recorded outputs); score the 5-frame ATE, KITTI devkit errors, APE and "
        "depth metrics against the bag's ground truth")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--bag', default=None,
                        help='rosbag2 folder (e.g. from kitti-to-bag); with --recorded, the bag '
                             'that was played, for ground truth the recording lacks')
    parser.add_argument('--recorded', default=None, metavar='BAG',
                        help='a bag recorded from the running node (bag_replay.launch.py): score '
                             'its odometry and depth images instead of replaying images')
    parser.add_argument('--odom-topic', default=None,
                        help="--recorded: the node's odometry (default: /visual_odometry or "
                             '/odom, whichever the bag has)')
    parser.add_argument('--base-to-camera', default=None, metavar="'X Y Z ROLL PITCH YAW'",
                        help="--recorded: the camera's mounting in the odometry's child frame "
                             "(the node's base_to_camera parameter); default: the recording's "
                             '/tf_static, or none when the child frame is the camera frame')
    parser.add_argument('--pred-depth-topic', default='/depth/image',
                        help="--recorded: the node's depth images (default: /depth/image)")
    add_model_arguments(parser)
    parser.add_argument('--out', '-o', default='eval_out', metavar='DIR',
                        help='folder for result_bag/, metrics.json and plots (default: eval_out)')
    parser.add_argument('--json', action='store_true',
                        help='print one JSON object instead of the table')
    parser.add_argument('--image-topic', default='/camera/image_raw',
                        help='camera topic (sensor_msgs/Image)')
    parser.add_argument('--gt-topic', default='/ground_truth/odom',
                        help='ground-truth poses (Odometry/PoseStamped); skipped when absent')
    parser.add_argument('--depth-topic', default='/ground_truth/depth',
                        help='ground-truth depth images (32FC1 m); skipped when absent')
    parser.add_argument('--max-time-diff', type=float, default=0.01, metavar='SECONDS',
                        help='largest stamp difference when pairing frames with ground truth')
    parser.add_argument('--garg-crop', action='store_true',
                        help='score depth inside the Garg crop only (KITTI Eigen split)')
    parser.add_argument('--max-depth', type=float, default=80.0, metavar='M',
                        help='largest ground-truth depth scored, and prediction clamp (80 m)')
    parser.add_argument('--previews', type=int, default=4, metavar='N',
                        help='frames with a depth preview PNG (default 4)')
    parser.add_argument('--storage', default='sqlite3', choices=('sqlite3', 'mcap'),
                        help='storage of the result bag (default: sqlite3)')
    parser.add_argument('--no-plots', action='store_true', help='write no PNG files')
    parser.add_argument('--scale', choices=('median', 'camera_height'), default='median',
                        help='camera_height: run as the node with scale_source '
                             'camera_height (depth, and the epipolar odometry, in camera-height '
                             'metres) and also report the ground-truth-free scale beside '
                             'median scaling')
    parser.add_argument('--camera-height-m', type=float, default=1.65, metavar='M',
                        help='camera height above the road for --scale camera_height '
                             '(KITTI colour cameras and the synthetic world: 1.65)')
    parser.add_argument('--camera-pitch-deg', type=float, default=0.0, metavar='DEG',
                        help='downward camera pitch, prior of the ground-plane fit')
    parser.add_argument('--scale-min-confidence', type=float, default=LOW_CONFIDENCE,
                        metavar='C',
                        help="the node's scale_min_confidence: a camera-height factor less "
                             'confident than this is not applied (the last trusted one is '
                             f'kept; default {LOW_CONFIDENCE}, as the node; 0: every factor)')
    parser.add_argument('--motion-gate-threshold', type=float, default=GATE_THRESHOLD,
                        metavar='GREY',
                        help="the node's motion gate: consecutive frames differing by at most "
                             f'this many grey levels get no motion (default {GATE_THRESHOLD}, as '
                             'the node; 0: off)')
    parser.add_argument('--odometry-source', choices=ODOMETRY_SOURCES,
                        default=DEFAULT_ODOMETRY_SOURCE,
                        help="what measures the motion, as the node's parameter: tracked "
                             "corners and two-view geometry with the depth network's metres "
                             '(epipolar, the default; needs OpenCV) or the pose network')
    parser.add_argument('--motion-model', choices=MOTION_MODELS, default=DEFAULT_MOTION_MODEL,
                        help="what the camera is mounted on, as the node's parameter: vehicle "
                             '(moves along its heading; the default) or free (drone, hand-held)')
    parser.add_argument('--depth-refinement', choices=DEPTH_REFINEMENTS, default='none',
                        help="as the node's parameter: none (the default) or tracks (the "
                             'depth corrected by corners triangulated over several frames)')
    parser.add_argument('--camera-info-topic', default='/camera/camera_info',
                        help='intrinsics for --scale camera_height')


def run(args: argparse.Namespace) -> int:
    from depth_ros.evaluation.bag_io import check_bag_path
    from depth_ros.evaluation.replay import EvalOptions, evaluate_bag, format_result

    if not 0.0 <= args.scale_min_confidence <= 1.0:
        raise ConfigError(f'--scale-min-confidence must be within 0..1, got '
                          f'{args.scale_min_confidence}')
    if args.bag is None and args.recorded is None:
        raise ConfigError('give --bag BAG (replay its images) or --recorded BAG (score the '
                          "node's recorded outputs)")
    options = EvalOptions(max_time_diff_s=args.max_time_diff, garg_crop=args.garg_crop,
                          max_depth_m=args.max_depth, previews=args.previews,
                          storage=args.storage, plots=not args.no_plots,
                          camera_height_m=(args.camera_height_m
                                           if args.scale == 'camera_height' else None),
                          camera_pitch_deg=args.camera_pitch_deg,
                          scale_min_confidence=args.scale_min_confidence,
                          camera_info_topic=args.camera_info_topic,
                          motion_gate_threshold=args.motion_gate_threshold,
                          odometry_source=args.odometry_source,
                          motion_model=args.motion_model,
                          depth_refinement=args.depth_refinement)
    if args.recorded is not None:
        result = _recorded(args, options)
    else:
        check_bag_path(args.bag)  # a one-line error before the model loads
        result = evaluate_bag(args.bag, load_predictor(args), args.out, args.image_topic,
                              args.gt_topic or None, args.depth_topic or None, options)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    else:
        print(format_result(result))
    return 0


def _recorded(args: argparse.Namespace, options):
    from depth_ros.evaluation.recorded import RecordedTopics, evaluate_recorded_to

    if args.scale == 'camera_height':
        raise ConfigError('--scale camera_height applies to replay; a recorded run is scored with '
                          'the scale the node published')
    topics = RecordedTopics(odom=args.odom_topic, depth=args.pred_depth_topic or None,
                            gt_odom=args.gt_topic or None, gt_depth=args.depth_topic or None)
    return evaluate_recorded_to(args.out, args.recorded, args.bag, topics, options,
                                args.base_to_camera)
