"""Trajectory pictures: the placement and alignment they draw, checked by construction."""
import numpy as np
import pytest

from depth_ros.errors import InputError
from depth_ros.evaluation.plots import (
    align_positions_sim3,
    place_at_start,
    plot_trajectories,
    plot_trajectory,
)
from depth_ros.geometry.se3 import orthonormalize


def _curved_drive(frames: int = 20) -> np.ndarray:
    """world_from_cam of a camera driving forward 1 m a frame while turning 2 deg a frame."""
    poses = [np.eye(4)]
    step = np.eye(4)
    yaw = np.deg2rad(2.0)
    step[:3, :3] = [[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]]
    step[2, 3] = 1.0
    for _ in range(frames - 1):
        poses.append(orthonormalize(poses[-1] @ step))
    return np.stack(poses)


def _rigid(yaw_deg: float, shift: tuple[float, float, float]) -> np.ndarray:
    yaw = np.deg2rad(yaw_deg)
    out = np.eye(4)
    out[:3, :3] = [[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]]
    out[:3, 3] = shift
    return out


def test_an_odometry_in_another_world_frame_is_placed_on_the_ground_truth():
    gt = _curved_drive()
    # The same motion, as an odometry that starts at its own origin (the node's odom frame).
    pred = _rigid(30.0, (5.0, -2.0, 7.0)) @ gt
    assert np.allclose(place_at_start(gt, pred), gt[:, :3, 3], atol=1e-9)


def test_placement_keeps_a_scale_error_that_alignment_removes():
    gt = _curved_drive()
    pred = gt.copy()
    pred[:, :3, 3] *= 0.5  # the right shape at half the speed
    placed = place_at_start(gt, pred)
    assert np.allclose(placed, 0.5 * gt[:, :3, 3], atol=1e-9)  # as published: half the path
    aligned, scale = align_positions_sim3(gt, pred)
    assert scale == pytest.approx(2.0) and np.allclose(aligned, gt[:, :3, 3], atol=1e-9)


def test_a_still_estimate_has_no_scale():
    gt = _curved_drive()
    still = np.repeat(np.eye(4)[None], len(gt), axis=0)
    aligned, scale = align_positions_sim3(gt, still)
    assert scale is None and np.allclose(aligned, gt[0, :3, 3])


def test_both_panels_are_drawn(tmp_path):
    from PIL import Image

    gt = _curved_drive()
    path = plot_trajectories(tmp_path / 'two.png', gt, {'odometry': gt},
                             unitless={'constant-forward': gt})
    with Image.open(path) as im:
        assert im.size == (1200, 600)
    with Image.open(plot_trajectory(tmp_path / 'one.png', gt, gt)) as im:
        assert im.size == (600, 600)


@pytest.mark.parametrize('estimates, unitless', [({}, None), ({'short': 'cut'}, None),
                                                 ({}, {'short': 'cut'})])
def test_estimates_that_do_not_fit_the_ground_truth_are_refused(tmp_path, estimates, unitless):
    gt = _curved_drive()
    for table in (estimates, unitless or {}):
        for name in table:
            table[name] = gt[:-1]
    with pytest.raises(InputError):
        plot_trajectories(tmp_path / 'x.png', gt, estimates, unitless=unitless)
    assert not (tmp_path / 'x.png').exists()
