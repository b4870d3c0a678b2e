"""Axis-angle poses (torch) and rigid transforms (numpy)."""
import math

import numpy as np
import pytest
import torch

from depth_ros.errors import InputError
from depth_ros.geometry import se3
from depth_ros.geometry.poses import axis_angle_to_matrix, invert_rigid, pose_from_parameters


def test_pose_matrix_matches_layers_reference(md2_reference):
    d = np.load(md2_reference / 'layers_io.npz')
    m = pose_from_parameters(torch.from_numpy(d['pose_axisangle']),
                             torch.from_numpy(d['pose_translation']))
    np.testing.assert_allclose(m.numpy(), d['pose_matrix'], atol=1e-5)


@pytest.mark.parametrize('invert,key', [(False, 'pose_matrix'), (True, 'pose_matrix_inverted')])
def test_pose_matrix_matches_network_reference(md2_reference, invert, key):
    d = np.load(md2_reference / 'networks_io.npz')
    m = pose_from_parameters(torch.from_numpy(d['pose_axisangle'][:, 0]),
                             torch.from_numpy(d['pose_translation'][:, 0]), invert=invert)
    np.testing.assert_allclose(m.numpy(), d[key], atol=1e-5)


def test_quarter_turn_about_z_known_value():
    r = axis_angle_to_matrix(torch.tensor([[0.0, 0.0, math.pi / 2]], dtype=torch.float64))
    expected = np.array([[0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    np.testing.assert_allclose(r[0].numpy(), expected, atol=1e-7)


def test_zero_rotation_is_identity():
    r = axis_angle_to_matrix(torch.zeros(3, 1, 3))
    np.testing.assert_allclose(r.numpy(), np.broadcast_to(np.eye(4), (3, 4, 4)), atol=1e-7)


def test_inverted_parameters_give_inverse_matrix():
    torch.manual_seed(0)
    aa, t = torch.randn(5, 1, 3, dtype=torch.float64), torch.randn(5, 1, 3, dtype=torch.float64)
    fwd = pose_from_parameters(aa, t)
    inv = pose_from_parameters(aa, t, invert=True)
    # The 1e-7 added to the angle (Monodepth2's) leaves R orthonormal to ~1e-7 only.
    np.testing.assert_allclose((fwd @ inv).numpy(), np.broadcast_to(np.eye(4), (5, 4, 4)),
                               atol=1e-6)
    np.testing.assert_allclose(invert_rigid(fwd).numpy(), inv.numpy(), atol=1e-10)


def test_numpy_invert_matches_general_inverse_and_round_trips():
    rng = np.random.default_rng(1)
    rot = se3.quaternion_to_rotation(rng.normal(size=(4, 4)))
    m = se3.from_rotation_translation(rot, rng.normal(size=(4, 3)))
    np.testing.assert_allclose(se3.invert(m), np.linalg.inv(m), atol=1e-12)
    np.testing.assert_allclose(se3.invert(se3.invert(m)), m, atol=1e-12)


def test_quaternion_round_trip_and_known_value():
    q = se3.rotation_to_quaternion(np.diag([1.0, -1.0, -1.0]))  # 180 deg about x
    np.testing.assert_allclose(np.abs(q), [1, 0, 0, 0], atol=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        q = q if q[3] >= 0 else -q
        np.testing.assert_allclose(se3.rotation_to_quaternion(se3.quaternion_to_rotation(q)), q,
                                   atol=1e-10)


def test_half_rotation_squares_back_and_halves_the_angle():
    """Known values (30 degrees about y -> 15; 180 about x -> 90) and, for random rotations,
    the half applied twice is the rotation, about the same axis by half the angle."""
    def about(axis, degrees):  # Rodrigues' formula
        x, y, z = np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis)
        k, angle = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]]), math.radians(degrees)
        return np.eye(3) + math.sin(angle) * k + (1.0 - math.cos(angle)) * k @ k
    np.testing.assert_allclose(se3.half_rotation(about([0.0, 1.0, 0.0], 30.0)),
                               about([0.0, 1.0, 0.0], 15.0), atol=1e-12)
    np.testing.assert_allclose(se3.half_rotation(np.diag([1.0, -1.0, -1.0])),
                               about([1.0, 0.0, 0.0], 90.0), atol=1e-12)
    np.testing.assert_array_equal(se3.half_rotation(np.eye(3)), np.eye(3))
    rng = np.random.default_rng(1)
    for _ in range(20):
        axis = rng.normal(size=3)
        axis /= np.linalg.norm(axis)
        angle = rng.uniform(0.0, 179.0)
        rotation, half = about(axis, angle), se3.half_rotation(about(axis, angle))
        np.testing.assert_allclose(half @ half, rotation, atol=1e-10)
        np.testing.assert_allclose(half, about(axis, angle / 2), atol=1e-10)


def test_check_rigid_rejects_nan_and_scaled_rotation():
    good = np.eye(4)
    se3.check_rigid(good)
    bad = np.eye(4)
    bad[0, 0] = 2.0
    with pytest.raises(InputError, match='not a rigid'):
        se3.check_rigid(bad)
    nan = np.eye(4)
    nan[1, 3] = np.nan
    with pytest.raises(InputError, match='NaN'):
        se3.check_rigid(nan)
