"""KITTI/TUM pose files and velodyne -> depth-map projection with the real KITTI calibration."""
from __future__ import annotations

import numpy as np
import pytest

from depth_ros.errors import InputError
from depth_ros.evaluation.kitti import (
    kitti_velo_to_image,
    project_velodyne_to_depth,
    read_kitti_poses,
    read_pose_file,
    read_tum_trajectory,
    read_velodyne_bin,
    velodyne_depth_map,
    write_kitti_poses,
)
from depth_ros.geometry.intrinsics import read_kitti_calib
from depth_ros.geometry.se3 import rotation_to_quaternion


@pytest.fixture
def calib_dir(shared_data):
    path = shared_data / 'kitti_raw' / '2011_09_26_calib' / '2011_09_26'
    if not (path / 'calib_velo_to_cam.txt').is_file():
        pytest.skip(f'KITTI raw calibration not found at {path}')
    return path


def _write_tum(path, stamps, poses):
    with open(path, 'w', encoding='utf-8') as f:
        f.write('# timestamp tx ty tz qx qy qz qw\n')
        for stamp, pose in zip(stamps, poses):
            q = rotation_to_quaternion(pose[:3, :3])
            f.write(f'{stamp:.6f} ' + ' '.join(f'{v:.12f}' for v in (*pose[:3, 3], *q)) + '\n')


def test_kitti_pose_file_round_trip_with_and_without_index(tmp_path, make_trajectory):
    poses = make_trajectory(20)
    plain = tmp_path / 'plain.txt'
    write_kitti_poses(plain, poses)
    read = read_kitti_poses(plain)
    np.testing.assert_allclose(read.world_from_cam, poses, atol=1e-8)
    assert read.stamps_s is None and read.frame_ids is None
    indexed = tmp_path / 'indexed.txt'
    rows = poses[:, :3, :].reshape(20, 12)
    np.savetxt(indexed, np.column_stack([np.arange(100, 120), rows]), fmt='%.12g')
    read = read_pose_file(indexed)
    np.testing.assert_array_equal(read.frame_ids, np.arange(100, 120))
    np.testing.assert_allclose(read.world_from_cam, poses, atol=1e-8)


def test_real_kitti_pose_file(shared_data):
    path = shared_data / 'kitti_odometry' / 'poses' / '10.txt'
    if not path.is_file():
        pytest.skip(f'{path} not found')
    poses = read_kitti_poses(path).world_from_cam
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    assert poses.shape == (len([line for line in lines if line.strip()]), 4, 4)
    np.testing.assert_allclose(poses[1, :3, :].ravel(), [float(v) for v in lines[1].split()])


def test_tum_file(tmp_path, make_trajectory):
    poses = make_trajectory(10)
    path = tmp_path / 'traj.tum'
    _write_tum(path, np.arange(10) * 0.1 + 1000.0, poses)
    read = read_pose_file(path)
    np.testing.assert_allclose(read.stamps_s, np.arange(10) * 0.1 + 1000.0)
    np.testing.assert_allclose(read.world_from_cam, poses, atol=1e-9)
    assert read_tum_trajectory(path).world_from_cam.shape == (10, 4, 4)


@pytest.mark.parametrize('content, match', [
    ('1 2 3\n', 'values per line'),
    ('1 0 0 0 0 1 0 0 0 0 1 0\n1 0 0 0 0 1 0 0 0 0 1\n', ':2:'),
    ('1 0 0 0 0 1 0 0 0 0 1 0\n1 0 0 nan 0 1 0 0 0 0 1 0\n', ':2: .*NaN'),
    ('1 0 0 0 0 2 0 0 0 0 1 0\n', ':1: .*not a rigid'),
    ('1 0 0 0 0 1 0 0 0 0 1 x\n', 'not a number'),
    ('', 'no poses'),
    ('0.0 1 2 3 0 0 0 2\n', 'quaternion'),
])
def test_malformed_pose_files(tmp_path, content, match):
    path = tmp_path / 'bad.txt'
    path.write_text(content)
    with pytest.raises(InputError, match=match):
        read_pose_file(path)


def test_missing_pose_file(tmp_path):
    with pytest.raises(InputError, match='not found'):
        read_pose_file(tmp_path / 'nope.txt')


def _velo_points_at(calib_dir, camera, pixels, depths):
    """Velodyne points that land on (col, row) pixels of the depth map at the given depths.

    Built by inverting the calibration chain read straight from the files: the depth map
    stores pixel (round(u) - 1, round(v) - 1), so aim at u = col + 1, v = row + 1.
    """
    cam = read_kitti_calib(calib_dir / 'calib_cam_to_cam.txt')
    velo = read_kitti_calib(calib_dir / 'calib_velo_to_cam.txt')
    p_rect = cam[f'P_rect_0{camera}'].reshape(3, 4)
    uv1 = np.column_stack([np.asarray(pixels, dtype=np.float64) + 1.0, np.ones(len(pixels))])
    image = uv1 * np.asarray(depths)[:, None]
    rect = np.linalg.solve(p_rect[:, :3], (image - p_rect[:, 3]).T).T
    # The calibration rotations are printed to 7 digits: invert them, do not transpose.
    cam0 = np.linalg.solve(cam['R_rect_00'].reshape(3, 3), rect.T).T
    return np.linalg.solve(velo['R'].reshape(3, 3), (cam0 - velo['T']).T).T


@pytest.mark.parametrize('camera', [2, 3])
def test_points_land_on_their_pixels(calib_dir, camera):
    pixels = np.array([[0, 0], [600, 180], [1241, 374], [100, 300], [900, 200]])
    depths = np.array([5.0, 12.5, 30.0, 7.25, 60.0])
    points = _velo_points_at(calib_dir, camera, pixels, depths)
    depth = project_velodyne_to_depth(points, kitti_velo_to_image(calib_dir, camera))
    assert depth.shape == (375, 1242)
    np.testing.assert_allclose(depth[pixels[:, 1], pixels[:, 0]], depths, rtol=1e-9)
    assert np.count_nonzero(depth) == len(pixels)


def test_nearest_point_wins_and_hidden_points_are_dropped(calib_dir):
    pixels = np.array([[300, 200], [300, 200], [300, 200], [10, 10], [-5, 100], [50, 400]])
    depths = np.array([20.0, 8.0, 15.0, 10.0, 10.0, 10.0])
    points = _velo_points_at(calib_dir, 2, pixels, depths)
    behind = -points[3:4]  # x < 0 in the lidar frame: behind the sensor
    points = np.concatenate([points[:3], behind, points[4:]])
    depth = project_velodyne_to_depth(points, kitti_velo_to_image(calib_dir, 2))
    assert depth[200, 300] == pytest.approx(8.0)
    assert np.count_nonzero(depth) == 1  # behind, left of and below the image: dropped


def test_velodyne_bin_to_depth_map(tmp_path, calib_dir):
    points = _velo_points_at(calib_dir, 2, np.array([[400, 250]]), np.array([9.0]))
    scan = np.column_stack([points, [0.5]]).astype(np.float32)
    path = tmp_path / '0000000000.bin'
    scan.tofile(path)
    np.testing.assert_array_equal(read_velodyne_bin(path), scan)
    depth = velodyne_depth_map(path, calib_dir, camera=2)
    assert depth[250, 400] == pytest.approx(9.0, rel=1e-5)  # float32 storage
    (tmp_path / 'odd.bin').write_bytes(b'\0' * 12)
    with pytest.raises(InputError, match='whole number'):
        read_velodyne_bin(tmp_path / 'odd.bin')


def test_missing_calibration(tmp_path):
    with pytest.raises(InputError, match='not found'):
        kitti_velo_to_image(tmp_path)


def test_projections_round_to_the_nearest_pixel(calib_dir):
    # 0.4 px right of column 500 stays in column 500; 0.6 px below row 200 rounds to row 201.
    points = _velo_points_at(calib_dir, 2, np.array([[500.4, 200.6]]), np.array([10.0]))
    depth = project_velodyne_to_depth(points, kitti_velo_to_image(calib_dir, 2))
    assert depth[201, 500] == pytest.approx(10.0)
    assert np.count_nonzero(depth) == 1
