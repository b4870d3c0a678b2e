"""Rigid transforms as 4x4 numpy arrays.

Naming follows `target_from_source`: `world_from_cam @ cam_from_point` reads right to left.
Functions accept a single [4,4] matrix or a stack [N,4,4].
"""
from __future__ import annotations

import math

import numpy as np

from depth_ros.errors import InputError


def invert(target_from_source: np.ndarray) -> np.ndarray:
    """Inverse of rigid transform(s): [R t; 0 1]^-1 = [R^T -R^T t; 0 1]."""
    m = np.asarray(target_from_source, dtype=np.float64)
    r = m[..., :3, :3]
    t = m[..., :3, 3:]
    out = np.zeros_like(m)
    rt = np.swapaxes(r, -1, -2)
    out[..., :3, :3] = rt
    out[..., :3, 3:] = -rt @ t
    out[..., 3, 3] = 1.0
    return out


def from_rotation_translation(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """Build [.., 4, 4] from rotation [.., 3, 3] and translation [.., 3]."""
    rotation = np.asarray(rotation, dtype=np.float64)
    translation = np.asarray(translation, dtype=np.float64)
    out = np.zeros(rotation.shape[:-2] + (4, 4))
    out[..., :3, :3] = rotation
    out[..., :3, 3] = translation
    out[..., 3, 3] = 1.0
    return out


def quaternion_to_rotation(q_xyzw: np.ndarray) -> np.ndarray:
    """Rotation matrices from unit quaternions (x, y, z, w), shape [.., 4] -> [.., 3, 3]."""
    q = np.asarray(q_xyzw, dtype=np.float64)
    norm = np.linalg.norm(q, axis=-1, keepdims=True)
    if np.any(norm < 1e-9):
        raise InputError('zero-length quaternion')
    x, y, z, w = np.moveaxis(q / norm, -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def rotation_to_quaternion(rotation: np.ndarray) -> np.ndarray:
    """Unit quaternion (x, y, z, w) with w >= 0 of a 3x3 rotation matrix (Shepperd's method)."""
    r = np.asarray(rotation, dtype=np.float64)
    trace = r[0, 0] + r[1, 1] + r[2, 2]
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = [(r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s, 0.25 * s]
    elif r[0, 0] > r[1, 1] and r[0, 0] > r[2, 2]:
        s = 2.0 * np.sqrt(1.0 + r[0, 0] - r[1, 1] - r[2, 2])
        q = [0.25 * s, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s, (r[2, 1] - r[1, 2]) / s]
    elif r[1, 1] > r[2, 2]:
        s = 2.0 * np.sqrt(1.0 + r[1, 1] - r[0, 0] - r[2, 2])
        q = [(r[0, 1] + r[1, 0]) / s, 0.25 * s, (r[1, 2] + r[2, 1]) / s, (r[0, 2] - r[2, 0]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + r[2, 2] - r[0, 0] - r[1, 1])
        q = [(r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, 0.25 * s, (r[1, 0] - r[0, 1]) / s]
    q = np.array(q)
    q /= np.linalg.norm(q)
    return -q if q[3] < 0 else q


def half_rotation(rotation: np.ndarray) -> np.ndarray:
    """The rotation about the same axis by half the angle (its square root, angle <= 180 deg):
    the unit quaternion q = (v, w), w >= 0, halves to (q + 1) / |q + 1|."""
    q = rotation_to_quaternion(rotation)
    q[3] += 1.0
    return quaternion_to_rotation(q)


def check_rigid(transforms: np.ndarray, tol: float = 1e-3, what: str = 'pose') -> None:
    """Raise InputError unless every matrix is finite with an orthonormal, det +1 rotation."""
    m = np.asarray(transforms, dtype=np.float64)
    if m.ndim == 2:
        m = m[None]
    if m.ndim != 3 or m.shape[1:] != (4, 4):
        raise InputError(f'{what}: expected [N,4,4] transforms, got shape {m.shape}')
    finite = np.isfinite(m).all(axis=(1, 2))
    if not finite.all():
        raise InputError(f'{what} {int(np.argmin(finite))} contains NaN or infinity')
    r = m[:, :3, :3]
    ortho_err = np.abs(r @ np.swapaxes(r, 1, 2) - np.eye(3)).max(axis=(1, 2))
    det = np.linalg.det(r)
    bad = (ortho_err > tol) | (np.abs(det - 1.0) > tol)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f'{what} {i} is not a rigid transform (|R R^T - I| = {ortho_err[i]:.3g}, '
                         f'det R = {det[i]:.4f})')


def orthonormalize(target_from_source: np.ndarray) -> np.ndarray:
    """The rigid transform nearest to a drifted one: R replaced by U V^T of its SVD.

    Chaining many float32 network rotations drifts off SO(3); projecting back after every
    composition keeps the chained pose rigid. [.., 4, 4] -> [.., 4, 4] float64 copy.
    """
    m = np.array(target_from_source, dtype=np.float64)
    u, _, vt = np.linalg.svd(m[..., :3, :3])
    m[..., :3, :3] = u @ vt
    return m


def relative_pose_to_twist(previous_from_current: np.ndarray,
                           dt_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean linear (m/s) and angular (rad/s) velocity over `dt_s`, in the current frame.

    The displacement t of `previous_from_current` is rotated into the current frame (R^T t) and
    the rotation is turned into its axis-angle vector 2 atan2(|q_xyz|, w) q_xyz / |q_xyz|; both
    are divided by the interval.
    """
    m = np.asarray(previous_from_current, dtype=np.float64)
    check_rigid(m)
    if not dt_s > 0:
        raise InputError(f'time step must be positive to compute a velocity, got {dt_s} s')
    rotation = m[:3, :3]
    x, y, z, w = rotation_to_quaternion(rotation)
    half_angle = math.atan2(math.sqrt(x * x + y * y + z * z), w)
    scale = 2.0 * half_angle / math.sin(half_angle) if half_angle > 1e-9 else 2.0
    linear = rotation.T @ m[:3, 3] / dt_s
    angular = scale * np.array([x, y, z]) / dt_s
    return linear, angular
