"""`depth-ros evaluate --recorded`: score what the node published, recorded in a bag.

The bag holds the node's outputs (for example recorded with `bag_replay.launch.py` from a
`kitti-to-bag` bag): its odometry (nav_msgs/Odometry) and depth images (32FC1). Ground truth
(`/ground_truth/odom`, `/ground_truth/depth`) is read from the same bag, or from the bag that was
played (`gt_bag`) when the recording lacks it.

Frames: the node publishes REP 105 odometry, odom_frame -> base_frame (REP 103 axes), with the
camera mounted at base_from_camera. Ground truth is KITTI's: the camera's pose in the first
camera, optical axes. The published poses are converted with
`geometry.frames.cam0_from_cam_of_odometry`: odom_from_cam = odom_from_base @ base_from_camera,
cam_0_from_cam_i = inv(odom_from_cam_0) @ odom_from_cam_i, so both are compared in the same
convention, which the report states. The mounting comes from `base_to_camera` (the node's
parameter of that name, 'x y z roll pitch yaw'), else from /tf_static in the recording (the
chain from the odometry's child frame to the depth images' frame), else the child frame must be
the camera frame itself. Depth images are scored as published (1/depth), with
per-image median scaling and as they are. The report and files are those of `evaluate`.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
import logging
import os
from pathlib import Path
import time
from typing import Any

import numpy as np

from depth_ros.errors import InputError
from depth_ros.evaluation.bag_io import POSE_MSGTYPES, BagReader, read_bag_poses_ns
from depth_ros.evaluation.frame_plan import log_plan, plan_frames
from depth_ros.evaluation.kitti_to_bag import GT_DEPTH_TOPIC, GT_ODOM_TOPIC
from depth_ros.evaluation.replay import EvalOptions, FrameSink, load_ground_truth
from depth_ros.evaluation.results import POSE_CONVENTION, BagEvalResult
from depth_ros.evaluation.scoring import DepthScores, GroundTruth, match_depth, score_trajectory
from depth_ros.evaluation.trajectory_io import sort_by_stamp
from depth_ros.evaluation.writers import EvalWriter
from depth_ros.geometry.frames import cam0_from_cam_of_odometry
from depth_ros.geometry.mounting import parse_mounting, transform_to_matrix
from depth_ros.ros.codecs import image_to_depth


LOG = logging.getLogger(__name__)

# The node's topics as bag_replay.launch.py records them; the first odometry topic found is used.
ODOM_TOPICS = ('/visual_odometry', '/odom')
DEPTH_TOPIC = '/depth/image'
ODOMETRY_CONVENTION = ('node odometry (REP 105 odom -> base, REP 103 axes) converted to the KITTI '
                       'camera frame: odom_from_cam = odom_from_base @ base_from_camera, '
                       'cam_0_from_cam_i = inv(odom_from_cam_0) @ odom_from_cam_i')
TF_TOPICS = ('/tf_static', '/tf')


@dataclass(frozen=True)
class RecordedTopics:
    """Topics of a recorded run; `odom` None picks the first of ODOM_TOPICS in the bag."""

    odom: str | None = None
    depth: str | None = DEPTH_TOPIC
    gt_odom: str | None = GT_ODOM_TOPIC
    gt_depth: str | None = GT_DEPTH_TOPIC


class _Stream:
    """Messages of one topic by index, read forward once; wanted ones met early wait undecoded."""

    def __init__(self, reader: BagReader, topic: str, wanted: set[int]) -> None:
        self._messages = reader.messages([topic])
        self._wanted, self._waiting = wanted, {}
        self.where = f'{reader.path}:{topic}'

    def get(self, index: int) -> Any:
        while index not in self._waiting:
            try:
                _, position, _, decode = next(self._messages)
            except StopIteration:
                raise InputError(f'{self.where} ended before message {index}') from None
            if position in self._wanted:
                self._waiting[position] = decode
        return self._waiting.pop(index)()


def _pick(reader: BagReader | None, topic: str | None, msgtypes: tuple[str, ...]) -> str | None:
    if reader is None or not topic or topic not in reader.topics:
        return None
    reader.require(topic, msgtypes)
    return topic


def _odom_topic(reader: BagReader, topics: RecordedTopics) -> str | None:
    if topics.odom:
        reader.require(topics.odom, ('nav_msgs/msg/Odometry',))
        return topics.odom
    return next((t for t in ODOM_TOPICS if t in reader.topics), None)


def _first(reader: BagReader, topic: str) -> Any:
    for _, _, _, decode in reader.messages([topic]):
        return decode()
    raise InputError(f'{reader.path}:{topic} holds no message')


def _static_edges(reader: BagReader) -> dict[str, list[tuple[str, np.ndarray]]]:
    """parent frame -> [(child frame, parent_from_child)] of the recorded TF messages."""
    edges: dict[str, list[tuple[str, np.ndarray]]] = {}
    for topic in (t for t in TF_TOPICS if t in reader.topics):
        for _, _, _, decode in reader.messages([topic]):
            for t in decode().transforms:
                r, q = t.transform.translation, t.transform.rotation
                edges.setdefault(t.header.frame_id, []).append((t.child_frame_id, (
                    transform_to_matrix((r.x, r.y, r.z), (q.x, q.y, q.z, q.w)))))
    return edges


def _tf_chain(edges: dict, source: str, target: str, depth: int = 0) -> np.ndarray | None:
    """source_from_target through the recorded TF tree (downwards from `source`), or None."""
    if source == target:
        return np.eye(4)
    for child, parent_from_child in edges.get(source, []) if depth < 16 else []:
        rest = _tf_chain(edges, child, target, depth + 1)
        if rest is not None:
            return parent_from_child @ rest
    return None


def child_from_camera(reader: BagReader, odom_topic: str, camera_frame: str | None,
                      base_to_camera: str | None) -> tuple[np.ndarray | None, str]:
    """The camera's pose in the odometry's child frame, and where it came from.

    Raises:
        InputError: the child frame is not the camera frame and no mounting is known.
    """
    if base_to_camera:
        try:
            return parse_mounting(base_to_camera), 'base_to_camera'
        except ValueError as exc:
            raise InputError(str(exc)) from None
    child = str(_first(reader, odom_topic).child_frame_id)
    if camera_frame is None or child == camera_frame:
        return None, f'the odometry child frame {child!r} is the camera frame'
    found = _tf_chain(_static_edges(reader), child, camera_frame)
    if found is None:
        raise InputError(f"{reader.path}:{odom_topic}: the odometry's child frame is {child!r}, "
                         f'not the camera frame {camera_frame!r}, and the recording has no TF '
                         f"from one to the other: give --base-to-camera 'x y z roll pitch yaw' "
                         "(the node's base_to_camera) or record /tf_static")
    return found, f'TF {child} -> {camera_frame}'


def _recorded_poses(rec: BagReader, topic: str, camera_frame: str | None,
                    base_to_camera: str | None) -> tuple[np.ndarray, np.ndarray, str]:
    """(cam0_from_cam [N, 4, 4] optical axes, stamps [N], mounting source) of the odometry."""
    mounting, source = child_from_camera(rec, topic, camera_frame, base_to_camera)
    poses, stamps = read_bag_poses_ns(rec.path, topic)
    poses, stamps, _, _ = sort_by_stamp(poses, stamps, f'{rec.path}:{topic}')
    return cam0_from_cam_of_odometry(poses, mounting), stamps, source


def recorded_camera_trajectory(bag: str | os.PathLike, odom_topic: str,
                               base_to_camera: str | None = None,
                               depth_topic: str = DEPTH_TOPIC) -> tuple[np.ndarray, np.ndarray,
                                                                         str]:
    """The camera trajectory (KITTI convention) of the node's odometry recorded in `bag`.

    Returns:
        (cam0_from_cam [N, 4, 4], stamps [N] ns, where the mounting came from).
    """
    with BagReader(bag) as rec:
        rec.require(odom_topic, ('nav_msgs/msg/Odometry',))
        camera_frame = (str(_first(rec, depth_topic).header.frame_id)
                        if depth_topic in rec.topics else None)
        return _recorded_poses(rec, odom_topic, camera_frame, base_to_camera)


def _ground_truth(bags: list[tuple[Path, BagReader]], topics: RecordedTopics,
                  notes: list[str]) -> tuple[GroundTruth | None, tuple | None]:
    """(ground-truth poses, (bag path, ground-truth depth topic)) from the first bag that has
    them."""
    gt = depth = None
    for path, reader in bags:
        if gt is None and _pick(reader, topics.gt_odom, POSE_MSGTYPES):
            gt = load_ground_truth(path, topics.gt_odom)
        if depth is None and _pick(reader, topics.gt_depth, ('sensor_msgs/msg/Image',)):
            depth = (path, topics.gt_depth)
    if gt is None and topics.gt_odom:
        notes.append(f'no {topics.gt_odom} in the recorded or played bag: no trajectory '
                     'metrics')
    if depth is None and topics.gt_depth:
        notes.append(f'no {topics.gt_depth} in the recorded or played bag: no depth metrics')
    return gt, depth


def _score_depth(rec: BagReader, depth_topic: str, gt_depth: tuple[Path, str] | None,
                 poses: dict[int, np.ndarray], options: EvalOptions, sink: FrameSink | None,
                 scores: DepthScores) -> None:
    """Score every recorded depth image against its ground truth (paired by stamp, once) and
    hand each to `sink`."""
    stamps = rec.header_stamps_ns(depth_topic)
    order = np.argsort(stamps, kind='stable')
    with contextlib.ExitStack() as stack:
        pairs, theirs = {}, None
        if gt_depth is not None:
            gt_reader = stack.enter_context(BagReader(gt_depth[0]))
            pairs = match_depth(stamps[order], gt_reader.header_stamps_ns(gt_depth[1]),
                                options.max_time_diff_s)
            theirs = _Stream(gt_reader, gt_depth[1], set(pairs.values()))
        ours = _Stream(rec, depth_topic, set(order.tolist()))
        for position, index in enumerate(order):
            msg = ours.get(int(index))
            depth_m = image_to_depth(msg)
            gt = image_to_depth(theirs.get(pairs[position])) if position in pairs else None
            if gt is not None:
                with np.errstate(divide='ignore'):
                    scores.add(gt, 1.0 / depth_m)
            if sink is not None:
                stamp = int(stamps[index])
                sink.frame(position, stamp, msg.header.frame_id, depth_m, poses.get(stamp),
                           None, gt)


def evaluate_recorded(bag: str | os.PathLike, gt_bag: str | os.PathLike | None = None,
                      topics: RecordedTopics | None = None, options: EvalOptions | None = None,
                      base_to_camera: str | None = None,
                      sink: FrameSink | None = None) -> BagEvalResult:
    """Score the node's recorded odometry and depth against ground truth.

    Args:
        bag: the recorded rosbag2.
        gt_bag: the bag that was played, for ground truth the recording lacks.
        topics: see RecordedTopics.
        options: pairing and depth settings (see EvalOptions; the pipeline ones are unused).
        base_to_camera: the camera's mounting in the odometry's child frame, 'x y z roll pitch
            yaw' (the node's parameter); None: from the recording's TF, or none when the child
            frame is the camera frame.
        sink: receives every recorded depth frame (e.g. `writers.EvalWriter`).

    Raises:
        InputError: unreadable bags, or neither odometry nor depth in the recording.
    """
    topics, options = topics or RecordedTopics(), options or EvalOptions()
    start, notes = time.perf_counter(), []
    with contextlib.ExitStack() as stack:
        rec = stack.enter_context(BagReader(bag))
        odom_topic = _odom_topic(rec, topics)
        depth_topic = _pick(rec, topics.depth, ('sensor_msgs/msg/Image',))
        if odom_topic is None and depth_topic is None:
            raise InputError(f'{rec.path} holds neither odometry ({", ".join(ODOM_TOPICS)}) nor '
                             f'depth ({topics.depth}): is it a recording of the node?')
        bags = [(rec.path, rec)]
        if gt_bag is not None:
            played = stack.enter_context(BagReader(gt_bag))
            bags.append((played.path, played))
        gt, gt_depth = _ground_truth(bags, topics, notes)
        poses = stamps = None
        if odom_topic is not None:
            camera_frame = None if depth_topic is None else str(
                _first(rec, depth_topic).header.frame_id)
            poses, stamps, mounting = _recorded_poses(rec, odom_topic, camera_frame,
                                                      base_to_camera)
            notes.append(f'camera mounting: {mounting}')
        plan = plan_frames(stamps if stamps is not None
                           else rec.header_stamps_ns(depth_topic), options.gap_factor)
        log_plan(plan, odom_topic or depth_topic)
        scores = DepthScores(options.min_depth_m, options.max_depth_m, options.garg_crop)
        if sink is not None:
            sink.start(rec.topics[depth_topic].count if depth_topic else 0, gt)
        if depth_topic is not None and (gt_depth is not None or sink is not None):
            by_stamp = {} if poses is None else dict(zip(stamps.tolist(), poses))
            _score_depth(rec, depth_topic, gt_depth, by_stamp, options, sink, scores)
    return _result(Path(bag), odom_topic or depth_topic, plan, poses, gt, scores, notes,
                   options, time.perf_counter() - start)


def _result(bag: Path, topic: str, plan: Any, poses: np.ndarray | None, gt: GroundTruth | None,
            scores: DepthScores, notes: list[str], options: EvalOptions,
            total_s: float) -> BagEvalResult:
    score = score_trajectory(plan.stamps_ns, poses, gt, options.max_time_diff_s, notes)
    if scores.skipped:
        notes.append(f'{scores.skipped} frame(s) without valid ground-truth depth')
    gt_info = {} if gt is None else {'duplicates': gt.duplicates, 'reordered': gt.reordered}
    timing = {'total_s': total_s, 'network_s': 0.0, 'overhead_ratio': 0.0,
              'frames_per_s': len(plan) / max(total_s, 1e-9)}
    return BagEvalResult(bag, topic, plan, poses, score.frames, score.gt_world_from_cam,
                         score.report, scores.result('median'), scores.result('fixed'), timing,
                         {}, tuple(notes), None, source='recorded',
                         conventions={'poses': POSE_CONVENTION,
                                      'odometry': ODOMETRY_CONVENTION},
                         ground_truth=gt_info,
                         depth_by_range=scores.ranges.to_dict() if scores.ranges.frames else None)


def evaluate_recorded_to(out_dir: str | os.PathLike, bag: str | os.PathLike,
                         gt_bag: str | os.PathLike | None = None,
                         topics: RecordedTopics | None = None,
                         options: EvalOptions | None = None,
                         base_to_camera: str | None = None) -> BagEvalResult:
    """`evaluate_recorded` with its files written by `writers.EvalWriter` into `out_dir`."""
    options = options or EvalOptions()
    with EvalWriter(out_dir, options.storage, options.result_bag, options.plots,
                    options.previews) as writer:
        result = evaluate_recorded(bag, gt_bag, topics, options, base_to_camera, writer)
        return writer.finish(result)
