"""sensor_msgs/Image and CameraInfo <-> numpy arrays and Intrinsics.

Depth images are REP 118: 32FC1 little-endian metres, NaN where invalid (16UC1 millimetres are
read too).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from depth_ros.errors import InputError
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.ros.codecs.types import MsgTypes, byte_array, copy_header


# encoding -> (channels, numpy dtype of one channel).
_IMAGE_LAYOUTS = {
    'rgb8': (3, np.uint8),
    'bgr8': (3, np.uint8),
    'rgba8': (4, np.uint8),
    'bgra8': (4, np.uint8),
    'mono8': (1, np.uint8),
    'mono16': (1, np.uint16),
    '32FC1': (1, np.float32),
    '16UC1': (1, np.uint16),
}
RGB_ENCODINGS = ('rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'mono16')
DEPTH_ENCODINGS = ('32FC1', '16UC1')


def image_to_array(msg: Any) -> np.ndarray:
    """Pixels of a sensor_msgs/Image as [H, W, C] in the encoding's own dtype and channel order.

    Rows padded beyond `width * bytes per pixel` (step larger than needed) are handled; the
    byte order follows `is_bigendian`.

    Raises:
        InputError: unsupported encoding, zero size, a step too small, or data shorter than
            step * height.
    """
    encoding = str(msg.encoding)
    if encoding not in _IMAGE_LAYOUTS:
        raise InputError(f"unsupported image encoding '{encoding}': expected one of "
                         f"{', '.join(_IMAGE_LAYOUTS)}; republish the camera in one of them")
    channels, dtype = _IMAGE_LAYOUTS[encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise InputError(f'empty image ({width}x{height}, encoding {encoding})')
    row_bytes = width * channels * np.dtype(dtype).itemsize
    if step < row_bytes:
        raise InputError(f'image step {step} is smaller than width * bytes per pixel = '
                         f'{row_bytes} for a {width}x{height} {encoding} image')
    data = byte_array(msg.data)
    if data.size < step * height:
        raise InputError(f'image data has {data.size} bytes, expected step * height = '
                         f'{step * height} for a {width}x{height} {encoding} image')
    rows = np.ascontiguousarray(data[:step * height].reshape(height, step)[:, :row_bytes])
    order = '>' if int(msg.is_bigendian) else '<'
    return rows.view(np.dtype(dtype).newbyteorder(order)).astype(dtype).reshape(
        height, width, channels)


def image_to_rgb(msg: Any, mono16_max: int = 65535) -> np.ndarray:
    """Convert a sensor_msgs/Image in any of `RGB_ENCODINGS` to RGB.

    Args:
        msg: the image (rclpy or rosbags message).
        mono16_max: the mono16 value shown as white: 65535 for full-range cameras, 4095 for a
            12-bit sensor. A fixed scale, not per-frame normalisation, keeps brightness constant
            across frames, which the pose network relies on.

    Returns:
        [H, W, 3] uint8 RGB, C-contiguous.

    Raises:
        InputError: see `image_to_array`; depth encodings are refused too.
    """
    if msg.encoding not in RGB_ENCODINGS:
        raise InputError(f"unsupported colour encoding '{msg.encoding}': expected one of "
                         f"{', '.join(RGB_ENCODINGS)}")
    pixels = image_to_array(msg)
    if msg.encoding == 'mono16':
        scaled = pixels.astype(np.float32) * (255.0 / max(int(mono16_max), 1))
        pixels = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    if msg.encoding in ('mono8', 'mono16'):
        rgb = np.repeat(pixels, 3, axis=2)
    elif msg.encoding in ('bgr8', 'bgra8'):
        rgb = pixels[..., 2::-1]
    else:
        rgb = pixels[..., :3]
    return np.ascontiguousarray(rgb)


def rgb_to_image(types: MsgTypes, rgb: np.ndarray, header: Any, encoding: str = 'rgb8') -> Any:
    """Build a sensor_msgs/Image from [H, W, 3] uint8 RGB in any of `RGB_ENCODINGS`.

    Alpha is written as 255; mono encodings use BT.601 luma (mono16 scales 255 to 65535).
    """
    rgb = check_rgb(rgb)
    if encoding == 'rgb8':
        pixels = rgb
    elif encoding == 'bgr8':
        pixels = rgb[..., ::-1]
    elif encoding in ('rgba8', 'bgra8'):
        alpha = np.full(rgb.shape[:2] + (1,), 255, dtype=np.uint8)
        colour = rgb if encoding == 'rgba8' else rgb[..., ::-1]
        pixels = np.concatenate([colour, alpha], axis=2)
    elif encoding in ('mono8', 'mono16'):
        luma = np.rint(rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))
        pixels = luma.astype(np.uint8) if encoding == 'mono8' else (luma * 257).astype('<u2')
    else:
        raise InputError(f"cannot write encoding '{encoding}': expected one of "
                         f"{', '.join(RGB_ENCODINGS)}")
    return _image_msg(types, np.ascontiguousarray(pixels), header, encoding)


def depth_to_image(types: MsgTypes, depth_m: np.ndarray, header: Any) -> Any:
    """Build a REP 118 depth image: 32FC1 little-endian metres, NaN where invalid.

    Args:
        depth_m: [H, W] depth in metres; non-finite and non-positive values are written as NaN.
    """
    depth = np.asarray(depth_m, dtype=np.float32)
    if depth.ndim != 2 or depth.size == 0:
        raise InputError(f'depth must be a non-empty [H, W] array, got shape {depth.shape}')
    depth = depth.astype('<f4')  # a copy: NaN is written into it below
    valid = (depth > 0) & (depth < np.inf)  # False for NaN, inf and <= 0
    if not valid.all():
        depth[~valid] = np.nan
    return _image_msg(types, depth, header, '32FC1')


def image_to_depth(msg: Any) -> np.ndarray:
    """[H, W] float32 metres (NaN invalid) from a 32FC1 (metres) or 16UC1 (millimetres) image."""
    if msg.encoding not in DEPTH_ENCODINGS:
        raise InputError(f"unsupported depth encoding '{msg.encoding}': expected 32FC1 (metres) "
                         'or 16UC1 (millimetres)')
    values = image_to_array(msg)[..., 0]
    if msg.encoding == '16UC1':
        return np.where(values > 0, values.astype(np.float32) / 1000.0, np.float32(np.nan))
    return values.astype(np.float32)


def check_rgb(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or rgb.size == 0:
        raise InputError(f'expected a non-empty [H, W, 3] uint8 RGB array, got shape {rgb.shape} '
                         f'dtype {rgb.dtype}')
    return rgb


def _image_msg(types: MsgTypes, pixels: np.ndarray, header: Any, encoding: str) -> Any:
    height, width = pixels.shape[:2]
    return types.Image(
        header=copy_header(types, header), height=int(height), width=int(width),
        encoding=encoding, is_bigendian=0, step=int(pixels.nbytes // height),
        data=types.uint8_array(pixels))


def camera_info_to_intrinsics(msg: Any) -> Intrinsics:
    """Intrinsics of the image a sensor_msgs/CameraInfo describes, with ROI and binning applied.

    P (the rectified projection) is preferred over K when set, as image_geometry does.
    """
    roi = msg.roi
    return Intrinsics.from_camera_info(
        int(msg.width), int(msg.height), [float(v) for v in msg.k], [float(v) for v in msg.p],
        binning_x=int(msg.binning_x), binning_y=int(msg.binning_y),
        roi=(int(roi.x_offset), int(roi.y_offset), int(roi.width), int(roi.height)))


def intrinsics_to_camera_info(types: MsgTypes, intr: Intrinsics, header: Any) -> Any:
    """sensor_msgs/CameraInfo of an undistorted pinhole image (the published depth image).

    plumb_bob with zero distortion, R = I, P = [K | 0]; no binning or ROI, since `intr` already
    describes the published resolution.
    """
    k = intr.matrix()
    p = np.hstack([k, np.zeros((3, 1))])
    roi = types.RegionOfInterest(x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
    return types.CameraInfo(
        header=copy_header(types, header), height=int(intr.height), width=int(intr.width),
        distortion_model='plumb_bob', d=types.float64_array([0.0] * 5),
        k=types.float64_array(k), r=types.float64_array(np.eye(3)), p=types.float64_array(p),
        binning_x=0, binning_y=0, roi=roi)
