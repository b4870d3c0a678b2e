"""Rectification: dots placed by the distortion models' own equations land where P projects them.

The raw images are synthesised with the plumb_bob (Brown-Conrady) and equidistant (Kannala-
Brandt) forward equations written here in numpy, independently of OpenCV, which the module uses
to invert them.
"""
from types import SimpleNamespace

import numpy as np
import pytest


cv2 = pytest.importorskip('cv2')

from depth_ros.errors import InputError  # noqa: E402
from depth_ros.geometry.rectify import RawCamera, Rectifier  # noqa: E402


WIDTH, HEIGHT = 640, 480
K = np.array([[480.0, 0, 322.0], [0, 470.0, 236.0], [0, 0, 1]])
# Rectified grid: a slightly smaller focal length keeps the distorted field of view inside.
P = np.array([[400.0, 0, 318.0, 0], [0, 400.0, 242.0, 0], [0, 0, 1, 0]])
TARGETS = [(320, 240), (100, 80), (560, 90), (90, 400), (540, 420), (320, 60), (600, 250)]


def _plumb_bob(x, y, d):
    k1, k2, p1, p2, k3 = d
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    return (x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x),
            y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y)


def _equidistant(x, y, d):
    r = np.hypot(x, y)
    theta = np.arctan(r)
    theta_d = theta * (1 + d[0] * theta**2 + d[1] * theta**4 + d[2] * theta**6
                       + d[3] * theta**8)
    scale = theta_d / r if r > 1e-12 else 1.0
    return x * scale, y * scale


def _raw_image(distort, d):
    """Gaussian dots at the raw pixels that image the rectified TARGETS."""
    v, u = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    image = np.zeros((HEIGHT, WIDTH), dtype=np.float64)
    for ur, vr in TARGETS:
        x, y = (ur - P[0, 2]) / P[0, 0], (vr - P[1, 2]) / P[1, 1]
        xd, yd = distort(x, y, d)
        uu, vv = K[0, 0] * xd + K[0, 2], K[1, 1] * yd + K[1, 2]
        image += np.exp(-((u - uu) ** 2 + (v - vv) ** 2) / (2 * 1.2**2))
    return (np.clip(image, 0, 1) * 60000).astype(np.uint16)


def _camera(model, d):
    info = SimpleNamespace(width=WIDTH, height=HEIGHT, distortion_model=model, k=K.reshape(-1),
                           d=list(d), r=[0.0] * 9, p=P.reshape(-1))
    return RawCamera.from_camera_info(info)


def _centroid(image, ur, vr, half=6):
    patch = image[vr - half:vr + half + 1, ur - half:ur + half + 1].astype(np.float64)
    v, u = np.mgrid[-half:half + 1, -half:half + 1]
    return ur + (patch * u).sum() / patch.sum(), vr + (patch * v).sum() / patch.sum()


@pytest.mark.parametrize('model, distort, d', [
    ('plumb_bob', _plumb_bob, [-0.28, 0.09, 0.0012, -0.0008, -0.01]),
    ('equidistant', _equidistant, [0.05, -0.02, 0.004, -0.001]),
])
def test_dots_land_on_the_rectified_grid(model, distort, d):
    rectified = Rectifier().rectify(_raw_image(distort, d), _camera(model, d))
    for ur, vr in TARGETS:
        u, v = _centroid(rectified, ur, vr)
        assert abs(u - ur) < 0.3 and abs(v - vr) < 0.3, (model, (ur, vr), (u, v))


def test_colour_images_keep_shape_and_dtype():
    rgb = np.random.default_rng(0).integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    out = Rectifier().rectify(rgb, _camera('plumb_bob', [0.0] * 5))
    assert out.shape == rgb.shape and out.dtype == np.uint8


def test_maps_are_built_once_per_calibration():
    rectifier = Rectifier()
    image = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    camera = _camera('plumb_bob', [-0.2, 0.05, 0, 0, 0])
    for _ in range(3):
        rectifier.rectify(image, camera)
    assert rectifier.map_builds == 1
    rectifier.rectify(image, _camera('plumb_bob', [-0.1, 0.05, 0, 0, 0]))
    assert rectifier.map_builds == 2


def test_rectified_camera_info_has_no_distortion_and_k_from_p():
    fields = _camera('plumb_bob', [-0.2, 0.05, 0, 0, 0]).rectified()
    assert fields['d'] == [0.0] * 5
    np.testing.assert_allclose(np.reshape(fields['k'], (3, 3)), P[:, :3])
    np.testing.assert_allclose(np.reshape(fields['r'], (3, 3)), np.eye(3))


def test_size_mismatch_and_unknown_model_are_input_errors():
    with pytest.raises(InputError, match='cannot rectify'):
        Rectifier().rectify(np.zeros((10, 10), np.uint8), _camera('plumb_bob', [0.0] * 5))
    with pytest.raises(InputError, match='distortion_model'):
        Rectifier().rectify(np.zeros((HEIGHT, WIDTH), np.uint8), _camera('weird', [0.1]))
