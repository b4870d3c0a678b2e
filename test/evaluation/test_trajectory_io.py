"""Pairing the frames of two trajectories: by timestamp, frame index or position."""
from __future__ import annotations

import numpy as np
import pytest

from depth_ros.errors import InputError
from depth_ros.evaluation.trajectory import PoseSequence
from depth_ros.evaluation.trajectory_io import associate, load_trajectory, match_stamps


def test_match_stamps_nearest_within_tolerance():
    a = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    b = np.array([0.405, 0.003, 0.098, 0.25, 0.5])  # unsorted; 0.25 is 0.05 from 0.2 and 0.3
    index_a, index_b = match_stamps(a, b, max_diff_s=0.01)
    np.testing.assert_array_equal(index_a, [0, 1, 4])
    np.testing.assert_array_equal(index_b, [1, 2, 0])


def test_match_stamps_is_one_to_one():
    a = np.array([1.000, 1.004, 1.008])
    b = np.array([1.005])
    index_a, index_b = match_stamps(a, b, max_diff_s=0.01)
    np.testing.assert_array_equal(index_a, [1])  # the closest claim wins
    np.testing.assert_array_equal(index_b, [0])
    assert match_stamps(a, np.array([]), 0.01)[0].size == 0


def test_associate_by_stamps_ids_and_position(make_trajectory):
    poses = make_trajectory(10)
    stamps = np.arange(10) * 0.1
    gt = PoseSequence(poses, stamps, None, 'gt')
    pred = PoseSequence(poses[2:], stamps[2:] + 0.002, None, 'pred')
    got_gt, got_pred = associate(gt, pred)
    np.testing.assert_array_equal(got_gt, poses[2:])
    np.testing.assert_array_equal(got_pred, poses[2:])

    with_ids = PoseSequence(poses[::2], None, np.arange(0, 10, 2), 'ids')
    all_ids = PoseSequence(poses, None, np.arange(10), 'all')
    got_gt, got_pred = associate(all_ids, with_ids)
    np.testing.assert_array_equal(got_gt, poses[::2])

    plain = PoseSequence(poses, None, None, 'plain')
    assert associate(plain, plain)[0] is poses
    with pytest.raises(InputError, match='10 poses but prediction pred has 8'):
        associate(plain, PoseSequence(poses[2:], None, None, 'pred'))
    with pytest.raises(InputError, match='match by timestamps'):
        associate(gt, PoseSequence(poses, stamps + 100.0, None, 'late'))


def test_load_trajectory_reports_missing_sources(tmp_path):
    with pytest.raises(InputError, match='not found'):
        load_trajectory(tmp_path / 'missing.txt')
    with pytest.raises(InputError, match='bag not found'):
        load_trajectory(f'{tmp_path / "missing_bag"}:/odom')


def _kitti13(path, rows):
    """13-column KITTI file: index then a pure translation along z."""
    path.write_text(''.join(f'{i} 1 0 0 0 0 1 0 0 0 0 1 {z}\n' for i, z in rows))
    return path


def test_kitti_indices_sorted_and_identical_repeats_counted(tmp_path):
    seq = load_trajectory(_kitti13(tmp_path / 'p.txt', [(0, 0.0), (2, 2.0), (1, 1.0), (2, 2.0)]))
    np.testing.assert_array_equal(seq.frame_ids, [0, 1, 2])
    np.testing.assert_allclose(seq.world_from_cam[:, 2, 3], [0.0, 1.0, 2.0])
    assert (seq.duplicates, seq.reordered) == (1, True)


def test_kitti_index_repeated_with_another_pose_is_refused(tmp_path):
    with pytest.raises(InputError, match='appears twice with different poses'):
        load_trajectory(_kitti13(tmp_path / 'p.txt', [(0, 0.0), (1, 1.0), (1, 1.5)]))
