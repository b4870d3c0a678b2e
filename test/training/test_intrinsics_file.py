"""Intrinsics files for custom data: pixel, normalised, JSON and ROS calibration forms."""
import json

import pytest

from depth_ros.errors import InputError
from training.data.intrinsics_file import read_intrinsics_file


def test_pixel_values_are_rescaled_to_the_frames(tmp_path):
    path = tmp_path / 'cam.yaml'
    path.write_text('fx: 500\nfy: 400\ncx: 320\ncy: 240\nwidth: 640\nheight: 480\n')
    k = read_intrinsics_file(path, 320, 240)
    assert (k.fx, k.fy, k.cx, k.cy, k.width, k.height) == (250, 200, 160, 120, 320, 240)


def test_normalised_json(tmp_path):
    path = tmp_path / 'cam.json'
    path.write_text(json.dumps({'normalized': True, 'fx': 0.5, 'fy': 1.0, 'cx': 0.5,
                                'cy': 0.25}))
    k = read_intrinsics_file(path, 100, 40)
    assert (k.fx, k.fy, k.cx, k.cy) == (50, 40, 50, 10)


def test_ros_camera_calibration(tmp_path):
    path = tmp_path / 'camera_info.yaml'
    path.write_text('image_width: 640\nimage_height: 480\ncamera_matrix:\n  rows: 3\n  cols: 3\n'
                    '  data: [520.9, 0, 325.1, 0, 521.0, 249.7, 0, 0, 1]\n')
    k = read_intrinsics_file(path, 640, 480)
    assert (k.fx, k.fy, k.cx, k.cy) == (520.9, 521.0, 325.1, 249.7)


@pytest.mark.parametrize('text,match', [
    ('fx: 1\nfy: 1\ncx: 1\n', 'missing cy'),
    ('fx: 500\nfy: 500\ncx: 320\ncy: 240\n', 'calibrated image size'),
    ('fx: 500\nfy: 500\ncx: 320\ncy: 240\nwidth: 640\nheight: 640\n', 'aspect ratio'),
    ('- 1\n- 2\n', 'mapping'),
    ('fx: [1\n', 'not valid'),
])
def test_bad_files(tmp_path, text, match):
    path = tmp_path / 'cam.yaml'
    path.write_text(text)
    with pytest.raises(InputError, match=match):
        read_intrinsics_file(path, 640, 480)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match='not found'):
        read_intrinsics_file(tmp_path / 'nope.yaml', 640, 480)
