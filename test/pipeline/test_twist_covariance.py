"""The odometry's twist covariance: the documented model in plain numbers for a forward and a
pitched camera, and which source gets which model (its coverage of real drives:
test/benchmarks/test_twist_noise.py)."""
import math

import numpy as np
import pytest

from depth_ros.geometry.mounting import parse_mounting
from depth_ros.pipeline.twist_noise import (
    CAMERA_HEIGHT_METRES,
    WEIGHTS_METRES,
    twist_noise,
)


FORWARD = parse_mounting('0 0 0 -1.5707963267948966 0 -1.5707963267948966')  # optical z = base x


def test_a_forward_camera_s_covariance_in_plain_numbers():
    covariance = CAMERA_HEIGHT_METRES.covariance(np.array([0.3, 0.0, 10.0]), 0.1, FORWARD)
    speed = math.hypot(0.3, 10.0)
    sideways = (0.04 * speed) ** 2 + 0.02 ** 2
    rate = (math.radians(0.05) / 0.1) ** 2
    np.testing.assert_allclose(covariance, np.diag(
        [(0.13 * speed) ** 2 + 0.02 ** 2, sideways, sideways, rate, rate, rate]), atol=1e-12)
    still = WEIGHTS_METRES.covariance(np.zeros(3), 0.05, FORWARD)  # a standing camera
    np.testing.assert_allclose(np.diag(still)[:3], [0.02 ** 2] * 3, atol=1e-15)
    assert np.diag(still)[3] == pytest.approx((math.radians(0.05) / 0.05) ** 2)


def test_a_pitched_camera_s_uncertain_axis_is_its_optical_axis_in_the_base():
    pitch = math.radians(10)  # pitched down: the optical axis points forward and down
    mount = parse_mounting(f'0 0 0 {-math.pi / 2 - pitch} 0 {-math.pi / 2}')
    linear = WEIGHTS_METRES.covariance(np.array([0.0, 0.0, 5.0]), 0.1, mount)[:3, :3]
    values, vectors = np.linalg.eigh(linear)
    axis = vectors[:, -1] * np.sign(vectors[0, -1])
    np.testing.assert_allclose(axis, [math.cos(pitch), 0.0, -math.sin(pitch)], atol=1e-9)
    np.testing.assert_allclose(values, sorted([(0.04 * 5) ** 2 + 0.02 ** 2] * 2
                                              + [(0.34 * 5) ** 2 + 0.02 ** 2]), rtol=1e-9)


def test_each_source_gets_its_model():
    assert twist_noise('epipolar', 'fixed') is WEIGHTS_METRES
    assert twist_noise('epipolar', 'none') is WEIGHTS_METRES
    assert twist_noise('epipolar', 'camera_height') is CAMERA_HEIGHT_METRES
    assert twist_noise('epipolar', 'tf') is CAMERA_HEIGHT_METRES
    assert twist_noise('posenet', 'camera_height') is None
    # A camera-height source falling back to `scale` publishes the weights' metres.
    assert twist_noise('epipolar', 'camera_height', from_ground=False) is WEIGHTS_METRES
    assert twist_noise('epipolar', 'tf', from_ground=False) is WEIGHTS_METRES
