"""Pinhole camera intrinsics: construction, scaling to a network input, cropping, parsing.

Scaling follows Monodepth2's convention (normalise K by the image size, multiply by the new
size): fx' = fx * W'/W and cx' = cx * W'/W, so the networks see the geometry they were trained on.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import os

import numpy as np

from depth_ros.errors import InputError


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics in pixels for an image of `width` x `height`."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise InputError(f'image size must be positive, got {self.width}x{self.height}')
        values = [self.fx, self.fy, self.cx, self.cy]
        if not all(np.isfinite(values)) or self.fx == 0 or self.fy == 0:
            raise InputError(
                f'invalid intrinsics fx={self.fx} fy={self.fy} cx={self.cx} cy={self.cy}: '
                'focal lengths must be finite and non-zero'
            )

    @classmethod
    def from_matrix(cls, k: np.ndarray | Sequence, width: int, height: int) -> Intrinsics:
        """From a 3x3 or 4x4 (or 3x4 projection) matrix in pixels."""
        k = np.asarray(k, dtype=np.float64)
        if k.shape not in ((3, 3), (4, 4), (3, 4)):
            raise InputError(f'intrinsics matrix must be 3x3, 3x4 or 4x4, got shape {k.shape}')
        return cls(float(k[0, 0]), float(k[1, 1]), float(k[0, 2]), float(k[1, 2]),
                   int(width), int(height))

    @classmethod
    def from_normalized(cls, k: np.ndarray | Sequence, width: int, height: int) -> Intrinsics:
        """From intrinsics normalised by image size (Monodepth2's K, fx/W etc.)."""
        k = np.asarray(k, dtype=np.float64)
        return cls(float(k[0, 0]) * width, float(k[1, 1]) * height,
                   float(k[0, 2]) * width, float(k[1, 2]) * height, int(width), int(height))

    @classmethod
    def from_camera_info(cls, width: int, height: int, k: Sequence[float], p: Sequence[float] = (),
                         binning_x: int = 0, binning_y: int = 0,
                         roi: tuple[int, int, int, int] | None = None) -> Intrinsics:
        """From sensor_msgs/CameraInfo fields, with binning and ROI applied like image_geometry.

        Args:
            width, height: full-resolution image size from CameraInfo.
            k: the 9 row-major K entries; `p` (12 entries) is preferred when non-zero, since it
                describes the rectified image the depth network sees.
            binning_x, binning_y: 0 or 1 mean no binning.
            roi: (x_offset, y_offset, roi_width, roi_height); zeros/None mean the full image.
        """
        p = list(p)
        use_p = len(p) == 12 and any(abs(v) > 0 for v in p)
        if use_p:
            fx, cx, fy, cy = p[0], p[2], p[5], p[6]
        elif len(k) == 9:
            fx, cx, fy, cy = k[0], k[2], k[4], k[5]
        else:
            raise InputError(f'CameraInfo K must have 9 entries, got {len(k)}')
        if fx == 0 or fy == 0:
            raise InputError('CameraInfo has an all-zero K and P: the camera is not calibrated')
        intr = cls(float(fx), float(fy), float(cx), float(cy), int(width), int(height))
        if roi is not None and roi[2] > 0 and roi[3] > 0:
            intr = intr.cropped(roi[0], roi[1], roi[2], roi[3])
        bx, by = max(binning_x, 1), max(binning_y, 1)
        if bx > 1 or by > 1:
            intr = Intrinsics(intr.fx / bx, intr.fy / by, intr.cx / bx, intr.cy / by,
                              intr.width // bx, intr.height // by)
        return intr

    def scaled(self, width: int, height: int) -> Intrinsics:
        """Intrinsics of the same view resized to `width` x `height` (Monodepth2 convention)."""
        sx, sy = width / self.width, height / self.height
        return Intrinsics(self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy,
                          int(width), int(height))

    def cropped(self, x0: int, y0: int, width: int, height: int) -> Intrinsics:
        """Intrinsics of the crop whose top-left corner is (x0, y0)."""
        return Intrinsics(self.fx, self.fy, self.cx - x0, self.cy - y0, int(width), int(height))

    def matrix(self, homogeneous: bool = False) -> np.ndarray:
        """K as 3x3, or 4x4 with a unit bottom-right block (Monodepth2's layout) if homogeneous."""
        k = np.eye(4 if homogeneous else 3)
        k[0, 0], k[1, 1], k[0, 2], k[1, 2] = self.fx, self.fy, self.cx, self.cy
        return k

    def normalized(self) -> np.ndarray:
        """4x4 K divided by the image size (fx/W, fy/H, cx/W, cy/H)."""
        k = self.matrix(homogeneous=True)
        k[0, :3] /= self.width
        k[1, :3] /= self.height
        return k


def read_kitti_calib(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Parse a KITTI calibration file into {key: array}.

    Works for odometry `calib.txt` (P0..P3, Tr) and raw `calib_cam_to_cam.txt` /
    `calib_velo_to_cam.txt`; non-numeric fields (calib_time) are skipped.
    """
    if not os.path.isfile(path):
        raise InputError(f'calibration file not found: {path}')
    out: dict[str, np.ndarray] = {}
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.read().splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f'{path} is not a text calibration file (byte {exc.start} is not '
                         'UTF-8)') from None
    for line in lines:
        if ':' not in line:
            continue
        key, value = line.split(':', 1)
        try:
            out[key.strip()] = np.array([float(v) for v in value.split()], dtype=np.float64)
        except ValueError:
            continue
    if not out:
        raise InputError(f'no calibration entries found in {path}')
    return out


def kitti_intrinsics(calib_path: str | os.PathLike, camera: int, width: int,
                     height: int) -> Intrinsics:
    """Intrinsics of KITTI camera `camera` (0-3) from an odometry calib.txt or raw cam_to_cam file.

    Uses the rectified projection P{camera} (odometry) or P_rect_0{camera} (raw).
    """
    calib = read_kitti_calib(calib_path)
    for key in (f'P{camera}', f'P_rect_0{camera}'):
        if key in calib:
            if calib[key].size != 12:
                raise InputError(f'{calib_path}: {key} has {calib[key].size} values, expected 12')
            return Intrinsics.from_matrix(calib[key].reshape(3, 4), width, height)
    raise InputError(f'{calib_path} has no projection matrix for camera {camera} '
                     f'(looked for P{camera} and P_rect_0{camera})')
