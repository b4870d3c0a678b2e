"""Intrinsics: scaling, cropping, CameraInfo (binning, ROI), KITTI calibration files."""
import numpy as np
import pytest

from depth_ros.errors import InputError
from depth_ros.geometry.intrinsics import Intrinsics, kitti_intrinsics, read_kitti_calib


def test_scaling_round_trip_and_normalised_form():
    k = Intrinsics(721.5, 721.5, 609.6, 172.9, 1242, 375)
    s = k.scaled(640, 192)
    np.testing.assert_allclose(s.normalized(), k.normalized(), atol=1e-12)
    back = s.scaled(1242, 375)
    np.testing.assert_allclose([back.fx, back.fy, back.cx, back.cy],
                               [k.fx, k.fy, k.cx, k.cy], rtol=1e-12)
    assert Intrinsics.from_normalized(k.normalized(), 1242, 375) == k


def test_from_matrix_accepts_3x3_3x4_4x4():
    k3 = np.array([[500.0, 0, 320], [0, 510, 240], [0, 0, 1]])
    p = np.hstack([k3, np.zeros((3, 1))])
    k4 = np.eye(4)
    k4[:3, :3] = k3
    for m in (k3, p, k4):
        assert Intrinsics.from_matrix(m, 640, 480) == Intrinsics(500, 510, 320, 240, 640, 480)
    with pytest.raises(InputError):
        Intrinsics.from_matrix(np.eye(2), 640, 480)


def test_camera_info_roi_and_binning():
    k = [500.0, 0, 320, 0, 500, 240, 0, 0, 1]
    full = Intrinsics.from_camera_info(640, 480, k)
    assert (full.fx, full.cx, full.width) == (500, 320, 640)
    roi = Intrinsics.from_camera_info(640, 480, k, roi=(100, 50, 200, 100))
    assert (roi.cx, roi.cy, roi.width, roi.height) == (220, 190, 200, 100)
    binned = Intrinsics.from_camera_info(640, 480, k, binning_x=2, binning_y=2)
    assert (binned.fx, binned.cx, binned.width, binned.height) == (250, 160, 320, 240)


def test_camera_info_prefers_projection_matrix():
    k = [500.0, 0, 320, 0, 500, 240, 0, 0, 1]
    p = [480.0, 0, 310, 0, 0, 481, 235, 0, 0, 0, 1, 0]
    intr = Intrinsics.from_camera_info(640, 480, k, p)
    assert (intr.fx, intr.fy, intr.cx, intr.cy) == (480, 481, 310, 235)


def test_uncalibrated_camera_info_is_rejected():
    with pytest.raises(InputError, match='not calibrated'):
        Intrinsics.from_camera_info(640, 480, [0.0] * 9, [0.0] * 12)


def test_crop_moves_principal_point():
    k = Intrinsics(100, 100, 50, 40, 100, 80).cropped(10, 5, 60, 50)
    assert (k.cx, k.cy, k.width, k.height) == (40, 35, 60, 50)


def test_kitti_calib_parsing(shared_data, tmp_path):
    # The values are read off the files by eye (KITTI odometry 06 'P0: 7.070912000000e+02 0 ...
    # 6.018873000000e+02 ...'; raw 2011_09_26 'P_rect_02: 7.215377e+02 0 6.095593e+02 ...'),
    # not produced by the parser under test.
    calib = shared_data / 'kitti_odometry' / 'sequences' / '06' / 'calib.txt'
    intr = kitti_intrinsics(calib, 0, 1226, 370)
    assert (intr.fx, intr.fy, intr.cx, intr.cy) == (707.0912, 707.0912, 601.8873, 183.1104)
    assert read_kitti_calib(calib)['P1'][3] == -379.8145  # the stereo baseline term, fx * b
    raw = shared_data / 'kitti_raw' / '2011_09_26_calib' / '2011_09_26' / 'calib_cam_to_cam.txt'
    rect = kitti_intrinsics(raw, 2, 1242, 375)
    assert (rect.fx, rect.cx, rect.cy) == (721.5377, 609.5593, 172.854)
    (tmp_path / 'c.txt').write_text('P0: 1 2 3\n')
    with pytest.raises(InputError, match='expected 12'):
        kitti_intrinsics(tmp_path / 'c.txt', 0, 10, 10)
    with pytest.raises(InputError, match='not found'):
        read_kitti_calib(tmp_path / 'missing.txt')
