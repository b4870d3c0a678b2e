"""Road coordinates, noise invariants and scene layout of the synthetic world."""
from __future__ import annotations

import numpy as np

from depth_ros.synth import make_world
from depth_ros.synth.noise import NoiseTable
from depth_ros.synth.road import CurvatureProfile, Road


def test_road_coordinates_round_trip():
    profile = CurvatureProfile((1 / 150, 1 / 400), (2 * np.pi / 300, 2 * np.pi / 520), (0.3, 2.0))
    road = Road(profile, -50.0, 900.0, start_offset_m=1.75)
    rng = np.random.default_rng(0)
    s = rng.uniform(0.0, 800.0, 2000)
    d = rng.uniform(-30.0, 30.0, 2000)
    x, z = road.point(s, d)
    rc = road.to_road(x, z, s + rng.uniform(-2.0, 2.0, s.size), iterations=6)
    np.testing.assert_allclose(rc.s, s, atol=1e-6)
    np.testing.assert_allclose(rc.d, d, atol=1e-6)
    # Heading: the direction of a short chord of the centreline is the heading at its middle.
    cx, cz = road.point(s, 0.0)
    ax, az = road.point(s + 2.0, 0.0)
    np.testing.assert_allclose(np.arctan2(ax - cx, az - cz), road.heading(s + 1.0), atol=1e-4)


def test_noise_at_a_point_does_not_depend_on_its_batch():
    """Brightness constancy: a surface point's texture is a function of the point alone."""
    noise = NoiseTable(4)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-50, 3000, 5000), rng.uniform(-20, 20, 5000)
    fp = np.exp(rng.uniform(np.log(0.003), np.log(5.0), 5000)).astype(np.float32)
    whole = noise.fbm(x, y, fp, 4.0, 9, gain=0.8)
    order = rng.permutation(5000)
    part = noise.fbm(x[order[:700]], y[order[:700]], fp[order[:700]], 4.0, 9, gain=0.8)
    np.testing.assert_array_equal(part, whole[order[:700]])
    assert np.abs(whole).max() <= 0.5
    # Detail finer than the footprint fades out: a huge footprint sees only the mean.
    np.testing.assert_array_equal(noise.fbm(x, y, np.full(x.shape, 100.0), 4.0, 9), 0.0)


def test_camera_stays_in_its_lane_and_the_lane_is_free():
    world = make_world(6, 300, 160, 48)
    road, objs = world.scene.road, world.scene.objects
    poses = world.trajectory.world_from_cam
    rc = road.to_road(poses[:, 0, 3], poses[:, 2, 3], world.trajectory.arc_m, iterations=6)
    np.testing.assert_allclose(rc.d, 0.5 * road.layout.lane_width_m, atol=1e-6)
    # Every object's footprint keeps clear of the driving lane (with the car's half width).
    corners = np.array([[sx, sz] for sx in (-1, 1) for sz in (-1, 1)], dtype=np.float64)
    c, s = np.cos(objs.yaw), np.sin(objs.yaw)
    lx = corners[:, 0][None] * objs.half[:, None, 0]
    lz = corners[:, 1][None] * objs.half[:, None, 2]
    x = objs.centre[:, None, 0] + c[:, None] * lx + s[:, None] * lz
    z = objs.centre[:, None, 2] - s[:, None] * lx + c[:, None] * lz
    d = road.to_road(x.ravel(), z.ravel(), np.repeat(objs.arc, 4), iterations=6).d
    assert np.all(np.abs(d - 0.5 * road.layout.lane_width_m) > 1.6)
    assert len(objs) > 100
