"""Camera motion as base motion: constructed robot trajectories with a known camera mounting."""
import math

import numpy as np
import pytest

from depth_ros.geometry.frames import BODY_FROM_OPTICAL
from depth_ros.geometry.mounting import base_pose, base_twist, parse_mounting


def _pose(x=0.0, y=0.0, z=0.0, yaw=0.0):
    c, s = math.cos(yaw), math.sin(yaw)
    pose = np.eye(4)
    pose[:3, :3] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
    pose[:3, 3] = [x, y, z]
    return pose


# A forward camera 0.5 m ahead of and 1.2 m above base_link, tilted 10 degrees down.
MOUNT = '0.5 0 1.2 -1.5707963267948966 0.17453292519943295 -1.5707963267948966'


def test_optical_mounting_rpy_is_the_rep103_optical_rotation():
    # REP 103: camera_link -> camera_optical_frame is rpy (-pi/2, 0, -pi/2).
    mount = parse_mounting(f'0 0 0 {-math.pi / 2} 0 {-math.pi / 2}')
    np.testing.assert_allclose(mount, BODY_FROM_OPTICAL, atol=1e-12)


@pytest.mark.parametrize('text', ['', '1 2 3', '0 0 0 a b c', '0 0 0 0 0 nan'])
def test_malformed_mounting_is_refused(text):
    with pytest.raises(ValueError, match='x y z roll pitch yaw'):
        parse_mounting(text)


def test_camera_chain_becomes_the_base_trajectory():
    base_from_cam = parse_mounting(MOUNT)
    world_from_base = [_pose(), _pose(1.0, 0.2, 0.0, 0.3), _pose(2.5, 1.0, 0.0, 0.7)]
    world_from_cam = [w @ base_from_cam for w in world_from_base]
    for k in (1, 2):
        cam0_from_cam = np.linalg.inv(world_from_cam[0]) @ world_from_cam[k]
        np.testing.assert_allclose(base_pose(base_from_cam, cam0_from_cam),
                                   world_from_base[k], atol=1e-9)


def test_base_twist_is_in_the_base_frame():
    base_from_cam = parse_mounting(MOUNT)
    before, after = _pose(), _pose(2.0, 0.0, 0.0, 0.1)  # 2 m forward, 0.1 rad left in 0.5 s
    cam_motion = np.linalg.inv(before @ base_from_cam) @ (after @ base_from_cam)
    linear, angular = base_twist(base_from_cam, cam_motion, 0.5)
    # The displacement (2, 0, 0) expressed in the final base frame, per second.
    expected = _pose(yaw=0.1)[:3, :3].T @ np.array([2.0, 0.0, 0.0]) / 0.5
    np.testing.assert_allclose(linear, expected, atol=1e-9)
    np.testing.assert_allclose(angular, [0.0, 0.0, 0.2], atol=1e-9)
