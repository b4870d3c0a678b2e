"""`depth-ros evaluate`: replay a rosbag2 through the frame pipeline and score what it gives.

`evaluate_bag` reads the bag's image topic in header-stamp order and feeds every frame to the
same `FramePipeline` the node runs (`depth_ros.pipeline`): the depth, scale and chained
odometry scored here are the ones the node would publish for these frames (poses are kept in
KITTI's optical-axis convention; the node publishes the same trajectory in REP 103 axes).
Scores against the bag's ground truth, paired by stamp once: Monodepth2's 5-frame ATE, the KITTI
devkit figures and evo's APE (`report.evaluate_trajectory`), and the Eigen depth metrics when
the bag carries ground-truth depth, with per-image median scaling and as predicted. With
`EvalOptions.camera_height_m` the pipeline runs with the camera-height scale (as the node's
`scale_source: camera_height`), and its ground-truth-free figures are reported beside.

Frame stream checks (`plan_frames`): a frame whose header stamp repeats an earlier one is a
duplicate and skipped; a frame received after a later-stamped one is out of order, and frames
are processed in stamp order with a warning; a stamp step above `gap_factor` times the median
period is reported as a gap; its motion is measured unless the step exceeds max_pose_gap_s,
where the pipeline restarts the chain, as in the node.

The result is a typed `BagEvalResult`; files (result bag, metrics.json, plots, previews) are
written by `writers.EvalWriter`, which receives every frame as a sink. This module takes any
object with the Predictor's methods; it does not import torch itself.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
import logging
import os
from pathlib import Path
import time
from typing import Any, Protocol

import numpy as np
from tqdm import tqdm

from depth_ros.errors import InputError
from depth_ros.evaluation.bag_io import POSE_MSGTYPES, BagReader, read_bag_poses_ns
from depth_ros.evaluation.baselines import BaselineComparison
from depth_ros.evaluation.depth_metrics import MAX_DEPTH_M, MIN_DEPTH_M
from depth_ros.evaluation.frame_plan import FramePlan, log_plan, plan_frames
from depth_ros.evaluation.kitti_to_bag import (
    CAMERA_INFO_TOPIC,
    GT_DEPTH_TOPIC,
    GT_ODOM_TOPIC,
    IMAGE_TOPIC,
)
from depth_ros.evaluation.results import (
    ODOMETRY_SOURCE_TEXT,
    ODOMETRY_SUBJECTS,
    POSE_CONVENTION,
    BagEvalResult,
    format_result,
)
from depth_ros.evaluation.scoring import (
    DepthScores,
    GroundTruth,
    camera_height_report,
    ground_truth,
    match_depth,
    score_trajectory,
)
from depth_ros.evaluation.writers import RESULT_DEPTH_TOPIC, RESULT_ODOM_TOPIC, EvalWriter
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.inference.scale import LOW_CONFIDENCE
from depth_ros.pipeline import DroppedFrame, FramePipeline, Mounting, PipelineConfig
from depth_ros.pipeline.epipolar_config import DEFAULT_MOTION_MODEL
from depth_ros.pipeline.frame import DEFAULT_ODOMETRY_SOURCE
from depth_ros.pipeline.motion_gate import DEFAULT_THRESHOLD as GATE_THRESHOLD
from depth_ros.ros.codecs import camera_info_to_intrinsics, image_to_depth, image_to_rgb


LOG = logging.getLogger(__name__)

IMAGE_MSGTYPE = 'sensor_msgs/msg/Image'
__all__ = ['RESULT_DEPTH_TOPIC', 'RESULT_ODOM_TOPIC', 'BagEvalResult', 'EvalOptions',
           'FrameSink', 'evaluate_bag', 'format_result', 'load_ground_truth']


class FrameSink(Protocol):
    """Receives every evaluated frame (`writers.EvalWriter` is one)."""

    def start(self, frames: int, gt: GroundTruth | None) -> None: ...

    def frame(self, position: int, stamp_ns: int, frame_id: str, depth_m: np.ndarray,
              cam0_from_cam: np.ndarray | None, rgb: np.ndarray | None,
              gt_depth_m: np.ndarray | None) -> None: ...


@dataclass(frozen=True)
class EvalOptions:
    """How `evaluate_bag` pairs, scores and writes.

    Attributes:
        max_time_diff_s: largest stamp difference when pairing a frame with ground truth.
        gap_factor: a stamp step above gap_factor * median period is a gap.
        garg_crop: score depth inside the Garg crop only (the KITTI Eigen split).
        min_depth_m, max_depth_m: valid ground-truth range and prediction clamp.
        previews: number of frames with a depth preview image.
        storage: storage plugin of the result bag ('sqlite3' or 'mcap').
        result_bag: write the result bag (needs an output folder).
        plots: write trajectory.png, depth_by_range.png and the depth previews (needs an
            output folder).
        camera_height_m: also score with the camera-height scale (None: median scaling only).
        camera_pitch_deg: the camera's downward pitch, prior of the ground-plane fit.
        scale_min_confidence: the node's parameter: a camera-height factor less confident is
            not applied (`pipeline.scale.ScaleTracker`).
        camera_info_topic: the camera's intrinsics (needed by the camera-height scale).
        max_pose_gap_s: longest stamp step whose motion is measured (the node's parameter).
        motion_gate_threshold: the node's motion gate (`pipeline.motion_gate`): consecutive frames
            differing by at most this many grey levels get no motion; 0 turns it off.
        odometry_source: 'epipolar' or 'posenet' (the node's parameter, `pipeline.frame`).
        motion_model: 'vehicle' or 'free' (the node's parameter, `pipeline.epipolar_config`).
        depth_refinement: 'none' or 'tracks' (the node's parameter, `pipeline.track_depth`).
    """

    max_time_diff_s: float = 0.01
    gap_factor: float = 1.5
    garg_crop: bool = False
    min_depth_m: float = MIN_DEPTH_M
    max_depth_m: float = MAX_DEPTH_M
    previews: int = 4
    storage: str = 'sqlite3'
    result_bag: bool = True
    plots: bool = True
    camera_height_m: float | None = None
    camera_pitch_deg: float = 0.0
    scale_min_confidence: float = LOW_CONFIDENCE
    camera_info_topic: str = CAMERA_INFO_TOPIC
    max_pose_gap_s: float = 1.0
    motion_gate_threshold: float = GATE_THRESHOLD
    odometry_source: str = DEFAULT_ODOMETRY_SOURCE
    motion_model: str = DEFAULT_MOTION_MODEL
    depth_refinement: str = 'none'

    def pipeline_config(self) -> PipelineConfig:
        """The frame pipeline's settings: the node's defaults, or the camera-height scale."""
        shared = dict(max_pose_gap_s=self.max_pose_gap_s,
                      motion_gate_threshold=self.motion_gate_threshold,
                      odometry_source=self.odometry_source, motion_model=self.motion_model,
                      depth_refinement=self.depth_refinement)
        if self.camera_height_m is None:
            return PipelineConfig(scale_source='fixed', scale=1.0, **shared)
        return PipelineConfig(scale_source='camera_height',
                              mounting=Mounting.from_pitch(self.camera_height_m,
                                                           self.camera_pitch_deg),
                              scale_min_confidence=self.scale_min_confidence, **shared)


def load_ground_truth(bag: str | os.PathLike, topic: str) -> GroundTruth:
    """Ground-truth poses of a bag topic in stamp order (see `scoring.ground_truth`)."""
    poses, stamps_ns = read_bag_poses_ns(bag, topic)
    return ground_truth(poses, stamps_ns, f'{bag}:{topic}')


class _Replay:
    """Per-frame state: the pipeline, the chained poses, the scale factors and the scores."""

    def __init__(self, pipeline: FramePipeline, plan: FramePlan, intrinsics: Intrinsics,
                 options: EvalOptions, sink: FrameSink | None) -> None:
        self.pipeline, self.plan, self.intrinsics, self.sink = pipeline, plan, intrinsics, sink
        self.height_mode = options.camera_height_m is not None
        self.scores = DepthScores(options.min_depth_m, options.max_depth_m, options.garg_crop)
        # Trivial baselines (issue 12) on the same ground-truth frames and pixels.
        self.baselines = BaselineComparison(options.garg_crop, options.min_depth_m,
                                            options.max_depth_m, options.camera_height_m)
        self.poses = np.zeros((len(plan), 4, 4)) if pipeline.measures_motion else None
        self.factors = np.full(len(plan), np.nan)
        self.confidences = np.full(len(plan), np.nan)
        self.held = np.zeros(len(plan), dtype=bool)
        self.tilts_deg = np.full(len(plan), np.nan)  # the fitted ground's tilt from the mounting
        self.network_s = 0.0
        self.notes: dict[str, None] = {}  # the pipeline's warnings, each once, in order

    def frame(self, position: int, image_msg: Any, depth_msg: Any | None) -> None:
        stamp_ns = int(self.plan.stamps_ns[position])
        result = self.pipeline.process(image_to_rgb(image_msg), self.intrinsics, stamp_ns)
        if isinstance(result, DroppedFrame):
            raise InputError(f'frame {position} (stamp {stamp_ns} ns): {result.reason}')
        self.network_s += result.network_s
        self.notes.update(dict.fromkeys(result.notes))
        pose = None if result.odometry is None else result.odometry.cam0_from_cam
        if self.poses is not None:
            self.poses[position] = pose
        factor = result.scale.factor if result.scale.from_ground else None
        if factor is not None:
            self.factors[position] = factor
        if result.scale.estimate is not None:  # judged, also when not trusted
            self.confidences[position] = result.scale.confidence
            if result.scale.estimate.plane is not None:
                self.tilts_deg[position] = result.scale.estimate.plane.tilt_deg
        self.held[position] = result.scale.held
        gt_depth = image_to_depth(depth_msg) if depth_msg is not None else None
        if gt_depth is not None:
            self.scores.add(gt_depth, result.unscaled_inv_depth_m,
                            factor if self.height_mode else None)
            self.baselines.add_depth(gt_depth, self.intrinsics)
        if self.sink is not None:
            self.sink.frame(position, stamp_ns, image_msg.header.frame_id, result.depth_m, pose,
                            result.rgb, gt_depth)


def _frame_inputs(reader: BagReader, image_topic: str, depth_topic: str | None,
                  plan: FramePlan, depth_of_frame: dict[int, int]) -> Iterator[tuple]:
    """(position, image message, depth message or None) in plan order.

    Messages are read once, in bag order; those that arrive before their turn (out-of-order
    frames, early depth) wait in a buffer, undecoded.
    """
    image_position = {int(m): p for p, m in enumerate(plan.message_indices)}
    depth_position = {m: p for p, m in depth_of_frame.items()}
    pending: dict[int, dict[str, Any]] = {}
    position = 0
    topics = [image_topic] + ([depth_topic] if depth_topic else [])
    for topic, index, _, decode in reader.messages(topics):
        wanted = image_position if topic == image_topic else depth_position
        if index not in wanted:
            continue
        pending.setdefault(wanted[index], {})[topic] = decode
        while position < len(plan) and _ready(pending.get(position), position, image_topic,
                                              depth_topic, depth_of_frame):
            slot = pending.pop(position)
            depth = slot[depth_topic]() if depth_topic in slot else None
            yield position, slot[image_topic](), depth
            position += 1
    if position < len(plan):
        raise InputError(f'{reader.path}: the bag ended before evaluated frame {position} of '
                         f'{len(plan)} (stamp {int(plan.stamps_ns[position])} ns) was read')


def _ready(slot: dict | None, position: int, image_topic: str, depth_topic: str | None,
           depth_of_frame: dict[int, int]) -> bool:
    if slot is None or image_topic not in slot:
        return False
    return position not in depth_of_frame or depth_topic in slot


def _optional_topic(reader: BagReader, topic: str | None, msgtypes: tuple[str, ...],
                    notes: list[str]) -> str | None:
    if not topic:
        return None
    if topic not in reader.topics:
        notes.append(f'no {topic} in the bag: its metrics are skipped')
        return None
    reader.require(topic, msgtypes)
    return topic


def _intrinsics(reader: BagReader, options: EvalOptions, image_msg_size: tuple[int, int],
                notes: list[str]) -> Intrinsics:
    """The camera's intrinsics from the bag's first camera_info.

    Without camera_info, depth and odometry do not need them; a nominal pinhole of the image
    size stands in unless the camera-height scale (which back-projects depth) is asked for.
    """
    topic = options.camera_info_topic
    if topic in reader.topics:
        for _, _, _, decode in reader.messages([topic]):
            return camera_info_to_intrinsics(decode())
    if options.camera_height_m is not None:
        raise InputError(f'the camera-height scale needs camera intrinsics, but the bag has no '
                         f'{topic} messages (set the camera_info topic)')
    notes.append(f'no {topic} in the bag: nominal intrinsics (they only matter for the '
                 'camera-height scale)')
    width, height = image_msg_size
    return Intrinsics(float(width), float(width), width / 2, height / 2, width, height)


def _first_image_size(reader: BagReader, topic: str) -> tuple[int, int]:
    for _, _, _, decode in reader.messages([topic]):
        msg = decode()
        return int(msg.width), int(msg.height)
    raise InputError(f'{reader.path}:{topic} holds no message')


def _replay(reader: BagReader, pipeline: FramePipeline, topics: tuple[str, str | None],
            plan: FramePlan, options: EvalOptions, sink: FrameSink | None,
            notes: list[str]) -> _Replay:
    image_topic, depth_topic = topics
    depth_of_frame = ({} if depth_topic is None else
                      match_depth(plan.stamps_ns, reader.header_stamps_ns(depth_topic),
                                  options.max_time_diff_s))
    intrinsics = _intrinsics(reader, options, _first_image_size(reader, image_topic), notes)
    replay = _Replay(pipeline, plan, intrinsics, options, sink)
    inputs = _frame_inputs(reader, image_topic, depth_topic, plan, depth_of_frame)
    for position, image_msg, depth_msg in tqdm(inputs, total=len(plan), desc='evaluate',
                                               unit='frame', disable=len(plan) < 2):
        replay.frame(position, image_msg, depth_msg)
    notes.extend(replay.notes)
    return replay


def replay_bag(bag: str | os.PathLike, predictor: Any, image_topic: str = IMAGE_TOPIC,
               gt_topic: str | None = GT_ODOM_TOPIC, depth_topic: str | None = GT_DEPTH_TOPIC,
               options: EvalOptions | None = None,
               sink: FrameSink | None = None) -> BagEvalResult:
    """Replay a bag's images through the frame pipeline and score depth and odometry.

    Args:
        bag: rosbag2 folder (or ROS 1 bag) with sensor_msgs/Image frames.
        predictor: a `depth_ros.inference.Predictor` (or anything with its prepare / predict /
            relative_pose / has_pose).
        image_topic: the camera topic.
        gt_topic: ground-truth poses (Odometry / PoseStamped); None or absent: no pose scores.
        depth_topic: ground-truth depth images (32FC1 m or 16UC1 mm); None or absent: no
            depth scores.
        options: see EvalOptions.
        sink: receives every frame (e.g. `writers.EvalWriter`); None writes nothing.

    Raises:
        InputError: unreadable bag, missing image topic, a topic of the wrong type, or
            ground truth that repeats a stamp with different poses.
    """
    options = options or EvalOptions()
    start, notes = time.perf_counter(), []
    with BagReader(bag) as reader:
        reader.require(image_topic, (IMAGE_MSGTYPE,))
        gt_topic = _optional_topic(reader, gt_topic, POSE_MSGTYPES, notes)
        depth_topic = _optional_topic(reader, depth_topic, (IMAGE_MSGTYPE,), notes)
        plan = plan_frames(reader.header_stamps_ns(image_topic), options.gap_factor)
        log_plan(plan, image_topic)
        gt = load_ground_truth(bag, gt_topic) if gt_topic else None
        if sink is not None:
            sink.start(len(plan), gt)
        # The node's pipeline, gate included: the motion scored is the motion it publishes.
        pipeline = FramePipeline(predictor, options.pipeline_config())
        replay = _replay(reader, pipeline, (image_topic, depth_topic), plan, options, sink,
                         notes)
    return _result(Path(bag), image_topic, plan, replay, gt, options, notes,
                   time.perf_counter() - start)


def _result(bag: Path, image_topic: str, plan: FramePlan, replay: _Replay,
            gt: GroundTruth | None, options: EvalOptions, notes: list[str],
            total_s: float) -> BagEvalResult:
    score = score_trajectory(plan.stamps_ns, replay.poses, gt, options.max_time_diff_s, notes)
    if replay.scores.skipped:
        notes.append(f'{replay.scores.skipped} frame(s) without valid ground-truth depth')
    height = (None if options.camera_height_m is None else
              camera_height_report(options.camera_height_m, replay.factors, replay.scores,
                                   score.report, replay.confidences, replay.held,
                                   replay.tilts_deg))
    timing = {'total_s': total_s, 'network_s': replay.network_s,
              'overhead_ratio': (total_s - replay.network_s) / max(replay.network_s, 1e-9),
              'frames_per_s': len(plan) / max(total_s, 1e-9)}
    gt_info = {} if gt is None else {'duplicates': gt.duplicates, 'reordered': gt.reordered}
    depth, fixed = replay.scores.result('median'), replay.scores.result('fixed')
    baselines = replay.baselines.report(  # issue 12: baselines beside the network's figures
        score.gt_world_from_cam,
        {'median_scaled': depth.to_dict() if depth else None,
         'unscaled': fixed.to_dict() if fixed else None,
         'camera_height': (height or {}).get('depth')},
        score.report.to_dict() if score.report else None,
        ODOMETRY_SUBJECTS[options.odometry_source])
    source = ODOMETRY_SOURCE_TEXT[options.odometry_source]
    if options.odometry_source == 'epipolar':
        source += f', motion_model {options.motion_model}'
    conventions = {'poses': POSE_CONVENTION, 'odometry_source': source,
                   'depth_refinement': options.depth_refinement}
    return BagEvalResult(bag, image_topic, plan, replay.poses, score.frames,
                         score.gt_world_from_cam, score.report, depth, fixed, timing, {},
                         tuple(notes), height, ground_truth=gt_info, baselines=baselines,
                         conventions=conventions,
                         depth_by_range=replay.scores.ranges.to_dict() if depth else None)


def evaluate_bag(bag: str | os.PathLike, predictor: Any, out_dir: str | os.PathLike | None = None,
                 image_topic: str = IMAGE_TOPIC, gt_topic: str | None = GT_ODOM_TOPIC,
                 depth_topic: str | None = GT_DEPTH_TOPIC,
                 options: EvalOptions | None = None) -> BagEvalResult:
    """`replay_bag`, and with `out_dir` its files written by `writers.EvalWriter`.

    Raises:
        InputError: see `replay_bag`. OutputError: `out_dir` exists and is not empty, or
            cannot be written. A failed run leaves no `out_dir` behind.
    """
    options = options or EvalOptions()
    if out_dir is None:
        return replay_bag(bag, predictor, image_topic, gt_topic, depth_topic, options)
    with EvalWriter(out_dir, options.storage, options.result_bag, options.plots,
                    options.previews) as writer:
        result = replay_bag(bag, predictor, image_topic, gt_topic, depth_topic, options, writer)
        return writer.finish(result)
