"""Undistort raw camera images with OpenCV maps built once per calibration.

A camera_info of a raw image gives K, the distortion D of its model, the rectifying rotation R
and the projection P of the rectified image. The rectified image is what P projects: its
intrinsics are P[:3, :3] and it has no distortion, which is the camera_info published with it
(REP 104, image_pipeline's image_proc convention). OpenCV (`opencv-python-headless`) is imported
when the first map is built.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from depth_ros.errors import InputError


# camera_info distortion_model -> how the map is built.
PINHOLE_MODELS = ('plumb_bob', 'rational_polynomial')
FISHEYE_MODELS = ('equidistant',)


@dataclass(frozen=True)
class RawCamera:
    """The calibration of a raw image (sensor_msgs/CameraInfo fields as arrays).

    Attributes:
        width, height: image size in pixels.
        model: distortion_model ('plumb_bob', 'rational_polynomial', 'equidistant').
        k: [3, 3] intrinsics of the raw image.
        d: [N] distortion coefficients of `model`.
        r: [3, 3] rectifying rotation.
        p: [3, 4] projection of the rectified image.
    """

    width: int
    height: int
    model: str
    k: tuple[float, ...]
    d: tuple[float, ...]
    r: tuple[float, ...]
    p: tuple[float, ...]

    @classmethod
    def from_camera_info(cls, info: Any) -> RawCamera:
        """From a sensor_msgs/CameraInfo (any message library with lowercase k/d/r/p)."""
        r = [float(v) for v in info.r]
        if not any(r):  # an all-zero R means 'no rectifying rotation' (monocular drivers)
            r = [1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0]
        return cls(int(info.width), int(info.height), str(info.distortion_model),
                   tuple(float(v) for v in info.k), tuple(float(v) for v in info.d), tuple(r),
                   tuple(float(v) for v in info.p))

    def rectified(self) -> dict[str, Any]:
        """Fields of the rectified image's camera_info: K from P, D = 0, R = I, P kept."""
        p = np.array(self.p, dtype=np.float64).reshape(3, 4)
        return {'width': self.width, 'height': self.height, 'distortion_model': 'plumb_bob',
                'd': [0.0] * 5, 'k': p[:, :3].reshape(-1).tolist(),
                'r': np.eye(3).reshape(-1).tolist(), 'p': p.reshape(-1).tolist()}


class Rectifier:
    """Undistorts images of one camera; the maps are rebuilt only when the calibration changes."""

    def __init__(self) -> None:
        self._camera: RawCamera | None = None
        self._maps: tuple[np.ndarray, np.ndarray] | None = None
        self.map_builds = 0

    def rectify(self, image: np.ndarray, camera: RawCamera) -> np.ndarray:
        """The rectified image.

        Args:
            image: [H, W] or [H, W, C] raw image of `camera`'s size, any dtype OpenCV remaps.
            camera: its calibration.

        Returns:
            [H, W(, C)] image on the grid of camera.p, same dtype (bilinear interpolation).

        Raises:
            InputError: the image size differs from the calibration's, or the model is unknown.
        """
        import cv2

        if image.shape[:2] != (camera.height, camera.width):
            raise InputError(f'image is {image.shape[1]}x{image.shape[0]} but its camera_info '
                             f'is {camera.width}x{camera.height}: cannot rectify')
        if camera != self._camera:
            self._maps = build_maps(camera)
            self._camera = camera
            self.map_builds += 1
        return cv2.remap(image, self._maps[0], self._maps[1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT)


def build_maps(camera: RawCamera) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV remap tables (fixed-point CV_16SC2 + interpolation table) from raw to rectified."""
    import cv2

    k = np.array(camera.k, dtype=np.float64).reshape(3, 3)
    r = np.array(camera.r, dtype=np.float64).reshape(3, 3)
    new_k = np.array(camera.p, dtype=np.float64).reshape(3, 4)[:, :3]
    d = np.array(camera.d, dtype=np.float64)
    size = (camera.width, camera.height)
    if camera.model in PINHOLE_MODELS or (not camera.model and not d.any()):
        return cv2.initUndistortRectifyMap(k, d, r, new_k, size, cv2.CV_16SC2)
    if camera.model in FISHEYE_MODELS:
        d4 = np.zeros(4) if d.size == 0 else d[:4]
        return cv2.fisheye.initUndistortRectifyMap(k, d4.reshape(4, 1), r, new_k, size,
                                                   cv2.CV_16SC2)
    raise InputError(f"cannot rectify distortion_model '{camera.model}': expected one of "
                     f"{', '.join(PINHOLE_MODELS + FISHEYE_MODELS)}")
