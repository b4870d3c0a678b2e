"""The camera-height scale applies a factor only when the filter trusts it (scale_min_confidence).

Constructed roads of known factor: a flat road gives full plane support and agreement, so the
filter's confidence is its frame count k / 5; frames whose roads disagree (alternately 2x and
0.5x the factor) drive the agreement, and so the confidence, to 0.
"""
import numpy as np
import pytest

from depth_ros.errors import ConfigError
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.inference.scale import CameraHeightScale
from depth_ros.pipeline.scale import Mounting, ScaleTracker
from depth_ros.pipeline.twist_noise import CAMERA_HEIGHT_METRES, WEIGHTS_METRES, twist_noise


INTR = Intrinsics(fx=200.0, fy=200.0, cx=160.0, cy=48.0, width=320, height=96)
MOUNTING = Mounting.from_pitch(1.65)
FACTOR = 3.0  # the depth is 3x too small


def road(factor: float) -> np.ndarray:
    """Depth of a flat road 1.65 m below the camera, divided by `factor`."""
    v = np.arange(INTR.height, dtype=np.float64)[:, None].repeat(INTR.width, 1)
    with np.errstate(divide='ignore'):
        depth = np.where(v > INTR.cy + 1, 1.65 * INTR.fy / (v - INTR.cy), np.nan)
    return depth / factor


def test_a_factor_is_applied_once_confident_enough():
    tracker = ScaleTracker('camera_height', scale=1.5, window=30, min_confidence=0.7)
    results = [tracker.update(road(FACTOR), INTR, MOUNTING) for _ in range(5)]
    # Confidence 0.2, 0.4, 0.6 (under 0.7): `scale`; then 0.8, 1.0: the road's factor.
    assert [r.confidence for r in results] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0], abs=1e-6)
    assert [r.factor for r in results[:3]] == [1.5] * 3
    assert not any(r.from_ground or r.held for r in results[:3])
    assert [r.factor for r in results[3:]] == pytest.approx([FACTOR] * 2, rel=1e-6)
    assert all(r.from_ground and not r.held for r in results[3:])


def test_an_unsure_factor_keeps_the_last_trusted_one():
    tracker = ScaleTracker('camera_height', scale=1.0, window=6, min_confidence=0.4)
    for _ in range(6):
        trusted = tracker.update(road(FACTOR), INTR, MOUNTING)
    assert trusted.factor == pytest.approx(FACTOR, rel=1e-6) and trusted.confidence == 1.0
    results = [tracker.update(road(FACTOR * (2.0 if i % 2 else 0.5)), INTR, MOUNTING)
               for i in range(6)]
    unsure = [r for r in results if r.confidence < 0.4]
    assert len(unsure) >= 3  # the window fills with disagreeing roads
    for r in unsure:
        assert r.held and r.from_ground and r.factor == pytest.approx(FACTOR, rel=1e-6)
    # The window holds only disagreeing roads now: the filter's factor is one of theirs.
    assert results[-1] in unsure
    assert results[-1].estimate.factor == pytest.approx(FACTOR * 0.5) or \
        results[-1].estimate.factor == pytest.approx(FACTOR * 2.0)
    # Without the gate the filter's factor is applied, whatever its confidence.
    ungated = ScaleTracker('camera_height', scale=1.0, window=6, min_confidence=0.0)
    for i in range(12):
        r = ungated.update(road(FACTOR if i < 6 else FACTOR * (2.0 if i % 2 else 0.5)), INTR,
                           MOUNTING)
    assert not r.held and r.factor == r.estimate.factor


def test_a_reset_forgets_the_trusted_factor():
    tracker = ScaleTracker('camera_height', scale=1.0, window=30, min_confidence=0.4)
    for _ in range(5):
        tracker.update(road(FACTOR), INTR, MOUNTING)
    tracker.reset()
    first = tracker.update(road(FACTOR), INTR, MOUNTING)  # confidence 0.2 again
    assert first.factor == 1.0 and not first.from_ground


def test_a_short_window_reaches_full_confidence():
    # The frame count term is out of min(5, window) frames: window 1 can still be trusted.
    est = CameraHeightScale(1.65, window=1)
    assert est.update(road(FACTOR), INTR).confidence == pytest.approx(1.0)
    tracker = ScaleTracker('camera_height', scale=1.0, window=2, min_confidence=0.4)
    assert tracker.update(road(FACTOR), INTR, MOUNTING).confidence == pytest.approx(0.5)


@pytest.mark.parametrize('bad', [-0.1, 1.5, float('nan')])
def test_min_confidence_outside_0_1_is_refused(bad):
    with pytest.raises(ConfigError, match='min_confidence'):
        ScaleTracker('camera_height', 1.0, 30, bad)
    with pytest.raises(ConfigError, match='min_confidence'):
        ScaleTracker('camera_height', 1.0, 30).set_min_confidence(bad)


def test_the_twist_covariance_follows_the_metres_applied():
    tracker = ScaleTracker('camera_height', scale=1.0, window=30)
    first = tracker.update(road(FACTOR), INTR, MOUNTING)  # untrusted: the weights' metres
    assert twist_noise('epipolar', 'camera_height', first.from_ground) is WEIGHTS_METRES
    for _ in range(4):
        later = tracker.update(road(FACTOR), INTR, MOUNTING)
    assert twist_noise('epipolar', 'camera_height', later.from_ground) is CAMERA_HEIGHT_METRES
