"""Trajectory error metrics: Monodepth2's 5-frame ATE and full-trajectory APE (evo semantics).

Poses are `world_from_cam` [N, 4, 4] (or [N, 3, 4]) arrays: camera i expressed in the world frame,
as in KITTI odometry pose files. "Local" poses are `cam_next_from_cam` transforms between
consecutive frames, which is what a pose network predicts for the pair (frame i, frame i+1).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from depth_ros.errors import InputError
from depth_ros.evaluation.alignment import umeyama
from depth_ros.geometry.se3 import check_rigid


APE_ALIGNMENTS = ('se3', 'sim3', 'none')


@dataclass(frozen=True, eq=False)
class PoseSequence:
    """A trajectory as read from a file or bag.

    Attributes:
        world_from_cam: [N, 4, 4] poses.
        stamps_s: [N] timestamps in seconds, or None when the source has none (KITTI files).
        frame_ids: [N] frame indices (13-column KITTI files), or None.
        source: where it came from, for messages.
        duplicates: entries dropped on loading because they repeat a stamp or frame index with
            the same pose.
        reordered: the source was not in stamp / index order and was sorted on loading.
    """

    world_from_cam: np.ndarray = field(repr=False)
    stamps_s: np.ndarray | None = field(default=None, repr=False)
    frame_ids: np.ndarray | None = field(default=None, repr=False)
    source: str = ''
    duplicates: int = 0
    reordered: bool = False

    def __len__(self) -> int:
        return len(self.world_from_cam)


def as_poses(poses: np.ndarray, what: str = 'pose', min_count: int = 1) -> np.ndarray:
    """Validate a stack of rigid transforms and return it as float64 [N, 4, 4].

    Args:
        poses: [N, 4, 4] or [N, 3, 4] transforms.
        what: name used in error messages, e.g. 'ground-truth pose'.
        min_count: fewest transforms accepted.

    Raises:
        InputError: wrong shape, too few poses, NaN/inf, or a rotation that is not orthonormal.
    """
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 3 or poses.shape[1:] not in ((3, 4), (4, 4)):
        raise InputError(f'{what}s: expected an [N,4,4] or [N,3,4] array, got shape {poses.shape}')
    if poses.shape[0] < min_count:
        raise InputError(f'{what}s: need at least {min_count}, got {poses.shape[0]}')
    if poses.shape[1] == 3:
        bottom = np.broadcast_to([0.0, 0.0, 0.0, 1.0], (poses.shape[0], 1, 4))
        poses = np.concatenate([poses, bottom], axis=1)
    check_rigid(poses, what=what)
    return poses


def check_same_length(gt: np.ndarray, pred: np.ndarray) -> None:
    """Raise InputError unless ground truth and prediction have as many poses."""
    if len(gt) != len(pred):
        raise InputError(f'ground truth has {len(gt)} poses but the prediction has {len(pred)}; '
                         'evaluate trajectories of the same frames (or give timestamps)')


def local_from_global(world_from_cam: np.ndarray) -> np.ndarray:
    """Relative poses between consecutive frames, [N, 4, 4] -> [N-1, 4, 4].

    Returns inv(inv(G[i-1]) G[i]) = cam_i_from_cam_(i-1), Monodepth2's `gt_local_poses`, which is
    also what a pose network predicts for the frame pair (i-1, i). General matrix inverses, as
    Monodepth2 uses: KITTI ground-truth rotations, printed to 7 digits, are not exactly
    orthonormal, and the rigid inverse shifts the 5-frame ATE in the sixth significant digit.
    """
    poses = as_poses(world_from_cam, min_count=2)
    return np.linalg.inv(np.linalg.inv(poses[:-1]) @ poses[1:])


@dataclass(frozen=True, eq=False)
class Ate5FrameResult:
    """Monodepth2 short-track ATE: one error per track starting at every frame.

    Attributes:
        mean: mean of the per-track errors (m, after per-track scale alignment).
        std: population standard deviation of the per-track errors.
        n_tracks: number of tracks (frames - 1).
        track_errors: [n_tracks] per-track errors.
    """

    mean: float
    std: float
    n_tracks: int
    track_errors: np.ndarray = field(repr=False)

    def to_dict(self) -> dict:
        return {'mean': self.mean, 'std': self.std, 'n_tracks': self.n_tracks}


def _track_positions(local: np.ndarray, track_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the chained tracks starting at every local pose.

    Track i chains local[i], ..., local[i + track_length - 2] by right multiplication from the
    identity (Monodepth2's `dump_xyz`). Tracks near the end are shorter: the mask marks the
    points that exist.

    Returns:
        positions [M, track_length, 3] and valid [M, track_length] for M = len(local).
    """
    m = local.shape[0]
    padded = np.concatenate([local, np.broadcast_to(np.eye(4), (track_length - 2, 4, 4))])
    positions = np.zeros((m, track_length, 3))
    chained = np.broadcast_to(np.eye(4), (m, 4, 4))
    for k in range(1, track_length):
        chained = chained @ padded[k - 1:k - 1 + m]
        positions[:, k] = chained[:, :3, 3]
    valid = np.arange(m)[:, None] + np.arange(track_length)[None, :] <= m
    return positions, valid


def _aligned_track_errors(gt_xyz: np.ndarray, pred_xyz: np.ndarray,
                          valid: np.ndarray) -> np.ndarray:
    """Monodepth2 `compute_ate` on every track at once: first point aligned, LS scale."""
    pred_xyz = pred_xyz + (gt_xyz[:, :1] - pred_xyz[:, :1])
    weight = valid[..., None].astype(np.float64)
    numerator = np.sum(weight * gt_xyz * pred_xyz, axis=(1, 2))
    denominator = np.sum(weight * pred_xyz ** 2, axis=(1, 2))
    # A track that does not move has no defined scale; every scale then gives the same error.
    scale = np.divide(numerator, denominator, out=np.zeros_like(numerator),
                      where=denominator > 0)
    residual = weight * (scale[:, None, None] * pred_xyz - gt_xyz)
    return np.sqrt(np.sum(residual ** 2, axis=(1, 2))) / valid.sum(axis=1)


def ate_5frame_from_local(gt_local: np.ndarray, pred_local: np.ndarray,
                          track_length: int = 5) -> Ate5FrameResult:
    """Monodepth2's evaluate_pose.py ATE from relative poses of consecutive frames.

    For every start frame i (0..N-2 for N frames), `track_length` frames are chained from
    local poses i.. (shorter at the end of the sequence), the predicted track is shifted onto
    the first ground-truth point and scaled by least squares, and the track error is
    sqrt(sum of squared point errors) / number of points.

    Args:
        gt_local: [N-1, 4, 4] ground-truth cam_(i+1)_from_cam_i, see `local_from_global`.
        pred_local: [N-1, 4, 4] predicted cam_(i+1)_from_cam_i, e.g. pose network outputs for
            the pairs (frame i, frame i+1).
        track_length: frames per track (Monodepth2 uses 5).

    Returns:
        Ate5FrameResult with mean, std and per-track errors in ground-truth units.
    """
    if track_length < 2:
        raise InputError(f'track_length must be at least 2, got {track_length}')
    gt_local = as_poses(gt_local, 'ground-truth local pose')
    pred_local = as_poses(pred_local, 'predicted local pose')
    check_same_length(gt_local, pred_local)
    gt_xyz, valid = _track_positions(gt_local, track_length)
    pred_xyz, _ = _track_positions(pred_local, track_length)
    errors = _aligned_track_errors(gt_xyz, pred_xyz, valid)
    return Ate5FrameResult(float(np.mean(errors)), float(np.std(errors)), int(errors.size),
                           errors)


def ate_5frame(gt_world_from_cam: np.ndarray, pred_world_from_cam: np.ndarray,
               track_length: int = 5) -> Ate5FrameResult:
    """Monodepth2's 5-frame ATE from two global trajectories [N, 4, 4] of the same frames."""
    gt = as_poses(gt_world_from_cam, 'ground-truth pose', min_count=2)
    pred = as_poses(pred_world_from_cam, 'predicted pose', min_count=2)
    check_same_length(gt, pred)
    return ate_5frame_from_local(local_from_global(gt), local_from_global(pred), track_length)


@dataclass(frozen=True, eq=False)
class ApeResult:
    """Absolute position error statistics after aligning the whole trajectory (evo APE).

    Attributes:
        rmse, mean, median, std, min, max: statistics of the per-pose position errors (m);
            std is the population standard deviation.
        sse: sum of squared errors (m^2).
        n_poses: number of poses compared.
        alignment: 'se3', 'sim3' or 'none'.
        scale: the scale applied to the prediction (1 unless 'sim3').
        errors: [n_poses] per-pose position errors.
    """

    rmse: float
    mean: float
    median: float
    std: float
    min: float
    max: float
    sse: float
    n_poses: int
    alignment: str
    scale: float
    errors: np.ndarray = field(repr=False)

    def to_dict(self) -> dict:
        keys = ('rmse', 'mean', 'median', 'std', 'min', 'max', 'sse', 'n_poses', 'alignment',
                'scale')
        return {key: getattr(self, key) for key in keys}


def position_error_stats(errors: np.ndarray) -> dict[str, float]:
    """rmse, mean, median, std, min, max and sse of non-negative errors [N]."""
    errors = np.asarray(errors, dtype=np.float64)
    return {'rmse': float(np.sqrt(np.mean(errors ** 2))), 'mean': float(np.mean(errors)),
            'median': float(np.median(errors)), 'std': float(np.std(errors)),
            'min': float(np.min(errors)), 'max': float(np.max(errors)),
            'sse': float(np.sum(errors ** 2))}


def ape(gt_world_from_cam: np.ndarray, pred_world_from_cam: np.ndarray,
        alignment: str = 'se3') -> ApeResult:
    """Absolute position error of a trajectory after Umeyama alignment onto ground truth.

    Matches evo's `evo_ape` with the translation part (default pose relation) and `--align`
    (se3) or `--align --correct_scale` (sim3): the prediction positions are aligned onto the
    ground-truth positions, then each error is the distance between corresponding positions.

    Args:
        gt_world_from_cam: [N, 4, 4] ground-truth poses.
        pred_world_from_cam: [N, 4, 4] predicted poses of the same frames.
        alignment: 'se3' (rigid), 'sim3' (rigid + scale) or 'none'.

    Returns:
        ApeResult with the statistics in ground-truth units.
    """
    if alignment not in APE_ALIGNMENTS:
        raise InputError(f'unknown APE alignment {alignment!r}; choose one of {APE_ALIGNMENTS}')
    gt = as_poses(gt_world_from_cam, 'ground-truth pose')
    pred = as_poses(pred_world_from_cam, 'predicted pose')
    check_same_length(gt, pred)
    gt_xyz, pred_xyz = gt[:, :3, 3], pred[:, :3, 3]
    scale = 1.0
    if alignment != 'none':
        transform = umeyama(pred_xyz, gt_xyz, with_scale=alignment == 'sim3')
        pred_xyz, scale = transform.apply_points(pred_xyz), transform.scale
    errors = np.linalg.norm(pred_xyz - gt_xyz, axis=1)
    return ApeResult(**position_error_stats(errors), n_poses=int(errors.size),
                     alignment=alignment, scale=float(scale), errors=errors)
