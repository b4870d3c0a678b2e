"""`depth-ros eval-trajectory`: output formats, input formats, and one-line errors."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from depth_ros.cli import main
from depth_ros.evaluation.kitti import write_kitti_poses
from depth_ros.geometry.se3 import rotation_to_quaternion


def _trajectory(n: int = 60, seed: int = 0) -> np.ndarray:
    """A gently turning path in camera axes, about 1 m per frame."""
    rng = np.random.default_rng(seed)
    poses, yaw, position = np.empty((n, 4, 4)), 0.0, np.zeros(3)
    for i in range(n):
        c, s = math.cos(yaw), math.sin(yaw)
        poses[i] = [[c, 0, s, position[0]], [0, 1, 0, position[1]], [-s, 0, c, position[2]],
                    [0, 0, 0, 1]]
        position = position + [s, rng.normal(0, 0.01), c]
        yaw += rng.normal(0, 0.03)
    return poses


def _noisy(poses: np.ndarray, seed: int = 1) -> np.ndarray:
    out = poses.copy()
    out[:, :3, 3] += np.random.default_rng(seed).normal(0, 0.05, (len(poses), 3))
    return out


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(['eval-trajectory', *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _json(capsys, *argv: str) -> dict:
    code, out, err = _run(capsys, *argv, '--json')
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def files(tmp_path):
    gt, pred = tmp_path / 'gt.txt', tmp_path / 'pred.txt'
    poses = _trajectory()
    write_kitti_poses(gt, poses)
    write_kitti_poses(pred, _noisy(poses))
    return gt, pred


def test_table_output(capsys, files):
    code, out, _ = _run(capsys, '--gt', files[0], '--pred', files[1])
    assert code == 0
    for text in ('5-frame ATE', 'KITTI devkit', 'scale', '7dof', '6dof', 'APE', 'se3', 'sim3'):
        assert text in out


def test_json_output_has_every_figure(capsys, files):
    result = _json(capsys, '--gt', files[0], '--pred', files[1])
    assert result['n_poses'] == 60
    assert result['ate_5frame']['n_tracks'] == 59
    assert result['ate_5frame']['mean'] > 0 and result['ate_5frame']['std'] > 0
    assert set(result['kitti_devkit']) == {'scale', '7dof', '6dof'}
    for figures in result['kitti_devkit'].values():
        for key in ('t_err_percent', 'r_err_deg_per_100m', 'ate_m', 'rpe_m', 'rpe_deg'):
            assert key in figures
    for alignment in ('se3', 'sim3'):
        assert result['ape'][alignment]['rmse'] > 0


def test_ground_truth_against_itself_is_zero(capsys, files):
    result = _json(capsys, '--gt', files[0], '--pred', files[0], '--align', 'scale', '7dof',
                   '6dof', 'none', '--ape-align', 'se3', 'sim3', 'none')
    assert result['ate_5frame']['mean'] == pytest.approx(0.0, abs=1e-9)
    for figures in result['kitti_devkit'].values():
        for key in ('ate_m', 'rpe_m', 'rpe_deg'):
            assert figures[key] == pytest.approx(0.0, abs=1e-5), key
        assert figures['t_err_percent'] is None  # 60 m: no 100 m segment
    for stats in result['ape'].values():
        assert stats['max'] == pytest.approx(0.0, abs=1e-9)


def test_reference_sequence(capsys, trajectory_reference, shared_data):
    paths = sorted(trajectory_reference.glob('example_*_expected.json'))
    if not paths:
        pytest.skip(f'no example_*_expected.json in {trajectory_reference}')
    expected = json.loads(paths[0].read_text())
    pred_dir = (shared_data / 'kitti_odometry' / 'predictions'
                / paths[0].name.removesuffix('_expected.json'))
    if not pred_dir.is_dir():
        pytest.skip(f'{pred_dir} not found')
    seq = sorted(expected['monodepth2_5frame_ate'])[0]
    result = _json(capsys, '--gt', shared_data / 'kitti_odometry' / 'poses' / f'{seq}.txt',
                   '--pred', pred_dir / f'{seq}.txt')
    assert result['ate_5frame']['mean'] == pytest.approx(
        expected['monodepth2_5frame_ate'][seq]['mean'], rel=1e-6)
    assert round(result['kitti_devkit']['7dof']['ate_m'], 3) == pytest.approx(
        expected['kitti_devkit']['7dof'][seq]['ate_m'])
    assert result['ape']['se3']['rmse'] == pytest.approx(
        expected['evo_full_trajectory_ape'][f'{seq}_se3']['rmse'], abs=1e-6)


def test_tum_files_are_associated_by_timestamp(capsys, tmp_path):
    poses = _trajectory(40)
    stamps = 1000.0 + 0.1 * np.arange(40)

    def write_tum(path, keep, offset):
        with open(path, 'w', encoding='utf-8') as f:
            for i in keep:
                q = rotation_to_quaternion(poses[i, :3, :3])
                values = (stamps[i] + offset, *poses[i, :3, 3], *q)
                f.write(' '.join(f'{v:.9f}' for v in values) + '\n')

    write_tum(tmp_path / 'gt.tum', range(40), 0.0)
    write_tum(tmp_path / 'pred.tum', range(5, 40), 0.004)
    result = _json(capsys, '--gt', tmp_path / 'gt.tum', '--pred', tmp_path / 'pred.tum')
    assert result['n_poses'] == 35
    assert result['ape']['se3']['max'] == pytest.approx(0.0, abs=1e-6)


def test_bag_topic_against_kitti_file(capsys, tmp_path, files):
    from depth_ros.evaluation.bag_io import write_bag_poses

    poses = _trajectory()
    write_bag_poses(tmp_path / 'bag', '/odom', poses, np.arange(60) * 100_000_000 + 10**18)
    result = _json(capsys, '--gt', files[0], '--pred', f'{tmp_path / "bag"}:/odom')
    assert result['n_poses'] == 60
    assert result['ape']['se3']['max'] == pytest.approx(0.0, abs=1e-6)


def _assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith('depth-ros eval-trajectory: error: ')
    for needle in needles:
        assert needle in lines[0]


def test_mismatched_lengths(capsys, tmp_path, files):
    short = tmp_path / 'short.txt'
    write_kitti_poses(short, _trajectory(59))
    code, _, err = _run(capsys, '--gt', files[0], '--pred', short)
    _assert_one_line_error(code, err, '60 poses', '59')


def test_nan_pose(capsys, tmp_path, files):
    lines = files[1].read_text().splitlines()
    values = lines[7].split()
    values[3] = 'nan'
    lines[7] = ' '.join(values)
    bad = tmp_path / 'nan.txt'
    bad.write_text('\n'.join(lines) + '\n')
    code, _, err = _run(capsys, '--gt', files[0], '--pred', bad)
    _assert_one_line_error(code, err, 'nan.txt:8', 'NaN')


def test_non_rigid_pose(capsys, tmp_path, files):
    poses = _trajectory()
    poses[10, :3, :3] *= 1.5
    bad = tmp_path / 'scaled.txt'
    write_kitti_poses(bad, poses)
    code, _, err = _run(capsys, '--gt', bad, '--pred', files[1])
    _assert_one_line_error(code, err, 'scaled.txt:11', 'not a rigid transform')


def test_missing_file_and_bad_bag(capsys, tmp_path, files):
    code, _, err = _run(capsys, '--gt', tmp_path / 'absent.txt', '--pred', files[1])
    _assert_one_line_error(code, err, 'not found', 'absent.txt')
    code, _, err = _run(capsys, '--gt', files[0], '--pred', f'{tmp_path}/no_bag:/odom')
    _assert_one_line_error(code, err, 'bag not found')


def test_module_entry_point(files):
    done = subprocess.run(
        [sys.executable, '-m', 'depth_ros.cli', 'eval-trajectory', '--gt', str(files[0]),
         '--pred', str(files[0]), '--json'], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)['ate_5frame']['mean'] == pytest.approx(0.0, abs=1e-9)
