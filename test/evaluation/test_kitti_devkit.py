"""KITTI devkit metrics: the public port's figures, and constructed trajectories."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from depth_ros.errors import InputError
from depth_ros.evaluation.kitti import read_kitti_poses
from depth_ros.evaluation.kitti_devkit import SEGMENT_LENGTHS_M, kitti_devkit_metrics


FIGURES = ('t_err_percent', 'r_err_deg_per_100m', 'ate_m', 'rpe_m', 'rpe_deg')


def _straight(n: int, step_m: float = 1.0, yaw_per_step: float = 0.0) -> np.ndarray:
    """n poses along z with constant steps, optionally turning about y each step."""
    poses, pose = np.empty((n, 4, 4)), np.eye(4)
    c, s = math.cos(yaw_per_step), math.sin(yaw_per_step)
    step = np.array([[c, 0, s, 0], [0, 1, 0, 0], [-s, 0, c, step_m], [0, 0, 0, 1]])
    for i in range(n):
        poses[i] = pose
        pose = pose @ step
    return poses


def test_devkit_figures_match_reference(trajectory_reference, shared_data):
    paths = sorted(trajectory_reference.glob('example_*_expected.json'))
    if not paths:
        pytest.skip(f'no example_*_expected.json in {trajectory_reference}')
    for path in paths:
        pred_dir = (shared_data / 'kitti_odometry' / 'predictions'
                    / path.name.removesuffix('_expected.json'))
        if not pred_dir.is_dir():
            pytest.skip(f'predictions not found at {pred_dir}')
        for alignment, sequences in json.loads(path.read_text())['kitti_devkit'].items():
            for seq, want in sequences.items():
                gt = read_kitti_poses(shared_data / 'kitti_odometry' / 'poses' / f'{seq}.txt')
                pred = read_kitti_poses(pred_dir / f'{seq}.txt')
                got = kitti_devkit_metrics(gt.world_from_cam, pred.world_from_cam, alignment)
                for key, value in want.items():
                    # The reference is printed with 3 decimals.
                    assert round(getattr(got, key), 3) == pytest.approx(value, abs=1e-9), (
                        alignment, seq, key, getattr(got, key))


@pytest.mark.parametrize('alignment', ['scale', '7dof', '6dof', 'none'])
def test_ground_truth_against_itself_is_zero(make_trajectory, alignment):
    gt = make_trajectory(400)
    result = kitti_devkit_metrics(gt, gt, alignment)
    assert result.n_segments > 0
    for key in FIGURES:
        assert getattr(result, key) == pytest.approx(0.0, abs=1e-6), key


def test_alignment_undoes_the_matching_transform(make_trajectory, move_similarity):
    gt = make_trajectory(300)
    scaled = move_similarity(gt, 0.25, (0, 0, 0), (0, 0, 0))
    assert kitti_devkit_metrics(gt, scaled, 'scale').ate_m == pytest.approx(0.0, abs=1e-9)
    assert kitti_devkit_metrics(gt, scaled, 'none').ate_m > 1.0
    sim = move_similarity(gt, 3.0, (0.3, -0.2, 0.1), (4.0, 5.0, 6.0))
    result = kitti_devkit_metrics(gt, sim, '7dof')
    assert result.ate_m == pytest.approx(0.0, abs=1e-9)
    assert result.t_err_percent == pytest.approx(0.0, abs=1e-9)
    rigid = move_similarity(gt, 1.0, (0.3, -0.2, 0.1), (4.0, 5.0, 6.0))
    assert kitti_devkit_metrics(gt, rigid, '6dof').ate_m == pytest.approx(0.0, abs=1e-9)


def test_segment_count_and_translation_error_on_a_straight_line():
    n = 1000
    gt = _straight(n)
    pred = _straight(n, step_m=1.01)  # 1 % too long, no alignment
    result = kitti_devkit_metrics(gt, pred, 'none')
    # The end frame is the first whose distance exceeds the start's by more than the length.
    lengths = [length for first in range(0, n, 10) for length in SEGMENT_LENGTHS_M
               if first + int(length) + 1 < n]
    assert result.n_segments == len(lengths)
    # A segment spans length + 1 steps, each 1 cm too long.
    want = np.mean([0.01 * (length + 1) / length * 100 for length in lengths])
    assert result.t_err_percent == pytest.approx(want, rel=1e-9)
    assert result.r_err_deg_per_100m == pytest.approx(0.0, abs=1e-9)
    assert result.rpe_m == pytest.approx(0.01, rel=1e-9)


def test_rotation_errors_of_a_constant_turn():
    n = 300
    yaw = 0.001
    result = kitti_devkit_metrics(_straight(n), _straight(n, yaw_per_step=yaw), 'none')
    assert result.rpe_deg == pytest.approx(math.degrees(yaw), rel=1e-6)
    # Over a segment of L frames (1 m each) the heading drifts by (L + 1) * yaw.
    per_segment = [math.degrees((length + 1) * yaw) / length * 100
                   for first in range(0, n, 10) for length in SEGMENT_LENGTHS_M
                   if first + int(length) + 1 < n]
    assert result.r_err_deg_per_100m == pytest.approx(np.mean(per_segment), rel=1e-6)


def test_short_trajectory_has_no_segments():
    result = kitti_devkit_metrics(_straight(50), _straight(50, step_m=1.1), 'scale')
    assert result.n_segments == 0
    assert math.isnan(result.t_err_percent)
    assert result.to_dict()['t_err_percent'] is None
    assert result.ate_m == pytest.approx(0.0, abs=1e-9)


def test_bad_input():
    with pytest.raises(InputError, match='alignment'):
        kitti_devkit_metrics(_straight(5), _straight(5), 'sim3')
    with pytest.raises(InputError, match='poses'):
        kitti_devkit_metrics(_straight(5), _straight(4))
