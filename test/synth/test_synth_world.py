"""The synthetic world's depth, poses and images agree with geometry computed independently."""
from __future__ import annotations

import numpy as np
import pytest

from depth_ros.errors import ConfigError
from depth_ros.geometry import se3
from depth_ros.synth import make_world, render_sequence, synth_intrinsics


def test_intrinsics_follow_monodepth2_kitti_convention():
    k = synth_intrinsics(640, 192)
    assert (k.fx, k.fy, k.cx, k.cy) == pytest.approx((371.2, 368.64, 320.0, 96.0))


def test_trajectory_is_car_like(drive):
    world, _, _ = drive
    traj = world.trajectory
    poses = traj.world_from_cam
    se3.check_rigid(poses, tol=1e-9)
    np.testing.assert_array_equal(poses[0], np.eye(4))
    np.testing.assert_allclose(np.diff(traj.times_s), 0.1)
    assert traj.speed_mps.min() >= 5.0 and traj.speed_mps.max() <= 12.0
    step = np.linalg.norm(np.diff(poses[:, :3, 3], axis=0), axis=1)
    np.testing.assert_allclose(step, 0.1 * traj.speed_mps[:-1], rtol=0.1)
    # Fixed mount on a flat road: no height change, no pitch or roll; yaw changes gently.
    np.testing.assert_allclose(poses[:, 1, 3], 0.0, atol=1e-12)
    np.testing.assert_allclose(poses[:, 1, :3], [[0.0, 1.0, 0.0]] * len(poses), atol=1e-12)
    yaw = np.arctan2(poses[:, 0, 2], poses[:, 2, 2])
    assert np.abs(np.diff(yaw)).max() < 0.02  # rad per 0.1 s
    # The camera looks along its motion (no sideways drift beyond the turn).
    heading = np.diff(poses[:, :3, 3], axis=0)
    forward = poses[:-1, :3, 2]
    cos = np.sum(heading * forward, axis=1) / np.linalg.norm(heading, axis=1)
    assert cos.min() > 0.999


def test_road_depth_matches_the_ground_plane(drive):
    """Pixels just ahead in the lane see the road: z = h fy / (v - cy) at zero pitch."""
    world, _, frames = drive
    k, h = world.intrinsics, world.scene.camera_height_m
    rows = np.arange(k.height)
    z_plane = np.where(rows > k.cy, h * k.fy / np.maximum(rows - k.cy, 1e-9), 1e9)
    cols = np.arange(k.width)
    lateral = np.abs((cols - k.cx) / k.fx)[None, :] * z_plane[:, None]  # metres from the axis
    region = (z_plane < 12.0)[:, None] & (lateral < 0.8)
    assert region.sum() > 200
    for frame in frames:
        expected = np.broadcast_to(z_plane[:, None], region.shape)[region]
        np.testing.assert_allclose(frame.depth_m[region], expected, rtol=1e-5)


def test_raised_camera_sees_the_road_farther(drive):
    """Rendering from an arbitrary pose: 1 m higher, the plane depth scales with h + 1."""
    world, renderer, _ = drive
    pose = world.trajectory.world_from_cam[3].copy()
    pose[1, 3] -= 1.0  # y points down
    _, depth = renderer.render_pose(pose)
    k, h = world.intrinsics, world.scene.camera_height_m + 1.0
    v = np.arange(int(k.cy) + 25, k.height)
    np.testing.assert_allclose(depth[v, int(k.cx)], h * k.fy / (v - k.cy), rtol=1e-5)


def test_depth_and_pose_are_photometrically_consistent(drive, warp_error):
    """Warping frame t+1 into frame t with t's depth and the relative pose reproduces frame t."""
    world, _, frames = drive
    k = world.intrinsics.matrix()
    for t in range(0, len(frames) - 1, 2):
        a, b = frames[t], frames[t + 1]
        s_from_t = se3.invert(b.world_from_cam) @ a.world_from_cam
        err, frac = warp_error(a.rgb, a.depth_m, b.rgb, b.depth_m, k, s_from_t)
        assert frac > 0.8
        assert np.median(err) < 3.0, np.median(err)
        assert np.mean(err < 10.0) > 0.9
        # Controls: ignoring the motion, or scaling the depth, breaks the agreement, so the
        # textures carry the signal the photometric loss needs.
        err_still, _ = warp_error(a.rgb, a.depth_m, b.rgb, b.depth_m, k, np.eye(4))
        err_scaled, _ = warp_error(a.rgb, 1.3 * a.depth_m, b.rgb, 1.3 * b.depth_m, k, s_from_t)
        assert np.median(err_still) > 3 * np.median(err)
        assert np.median(err_scaled) > 2 * np.median(err)


def test_sky_is_invalid_and_scene_is_textured(drive):
    world, _, frames = drive
    half = world.intrinsics.height // 2
    for frame in frames:
        depth, grey = frame.depth_m, frame.rgb.astype(np.float64).mean(axis=2)
        assert np.isfinite(depth).all() and depth.min() >= 0.0
        sky = depth == 0
        assert 0.02 < sky.mean() < 0.5
        assert not sky[half + 5:].any()  # nothing but ground below the horizon
        # Local contrast: most non-sky 5x5 patches have texture (gradient signal).
        patches = np.lib.stride_tricks.sliding_window_view(grey, (5, 5))
        textured = patches.std(axis=(2, 3)) > 2.0
        solid = ~np.lib.stride_tricks.sliding_window_view(sky, (5, 5)).any(axis=(2, 3))
        assert textured[solid].mean() > 0.85


def test_same_seed_same_frames_and_longer_drives_extend_shorter_ones():
    short = list(render_sequence(9, 3, 160, 48))
    long = list(render_sequence(9, 5, 160, 48))
    for a, b in zip(short, long):
        np.testing.assert_array_equal(a.rgb, b.rgb)
        np.testing.assert_array_equal(a.depth_m, b.depth_m)
        np.testing.assert_array_equal(a.world_from_cam, b.world_from_cam)
    other = next(render_sequence(10, 3, 160, 48))
    assert np.abs(other.rgb.astype(int) - short[0].rgb).mean() > 10


@pytest.mark.parametrize('kwargs', [dict(frames=0), dict(width=8), dict(height=100000),
                                    dict(camera_height_m=-1.0), dict(seed=-3)])
def test_bad_parameters_raise_config_error(kwargs):
    args = dict(seed=1, frames=2, width=160, height=48) | kwargs
    with pytest.raises(ConfigError):
        make_world(**args)


def test_supersampling_averages_a_finer_render_and_keeps_the_centre_depth():
    """k x k rays per pixel: the colours are the block means of a render k times finer whose
    centre rays are the pixels' rays (built here from the intrinsics by hand), and the depth is
    the one-ray render's, exactly."""
    from dataclasses import replace

    from depth_ros.geometry.intrinsics import Intrinsics
    from depth_ros.synth import Renderer

    world, k = make_world(5, 3, 160, 48), 3
    i = world.intrinsics
    fine = replace(world, intrinsics=Intrinsics(i.fx * k, i.fy * k, i.cx * k + 1, i.cy * k + 1,
                                                i.width * k, i.height * k))
    one, averaged, finer = Renderer(world, 1).frame(2), Renderer(world, k).frame(2), \
        Renderer(fine, 1).frame(2)
    block_mean = finer.rgb.reshape(48, k, 160, k, 3).astype(np.float64).mean(axis=(1, 3))
    np.testing.assert_array_equal(averaged.rgb, np.round(block_mean).astype(np.uint8))
    np.testing.assert_array_equal(averaged.depth_m, one.depth_m)
    np.testing.assert_array_equal(finer.depth_m[1::k, 1::k], one.depth_m)
    # Surfaces keep nearly their colour; silhouettes get the in-between colours one ray lacks.
    difference = np.abs(averaged.rgb.astype(int) - one.rgb).max(axis=2)
    assert np.median(difference) <= 8 and difference.max() > 40
    via_sequence = list(render_sequence(5, 3, 160, 48, supersample=k))[2]
    np.testing.assert_array_equal(via_sequence.rgb, averaged.rgb)


@pytest.mark.parametrize('supersample', [0, 2, 11, True])
def test_supersampling_needs_an_odd_count_of_rays(supersample):
    from depth_ros.synth import Renderer

    with pytest.raises(ConfigError, match='supersample'):
        Renderer(make_world(5, 2, 160, 48), supersample)
