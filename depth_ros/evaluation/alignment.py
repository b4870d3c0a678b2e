"""Least-squares alignment of one point set or trajectory onto another.

Umeyama, "Least-squares estimation of transformation parameters between two point patterns",
IEEE PAMI 13(4), 1991: equation numbers below refer to that paper.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depth_ros.errors import InputError


@dataclass(frozen=True, eq=False)
class Similarity:
    """A similarity transform `target = scale * rotation @ source + translation`.

    Attributes:
        rotation: [3, 3] rotation matrix.
        translation: [3] translation in target units.
        scale: positive scale factor (1 for a rigid SE(3) alignment).
    """

    rotation: np.ndarray
    translation: np.ndarray
    scale: float = 1.0

    def apply_points(self, points: np.ndarray) -> np.ndarray:
        """Transform points [N, 3] -> [N, 3]."""
        points = np.asarray(points, dtype=np.float64)
        return self.scale * points @ self.rotation.T + self.translation

    def apply_poses(self, world_from_cam: np.ndarray) -> np.ndarray:
        """Transform poses [N, 4, 4] expressed in the source world into the target world.

        Positions are scaled, then the rigid part is applied from the left, so the camera
        rotations only turn by `rotation` and stay orthonormal.
        """
        poses = np.array(world_from_cam, dtype=np.float64)
        poses[:, :3, 3] = self.apply_points(poses[:, :3, 3])
        poses[:, :3, :3] = self.rotation @ poses[:, :3, :3]
        return poses


def _check_point_sets(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if source.ndim != 2 or source.shape[1] != 3 or source.shape != target.shape:
        raise InputError(f'alignment needs two [N,3] point sets of the same shape, got '
                         f'{source.shape} and {target.shape}')
    if not (np.isfinite(source).all() and np.isfinite(target).all()):
        raise InputError('alignment points contain NaN or infinity')
    return source, target


def umeyama(source: np.ndarray, target: np.ndarray, with_scale: bool = False) -> Similarity:
    """Least-squares similarity (or rigid, if `with_scale` is False) from source to target.

    Args:
        source: [N, 3] points to be moved (e.g. estimated positions).
        target: [N, 3] corresponding reference points (e.g. ground-truth positions).
        with_scale: estimate the scale too (Sim(3)); otherwise the scale is 1 (SE(3)).

    Returns:
        The Similarity minimising sum ||target_i - (c R source_i + t)||^2.

    Raises:
        InputError: shapes differ, there are no points, values are not finite, or a scale
            is asked for points that are all equal. Collinear points are accepted: the
            rotation about their line is then one of many minimisers.
    """
    source, target = _check_point_sets(source, target)
    n = source.shape[0]
    if n == 0:
        raise InputError('cannot align an empty point set')
    mean_source = source.mean(axis=0)  # eq. 34
    mean_target = target.mean(axis=0)  # eq. 35
    centred_source = source - mean_source
    centred_target = target - mean_target
    variance_source = np.sum(centred_source ** 2) / n  # eq. 36
    covariance = centred_target.T @ centred_source / n  # eq. 38
    if with_scale and variance_source <= 0.0:
        raise InputError(f'cannot estimate a scale: all {n} source points are equal')
    u, d, vt = np.linalg.svd(covariance)
    sign = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0.0:
        sign[2] = -1.0  # eq. 43: keep a proper rotation (det +1)
    rotation = (u * sign) @ vt  # eq. 40
    scale = float(np.sum(d * sign) / variance_source) if with_scale else 1.0  # eq. 42
    translation = mean_target - scale * rotation @ mean_source  # eq. 41
    return Similarity(rotation, translation, scale)


def least_squares_scale(source: np.ndarray, target: np.ndarray) -> float:
    """Scale s minimising sum ||target - s * source||^2, i.e. <source, target> / <source, source>.

    Args:
        source: [..., 3] points to be scaled.
        target: matching reference points, same shape.

    Returns:
        The scale; 0 when `source` is all zeros (every scale then gives the same error).
    """
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if source.shape != target.shape:
        raise InputError(f'scale alignment needs equal shapes, got {source.shape} and '
                         f'{target.shape}')
    denominator = float(np.sum(source ** 2))
    return float(np.sum(source * target)) / denominator if denominator > 0 else 0.0
