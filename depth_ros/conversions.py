"""Pure conversions between numpy arrays and ROS 2 messages, for rclpy and rosbags alike.

Nothing here imports ROS at module level. Every builder takes a `MsgTypes` naming the message
classes: `MsgTypes.from_typestore()` gives rosbags' dataclasses (writing and reading bags offline),
`MsgTypes.from_rclpy()` the generated rclpy classes (the node). Both accept keyword construction of
every field; the only difference, how a uint8[] / float64[] field wants its data, is held in the
`MsgTypes` too. Readers (`image_to_rgb`, `camera_info_to_intrinsics`, ...) take either kind of
message as it is.

Conventions: depth images are REP 118 (32FC1 in metres, NaN where invalid, little-endian); point
clouds are unorganised (height 1) with float32 x, y, z and optionally the packed float32 `rgb`
field PCL and RViz read; poses are 4x4 `target_from_source` arrays; stamps are integer nanoseconds.

Writing a bag message with rosbags:

    types = MsgTypes.from_typestore(typestore)
    msg = depth_to_image(types, depth_m, make_header(types, stamp_ns, 'camera'))
    writer.write(connection, stamp_ns, typestore.serialize_cdr(msg, msg.__msgtype__))
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import functools
import math
from typing import Any

import numpy as np

from depth_ros.errors import InputError
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.geometry.se3 import check_rigid, quaternion_to_rotation, rotation_to_quaternion


# Attribute of MsgTypes -> full ROS type name.
MESSAGES = {
    'Time': 'builtin_interfaces/msg/Time',
    'Header': 'std_msgs/msg/Header',
    'Image': 'sensor_msgs/msg/Image',
    'CameraInfo': 'sensor_msgs/msg/CameraInfo',
    'RegionOfInterest': 'sensor_msgs/msg/RegionOfInterest',
    'PointCloud2': 'sensor_msgs/msg/PointCloud2',
    'PointField': 'sensor_msgs/msg/PointField',
    'Odometry': 'nav_msgs/msg/Odometry',
    'TransformStamped': 'geometry_msgs/msg/TransformStamped',
    'Transform': 'geometry_msgs/msg/Transform',
    'Vector3': 'geometry_msgs/msg/Vector3',
    'Quaternion': 'geometry_msgs/msg/Quaternion',
    'Point': 'geometry_msgs/msg/Point',
    'Pose': 'geometry_msgs/msg/Pose',
    'PoseWithCovariance': 'geometry_msgs/msg/PoseWithCovariance',
    'Twist': 'geometry_msgs/msg/Twist',
    'TwistWithCovariance': 'geometry_msgs/msg/TwistWithCovariance',
    'Float64MultiArray': 'std_msgs/msg/Float64MultiArray',
    'MultiArrayLayout': 'std_msgs/msg/MultiArrayLayout',
    'MultiArrayDimension': 'std_msgs/msg/MultiArrayDimension',
}

# sensor_msgs/PointField datatype constants (identical in every ROS 2 distribution).
POINT_FIELD_FLOAT32 = 7

# Variance written for a quantity the node cannot estimate (m^2, rad^2, (m/s)^2, (rad/s)^2). A
# diagonal this large tells fusion filters (robot_localization) the value carries no information,
# which is honest for monocular pose-network odometry that reports no uncertainty of its own.
UNKNOWN_VARIANCE = 1.0e6

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

# Rotation taking camera optical axes (x right, y down, z forward) to REP 103 body axes
# (x forward, y left, z up): body_from_optical.
BODY_FROM_OPTICAL = np.array([[0.0, 0.0, 1.0, 0.0],
                              [-1.0, 0.0, 0.0, 0.0],
                              [0.0, -1.0, 0.0, 0.0],
                              [0.0, 0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class MsgTypes:
    """The message classes the builders construct, plus how array fields want their data.

    Attributes are named like the messages (`types.Image(...)`). `uint8_array` turns a contiguous
    numpy array into what a uint8[] field accepts (its raw bytes); `float64_array` turns a sequence
    of numbers into what a float64[] / float64[N] field accepts.
    """

    Time: type
    Header: type
    Image: type
    CameraInfo: type
    RegionOfInterest: type
    PointCloud2: type
    PointField: type
    Odometry: type
    TransformStamped: type
    Transform: type
    Vector3: type
    Quaternion: type
    Point: type
    Pose: type
    PoseWithCovariance: type
    Twist: type
    TwistWithCovariance: type
    Float64MultiArray: type
    MultiArrayLayout: type
    MultiArrayDimension: type
    uint8_array: Callable[[np.ndarray], Any]
    float64_array: Callable[[Sequence[float] | np.ndarray], Any]

    @classmethod
    def from_typestore(cls, typestore: Any = None) -> MsgTypes:
        """rosbags message dataclasses; `typestore` defaults to ROS 2 Humble's."""
        if typestore is None:
            from rosbags.typesys import Stores, get_typestore
            typestore = get_typestore(Stores.ROS2_HUMBLE)
        classes = {attr: typestore.types[name] for attr, name in MESSAGES.items()}
        return cls(**classes, uint8_array=numpy_bytes,
                   float64_array=lambda v: np.asarray(v, dtype=np.float64).reshape(-1))


def numpy_bytes(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values).reshape(-1).view(np.uint8)


# ---------------------------------------------------------------------------------------------
# Time and headers


def stamp_to_ns(stamp: Any) -> int:
    """Nanoseconds since the epoch of a builtin_interfaces/Time (`sec`, `nanosec`)."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def ns_to_stamp(types: MsgTypes, stamp_ns: int) -> Any:
    """builtin_interfaces/Time of `stamp_ns` nanoseconds (sec is int32, so 1901..2038)."""
    sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
    if not -2**31 <= sec < 2**31:
        raise InputError(f'stamp {stamp_ns} ns does not fit builtin_interfaces/Time (int32 sec)')
    return types.Time(sec=sec, nanosec=nanosec)


def make_header(types: MsgTypes, stamp_ns: int, frame_id: str) -> Any:
    """std_msgs/Header with the given stamp and frame."""
    return types.Header(stamp=ns_to_stamp(types, stamp_ns), frame_id=str(frame_id))


def copy_header(types: MsgTypes, header: Any) -> Any:
    """A new Header of `types` equal to `header` (which may come from another message library)."""
    return make_header(types, stamp_to_ns(header.stamp), header.frame_id)


# ---------------------------------------------------------------------------------------------
# Images


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
    data = _byte_array(msg.data)
    if data.size < step * height:
        raise InputError(f'image data has {data.size} bytes, expected step * height = '
                         f'{step * height} for a {width}x{height} {encoding} image')
    rows = np.ascontiguousarray(data[:step * height].reshape(height, step)[:, :row_bytes])
    order = '>' if int(msg.is_bigendian) else '<'
    return rows.view(np.dtype(dtype).newbyteorder(order)).astype(dtype).reshape(
        height, width, channels)


def _byte_array(data: Any) -> np.ndarray:
    """uint8 view of a uint8[] field: bytes, array.array (rclpy), ndarray (rosbags) or a list."""
    if isinstance(data, (list, tuple)):
        return np.asarray(data, dtype=np.uint8)
    return np.frombuffer(data, dtype=np.uint8)


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
    rgb = _check_rgb(rgb)
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


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
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


# ---------------------------------------------------------------------------------------------
# Camera info


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


# ---------------------------------------------------------------------------------------------
# Point clouds


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
    """Back-project every `stride`-th pixel: X = z (u - cx) / fx, Y = z (v - cy) / fy, Z = z.

    Pixel (u, v) is the integer column/row index, as in depth_image_proc and Monodepth2.

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
    x = (u - np.float32(intr.cx)) * z / np.float32(intr.fx)
    y = (v - np.float32(intr.cy)) * z / np.float32(intr.fy)
    return np.stack([x, y, z], axis=-1)


def depth_to_points(depth_m: np.ndarray, intr: Intrinsics, stride: int = 1) -> np.ndarray:
    """The valid points of `depth_to_point_grid`, row-major: [N, 3] float32."""
    grid = depth_to_point_grid(depth_m, intr, stride)
    return grid[np.isfinite(grid[..., 2])]


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
        rgb = _check_rgb(rgb)
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
    data = _byte_array(msg.data)[:count * int(msg.point_step)]
    records = data.reshape(count, int(msg.point_step))

    def column(name: str) -> np.ndarray:
        start = offsets[name]
        return np.ascontiguousarray(records[:, start:start + 4]).view(f'{order}f4')[:, 0]

    xyz = np.stack([column(n) for n in 'xyz'], axis=-1).astype(np.float32)
    rgb = unpack_rgb(column('rgb').astype('<f4')) if 'rgb' in offsets else None
    return xyz, rgb


# ---------------------------------------------------------------------------------------------
# Poses: odometry and TF


def covariance_6x6(variances: Sequence[float] | np.ndarray | None) -> np.ndarray:
    """Row-major 36-vector covariance from 6 variances, a full 6x6, or None (all unknown)."""
    if variances is None:
        return (np.eye(6) * UNKNOWN_VARIANCE).reshape(-1)
    values = np.asarray(variances, dtype=np.float64)
    if values.shape == (6,):
        return np.diag(values).reshape(-1)
    if values.shape in ((6, 6), (36,)):
        return values.reshape(-1).copy()
    raise InputError(f'covariance must be 6 variances or a 6x6 matrix, got shape {values.shape}')


def pose_to_msg(types: MsgTypes, target_from_source: np.ndarray) -> Any:
    """geometry_msgs/Pose of a 4x4 rigid transform."""
    m = _check_pose(target_from_source)
    t = m[:3, 3]
    return types.Pose(position=types.Point(x=float(t[0]), y=float(t[1]), z=float(t[2])),
                      orientation=_quaternion(types, m))


def msg_to_pose(pose: Any) -> np.ndarray:
    """4x4 float64 from a geometry_msgs/Pose or a geometry_msgs/Transform."""
    t = pose.position if hasattr(pose, 'position') else pose.translation
    q = pose.orientation if hasattr(pose, 'orientation') else pose.rotation
    m = np.eye(4)
    m[:3, :3] = quaternion_to_rotation([q.x, q.y, q.z, q.w])
    m[:3, 3] = [t.x, t.y, t.z]
    return m


def pose_to_odometry(types: MsgTypes, world_from_body: np.ndarray, header: Any,
                     child_frame_id: str, pose_covariance: Any = None,
                     linear_velocity: Sequence[float] | None = None,
                     angular_velocity: Sequence[float] | None = None,
                     twist_covariance: Any = None) -> Any:
    """nav_msgs/Odometry of a pose in `header.frame_id`, velocities in `child_frame_id`.

    Args:
        world_from_body: 4x4 pose of the child frame in the header's frame.
        pose_covariance, twist_covariance: 6 variances or 6x6 (x, y, z, roll, pitch, yaw);
            None writes `UNKNOWN_VARIANCE` on the diagonal.
        linear_velocity, angular_velocity: m/s and rad/s in the child frame; None writes zeros
            and an unknown twist covariance.
    """
    if linear_velocity is None or angular_velocity is None:
        linear_velocity, angular_velocity, twist_covariance = (0.0,) * 3, (0.0,) * 3, None
    twist = types.Twist(linear=_vector3(types, linear_velocity),
                        angular=_vector3(types, angular_velocity))
    return types.Odometry(
        header=copy_header(types, header), child_frame_id=str(child_frame_id),
        pose=types.PoseWithCovariance(
            pose=pose_to_msg(types, world_from_body),
            covariance=types.float64_array(covariance_6x6(pose_covariance))),
        twist=types.TwistWithCovariance(
            twist=twist, covariance=types.float64_array(covariance_6x6(twist_covariance))))


def odometry_to_pose(msg: Any) -> np.ndarray:
    """4x4 float64 pose of the child frame in the header's frame from a nav_msgs/Odometry."""
    return msg_to_pose(msg.pose.pose)


def pose_to_transform_stamped(types: MsgTypes, parent_from_child: np.ndarray, header: Any,
                              child_frame_id: str) -> Any:
    """geometry_msgs/TransformStamped (for /tf) from `header.frame_id` to `child_frame_id`."""
    m = _check_pose(parent_from_child)
    return types.TransformStamped(
        header=copy_header(types, header), child_frame_id=str(child_frame_id),
        transform=types.Transform(translation=_vector3(types, m[:3, 3]),
                                  rotation=_quaternion(types, m)))


def relative_pose_to_twist(previous_from_current: np.ndarray,
                           dt_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean linear (m/s) and angular (rad/s) velocity over `dt_s`, in the current frame.

    The displacement t of `previous_from_current` is rotated into the current frame (R^T t) and
    the rotation is turned into its axis-angle vector; both are divided by the interval.
    """
    m = _check_pose(previous_from_current)
    if not dt_s > 0:
        raise InputError(f'time step must be positive to compute a velocity, got {dt_s} s')
    rotation = m[:3, :3]
    x, y, z, w = rotation_to_quaternion(rotation)
    half_angle = math.atan2(math.sqrt(x * x + y * y + z * z), w)
    scale = 2.0 * half_angle / math.sin(half_angle) if half_angle > 1e-9 else 2.0
    linear = rotation.T @ m[:3, 3] / dt_s
    angular = scale * np.array([x, y, z]) / dt_s
    return linear, angular


def _check_pose(target_from_source: np.ndarray) -> np.ndarray:
    m = np.asarray(target_from_source, dtype=np.float64)
    check_rigid(m)
    return m


def _vector3(types: MsgTypes, values: Sequence[float]) -> Any:
    x, y, z = (float(v) for v in values)
    return types.Vector3(x=x, y=y, z=z)


def _quaternion(types: MsgTypes, m: np.ndarray) -> Any:
    x, y, z, w = (float(v) for v in rotation_to_quaternion(m[:3, :3]))
    return types.Quaternion(x=x, y=y, z=z, w=w)


# ---------------------------------------------------------------------------------------------
# Visualisation

# Polynomial fit of Google's Turbo colour map (A. Mikhailov, 2019; fit by R. Du), per channel
# c(x) = sum_i a_i x^i for x in [0, 1].
_TURBO = np.array([
    [0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943],
    [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604],
    [0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973],
])


def colorize_depth(depth_m: np.ndarray, min_depth_m: float, max_depth_m: float) -> np.ndarray:
    """[H, W] metres -> [H, W, 3] uint8 RGB Turbo colours, near red and far blue; invalid black.

    Inverse depth is mapped linearly between 1/max_depth_m and 1/min_depth_m, so near structure
    gets most of the colour range.
    """
    if not 0 < min_depth_m < max_depth_m:
        raise InputError(f'need 0 < min_depth_m < max_depth_m, got {min_depth_m}, {max_depth_m}')
    depth = np.asarray(depth_m, dtype=np.float32)
    valid = np.isfinite(depth) & (depth > 0)
    inv = 1.0 / np.where(valid, depth, np.float32(max_depth_m))
    x = np.clip((inv - 1.0 / max_depth_m) / (1.0 / min_depth_m - 1.0 / max_depth_m), 0.0, 1.0)
    rgb = _turbo_lut()[np.rint(x * 255).astype(np.uint8)]
    rgb[~valid] = 0
    return rgb


@functools.lru_cache(maxsize=1)
def _turbo_lut() -> np.ndarray:
    """256x3 uint8 Turbo colours, evaluated once from the polynomial fit (not per pixel)."""
    x = np.linspace(0.0, 1.0, 256)
    powers = np.stack([x ** i for i in range(6)], axis=-1)
    return np.rint(np.clip(powers @ _TURBO.T, 0.0, 1.0) * 255).astype(np.uint8)


# Labels of the values in the scale status message, in order.
SCALE_STATUS_LABELS = ('factor', 'confidence', 'frame_factor', 'camera_height_m')


def scale_status(types: MsgTypes, factor: float | None, confidence: float,
                 frame_factor: float | None, camera_height_m: float) -> Any:
    """std_msgs/Float64MultiArray [factor, confidence, frame_factor, camera_height_m].

    A factor that is unknown is sent as -1 (never NaN), with confidence 0.
    """
    values = [-1.0 if factor is None else float(factor), float(confidence),
              -1.0 if frame_factor is None else float(frame_factor), float(camera_height_m)]
    dim = types.MultiArrayDimension(label=','.join(SCALE_STATUS_LABELS), size=len(values),
                                    stride=len(values))
    layout = types.MultiArrayLayout(dim=[dim], data_offset=0)
    return types.Float64MultiArray(layout=layout, data=types.float64_array(values))

