"""The typed result of `evaluate` and `evaluate --recorded`, as JSON and as text.

The library functions (`replay.evaluate_bag`, `recorded.evaluate_recorded`) return a
`BagEvalResult`; `writers` puts it in files, the CLI prints `format_result(result)`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import math
from pathlib import Path
from typing import Any

import numpy as np

from depth_ros.evaluation.baselines import format_baselines
from depth_ros.evaluation.depth_metrics import DEPTH_METRIC_NAMES, DepthEvalResult
from depth_ros.evaluation.frame_plan import FramePlan
from depth_ros.evaluation.report import TrajectoryReport, format_report
from depth_ros.inference.scale import LOW_CONFIDENCE as LOW_SCALE_CONFIDENCE
from depth_ros.inference.scale import TILT_FULL_DEG


# What measured the replayed motion (the pipeline's odometry_source), as the results say it.
ODOMETRY_SOURCE_TEXT = {
    'epipolar': 'epipolar (tracked corners and two-view geometry, metres from the depth network)',
    'posenet': "posenet (the weights' pose network)"}
ODOMETRY_SUBJECTS = {'epipolar': 'epipolar odometry', 'posenet': 'pose network'}
# How poses are compared, stated in every report.
POSE_CONVENTION = ('KITTI camera frame: optical axes (x right, y down, z forward), each '
                   'trajectory relative to its first camera')


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
        camera_height: the ground-truth-free (camera-height scale) figures, or None.
        source: 'replay' (the bag's images through the frame pipeline) or 'recorded' (the
            node's published outputs).
        conventions: frames and units of the compared quantities, stated in the output.
        ground_truth: what was wrong with the ground truth (repeated stamps, order).
        baselines: `baselines.BaselineComparison.report` (trivial predictors on the same
            frames and pixels, and whether the network beats them), or None.
        depth_by_range: the median-scaled depth error by ground-truth range
            (`depth_ranges.RangeErrors.to_dict()`), or None without depth ground truth.
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
    source: str = 'replay'
    conventions: dict[str, str] = field(default_factory=lambda: {'poses': POSE_CONVENTION})
    ground_truth: dict[str, Any] = field(default_factory=dict)
    baselines: dict[str, Any] | None = None
    depth_by_range: dict[str, Any] | None = None

    @property
    def frames(self) -> int:
        return len(self.plan)

    def to_dict(self) -> dict:
        """JSON-ready summary; metrics that could not be computed are None."""
        report = self.trajectory.to_dict() if self.trajectory else {}
        out = {'bag': str(self.bag), 'source': self.source, 'image_topic': self.image_topic,
               'frames': self.frames, 'conventions': dict(self.conventions),
               'ground_truth': dict(self.ground_truth),
               'gt_frames': int(len(self.gt_frames)), 'frame_issues': self.plan.to_dict(),
               'ate_5frame': report.get('ate_5frame'), 'kitti_devkit': report.get('kitti_devkit'),
               'ape': report.get('ape'),
               'depth': self.depth.to_dict() if self.depth else None,
               'depth_unscaled': self.depth_unscaled.to_dict() if self.depth_unscaled else None,
               'depth_by_range': self.depth_by_range,
               'camera_height': self.camera_height, 'baselines': self.baselines,
               'timing': dict(self.timing), 'outputs': dict(self.outputs),
               'notes': list(self.notes)}
        return json_safe(out)


def json_safe(value: Any) -> Any:
    """NaN/inf -> None and numpy scalars -> Python, so json.dumps writes strict JSON."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def format_result(result: BagEvalResult) -> str:
    """A plain-text summary of a BagEvalResult, for terminals."""
    issues = result.plan.to_dict()
    what = 'recorded outputs' if result.source == 'recorded' else 'replayed'
    lines = [f'bag: {result.bag} ({result.image_topic}, {what}): {result.frames} frames '
             f'evaluated, {len(result.gt_frames)} with ground-truth poses',
             f'poses compared in the {result.conventions["poses"]}']
    if 'odometry_source' in result.conventions:
        lines.append(f'odometry: {result.conventions["odometry_source"]}')
    if result.conventions.get('depth_refinement', 'none') != 'none':
        lines.append(f'depth refinement: {result.conventions["depth_refinement"]} (the depth '
                     'corrected by corners triangulated over several frames)')
    gt = result.ground_truth
    if gt.get('duplicates') or gt.get('reordered'):
        order = 'sorted by stamp' if gt.get('reordered') else 'in stamp order'
        lines.append(f'ground truth: {gt.get("duplicates", 0)} repeated stamp(s) dropped, '
                     f'{order}')
    lines.append(f'frame stream: {issues["duplicates"]} duplicated (skipped), '
                 f'{issues["out_of_order"]} out of order (sorted), {len(result.plan.gaps)} '
                 'gap(s)')
    lines += [f'  gap of {g.gap_s:.3f} s before frame {g.index} (~{g.missing_frames} dropped; '
              'the chain restarts after gaps over max_pose_gap_s)' for g in result.plan.gaps]
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
    lines += _format_ranges(result.depth_by_range)
    lines += _format_camera_height(result.camera_height)
    lines += format_baselines(result.baselines)
    lines += ['', f'{result.timing["frames_per_s"]:.2f} frames/s; networks '
              f'{result.timing["network_s"]:.2f} s of {result.timing["total_s"]:.2f} s']
    lines += [f'note: {note}' for note in result.notes]
    lines += [f'wrote {kind}: {path}' for kind, path in result.outputs.items()
              if isinstance(path, str)]
    if result.outputs.get('depth_previews'):
        lines.append(f'wrote {len(result.outputs["depth_previews"])} depth previews in '
                     f'{Path(result.outputs["depth_previews"][0]).parent}')
    return '\n'.join(lines)


def _format_ranges(by_range: dict[str, Any] | None) -> list[str]:
    """Lines for the median-scaled depth error by ground-truth range."""
    if not by_range or not by_range['frames']:
        return []
    cells = [f"{b['range_m'][0]:g}-{b['range_m'][1]:g} m {b['signed_rel']:+.2f}"
             for b in by_range['bins'] if b['signed_rel'] is not None]
    return ['  by range, mean (pred - gt) / gt (+ too far): ' + ', '.join(cells),
            f"  log-depth slope {by_range['log_slope_median']:.2f} (1 = range kept)"
            if by_range['log_slope_median'] is not None else '  log-depth slope n/a']


def _format_camera_height(report: dict[str, Any] | None) -> list[str]:
    """Lines for the ground-truth-free (camera-height) scale."""
    if report is None:
        return []
    lines = ['', f'camera-height scale ({report["camera_height_m"]} m): factor on '
             f'{report["frames_with_factor"]}/{report["frames"]} frames']
    held, untrusted = report.get('frames_held', 0), report.get('frames_untrusted', 0)
    if held or untrusted:
        lines.append(f'  confidence under the minimum on {held + untrusted} frames: the last '
                     f'trusted factor kept on {held}, scale (no trusted factor yet) on '
                     f'{untrusted}')
    tilt = report.get('median_plane_tilt_deg')
    if tilt is not None and tilt > TILT_FULL_DEG:
        lines.append(f"  the fitted ground is tilted {tilt:.1f} degrees from the mounting's up "
                     f'(median; over {TILT_FULL_DEG:g} counts less): with the road in view, the '
                     'camera is pitched more than --camera-pitch-deg says (set it, rather than '
                     'lowering --scale-min-confidence), or the road was hidden')
    confidence = report.get('median_confidence')
    rated = ('' if confidence is None else
             f' (confidence median {confidence:.2f}, min {report["min_confidence"]:.2f})')
    if report['median_factor'] is None:
        return lines + ['  no ground plane found in any frame: no figures' if confidence is None
                        else f'  no ground-plane factor confident enough{rated}: the depth '
                        'kept scale (the unscaled row above)']
    lines.append(f'  median factor {report["median_factor"]:.3f}{rated}')
    if confidence is not None and confidence < LOW_SCALE_CONFIDENCE:
        lines.append(f'  confidence under {LOW_SCALE_CONFIDENCE}: the ground fit is unsure (the '
                     'road hidden, e.g. by traffic, or not flat); do not trust these metres '
                     "(README, 'Choosing the depth scale')")
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

