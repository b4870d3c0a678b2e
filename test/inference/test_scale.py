"""Camera-height scale: recovered factor on constructed scenes, no factor without ground."""
import numpy as np
import pytest

from depth_ros.errors import ConfigError
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.inference.scale import (
    TILT_ZERO_DEG,
    CameraHeightScale,
    camera_pitch_up,
    tilt_weight,
)


INTR = Intrinsics(fx=200.0, fy=200.0, cx=160.0, cy=48.0, width=320, height=96)


def ground(height: float) -> np.ndarray:
    vs = np.arange(96, dtype=np.float64)[:, None].repeat(320, 1)
    with np.errstate(divide='ignore'):
        z = np.where(vs > INTR.cy + 1, height * INTR.fy / (vs - INTR.cy), np.nan)
    return z


def test_factor_turns_unscaled_depth_into_metres():
    est = CameraHeightScale(camera_height_m=1.65)
    true_scale = 3.7  # the network predicts depth 3.7x too small
    out = est.update(ground(1.65 / true_scale), INTR)
    assert out.frame_factor == pytest.approx(true_scale, rel=1e-6)
    assert out.factor == pytest.approx(true_scale, rel=1e-6)


def test_outlier_frames_do_not_move_the_filtered_factor():
    est = CameraHeightScale(camera_height_m=1.65, window=15)
    rng = np.random.default_rng(1)
    for i in range(12):
        h = 0.5 if i != 6 else 0.9  # one frame with a wrong plane
        est.update(ground(h) * (1 + 0.002 * rng.standard_normal((96, 320))), INTR)
    out = est.update(ground(0.5), INTR)
    assert out.factor == pytest.approx(3.3, rel=0.01)
    assert out.confidence > 0.5


def test_no_ground_gives_no_factor_not_a_wrong_one():
    est = CameraHeightScale(camera_height_m=1.2)
    out = est.update(np.full((96, 320), 5.0), INTR)
    assert out.factor is None and out.frame_factor is None and out.confidence == 0.0
    est.update(ground(0.6), INTR)
    out = est.update(np.full((96, 320), 5.0), INTR)
    assert out.frame_factor is None and out.factor == pytest.approx(2.0, rel=1e-6)


def test_invalid_height_is_refused():
    with pytest.raises(ConfigError):
        CameraHeightScale(camera_height_m=0.0)


@pytest.mark.parametrize('tilt_deg, weight', [(3.0, 1.0), (7.0, 1.0), (10.0, 0.5), (12.0, 1 / 6)])
def test_a_plane_tilted_from_the_mounting_counts_less(tilt_deg, weight):
    """A level road seen with the mounting's up pitched by `tilt_deg`: the fitted plane is
    tilted by that much from the expected up, and five frames of it give a confidence of its
    weight (support 1, agreement 1) instead of 1."""
    est = CameraHeightScale(camera_height_m=1.65, prior_up=camera_pitch_up(tilt_deg))
    for _ in range(5):
        out = est.update(ground(0.5), INTR)
    assert out.plane.tilt_deg == pytest.approx(tilt_deg, abs=0.05)
    assert tilt_weight(out.plane.tilt_deg) == pytest.approx(weight, abs=0.01)
    assert out.confidence == pytest.approx(weight, abs=0.01)


def test_a_plane_tilted_past_the_limit_is_left_out():
    est = CameraHeightScale(camera_height_m=1.65, prior_up=camera_pitch_up(TILT_ZERO_DEG + 1))
    out = est.update(ground(0.5), INTR)
    assert out.frame_factor is not None  # the fit found it ...
    assert out.factor is None and out.confidence == 0.0  # ... the filter does not use it
