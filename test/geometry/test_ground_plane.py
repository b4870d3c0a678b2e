"""Ground-plane fitting on constructed scenes with a known plane and camera height."""
import math

import numpy as np
import pytest

from depth_ros.geometry.ground_plane import fit_ground_plane
from depth_ros.geometry.intrinsics import Intrinsics


INTR = Intrinsics(fx=200.0, fy=200.0, cx=160.0, cy=48.0, width=320, height=96)


def plane_depth(intr: Intrinsics, height: float, pitch_down_deg: float = 0.0,
                far: float = np.inf) -> np.ndarray:
    """Depth of a flat ground `height` below a camera pitched down; sky (no hit) is NaN.

    A pixel's ray r = ((u-cx)/fx, (v-cy)/fy, 1) meets the plane n.X + h = 0 at z = -h / (n.r).
    """
    p = math.radians(pitch_down_deg)
    up = np.array([0.0, -math.cos(p), -math.sin(p)])
    vs, us = np.mgrid[0:intr.height, 0:intr.width].astype(np.float64)
    rays = np.stack([(us - intr.cx) / intr.fx, (vs - intr.cy) / intr.fy, np.ones_like(us)], -1)
    denom = rays @ up
    with np.errstate(divide='ignore', invalid='ignore'):
        z = np.where(denom < -1e-9, -height / denom, np.nan)
    z[z > far] = np.nan
    return z


@pytest.mark.parametrize('height,pitch', [(1.65, 0.0), (0.4, 3.0), (7.3, -2.0)])
def test_recovers_height_of_known_plane(height, pitch):
    from depth_ros.inference.scale import camera_pitch_up
    plane = fit_ground_plane(plane_depth(INTR, height, pitch), INTR, camera_pitch_up(pitch))
    assert plane is not None
    assert plane.distance == pytest.approx(height, rel=1e-6)
    assert plane.tilt_deg == pytest.approx(0.0, abs=1e-3)


def test_noise_and_clutter_do_not_move_the_plane():
    rng = np.random.default_rng(0)
    depth = plane_depth(INTR, 1.5) * (1 + 0.005 * rng.standard_normal((96, 320)))
    depth[70:, 40:90] = 6.0  # a fronto-parallel box standing on the road
    plane = fit_ground_plane(depth, INTR)
    assert plane is not None and plane.distance == pytest.approx(1.5, rel=0.02)


def test_a_wall_gives_no_plane():
    wall = np.full((96, 320), 4.0)  # fronto-parallel wall: its normal is the optical axis
    assert fit_ground_plane(wall, INTR) is None


def test_sky_only_gives_no_plane():
    assert fit_ground_plane(np.full((96, 320), np.nan), INTR) is None


def test_scale_invariance():
    base = plane_depth(INTR, 1.65)
    a = fit_ground_plane(base, INTR)
    b = fit_ground_plane(0.01 * base, INTR)
    assert b.distance == pytest.approx(0.01 * a.distance, rel=1e-6)


def test_height_along_the_prior_or_the_fitted_plane():
    from depth_ros.errors import ConfigError
    from depth_ros.geometry.ground_plane import PlaneFitConfig

    # The road tilts 4 degrees away from the mounting prior (a slope, or a mis-set pitch): the
    # fitted plane's distance is the true perpendicular height; measured along the prior, the
    # points' heights change with their distance along the slope, so the median is off.
    depth = plane_depth(INTR, 1.5, pitch_down_deg=4.0)
    fit = fit_ground_plane(depth, INTR, config=PlaneFitConfig(height_along='fit'))
    prior = fit_ground_plane(depth, INTR, config=PlaneFitConfig(height_along='prior'))
    assert fit.distance == pytest.approx(1.5, rel=1e-6)
    assert fit.tilt_deg == prior.tilt_deg == pytest.approx(4.0, abs=1e-3)
    assert abs(prior.distance / 1.5 - 1) > 0.05
    # On a plane that agrees with the prior, both give the height.
    level = plane_depth(INTR, 1.5)
    for mode in ('fit', 'prior'):
        plane = fit_ground_plane(level, INTR, config=PlaneFitConfig(height_along=mode))
        assert plane.distance == pytest.approx(1.5, rel=1e-6)
    with pytest.raises(ConfigError, match='height_along'):
        PlaneFitConfig(height_along='normal')
