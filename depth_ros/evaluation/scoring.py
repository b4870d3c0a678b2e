"""Scoring shared by `evaluate` (replay) and `evaluate --recorded`: ground truth, depth and
trajectory figures, each pairing of stamps done once.

Poses are compared in KITTI's convention: optical axes (x right, y down, z forward), every
trajectory relative to its first camera.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import logging
from typing import Any

import numpy as np

from depth_ros.errors import InputError
from depth_ros.evaluation.depth_metrics import (
    DepthEvalResult,
    DepthMetrics,
    depth_metrics,
    evaluate_depth_image,
    scaled_depth_pairs,
)
from depth_ros.evaluation.depth_ranges import RangeErrors
from depth_ros.evaluation.report import TrajectoryReport, evaluate_trajectory
from depth_ros.evaluation.trajectory_io import match_stamps, sort_by_stamp


LOG = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class GroundTruth:
    """Ground-truth poses in stamp order.

    Attributes:
        world_from_cam: [K, 4, 4] poses.
        stamps_ns: [K] int64 strictly increasing stamps.
        duplicates: messages dropped because they repeat a stamp with the same pose.
        reordered: the source was not in stamp order and was sorted.
    """

    world_from_cam: np.ndarray = field(repr=False)
    stamps_ns: np.ndarray = field(repr=False)
    duplicates: int = 0
    reordered: bool = False


def ground_truth(world_from_cam: np.ndarray, stamps_ns: np.ndarray, source: str) -> GroundTruth:
    """GroundTruth from poses in any order (see `sort_by_stamp`)."""
    poses, stamps, duplicates, reordered = sort_by_stamp(
        np.asarray(world_from_cam), np.asarray(stamps_ns, dtype=np.int64), source)
    return GroundTruth(poses, stamps, duplicates, reordered)


@dataclass(frozen=True, eq=False)
class TrajectoryScore:
    """The evaluated frames that have ground truth, their poses, and the figures."""

    frames: np.ndarray = field(repr=False)
    gt_world_from_cam: np.ndarray | None = field(repr=False)
    report: TrajectoryReport | None


def score_trajectory(stamps_ns: np.ndarray, poses: np.ndarray | None, gt: GroundTruth | None,
                     max_time_diff_s: float, notes: list[str]) -> TrajectoryScore:
    """Pair the estimated poses with ground truth by stamp (once) and score them.

    Args:
        stamps_ns: [N] stamps of the estimated poses, increasing.
        poses: [N, 4, 4] cam0_from_cam in optical axes, or None (no pose network).
        gt: ground truth, or None.
        max_time_diff_s: largest stamp difference of a pair.
        notes: reasons for missing figures are appended here.
    """
    none = TrajectoryScore(np.zeros(0, dtype=np.int64), None, None)
    if poses is None:
        notes.append('the checkpoint has no pose network: no trajectory metrics')
        return none
    if gt is None:
        return none
    frames, gt_index = match_stamps(np.asarray(stamps_ns) * 1e-9, gt.stamps_ns * 1e-9,
                                    max_time_diff_s)
    if len(frames) < 2:
        notes.append(f'only {len(frames)} frame(s) have ground truth within '
                     f'{max_time_diff_s} s: no trajectory metrics')
        return none
    gt_poses = gt.world_from_cam[gt_index]
    try:
        return TrajectoryScore(frames, gt_poses, evaluate_trajectory(gt_poses, poses[frames]))
    except InputError as exc:
        notes.append(f'trajectory metrics failed: {exc}')
        return TrajectoryScore(frames, gt_poses, None)


def match_depth(frame_stamps_ns: np.ndarray, depth_stamps_ns: np.ndarray,
                max_time_diff_s: float) -> dict[int, int]:
    """Evaluated frame position -> index of its ground-truth depth message, by stamp."""
    frames, depths = match_stamps(np.asarray(frame_stamps_ns) * 1e-9,
                                  np.asarray(depth_stamps_ns) * 1e-9, max_time_diff_s)
    return {int(f): int(d) for f, d in zip(frames, depths)}


class DepthScores:
    """Per-image depth metrics, accumulated frame by frame (no image is kept), and the
    median-scaled error by ground-truth range (`ranges`).

    Args:
        min_depth_m, max_depth_m, garg_crop: the Eigen protocol's settings.
    """

    def __init__(self, min_depth_m: float, max_depth_m: float, garg_crop: bool) -> None:
        self.settings = (min_depth_m, max_depth_m, garg_crop)
        self.ranges = RangeErrors(garg_crop=garg_crop, min_depth=min_depth_m,
                                  max_depth=max_depth_m)
        self.rows: dict[str, list[np.ndarray]] = {'median': [], 'fixed': [], 'height': []}
        self.ratios: dict[str, list[float]] = {'median': [], 'fixed': [], 'height': []}
        self.skipped = 0

    def add(self, gt_depth_m: np.ndarray, inv_depth_m: np.ndarray,
            height_factor: float | None = None) -> None:
        """Score one frame.

        Args:
            gt_depth_m: [H, W] ground truth (m; 0 or NaN = none).
            inv_depth_m: [h, w] predicted inverse depth (1/m) before any scale factor.
            height_factor: the camera-height scale of this frame, when known.
        """
        gt = np.nan_to_num(gt_depth_m, nan=0.0)
        low, high, crop = self.settings
        try:
            gt_px, pred_px, ratio = scaled_depth_pairs(gt, inv_depth_m, None, low, high, crop)
            fixed, _ = evaluate_depth_image(gt, inv_depth_m, 1.0, low, high, crop)
        except InputError:
            self.skipped += 1  # no valid ground-truth pixel in this frame
            return
        self._add('median', depth_metrics(gt_px, pred_px), ratio)
        self._add('fixed', fixed, 1.0)
        self.ranges.add_pairs(gt_px, pred_px)  # the median-scaled pixels, not resized again
        if height_factor is not None:
            height, _ = evaluate_depth_image(gt, inv_depth_m, height_factor, low, high, crop)
            self._add('height', height, height_factor / ratio)

    def _add(self, kind: str, metrics: DepthMetrics, ratio: float) -> None:
        self.rows[kind].append(metrics.as_array())
        self.ratios[kind].append(float(ratio))

    def result(self, kind: str) -> DepthEvalResult | None:
        """'median' (per-image median scaling), 'fixed' (as predicted) or 'height'."""
        if not self.rows[kind]:
            return None
        per_image = np.stack(self.rows[kind])
        return DepthEvalResult(DepthMetrics.from_array(per_image.mean(axis=0)), per_image,
                               np.asarray(self.ratios[kind]), kind == 'median')


def camera_height_report(camera_height_m: float, factors: np.ndarray, scores: DepthScores,
                         trajectory: TrajectoryReport | None,
                         confidences: np.ndarray, held: np.ndarray,
                         tilts_deg: np.ndarray) -> dict[str, Any]:
    """The ground-truth-free figures of the camera-height scale.

    Args:
        camera_height_m: the mounting height used.
        factors: [N] per-frame applied ground factors (the filter's, or the last trusted one
            where `held`), NaN before one was trusted.
        scores: depth scores with the 'height' rows.
        trajectory: the figures of the trajectory chained with those factors.
        confidences: [N] the filter's confidence each frame (NaN where it had none to give),
            as the node publishes it on depth/scale.
        held: [N] the filter's factor was under the minimum confidence and the last trusted
            one was applied.
        tilts_deg: [N] each frame's fitted ground plane's tilt from the mounting's up direction
            (NaN where no plane was fitted): a camera pitched more than its camera_pitch_deg
            says tilts every plane, and tilted planes count less (`inference.scale`).
    """
    known = np.isfinite(factors)
    depth = scores.result('height')
    rated = np.isfinite(confidences)
    tilts = tilts_deg[np.isfinite(tilts_deg)]
    return {
        'camera_height_m': camera_height_m,
        'frames_with_factor': int(known.sum()), 'frames': int(len(known)),
        'frames_held': int(np.sum(held)),
        'frames_untrusted': int(np.sum(rated & ~known)),
        'median_factor': float(np.median(factors[known])) if known.any() else None,
        'median_confidence': float(np.median(confidences[rated])) if rated.any() else None,
        'min_confidence': float(np.min(confidences[rated])) if rated.any() else None,
        'median_plane_tilt_deg': float(np.median(tilts)) if tilts.size else None,
        'depth': depth.to_dict() if depth is not None else None,
        # factor / per-image median ratio: 1 means the height scale equals ground truth's.
        'median_factor_over_gt_ratio': (float(np.median(depth.scales))
                                        if depth is not None else None),
        'trajectory': trajectory.to_dict() if trajectory is not None else None,
    }
