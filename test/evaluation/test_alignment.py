"""Umeyama alignment and least-squares scale, tested by construction."""
from __future__ import annotations

import numpy as np
import pytest

from depth_ros.errors import InputError
from depth_ros.evaluation.alignment import Similarity, least_squares_scale, umeyama


def _rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_umeyama_recovers_known_similarity():
    points = np.random.default_rng(0).normal(size=(50, 3)) * [10, 2, 5]
    truth = Similarity(_rotation(1), np.array([3.0, -1.0, 7.5]), 2.5)
    found = umeyama(points, truth.apply_points(points), with_scale=True)
    np.testing.assert_allclose(found.rotation, truth.rotation, atol=1e-12)
    np.testing.assert_allclose(found.translation, truth.translation, atol=1e-10)
    assert found.scale == pytest.approx(2.5, rel=1e-12)


def test_umeyama_rigid_keeps_unit_scale_and_proper_rotation():
    points = np.random.default_rng(2).normal(size=(30, 3))
    target = Similarity(_rotation(3), np.array([1.0, 2.0, 3.0]), 0.5).apply_points(points)
    found = umeyama(points, target, with_scale=False)
    assert found.scale == 1.0
    assert np.linalg.det(found.rotation) == pytest.approx(1.0)
    np.testing.assert_allclose(found.rotation @ found.rotation.T, np.eye(3), atol=1e-12)


def test_umeyama_reflection_is_not_returned():
    # A mirrored point set: the best proper rotation must still have det +1.
    points = np.random.default_rng(4).normal(size=(20, 3))
    mirrored = points * [1, 1, -1]
    found = umeyama(points, mirrored)
    assert np.linalg.det(found.rotation) == pytest.approx(1.0)


def test_apply_poses_rotates_orientations_and_moves_positions():
    transform = Similarity(_rotation(5), np.array([0.0, 1.0, 0.0]), 3.0)
    pose = np.eye(4)
    pose[:3, 3] = [1.0, 2.0, 3.0]
    moved = transform.apply_poses(pose[None])[0]
    np.testing.assert_allclose(moved[:3, :3], transform.rotation)
    np.testing.assert_allclose(moved[:3, 3], transform.apply_points(pose[None, :3, 3])[0])


def test_umeyama_rejects_bad_input():
    with pytest.raises(InputError):
        umeyama(np.zeros((4, 3)), np.zeros((5, 3)))
    with pytest.raises(InputError):
        umeyama(np.full((4, 3), np.nan), np.zeros((4, 3)))
    with pytest.raises(InputError, match='scale'):
        umeyama(np.ones((4, 3)), np.zeros((4, 3)), with_scale=True)


def test_least_squares_scale():
    source = np.random.default_rng(6).normal(size=(10, 3))
    assert least_squares_scale(source, 4.0 * source) == pytest.approx(4.0)
    assert least_squares_scale(np.zeros((3, 3)), source[:3]) == 0.0
