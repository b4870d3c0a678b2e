"""Decode sensor_msgs/CompressedImage (image_transport 'compressed': JPEG or PNG) with OpenCV.

image_transport's compressed publisher writes `format` as '<encoding>; <jpeg|png> compressed
<codec encoding>' (for example 'bgr8; jpeg compressed bgr8'); older bags hold just 'jpeg'.
Colour images come out RGB; a 16-bit grey PNG stays 16-bit (mono16).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from depth_ros.errors import InputError


def decode_compressed(msg: Any) -> tuple[np.ndarray, str]:
    """Pixels of a CompressedImage.

    Args:
        msg: sensor_msgs/CompressedImage (`format`, `data`).

    Returns:
        (pixels, encoding): [H, W, 3] uint8 with 'rgb8', [H, W] uint8 with 'mono8', or [H, W]
        uint16 with 'mono16'.

    Raises:
        InputError: an empty payload, or bytes OpenCV cannot decode.
    """
    import cv2

    data = np.frombuffer(_payload(msg.data), dtype=np.uint8)
    if data.size == 0:
        raise InputError('compressed image has no data')
    pixels = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise InputError(f"cannot decode compressed image (format '{msg.format}', "
                         f'{data.size} bytes): not JPEG or PNG')
    if pixels.ndim == 2:
        return pixels, 'mono16' if pixels.dtype == np.uint16 else 'mono8'
    if pixels.dtype != np.uint8:
        raise InputError(f'compressed colour image of {pixels.dtype}: only 8-bit is supported')
    code = cv2.COLOR_BGRA2RGB if pixels.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return cv2.cvtColor(pixels, code), 'rgb8'


def compressed_to_image(types: Any, msg: Any) -> Any:
    """A sensor_msgs/Image with the decoded pixels and the same header.

    Args:
        types: object with an `Image` message class (rclpy's sensor_msgs.msg or `MsgTypes`).
        msg: the CompressedImage.
    """
    pixels, encoding = decode_compressed(msg)
    pixels = np.ascontiguousarray(pixels)
    if pixels.dtype == np.uint16:
        pixels = pixels.astype('<u2')
    height, width = pixels.shape[:2]
    return types.Image(header=msg.header, height=height, width=width, encoding=encoding,
                       is_bigendian=0, step=pixels.strides[0], data=pixels.tobytes())


def _payload(data: Any) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, np.ndarray):
        return data.astype(np.uint8, copy=False).tobytes()
    return bytes(bytearray(data))  # rclpy's array.array('B') or a list of ints
