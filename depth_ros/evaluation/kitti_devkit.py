"""KITTI odometry benchmark metrics, as computed by the public Python port of the devkit.

Definitions (Geiger et al., KITTI odometry devkit `evaluate_odometry.cpp`, and the Python port
kitti-odom-eval that adds trajectory alignment, ATE and RPE):

- Both trajectories are first expressed relative to their first pose.
- Alignment of the prediction onto the ground truth: 'scale' (least-squares scale of the
  positions), '7dof' (Umeyama Sim(3) on positions), '6dof' (Umeyama SE(3)), or 'none'.
- Segment errors: from every `step`-th frame, the first frame whose ground-truth path length
  exceeds the start's by L (L = 100..800 m); the error transform
  inv(inv(P_a) P_b) @ inv(G_a) G_b gives a translation error / L and rotation angle / L.
- ATE: RMSE of the position differences. RPE: mean translation and rotation angle of
  inv(G_i^-1 G_i+1) @ P_i^-1 P_i+1 over consecutive frames.

Inverses are general matrix inverses, not the rigid [R^T, -R^T t]: KITTI ground-truth rotations
are printed to 7 digits and so are slightly non-orthonormal, and the small per-frame rotation
errors (RPE in degrees) move in the third decimal with the choice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import math

import numpy as np

from depth_ros.errors import InputError
from depth_ros.evaluation.alignment import least_squares_scale, umeyama
from depth_ros.evaluation.trajectory import as_poses, check_same_length


DEVKIT_ALIGNMENTS = ('scale', '7dof', '6dof', 'none')
SEGMENT_LENGTHS_M = (100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0)


def rotation_angle(transforms: np.ndarray) -> np.ndarray:
    """Rotation angle (rad) of transforms [..., 4, 4] from the trace, clipped to [0, pi]."""
    trace = np.trace(transforms[..., :3, :3], axis1=-2, axis2=-1)
    return np.arccos(np.clip(0.5 * (trace - 1.0), -1.0, 1.0))


def align_devkit(gt_world_from_cam: np.ndarray, pred_world_from_cam: np.ndarray,
                 alignment: str = 'scale') -> tuple[np.ndarray, np.ndarray]:
    """Express both trajectories from their first frame, then align the prediction.

    Args:
        gt_world_from_cam: [N, 4, 4] ground-truth poses.
        pred_world_from_cam: [N, 4, 4] predicted poses.
        alignment: one of DEVKIT_ALIGNMENTS.

    Returns:
        (ground truth, aligned prediction), both [N, 4, 4].
    """
    if alignment not in DEVKIT_ALIGNMENTS:
        raise InputError(f'unknown devkit alignment {alignment!r}; choose one of '
                         f'{DEVKIT_ALIGNMENTS}')
    gt = np.linalg.inv(gt_world_from_cam[0]) @ gt_world_from_cam
    pred = np.linalg.inv(pred_world_from_cam[0]) @ pred_world_from_cam
    if alignment == 'scale':
        pred[:, :3, 3] *= least_squares_scale(pred[:, :3, 3], gt[:, :3, 3])
    elif alignment in ('7dof', '6dof'):
        pred = umeyama(pred[:, :3, 3], gt[:, :3, 3], alignment == '7dof').apply_poses(pred)
    return gt, pred


def path_distances(world_from_cam: np.ndarray) -> np.ndarray:
    """Distance travelled from frame 0 to each frame [N] along the positions (m)."""
    steps = np.linalg.norm(np.diff(world_from_cam[:, :3, 3], axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(steps)])


@dataclass(frozen=True, eq=False)
class SegmentErrors:
    """Per-segment errors, ordered by first frame, then length (the devkit's order).

    Attributes:
        first_frame: [K] start frame of each segment.
        length_m: [K] nominal segment length.
        t_err: [K] translation error divided by the length (m/m).
        r_err: [K] rotation error divided by the length (rad/m).
    """

    first_frame: np.ndarray = field(repr=False)
    length_m: np.ndarray = field(repr=False)
    t_err: np.ndarray = field(repr=False)
    r_err: np.ndarray = field(repr=False)


def segment_errors(gt_world_from_cam: np.ndarray, pred_world_from_cam: np.ndarray,
                   lengths_m: tuple[float, ...] = SEGMENT_LENGTHS_M,
                   step: int = 10) -> SegmentErrors:
    """Devkit segment errors of already aligned trajectories [N, 4, 4]."""
    n = len(gt_world_from_cam)
    dist = path_distances(gt_world_from_cam)
    first = np.arange(0, n, step)
    lengths = np.asarray(lengths_m, dtype=np.float64)
    # First frame whose path length exceeds the start's by more than the segment length.
    last = np.searchsorted(dist, dist[first][:, None] + lengths[None, :], side='right')
    first_grid = np.broadcast_to(first[:, None], last.shape)
    length_grid = np.broadcast_to(lengths[None, :], last.shape)
    keep = last < n
    a, b, length = first_grid[keep], last[keep], length_grid[keep]
    gt_delta = np.linalg.inv(gt_world_from_cam[a]) @ gt_world_from_cam[b]
    pred_delta = np.linalg.inv(pred_world_from_cam[a]) @ pred_world_from_cam[b]
    error = np.linalg.inv(pred_delta) @ gt_delta
    t_err = np.linalg.norm(error[:, :3, 3], axis=1) / length
    return SegmentErrors(a, length, t_err, rotation_angle(error) / length)


@dataclass(frozen=True, eq=False)
class DevkitResult:
    """KITTI devkit figures for one sequence after one alignment.

    Attributes:
        alignment: 'scale', '7dof', '6dof' or 'none'.
        t_err_percent: mean segment translation error (%); NaN when no segment fits.
        r_err_deg_per_100m: mean segment rotation error (deg/100 m); NaN when no segment fits.
        ate_m: RMSE of the aligned position differences (m).
        rpe_m: mean translation error between consecutive frames (m).
        rpe_deg: mean rotation error between consecutive frames (deg).
        n_segments: number of segments the errors average over.
        segments: the per-segment errors.
    """

    alignment: str
    t_err_percent: float
    r_err_deg_per_100m: float
    ate_m: float
    rpe_m: float
    rpe_deg: float
    n_segments: int
    segments: SegmentErrors = field(repr=False)

    def to_dict(self) -> dict:
        """JSON-ready figures; NaN (no segment long enough) becomes None."""
        keys = ('t_err_percent', 'r_err_deg_per_100m', 'ate_m', 'rpe_m', 'rpe_deg')
        out: dict = {key: _finite_or_none(getattr(self, key)) for key in keys}
        out['n_segments'] = self.n_segments
        return out


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _rpe(gt: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """Mean translation (m) and rotation (rad) error of consecutive-frame motions."""
    if len(gt) < 2:
        return math.nan, math.nan
    gt_rel = np.linalg.inv(gt[:-1]) @ gt[1:]
    pred_rel = np.linalg.inv(pred[:-1]) @ pred[1:]
    error = np.linalg.inv(gt_rel) @ pred_rel
    return (float(np.mean(np.linalg.norm(error[:, :3, 3], axis=1))),
            float(np.mean(rotation_angle(error))))


def kitti_devkit_metrics(gt_world_from_cam: np.ndarray, pred_world_from_cam: np.ndarray,
                         alignment: str = 'scale',
                         lengths_m: tuple[float, ...] = SEGMENT_LENGTHS_M,
                         step: int = 10) -> DevkitResult:
    """KITTI odometry devkit metrics of a predicted trajectory against ground truth.

    Args:
        gt_world_from_cam: [N, 4, 4] or [N, 3, 4] ground-truth poses (KITTI pose file rows).
        pred_world_from_cam: predicted poses of the same N frames.
        alignment: 'scale', '7dof', '6dof' or 'none' (see the module docstring).
        lengths_m: segment lengths (m).
        step: frames between segment starts.

    Returns:
        DevkitResult; the segment figures are NaN when the path is shorter than every length.
    """
    gt = as_poses(gt_world_from_cam, 'ground-truth pose')
    pred = as_poses(pred_world_from_cam, 'predicted pose')
    check_same_length(gt, pred)
    gt, pred = align_devkit(gt, pred, alignment)
    segments = segment_errors(gt, pred, lengths_m, step)
    n_segments = int(segments.t_err.size)
    t_err = float(np.mean(segments.t_err)) * 100.0 if n_segments else math.nan
    r_err = float(np.degrees(np.mean(segments.r_err))) * 100.0 if n_segments else math.nan
    ate_m = float(np.sqrt(np.mean(np.sum((gt[:, :3, 3] - pred[:, :3, 3]) ** 2, axis=1))))
    rpe_m, rpe_rad = _rpe(gt, pred)
    return DevkitResult(alignment, t_err, r_err, ate_m, rpe_m, math.degrees(rpe_rad),
                        n_segments, segments)
