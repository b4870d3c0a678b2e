"""sensor_msgs/PointCloud2 of a depth image: unorganised (height 1), little-endian float32
x, y, z and optionally the packed float32 `rgb` field PCL and RViz read.

Back-projection itself is `depth_ros.geometry.camera`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from depth_ros.errors import InputError
from depth_ros.geometry.camera import depth_to_point_grid
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.ros.codecs.image import check_rgb
from depth_ros.ros.codecs.types import MsgTypes, byte_array, copy_header


# sensor_msgs/PointField datatype constants (identical in every ROS 2 distribution).
POINT_FIELD_FLOAT32 = 7


def pack_rgb(rgb: np.ndarray) -> np.ndarray:
    """[N, 3] uint8 -> [N] float32 whose bits are 0x00RRGGBB, the `rgb` field PCL and RViz read."""
    rgb = np.asarray(rgb, dtype=np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    return packed.astype('<u4').view('<f4')


def unpack_rgb(packed: np.ndarray) -> np.ndarray:
    """Inverse of `pack_rgb`: [N] float32 -> [N, 3] uint8."""
    bits = np.asarray(packed, dtype='<f4').view('<u4')
    return np.stack([(bits >> 16) & 0xFF, (bits >> 8) & 0xFF, bits & 0xFF], -1).astype(np.uint8)


def depth_to_pointcloud(types: MsgTypes, depth_m: np.ndarray, intr: Intrinsics, header: Any,
                        rgb: np.ndarray | None = None, stride: int = 1) -> Any:
    """sensor_msgs/PointCloud2 of the valid depth pixels (unorganised, dense, little-endian).

    Args:
        depth_m: [H, W] metres; invalid pixels are skipped.
        intr: intrinsics of the depth image.
        header: the depth image's header (points are in its optical frame).
        rgb: optional [H, W, 3] uint8 colours of the same pixels, written as the packed `rgb`
            field (float32 at offset 12; point_step 16).
        stride: keep every `stride`-th row and column.
    """
    flat = depth_to_point_grid(depth_m, intr, stride).reshape(-1, 3)
    # Flat indices + take: several times faster than boolean indexing of [h, w, 3] arrays.
    keep = np.flatnonzero(np.isfinite(flat[:, 2]))
    names = ['x', 'y', 'z'] if rgb is None else ['x', 'y', 'z', 'rgb']
    points = np.empty((keep.size, len(names)), dtype='<f4')
    points[:, :3] = np.take(flat, keep, axis=0)
    if rgb is not None:
        rgb = check_rgb(rgb)
        if rgb.shape[:2] != (intr.height, intr.width):
            raise InputError(f'rgb shape {rgb.shape} does not match the depth image '
                             f'({intr.height}x{intr.width})')
        colours = np.ascontiguousarray(rgb[::stride, ::stride]).reshape(-1, 3)
        points[:, 3] = np.take(pack_rgb(colours), keep)
    fields = [types.PointField(name=n, offset=4 * i, datatype=POINT_FIELD_FLOAT32, count=1)
              for i, n in enumerate(names)]
    point_step = 4 * len(names)
    return types.PointCloud2(
        header=copy_header(types, header), height=1, width=int(points.shape[0]), fields=fields,
        is_bigendian=False, point_step=point_step, row_step=point_step * int(points.shape[0]),
        data=types.uint8_array(points), is_dense=True)


def pointcloud_to_arrays(msg: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Read x, y, z (and `rgb` if present) back from a float32 PointCloud2.

    Returns:
        ([N, 3] float32 points, [N, 3] uint8 colours or None), N = height * width.
    """
    offsets = {f.name: int(f.offset) for f in msg.fields if int(f.datatype) == POINT_FIELD_FLOAT32}
    if not {'x', 'y', 'z'} <= offsets.keys():
        raise InputError('PointCloud2 has no float32 x, y, z fields')
    order = '>' if msg.is_bigendian else '<'
    count = int(msg.height) * int(msg.width)
    data = byte_array(msg.data)[:count * int(msg.point_step)]
    records = data.reshape(count, int(msg.point_step))

    def column(name: str) -> np.ndarray:
        start = offsets[name]
        return np.ascontiguousarray(records[:, start:start + 4]).view(f'{order}f4')[:, 0]

    xyz = np.stack([column(n) for n in 'xyz'], axis=-1).astype(np.float32)
    rgb = unpack_rgb(column('rgb').astype('<f4')) if 'rgb' in offsets else None
    return xyz, rgb
