"""Back-projection (geometry.camera) and the SE(3) twist: known values and consistency."""
from __future__ import annotations

import math

import numpy as np
import pytest

from depth_ros.errors import InputError
from depth_ros.geometry.camera import (
    backproject_pixels,
    depth_to_point_grid,
    depth_to_points,
    strided_intrinsics,
)
from depth_ros.geometry.ground_plane import region_points
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.geometry.se3 import orthonormalize, relative_pose_to_twist


def _rot_z(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def test_known_pixel_back_projects():
    intr = Intrinsics(100.0, 200.0, 50.0, 40.0, 80, 60)
    depth = np.full((60, 80), np.nan, np.float32)
    depth[20, 70] = 2.0
    np.testing.assert_allclose(depth_to_points(depth, intr), [[0.4, -0.2, 2.0]], rtol=1e-6)


def test_point_grid_stride_and_invalid():
    intr = Intrinsics(10.0, 10.0, 2.0, 1.0, 5, 3)
    depth = np.ones((3, 5), np.float32)
    depth[0, 0] = 0.0
    grid = depth_to_point_grid(depth, intr, stride=2)
    assert grid.shape == (2, 3, 3)
    assert np.isnan(grid[0, 0]).all()
    np.testing.assert_allclose(grid[1, 2], [(4 - 2) / 10, (2 - 1) / 10, 1.0])
    assert depth_to_points(depth, intr, stride=2).shape == (5, 3)


def test_point_cloud_shape_mismatch_raises():
    intr = Intrinsics(10.0, 10.0, 2.0, 1.0, 4, 3)
    with pytest.raises(InputError, match='intr.scaled'):
        depth_to_points(np.ones((6, 8), np.float32), intr)


def test_strided_intrinsics_match_strided_back_projection():
    intr = Intrinsics(50.0, 60.0, 20.5, 15.25, 41, 31)
    depth = np.random.default_rng(4).uniform(1, 5, (31, 41)).astype(np.float32)
    small = strided_intrinsics(intr, 3)
    assert (small.width, small.height) == (14, 11)
    np.testing.assert_allclose(depth_to_point_grid(depth[::3, ::3], small),
                               depth_to_point_grid(depth, intr, stride=3), rtol=1e-5,
                               atol=1e-6)


def test_ground_plane_region_uses_the_same_back_projection():
    intr = Intrinsics(100.0, 200.0, 50.0, 40.0, 80, 60)
    depth = np.full((60, 80), 3.0, np.float32)
    points = region_points(depth, intr, region_top=0.5, max_points=10_000)
    assert points.dtype == np.float64 and len(points) == 30 * 80
    v, u = np.mgrid[30:60, 0:80]
    np.testing.assert_allclose(points, backproject_pixels(u, v, np.full(u.shape, 3.0), intr)
                               .reshape(-1, 3))
    np.testing.assert_allclose(points[0], [(0 - 50) * 3 / 100, (30 - 40) * 3 / 200, 3.0])


def test_relative_pose_to_twist():
    prev_from_cur = np.eye(4)
    prev_from_cur[:3, :3] = _rot_z(0.1)
    prev_from_cur[:3, 3] = [0.5, 0.0, 0.0]
    linear, angular = relative_pose_to_twist(prev_from_cur, 0.5)
    np.testing.assert_allclose(angular, [0, 0, 0.2], atol=1e-12)
    np.testing.assert_allclose(linear, _rot_z(0.1).T @ [1.0, 0, 0], atol=1e-12)
    with pytest.raises(InputError, match='positive'):
        relative_pose_to_twist(prev_from_cur, 0.0)


def test_orthonormalize_projects_onto_rotations():
    pose = np.eye(4)
    pose[:3, :3] = _rot_z(0.3) + 1e-3 * np.random.default_rng(0).normal(size=(3, 3))
    pose[:3, 3] = [1, 2, 3]
    fixed = orthonormalize(pose)
    np.testing.assert_allclose(fixed[:3, :3] @ fixed[:3, :3].T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(fixed[:3, :3], _rot_z(0.3), atol=5e-3)
    np.testing.assert_array_equal(fixed[:3, 3], [1, 2, 3])
