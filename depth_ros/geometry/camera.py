"""Pinhole back-projection on numpy arrays: the one place pixels become camera-frame points.

Pixel (u, v) is the integer column / row index, as in depth_image_proc and Monodepth2, and a
point at depth z along the optical axis (x right, y down, z forward) is

    X = z (u - cx) / fx,   Y = z (v - cy) / fy,   Z = z.

Used by the point cloud codec (`depth_ros.ros.codecs`) and the ground-plane fit
(`geometry.ground_plane`). The differentiable torch version for training is
`geometry.projection`.
"""
from __future__ import annotations

import numpy as np

from depth_ros.errors import InputError
from depth_ros.geometry.intrinsics import Intrinsics


def backproject_pixels(u: np.ndarray, v: np.ndarray, z: np.ndarray,
                       intr: Intrinsics) -> np.ndarray:
    """Camera-frame points of pixels (u, v) at depths z.

    Args:
        u, v: [...] pixel columns and rows (broadcastable with z).
        z: [...] depth along the optical axis; its float dtype is the result's.
        intr: intrinsics of the image the pixels belong to.

    Returns:
        [..., 3] points (x, y, z) in z's float dtype (float32 for integer z).
    """
    z = np.asarray(z)
    dtype = z.dtype if np.issubdtype(z.dtype, np.floating) else np.dtype(np.float32)
    z = z.astype(dtype, copy=False)
    x = (np.asarray(u, dtype=dtype) - dtype.type(intr.cx)) * z / dtype.type(intr.fx)
    y = (np.asarray(v, dtype=dtype) - dtype.type(intr.cy)) * z / dtype.type(intr.fy)
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def strided_intrinsics(intr: Intrinsics, stride: int) -> Intrinsics:
    """Intrinsics of `image[::stride, ::stride]`.

    Pixel u' of the strided image is pixel stride * u' of the original, so
    x = (stride u' - cx) / fx = (u' - cx / stride) / (fx / stride): f and c divide by the stride.
    """
    if int(stride) < 1:
        raise InputError(f'stride must be >= 1, got {stride}')
    s = int(stride)
    return Intrinsics(intr.fx / s, intr.fy / s, intr.cx / s, intr.cy / s,
                      -(-intr.width // s), -(-intr.height // s))


def depth_to_point_grid(depth_m: np.ndarray, intr: Intrinsics, stride: int = 1) -> np.ndarray:
    """Back-project every `stride`-th pixel of a depth image.

    Args:
        depth_m: [H, W] depth in metres along the optical axis; `intr` must describe H x W.
        intr: intrinsics of the depth image.
        stride: keep pixels whose row and column are multiples of `stride`.

    Returns:
        [ceil(H/stride), ceil(W/stride), 3] float32 camera-frame points; NaN where the depth is
        not finite and positive.
    """
    depth = np.asarray(depth_m, dtype=np.float32)
    if depth.ndim != 2 or depth.shape != (intr.height, intr.width):
        raise InputError(f'depth shape {depth.shape} does not match the intrinsics '
                         f'({intr.height}x{intr.width}); scale them with intr.scaled(w, h)')
    if int(stride) < 1:
        raise InputError(f'point cloud stride must be >= 1, got {stride}')
    z = depth[::stride, ::stride]
    v, u = np.meshgrid(np.arange(0, intr.height, stride, dtype=np.float32),
                       np.arange(0, intr.width, stride, dtype=np.float32), indexing='ij')
    z = np.where(np.isfinite(z) & (z > 0), z, np.float32(np.nan))
    return backproject_pixels(u, v, z, intr)


def depth_to_points(depth_m: np.ndarray, intr: Intrinsics, stride: int = 1) -> np.ndarray:
    """The valid points of `depth_to_point_grid`, row-major: [N, 3] float32."""
    grid = depth_to_point_grid(depth_m, intr, stride)
    return grid[np.isfinite(grid[..., 2])]
