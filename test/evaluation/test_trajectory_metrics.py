"""5-frame ATE (Monodepth2 protocol) and APE (evo semantics): references and constructed cases."""
from __future__ import annotations

import json
from pathlib import Path
import time

import numpy as np
import pytest

from depth_ros.errors import InputError
from depth_ros.evaluation.kitti import read_kitti_poses
from depth_ros.evaluation.report import evaluate_trajectory
from depth_ros.evaluation.trajectory import (
    ape,
    ate_5frame,
    ate_5frame_from_local,
    local_from_global,
)


def _example_sets(reference: Path, data: Path) -> list[tuple[dict, Path, Path]]:
    """(expected json, GT folder, prediction folder) for every example_*_expected.json."""
    sets = []
    for path in sorted(reference.glob('example_*_expected.json')):
        name = path.name.removesuffix('_expected.json')
        pred_dir = data / 'kitti_odometry' / 'predictions' / name
        if not pred_dir.is_dir():
            pytest.skip(f'predictions for {name} not found at {pred_dir}')
        sets.append((json.loads(path.read_text()), data / 'kitti_odometry' / 'poses', pred_dir))
    if not sets:
        pytest.skip(f'no example_*_expected.json in {reference}')
    return sets


def _naive_ate_5frame(gt_global: np.ndarray, pred_global: np.ndarray) -> list[float]:
    """Direct loop transcription of the protocol as documented, for cross-checking."""
    def local(g):
        return [np.linalg.inv(np.linalg.inv(g[i - 1]) @ g[i]) for i in range(1, len(g))]

    def chain(transforms):
        pose, xyz = np.eye(4), [np.zeros(3)]
        for t in transforms:
            pose = pose @ t
            xyz.append(pose[:3, 3])
        return np.array(xyz)

    gt_local, pred_local, errors = local(gt_global), local(pred_global), []
    for i in range(len(gt_global) - 1):
        g, p = chain(gt_local[i:i + 4]), chain(pred_local[i:i + 4])
        p = p + (g[0] - p[0])
        s = np.sum(g * p) / np.sum(p ** 2)
        errors.append(np.sqrt(np.sum((s * p - g) ** 2)) / len(g))
    return errors


def test_ate_5frame_matches_reference(trajectory_reference, shared_data):
    for expected, gt_dir, pred_dir in _example_sets(trajectory_reference, shared_data):
        for seq, want in expected['monodepth2_5frame_ate'].items():
            gt = read_kitti_poses(gt_dir / f'{seq}.txt').world_from_cam
            pred = read_kitti_poses(pred_dir / f'{seq}.txt').world_from_cam
            got = ate_5frame(gt, pred)
            assert got.n_tracks == want['n_tracks']
            assert got.mean == pytest.approx(want['mean'], rel=1e-6)
            assert got.std == pytest.approx(want['std'], rel=1e-6)


def test_ape_matches_evo_reference(trajectory_reference, shared_data):
    for expected, gt_dir, pred_dir in _example_sets(trajectory_reference, shared_data):
        for key, want in expected['evo_full_trajectory_ape'].items():
            seq, alignment = key.rsplit('_', 1)
            got = ape(read_kitti_poses(gt_dir / f'{seq}.txt').world_from_cam,
                      read_kitti_poses(pred_dir / f'{seq}.txt').world_from_cam, alignment)
            for stat, value in want.items():
                assert getattr(got, stat) == pytest.approx(value, abs=1e-6), (key, stat)


def test_ape_matches_evo_kitti00(trajectory_reference, shared_data):
    path = trajectory_reference / 'evo_kitti00_expected.json'
    if not path.is_file():
        pytest.skip(f'{path} not found')
    for key, want in json.loads(path.read_text()).items():
        name, alignment = key.removeprefix('evo_test_').rsplit('_', 1)  # KITTI_00_ORB, se3
        gt_name = name.rsplit('_', 1)[0] + '_gt.txt'
        got = ape(read_kitti_poses(shared_data / 'evo' / gt_name).world_from_cam,
                  read_kitti_poses(shared_data / 'evo' / f'{name}.txt').world_from_cam,
                  alignment)
        for stat, value in want.items():
            assert getattr(got, stat) == pytest.approx(value, rel=1e-9, abs=1e-6), (key, stat)


def test_full_evaluation_is_fast(shared_data):
    gt_path = shared_data / 'kitti_odometry' / 'poses' / '09.txt'
    pred_path = shared_data / 'kitti_odometry' / 'predictions' / 'example_1' / '09.txt'
    if not pred_path.is_file():
        pytest.skip(f'{pred_path} not found')
    start = time.perf_counter()
    report = evaluate_trajectory(read_kitti_poses(gt_path).world_from_cam,
                                 read_kitti_poses(pred_path).world_from_cam)
    assert time.perf_counter() - start < 2.0
    assert report.n_poses == 1591


def test_ate_5frame_agrees_with_loop_version_including_tail(make_trajectory, make_noisy):
    gt = make_trajectory(9, seed=3)
    pred = make_noisy(gt, seed=4)
    got = ate_5frame(gt, pred)
    want = _naive_ate_5frame(gt, pred)
    assert got.n_tracks == 8
    np.testing.assert_allclose(got.track_errors, want, rtol=1e-12)
    assert got.mean == pytest.approx(np.mean(want))
    assert got.std == pytest.approx(np.std(want))


def test_ate_5frame_zero_for_scaled_and_moved_prediction(make_trajectory, move_similarity):
    gt = make_trajectory(40)
    pred = move_similarity(gt, 0.2, (0.1, -0.5, 0.3), (5.0, 1.0, -2.0))
    result = ate_5frame(gt, pred)
    assert result.mean == pytest.approx(0.0, abs=1e-12)
    assert result.n_tracks == 39


def test_pose_network_convention(make_trajectory, make_noisy):
    # A pose network gives cam_(i+1)_from_cam_i = inv(G_(i+1)) G_i for the pair (i, i+1).
    gt = make_trajectory(12)
    pred = make_noisy(gt)
    pred_net = np.stack([np.linalg.inv(pred[i + 1]) @ pred[i] for i in range(len(pred) - 1)])
    from_local = ate_5frame_from_local(local_from_global(gt), pred_net)
    assert from_local.mean == pytest.approx(ate_5frame(gt, pred).mean, rel=1e-12)
    assert ate_5frame_from_local(local_from_global(gt), local_from_global(gt)).mean == 0.0


def test_ate_5frame_static_prediction_has_finite_error(make_trajectory):
    gt = make_trajectory(6)
    result = ate_5frame(gt, np.tile(np.eye(4), (6, 1, 1)))
    assert np.isfinite(result.mean) and result.mean > 0


def test_ape_identity_and_similarity(make_trajectory, move_similarity):
    gt = make_trajectory(100)
    for alignment in ('se3', 'sim3', 'none'):
        assert ape(gt, gt, alignment).max == pytest.approx(0.0, abs=1e-9)
    moved = move_similarity(gt, 1.0, (0.2, 0.3, -0.1), (10.0, -4.0, 2.0))
    assert ape(gt, moved, 'se3').max == pytest.approx(0.0, abs=1e-9)
    assert ape(gt, moved, 'none').min > 1.0
    scaled = move_similarity(gt, 0.3, (0.2, 0.3, -0.1), (10.0, -4.0, 2.0))
    result = ape(gt, scaled, 'sim3')
    assert result.max == pytest.approx(0.0, abs=1e-9)
    assert result.scale == pytest.approx(1 / 0.3)
    assert ape(gt, scaled, 'se3').rmse > 1.0


def test_ape_statistics_on_known_offsets(make_trajectory):
    gt = make_trajectory(4)
    pred = gt.copy()
    pred[:, 0, 3] += [1.0, 2.0, 3.0, 4.0]  # offsets along x; no alignment
    result = ape(gt, pred, 'none')
    assert (result.min, result.max, result.median, result.mean) == pytest.approx((1, 4, 2.5, 2.5))
    assert result.rmse == pytest.approx(np.sqrt(7.5))
    assert result.sse == pytest.approx(30.0)
    assert result.std == pytest.approx(np.std([1, 2, 3, 4]))


@pytest.mark.parametrize('bad', ['length', 'nan', 'shear'])
def test_invalid_poses_raise_input_error(make_trajectory, bad):
    gt = make_trajectory(10)
    pred = gt.copy()
    if bad == 'length':
        pred = pred[:-1]
    elif bad == 'nan':
        pred[3, 0, 3] = np.nan
    else:
        pred[5, 0, 1] += 0.5
    with pytest.raises(InputError):
        ate_5frame(gt, pred)
    with pytest.raises(InputError):
        ape(gt, pred)
