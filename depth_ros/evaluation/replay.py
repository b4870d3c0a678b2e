"""Replay a rosbag2 through the Predictor and score depth and pose-network odometry.

`evaluate_bag` reads the bag's image topic in header-stamp order, runs the same `Predictor` the
ROS node uses (each frame prepared once, its `PreparedImage` reused as the previous frame of the
next pose pair), chains the relative poses into a trajectory,

    world_from_cur = world_from_prev @ prev_from_cur    (world = the first frame's camera),

and scores it against the bag's ground truth, paired by stamp: Monodepth2's 5-frame ATE, the
KITTI devkit figures and evo's APE (`report.evaluate_trajectory`), plus the Eigen depth metrics
when the bag carries ground-truth depth, with per-image median scaling and without scaling.
With `EvalOptions.camera_height_m` set, the ground-truth-free scale is reported beside them:
every frame's depth is scaled by the camera-height estimator (`inference.scale`, intrinsics from
the bag's camera_info), and the trajectory is re-chained with the same per-frame factors.

Frame stream checks (`plan_frames`): a frame whose header stamp repeats an earlier one is a
duplicate and skipped; a frame received after a later-stamped one is out of order, and frames
are processed in stamp order with a warning; a stamp step above `gap_factor` times the median
period is a gap (dropped frames): the pose across it is still estimated, and flagged.

Outputs (with `out_dir`): a result bag with the predicted depth (32FC1), the estimated
odometry and a copy of the ground-truth odometry (so `evo_ape bag2 RESULT /ground_truth/odom
/depth_ros/odom` works), `metrics.json`, `trajectory.png` and depth previews.

This module takes any object with the Predictor's methods; it does not import torch itself.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
import json
import logging
import math
import os
from pathlib import Path
import time
from typing import Any

import numpy as np
from tqdm import tqdm

from depth_ros.errors import InputError, OutputError
from depth_ros.evaluation.bag_io import (
    POSE_MSGTYPES,
    BagReader,
    BagWriter,
    read_bag_poses_ns,
    typestore,
)
from depth_ros.evaluation.depth_metrics import (
    DEPTH_METRIC_NAMES,
    MAX_DEPTH_M,
    MIN_DEPTH_M,
    DepthEvalResult,
    DepthMetrics,
    evaluate_depth_image,
)
from depth_ros.evaluation.frame_plan import FramePlan, log_plan, plan_frames
from depth_ros.evaluation.kitti_to_bag import (
    CAMERA_INFO_TOPIC,
    GT_CHILD_FRAME,
    GT_DEPTH_TOPIC,
    GT_ODOM_TOPIC,
    IMAGE_TOPIC,
    WORLD_FRAME,
)
from depth_ros.evaluation.report import TrajectoryReport, evaluate_trajectory, format_report
from depth_ros.evaluation.trajectory_io import match_stamps
from depth_ros.inference.image_io import ensure_writable_dir
from depth_ros.ros.codecs import (
    MsgTypes,
    camera_info_to_intrinsics,
    depth_to_image,
    image_to_depth,
    image_to_rgb,
    make_header,
    pose_to_odometry,
)


LOG = logging.getLogger(__name__)

RESULT_DEPTH_TOPIC = '/depth_ros/depth'
RESULT_ODOM_TOPIC = '/depth_ros/odom'
ODOM_FRAME = 'odom'
IMAGE_MSGTYPE = 'sensor_msgs/msg/Image'


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
        plots: write trajectory.png and the depth previews (needs an output folder).
        camera_height_m: also score with the camera-height scale (None: median scaling only).
        camera_pitch_deg: the camera's downward pitch, prior of the ground-plane fit.
        camera_info_topic: intrinsics for the camera-height scale.
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
    camera_info_topic: str = CAMERA_INFO_TOPIC


@dataclass(frozen=True, eq=False)
class BagEvalResult:
    """Everything `evaluate_bag` measured.

    Attributes:
        bag, image_topic: what was replayed.
        plan: the evaluated frames and the stream's duplicates, disorder and gaps.
        world_from_cam: [N, 4, 4] estimated trajectory (first frame = identity), or None
            without a pose network.
        gt_frames: [M] indices of the evaluated frames that have ground truth.
        gt_world_from_cam: [M, 4, 4] their ground-truth poses, or None.
        trajectory: 5-frame ATE, devkit and APE over those frames, or None.
        depth, depth_unscaled: depth metrics with per-image median scaling / as predicted.
        timing: seconds spent in total and in the networks, frames per second.
        outputs: written files by kind.
        notes: what was skipped and why.
    """

    bag: Path
    image_topic: str
    plan: FramePlan
    world_from_cam: np.ndarray | None = field(repr=False)
    gt_frames: np.ndarray = field(repr=False)
    gt_world_from_cam: np.ndarray | None = field(repr=False)
    trajectory: TrajectoryReport | None
    depth: DepthEvalResult | None
    depth_unscaled: DepthEvalResult | None
    timing: dict[str, float]
    outputs: dict[str, Any]
    notes: tuple[str, ...] = ()
    camera_height: dict[str, Any] | None = None

    @property
    def frames(self) -> int:
        return len(self.plan)

    def to_dict(self) -> dict:
        """JSON-ready summary; metrics that could not be computed are None."""
        report = self.trajectory.to_dict() if self.trajectory else {}
        out = {'bag': str(self.bag), 'image_topic': self.image_topic, 'frames': self.frames,
               'gt_frames': int(len(self.gt_frames)), 'frame_issues': self.plan.to_dict(),
               'ate_5frame': report.get('ate_5frame'), 'kitti_devkit': report.get('kitti_devkit'),
               'ape': report.get('ape'),
               'depth': self.depth.to_dict() if self.depth else None,
               'depth_unscaled': self.depth_unscaled.to_dict() if self.depth_unscaled else None,
               'camera_height': self.camera_height,
               'timing': dict(self.timing), 'outputs': dict(self.outputs),
               'notes': list(self.notes)}
        return _json_safe(out)


def _json_safe(value: Any) -> Any:
    """NaN/inf -> None and numpy scalars -> Python, so json.dumps writes strict JSON."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


@dataclass(frozen=True, eq=False)
class _GroundTruth:
    world_from_cam: np.ndarray  # [K, 4, 4]
    stamps_ns: np.ndarray  # [K] int64


def _load_ground_truth(bag: str | os.PathLike, topic: str) -> _GroundTruth:
    """Ground-truth poses sorted by stamp (the result bag copies them in time order)."""
    poses, stamps_ns = read_bag_poses_ns(bag, topic)
    order = np.argsort(stamps_ns, kind='stable')
    return _GroundTruth(poses[order], stamps_ns[order])


@dataclass
class _Preview:
    rgb: np.ndarray
    inv_depth: np.ndarray
    gt_depth_m: np.ndarray | None


class _DepthScores:
    """Per-image depth metrics, accumulated frame by frame (no image is kept)."""

    def __init__(self, options: EvalOptions) -> None:
        self.options = options
        self.scaled: list[np.ndarray] = []
        self.unscaled: list[np.ndarray] = []
        self.ratios: list[float] = []
        self.height: list[np.ndarray] = []
        self.height_ratios: list[float] = []
        self.skipped = 0

    def add(self, gt_depth_m: np.ndarray, inv_depth: np.ndarray,
            height_factor: float | None = None) -> None:
        gt = np.nan_to_num(gt_depth_m, nan=0.0)
        o = self.options
        try:
            scaled, ratio = evaluate_depth_image(gt, inv_depth, None, o.min_depth_m,
                                                 o.max_depth_m, o.garg_crop)
            unscaled, _ = evaluate_depth_image(gt, inv_depth, 1.0, o.min_depth_m,
                                               o.max_depth_m, o.garg_crop)
        except InputError:
            self.skipped += 1  # no valid ground-truth pixel in this frame
            return
        self.scaled.append(scaled.as_array())
        self.unscaled.append(unscaled.as_array())
        self.ratios.append(ratio)
        if height_factor is not None:
            height, _ = evaluate_depth_image(gt, inv_depth, height_factor, o.min_depth_m,
                                             o.max_depth_m, o.garg_crop)
            self.height.append(height.as_array())
            self.height_ratios.append(height_factor / ratio)

    def camera_height_result(self) -> DepthEvalResult | None:
        """Depth metrics with the camera-height scale (frames where it was known)."""
        if not self.height:
            return None
        per_image = np.stack(self.height)
        return DepthEvalResult(DepthMetrics.from_array(per_image.mean(axis=0)), per_image,
                               np.asarray(self.height_ratios), False)

    def results(self) -> tuple[DepthEvalResult | None, DepthEvalResult | None]:
        if not self.scaled:
            return None, None
        out = []
        for rows, scales, median in ((self.scaled, self.ratios, True),
                                     (self.unscaled, [1.0] * len(self.ratios), False)):
            per_image = np.stack(rows)
            out.append(DepthEvalResult(DepthMetrics.from_array(per_image.mean(axis=0)),
                                       per_image, np.asarray(scales), median))
        return out[0], out[1]


class _HeightScale:
    """Camera-height scale per frame and the trajectory re-chained with it."""

    def __init__(self, intrinsics: Any, options: EvalOptions, frames: int) -> None:
        from depth_ros.inference.scale import CameraHeightScale, camera_pitch_up

        self.intrinsics = intrinsics
        self.estimator = CameraHeightScale(options.camera_height_m,
                                           camera_pitch_up(options.camera_pitch_deg))
        self.factors = np.full(frames, np.nan)
        self.poses = np.zeros((frames, 4, 4))
        self._last = None

    def add(self, position: int, depth_m: np.ndarray,
            prev_from_cur: np.ndarray | None) -> float | None:
        """This frame's filtered factor (None before any ground was seen)."""
        factor = self.estimator.update(depth_m, self.intrinsics).factor
        if factor is not None:
            self.factors[position], self._last = factor, factor
        step = np.eye(4) if prev_from_cur is None else prev_from_cur.copy()
        step[:3, 3] *= self._last if self._last is not None else 1.0
        self.poses[position] = step if position == 0 else self.poses[position - 1] @ step
        return factor


class _Replay:
    """Per-frame state: the predictor run, the chained pose, the result bag and the scores."""

    def __init__(self, predictor: Any, plan: FramePlan, options: EvalOptions,
                 writer: BagWriter | None, gt: _GroundTruth | None,
                 intrinsics: Any = None) -> None:
        self.predictor = predictor
        self.plan = plan
        self.writer = writer
        self.types = MsgTypes.from_typestore(typestore())
        self.depth = _DepthScores(options)
        self.poses = np.zeros((len(plan), 4, 4)) if predictor.has_pose else None
        self.previews: dict[int, _Preview] = {}
        count = min(options.previews, len(plan))
        self.preview_at = set(np.unique(np.linspace(0, len(plan) - 1, count).round()
                                        .astype(int)).tolist()) if count > 0 else set()
        self.network_s = 0.0
        self._prev = None
        self._gt = gt
        self._gt_next = 0
        self.height = None if intrinsics is None else _HeightScale(intrinsics, options, len(plan))

    def frame(self, position: int, image_msg: Any, depth_msg: Any | None) -> None:
        rgb = image_to_rgb(image_msg)
        start = time.perf_counter()
        prepared = self.predictor.prepare(rgb)
        result = self.predictor.predict(prepared)
        prev_from_cur = (self.predictor.relative_pose(self._prev, prepared)
                         if self.poses is not None and self._prev is not None else None)
        self.network_s += time.perf_counter() - start
        self._prev = prepared
        self._chain(position, prev_from_cur)
        factor = None
        if self.height is not None:
            factor = self.height.add(position, result.depth_m, prev_from_cur)
        gt_depth = image_to_depth(depth_msg) if depth_msg is not None else None
        if gt_depth is not None:
            self.depth.add(gt_depth, result.inv_depth, factor)
        if position in self.preview_at:
            self.previews[position] = _Preview(rgb, result.inv_depth, gt_depth)
        if self.writer is not None:
            self._write(position, image_msg.header, result.depth_m)

    def _chain(self, position: int, prev_from_cur: np.ndarray | None) -> None:
        if self.poses is None:
            return
        if prev_from_cur is None:
            self.poses[position] = np.eye(4)
            return
        pose = self.poses[position - 1] @ prev_from_cur
        # Re-orthonormalise: float32 network rotations would otherwise drift over long runs.
        u, _, vt = np.linalg.svd(pose[:3, :3])
        pose[:3, :3] = u @ vt
        self.poses[position] = pose

    def _write(self, position: int, image_header: Any, depth_m: np.ndarray) -> None:
        stamp = int(self.plan.stamps_ns[position])
        self.write_gt_until(stamp)
        header = make_header(self.types, stamp, image_header.frame_id)
        self.writer.write(RESULT_DEPTH_TOPIC, stamp, depth_to_image(self.types, depth_m, header))
        if self.poses is not None:
            odom = pose_to_odometry(self.types, self.poses[position],
                                    make_header(self.types, stamp, ODOM_FRAME),
                                    image_header.frame_id)
            self.writer.write(RESULT_ODOM_TOPIC, stamp, odom)

    def write_gt_until(self, stamp_ns: int | None) -> None:
        """Copy ground-truth poses stamped up to `stamp_ns` (all if None), in time order."""
        if self.writer is None or self._gt is None:
            return
        stamps = self._gt.stamps_ns
        while self._gt_next < len(stamps) and (stamp_ns is None
                                               or stamps[self._gt_next] <= stamp_ns):
            i, self._gt_next = self._gt_next, self._gt_next + 1
            odom = pose_to_odometry(self.types, self._gt.world_from_cam[i],
                                    make_header(self.types, int(stamps[i]), WORLD_FRAME),
                                    GT_CHILD_FRAME, pose_covariance=np.zeros(6))
            self.writer.write(GT_ODOM_TOPIC, int(stamps[i]), odom)


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


def _match_depth(reader: BagReader, depth_topic: str | None, plan: FramePlan,
                 max_diff_s: float) -> dict[int, int]:
    """Evaluated frame position -> index of its ground-truth depth message, by stamp."""
    if depth_topic is None:
        return {}
    stamps = reader.header_stamps_ns(depth_topic)
    frames, depths = match_stamps(plan.stamps_ns * 1e-9, stamps * 1e-9, max_diff_s)
    return {int(f): int(d) for f, d in zip(frames, depths)}


def _optional_topic(reader: BagReader, topic: str | None, msgtypes: tuple[str, ...],
                    notes: list[str]) -> str | None:
    if not topic:
        return None
    if topic not in reader.topics:
        notes.append(f'no {topic} in the bag: its metrics are skipped')
        return None
    reader.require(topic, msgtypes)
    return topic


def _result_writer(out_dir: Path | None, options: EvalOptions) -> BagWriter | None:
    if out_dir is None or not options.result_bag:
        return None
    return BagWriter(out_dir / 'result_bag', options.storage)


def _replay(reader: BagReader, predictor: Any, image_topic: str, depth_topic: str | None,
            plan: FramePlan, options: EvalOptions, writer: BagWriter | None,
            gt: _GroundTruth | None) -> _Replay:
    depth_of_frame = _match_depth(reader, depth_topic, plan, options.max_time_diff_s)
    intrinsics = _first_intrinsics(reader, options) if options.camera_height_m else None
    replay = _Replay(predictor, plan, options, writer, gt, intrinsics)
    inputs = _frame_inputs(reader, image_topic, depth_topic, plan, depth_of_frame)
    for position, image_msg, depth_msg in tqdm(inputs, total=len(plan), desc='evaluate',
                                               unit='frame', disable=len(plan) < 2):
        replay.frame(position, image_msg, depth_msg)
    replay.write_gt_until(None)
    return replay


def _first_intrinsics(reader: BagReader, options: EvalOptions) -> Any:
    """Intrinsics of the bag's camera, needed to back-project depth for the ground plane."""
    topic = options.camera_info_topic
    if topic not in reader.topics:
        raise InputError(f'the camera-height scale needs camera intrinsics, but the bag has no '
                         f'{topic} topic (set the camera_info topic)')
    for _, _, _, decode in reader.messages([topic]):
        return camera_info_to_intrinsics(decode())
    raise InputError(f'{topic} holds no message')


def _camera_height_report(replay: _Replay, frames: np.ndarray, gt_poses: np.ndarray | None,
                          options: EvalOptions) -> dict[str, Any] | None:
    """The ground-truth-free figures: scale factors, depth and trajectory with them."""
    height = replay.height
    if height is None:
        return None
    known = np.isfinite(height.factors)
    depth = replay.depth.camera_height_result()
    out: dict[str, Any] = {
        'camera_height_m': options.camera_height_m,
        'frames_with_factor': int(known.sum()), 'frames': int(len(known)),
        'median_factor': float(np.median(height.factors[known])) if known.any() else None,
        'depth': depth.to_dict() if depth is not None else None,
        # factor / per-image median ratio: 1 means the height scale equals ground truth's.
        'median_factor_over_gt_ratio': (float(np.median(depth.scales))
                                         if depth is not None else None),
    }
    if gt_poses is not None and replay.poses is not None and len(frames) >= 2:
        try:
            out['trajectory'] = evaluate_trajectory(gt_poses, height.poses[frames]).to_dict()
        except InputError as exc:
            out['trajectory'] = None
            out['trajectory_note'] = str(exc)
    return out


def _score_trajectory(plan: FramePlan, poses: np.ndarray | None, gt: _GroundTruth | None,
                      options: EvalOptions, notes: list[str]) -> tuple:
    """(gt frame indices, gt poses, TrajectoryReport or None)."""
    none = (np.zeros(0, dtype=np.int64), None, None)
    if poses is None:
        notes.append('the checkpoint has no pose network: no trajectory metrics')
        return none
    if gt is None:
        return none
    frames, gt_index = match_stamps(plan.stamps_ns * 1e-9, gt.stamps_ns * 1e-9,
                                    options.max_time_diff_s)
    if len(frames) < 2:
        notes.append(f'only {len(frames)} frame(s) have ground truth within '
                     f'{options.max_time_diff_s} s: no trajectory metrics')
        return none
    gt_poses = gt.world_from_cam[gt_index]
    try:
        return frames, gt_poses, evaluate_trajectory(gt_poses, poses[frames])
    except InputError as exc:
        notes.append(f'trajectory metrics failed: {exc}')
        return frames, gt_poses, None


def _write_outputs(out_dir: Path, replay: _Replay, frames: np.ndarray,
                   gt_poses: np.ndarray | None, options: EvalOptions) -> dict[str, Any]:
    from depth_ros.evaluation import plots

    outputs: dict[str, Any] = {}
    if replay.writer is not None:
        outputs['result_bag'] = str(replay.writer.path)
    if not options.plots:
        return outputs
    if gt_poses is not None and replay.poses is not None:
        outputs['trajectory_plot'] = str(plots.plot_trajectory(
            out_dir / 'trajectory.png', gt_poses, replay.poses[frames]))
    outputs['depth_previews'] = [
        str(plots.write_depth_preview(out_dir / f'depth_preview_{p:05d}.png', v.rgb,
                                      v.inv_depth, v.gt_depth_m))
        for p, v in sorted(replay.previews.items())]
    return outputs


def evaluate_bag(bag: str | os.PathLike, predictor: Any, out_dir: str | os.PathLike | None = None,
                 image_topic: str = IMAGE_TOPIC, gt_topic: str | None = GT_ODOM_TOPIC,
                 depth_topic: str | None = GT_DEPTH_TOPIC,
                 options: EvalOptions | None = None) -> BagEvalResult:
    """Replay a bag's images through `predictor` and score depth and odometry.

    Args:
        bag: rosbag2 folder (or ROS 1 bag) with sensor_msgs/Image frames.
        predictor: a `depth_ros.inference.Predictor` (or anything with its prepare / predict /
            relative_pose / has_pose).
        out_dir: folder for the result bag, metrics.json and plots; None writes nothing.
        image_topic: the camera topic.
        gt_topic: ground-truth poses (Odometry / PoseStamped); None or absent: no pose scores.
        depth_topic: ground-truth depth images (32FC1 m or 16UC1 mm); None or absent: no
            depth scores.
        options: see EvalOptions.

    Returns:
        BagEvalResult.

    Raises:
        InputError: unreadable bag, missing image topic or a topic of the wrong type.
        OutputError: the output folder or result bag cannot be written.
    """
    options = options or EvalOptions()
    out_dir = None if out_dir is None else ensure_writable_dir(out_dir)
    start, notes = time.perf_counter(), []
    with BagReader(bag) as reader:
        reader.require(image_topic, (IMAGE_MSGTYPE,))
        gt_topic = _optional_topic(reader, gt_topic, POSE_MSGTYPES, notes)
        depth_topic = _optional_topic(reader, depth_topic, (IMAGE_MSGTYPE,), notes)
        plan = plan_frames(reader.header_stamps_ns(image_topic), options.gap_factor)
        log_plan(plan, image_topic)
        gt = _load_ground_truth(bag, gt_topic) if gt_topic else None
        writer = _result_writer(out_dir, options)
        if writer is None:
            replay = _replay(reader, predictor, image_topic, depth_topic, plan, options, None,
                             gt)
        else:
            with writer:
                replay = _replay(reader, predictor, image_topic, depth_topic, plan, options,
                                 writer, gt)
    frames, gt_poses, report = _score_trajectory(plan, replay.poses, gt, options, notes)
    depth, depth_unscaled = replay.depth.results()
    if replay.depth.skipped:
        notes.append(f'{replay.depth.skipped} frame(s) without valid ground-truth depth')
    outputs = {} if out_dir is None else _write_outputs(out_dir, replay, frames, gt_poses,
                                                        options)
    total = time.perf_counter() - start
    timing = {'total_s': total, 'network_s': replay.network_s,
              'overhead_ratio': (total - replay.network_s) / max(replay.network_s, 1e-9),
              'frames_per_s': len(plan) / max(total, 1e-9)}
    result = BagEvalResult(Path(bag), image_topic, plan, replay.poses, frames, gt_poses,
                           report, depth, depth_unscaled, timing, outputs, tuple(notes),
                           _camera_height_report(replay, frames, gt_poses, options))
    if out_dir is not None:
        result = _write_metrics(out_dir, result)
    return result


def _write_metrics(out_dir: Path, result: BagEvalResult) -> BagEvalResult:
    path = out_dir / 'metrics.json'
    outputs = {**result.outputs, 'metrics': str(path)}
    result = replace(result, outputs=outputs)
    try:
        path.write_text(json.dumps(result.to_dict(), indent=1) + '\n', encoding='utf-8')
    except OSError as exc:
        raise OutputError(f'cannot write {path}: {exc.strerror or exc}') from None
    return result


def format_result(result: BagEvalResult) -> str:
    """A plain-text summary of a BagEvalResult, for terminals."""
    issues = result.plan.to_dict()
    lines = [f'bag: {result.bag} ({result.image_topic}): {result.frames} frames evaluated, '
             f'{len(result.gt_frames)} with ground-truth poses',
             f'frame stream: {issues["duplicates"]} duplicated (skipped), '
             f'{issues["out_of_order"]} out of order (sorted), {len(result.plan.gaps)} gap(s)']
    lines += [f'  gap of {g.gap_s:.3f} s before frame {g.index} (~{g.missing_frames} dropped; '
              'its pose spans the gap)' for g in result.plan.gaps]
    if result.trajectory is not None:
        lines += ['', format_report(result.trajectory)]
    for name, depth in (('median-scaled', result.depth), ('unscaled', result.depth_unscaled)):
        if depth is None:
            continue
        if name == 'median-scaled':
            title = f'depth ({len(depth.per_image)} images)'
            lines += ['', f'{title:<20}' + '  '.join(f'{m:>8}' for m in DEPTH_METRIC_NAMES)]
        values = depth.mean.to_dict()
        lines.append(f'  {name:<18}' + '  '.join(f'{values[m]:8.4f}' for m in DEPTH_METRIC_NAMES))
    if result.depth is not None:
        lines.append(f'  median scale factor {np.median(result.depth.scales):.3f} '
                     f'(ground truth / prediction)')
    lines += _format_camera_height(result.camera_height)
    lines += ['', f'{result.timing["frames_per_s"]:.2f} frames/s; networks '
              f'{result.timing["network_s"]:.2f} s of {result.timing["total_s"]:.2f} s']
    lines += [f'note: {note}' for note in result.notes]
    lines += [f'wrote {kind}: {path}' for kind, path in result.outputs.items()
              if isinstance(path, str)]
    if result.outputs.get('depth_previews'):
        lines.append(f'wrote {len(result.outputs["depth_previews"])} depth previews in '
                     f'{Path(result.outputs["depth_previews"][0]).parent}')
    return '\n'.join(lines)


def _format_camera_height(report: dict[str, Any] | None) -> list[str]:
    """Lines for the ground-truth-free (camera-height) scale."""
    if report is None:
        return []
    lines = ['', f'camera-height scale ({report["camera_height_m"]} m): factor on '
             f'{report["frames_with_factor"]}/{report["frames"]} frames']
    if report['median_factor'] is None:
        return lines + ['  no ground plane found in any frame: no figures']
    lines.append(f'  median factor {report["median_factor"]:.3f}')
    if report.get('depth'):
        d = report['depth']
        ratio = report['median_factor_over_gt_ratio']
        lines.append(f'  depth with it: abs_rel {d["abs_rel"]:.4f}, rmse {d["rmse"]:.3f}, '
                     f'a1 {d["a1"]:.3f}; factor / ground-truth ratio {ratio:.3f}')
    traj = report.get('trajectory')
    if traj and traj.get('ape'):
        se3 = traj['ape'].get('se3') or {}
        if se3.get('rmse') is not None:
            lines.append(f'  trajectory with it: APE (SE(3), no scale) rmse {se3["rmse"]:.3f} m')
    return lines

