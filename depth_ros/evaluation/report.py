"""All trajectory metrics of one prediction in one result: 5-frame ATE, KITTI devkit, APE."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from depth_ros.errors import InputError
from depth_ros.evaluation.kitti_devkit import DEVKIT_ALIGNMENTS, DevkitResult, kitti_devkit_metrics
from depth_ros.evaluation.trajectory import (
    APE_ALIGNMENTS,
    ApeResult,
    Ate5FrameResult,
    ape,
    as_poses,
    ate_5frame,
    check_same_length,
)


@dataclass(frozen=True)
class TrajectoryReport:
    """Every trajectory metric of a prediction against ground truth.

    Attributes:
        n_poses: number of frames compared.
        ate_5frame: Monodepth2 5-frame ATE.
        kitti_devkit: devkit figures keyed by alignment ('scale', '7dof', '6dof', 'none').
        ape: evo APE keyed by alignment ('se3', 'sim3', 'none').
    """

    n_poses: int
    ate_5frame: Ate5FrameResult
    kitti_devkit: dict[str, DevkitResult] = field(default_factory=dict)
    ape: dict[str, ApeResult] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            'n_poses': self.n_poses,
            'ate_5frame': self.ate_5frame.to_dict(),
            'kitti_devkit': {key: value.to_dict() for key, value in self.kitti_devkit.items()},
            'ape': {key: value.to_dict() for key, value in self.ape.items()},
        }


def evaluate_trajectory(gt_world_from_cam: np.ndarray, pred_world_from_cam: np.ndarray,
                        devkit_alignments: tuple[str, ...] = ('scale', '7dof', '6dof'),
                        ape_alignments: tuple[str, ...] = ('se3', 'sim3'),
                        track_length: int = 5) -> TrajectoryReport:
    """Compute the 5-frame ATE, the devkit figures and APE of one trajectory.

    Args:
        gt_world_from_cam: [N, 4, 4] ground-truth poses, N >= 2.
        pred_world_from_cam: [N, 4, 4] predicted poses of the same frames.
        devkit_alignments: subset of DEVKIT_ALIGNMENTS to report.
        ape_alignments: subset of APE_ALIGNMENTS to report.
        track_length: frames per 5-frame-ATE track.

    Raises:
        InputError: invalid poses, different lengths, or an unknown alignment.
    """
    for name, given, known in (('devkit', devkit_alignments, DEVKIT_ALIGNMENTS),
                               ('APE', ape_alignments, APE_ALIGNMENTS)):
        unknown = [a for a in given if a not in known]
        if unknown:
            raise InputError(f'unknown {name} alignment(s) {unknown}; choose from {known}')
    gt = as_poses(gt_world_from_cam, 'ground-truth pose', min_count=2)
    pred = as_poses(pred_world_from_cam, 'predicted pose', min_count=2)
    check_same_length(gt, pred)
    return TrajectoryReport(
        n_poses=len(gt),
        ate_5frame=ate_5frame(gt, pred, track_length),
        kitti_devkit={a: kitti_devkit_metrics(gt, pred, a) for a in devkit_alignments},
        ape={a: ape(gt, pred, a) for a in ape_alignments},
    )


def _fmt(value: float | None, digits: int = 3) -> str:
    return 'n/a' if value is None or not np.isfinite(value) else f'{value:.{digits}f}'


def format_report(report: TrajectoryReport) -> str:
    """A plain-text table of a TrajectoryReport, for terminals."""
    ate = report.ate_5frame
    lines = [f'frames compared: {report.n_poses}',
             f'5-frame ATE (Monodepth2): {ate.mean:.4f} +/- {ate.std:.4f} m '
             f'over {ate.n_tracks} tracks']
    if report.kitti_devkit:
        lines += ['', 'KITTI devkit   t_err(%)  r_err(deg/100m)   ATE(m)   RPE(m)  RPE(deg)  '
                  'segments']
        for name, r in report.kitti_devkit.items():
            cells = (f'{_fmt(r.t_err_percent):>10}', f'{_fmt(r.r_err_deg_per_100m):>16}',
                     f'{_fmt(r.ate_m):>8}', f'{_fmt(r.rpe_m):>8}', f'{_fmt(r.rpe_deg):>9}',
                     f'{r.n_segments:>9}')
            lines.append(f'  {name:<10} ' + ' '.join(cells))
    if report.ape:
        lines += ['', 'APE (m)          rmse      mean    median       std       min       max'
                  '     scale']
        for name, r in report.ape.items():
            values = (r.rmse, r.mean, r.median, r.std, r.min, r.max, r.scale)
            lines.append(f'  {name:<10}' + ''.join(f'{_fmt(v, 4):>10}' for v in values))
    return '\n'.join(lines)
