"""OdometryChain: chaining, optical axes, REP 103 odometry at the edge, resets and gaps."""
import math

import numpy as np

from depth_ros.geometry.frames import BODY_FROM_OPTICAL, odom_from_optical_chain
from depth_ros.pipeline.odometry import Event, OdometryChain


SECOND = 1_000_000_000


def _forward(metres: float) -> np.ndarray:
    """previous_from_current for a camera moving `metres` along its optical axis (z)."""
    pose = np.eye(4)
    pose[2, 3] = metres
    return pose


def test_forward_motion_is_optical_z_and_odom_x():
    odom = OdometryChain(max_gap_ns=SECOND)
    assert odom.update(0, _forward).event is Event.START
    for i in range(1, 4):
        step = odom.update(i * SECOND // 10, lambda: _forward(0.5))
    assert step.event is Event.MOTION
    np.testing.assert_allclose(step.cam0_from_cam[:3, 3], [0, 0, 1.5], atol=1e-12)
    np.testing.assert_allclose(step.linear_velocity, [0, 0, 5.0])   # camera frame: z forward
    np.testing.assert_allclose(step.angular_velocity, [0, 0, 0])
    odom_from_cam = odom_from_optical_chain(step.cam0_from_cam)
    np.testing.assert_allclose(odom_from_cam[:3, 3], [1.5, 0, 0], atol=1e-12)
    # The camera looks along odom x: its optical z axis is odom x.
    np.testing.assert_allclose(odom_from_cam[:3, 2], [1, 0, 0], atol=1e-12)


def test_chaining_matches_matrix_product():
    rng = np.random.default_rng(0)
    odom = OdometryChain(max_gap_ns=SECOND)
    odom.update(0, lambda: None)
    expected = np.eye(4)
    for i in range(1, 6):
        angle = rng.uniform(-0.2, 0.2)
        rel = np.eye(4)
        rel[:3, :3] = [[math.cos(angle), 0, math.sin(angle)], [0, 1, 0],
                       [-math.sin(angle), 0, math.cos(angle)]]
        rel[:3, 3] = rng.normal(size=3)
        expected = expected @ rel
        step = odom.update(i * 1000, lambda rel=rel: rel)
    np.testing.assert_allclose(step.cam0_from_cam, expected, atol=1e-12)
    np.testing.assert_allclose(odom_from_optical_chain(step.cam0_from_cam),
                               BODY_FROM_OPTICAL @ expected, atol=1e-12)


def test_drifted_rotations_are_reorthonormalised():
    odom = OdometryChain(max_gap_ns=SECOND)
    odom.update(0, lambda: None)
    drifted = _forward(1.0)
    drifted[:3, :3] += 1e-4 * np.random.default_rng(1).normal(size=(3, 3))  # float32-like noise
    for i in range(1, 200):
        step = odom.update(i * 1000, lambda: drifted)
    rotation = step.cam0_from_cam[:3, :3]
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    assert abs(np.linalg.det(rotation) - 1) < 1e-12


def test_time_backwards_resets():
    odom = OdometryChain(max_gap_ns=SECOND)
    odom.update(10 * SECOND, lambda: None)
    odom.update(10 * SECOND + 1000, lambda: _forward(1.0))
    step = odom.update(5 * SECOND, lambda: _forward(99.0))
    assert step.event is Event.BACKWARDS and step.linear_velocity is None
    assert step.event.resets
    np.testing.assert_allclose(step.cam0_from_cam, np.eye(4))
    step = odom.update(5 * SECOND + 1000, lambda: _forward(2.0))
    np.testing.assert_allclose(step.cam0_from_cam[:3, 3], [0, 0, 2.0], atol=1e-12)


def test_gap_resets_without_measuring_and_repeat_changes_nothing():
    calls = []

    def rel():
        calls.append(1)
        return _forward(1.0)

    odom = OdometryChain(max_gap_ns=SECOND)
    odom.update(0, rel)
    odom.update(SECOND // 2, rel)
    assert odom.update(SECOND // 2, rel).event is Event.REPEAT
    step = odom.update(5 * SECOND, rel)
    assert step.event is Event.GAP and step.linear_velocity is None
    assert step.previous_from_current is None and step.event.resets
    np.testing.assert_allclose(step.cam0_from_cam, np.eye(4))  # a jump forward restarts
    assert len(calls) == 1
    step = odom.update(5 * SECOND + SECOND // 10, rel)
    np.testing.assert_allclose(step.cam0_from_cam[:3, 3], [0, 0, 1.0], atol=1e-12)
