"""Constructed trajectories for the evaluation tests."""
from __future__ import annotations

from collections.abc import Callable
import functools

import numpy as np
import pytest


def rotation_from_axis_angle(axis_angle: np.ndarray) -> np.ndarray:
    """Rodrigues' formula, [3] -> [3, 3]."""
    angle = float(np.linalg.norm(axis_angle))
    if angle < 1e-12:
        return np.eye(3)
    x, y, z = np.asarray(axis_angle) / angle
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def driving_trajectory(n: int, seed: int = 0, step_m: float = 1.0) -> np.ndarray:
    """A car-like path [n, 4, 4] in camera axes (z forward, y down): turning, slight pitch/roll."""
    rng = np.random.default_rng(seed)
    poses = np.empty((n, 4, 4))
    pose = np.eye(4)
    for i in range(n):
        poses[i] = pose
        step = np.eye(4)
        step[:3, :3] = rotation_from_axis_angle(rng.normal(0, [0.005, 0.03, 0.005]))
        step[:3, 3] = [rng.normal(0, 0.02), rng.normal(0, 0.01), step_m * rng.uniform(0.7, 1.3)]
        pose = pose @ step
    return poses


def noisy(poses: np.ndarray, seed: int = 1, sigma_m: float = 0.05,
          sigma_rad: float = 0.002) -> np.ndarray:
    """Poses with independent per-frame position and orientation noise."""
    rng = np.random.default_rng(seed)
    out = poses.copy()
    for pose in out:
        pose[:3, :3] = rotation_from_axis_angle(rng.normal(0, sigma_rad, 3)) @ pose[:3, :3]
        pose[:3, 3] += rng.normal(0, sigma_m, 3)
    return out


def similarity(poses: np.ndarray, scale: float, axis_angle: tuple[float, float, float],
               translation: tuple[float, float, float]) -> np.ndarray:
    """Poses moved by x -> scale * R x + t (positions scaled, orientations rotated by R)."""
    rotation = rotation_from_axis_angle(np.asarray(axis_angle, dtype=np.float64))
    out = poses.copy()
    out[:, :3, :3] = rotation @ poses[:, :3, :3]
    out[:, :3, 3] = scale * poses[:, :3, 3] @ rotation.T + np.asarray(translation)
    return out


@pytest.fixture
def make_trajectory() -> Callable[..., np.ndarray]:
    return driving_trajectory


@pytest.fixture
def make_noisy() -> Callable[..., np.ndarray]:
    return noisy


@pytest.fixture
def move_similarity() -> Callable[..., np.ndarray]:
    return similarity


@pytest.fixture(scope='session')
def posenet() -> Callable[..., object]:
    """EvalOptions with the pose-network source, for stand-ins that answer as a pose network
    (the default source is epipolar)."""
    from depth_ros.evaluation.replay import EvalOptions
    return functools.partial(EvalOptions, odometry_source='posenet')
