"""Message codecs with rosbags' message classes: round trips, known values, CDR validity."""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from depth_ros.colormaps import colorize_depth
from depth_ros.errors import InputError
from depth_ros.geometry.camera import depth_to_points
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.ros import codecs as cv


rosbags_typesys = pytest.importorskip('rosbags.typesys')
TYPESTORE = rosbags_typesys.get_typestore(rosbags_typesys.Stores.ROS2_HUMBLE)
TYPES = cv.MsgTypes.from_typestore(TYPESTORE)
STAMP_NS = 1_700_000_123_456_789_012
HEADER = cv.make_header(TYPES, STAMP_NS, 'camera_optical')


def _rng_rgb(height: int = 5, width: int = 7, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _raw_image(encoding: str, width: int, height: int, step: int, data: bytes,
               is_bigendian: int = 0):
    return TYPES.Image(header=HEADER, height=height, width=width, encoding=encoding,
                       is_bigendian=is_bigendian, step=step,
                       data=np.frombuffer(data, dtype=np.uint8))


def _cdr_round_trip(msg):
    """Serialise with rosbags and read back: proves every field has a valid ROS type and size."""
    raw = TYPESTORE.serialize_cdr(msg, msg.__msgtype__)
    return TYPESTORE.deserialize_cdr(raw, msg.__msgtype__)


# --- smoke --------------------------------------------------------------------------------------

def test_module_imports_no_ros_and_no_torch():
    code = ('import sys, depth_ros.ros.codecs; '
            "bad = [m for m in ('rclpy', 'rosbags', 'torch', 'sensor_msgs') if m in sys.modules]; "
            'sys.exit(str(bad) if bad else 0)')
    subprocess.run([sys.executable, '-c', code], check=True)


def test_stamp_round_trip_and_range():
    stamp = cv.ns_to_stamp(TYPES, STAMP_NS)
    assert (stamp.sec, stamp.nanosec) == (1_700_000_123, 456_789_012)
    assert cv.stamp_to_ns(stamp) == STAMP_NS
    assert cv.stamp_to_ns(cv.ns_to_stamp(TYPES, -1)) == -1
    with pytest.raises(InputError, match='int32'):
        cv.ns_to_stamp(TYPES, 2**31 * 1_000_000_000)


# --- images ------------------------------------------------------------------------------------

@pytest.mark.parametrize('encoding', ['rgb8', 'bgr8', 'rgba8', 'bgra8'])
def test_colour_round_trip(encoding):
    rgb = _rng_rgb()
    msg = cv.rgb_to_image(TYPES, rgb, HEADER, encoding)
    channels = 4 if 'a' in encoding else 3
    assert (msg.height, msg.width, msg.step, msg.encoding) == (5, 7, 7 * channels, encoding)
    assert cv.stamp_to_ns(msg.header.stamp) == STAMP_NS
    np.testing.assert_array_equal(cv.image_to_rgb(msg), rgb)
    np.testing.assert_array_equal(cv.image_to_rgb(_cdr_round_trip(msg)), rgb)


@pytest.mark.parametrize('encoding', ['bgr8', 'bgra8'])
def test_bgr_byte_order_known_value(encoding):
    rgb = np.array([[[10, 20, 30]]], dtype=np.uint8)
    msg = cv.rgb_to_image(TYPES, rgb, HEADER, encoding)
    assert bytes(msg.data[:3]) == bytes([30, 20, 10])


@pytest.mark.parametrize('encoding', ['mono8', 'mono16'])
def test_mono_round_trip_of_grey(encoding):
    grey = np.random.default_rng(1).integers(0, 256, (4, 6, 1), dtype=np.uint8)
    rgb = np.repeat(grey, 3, axis=2)
    msg = cv.rgb_to_image(TYPES, rgb, HEADER, encoding)
    assert msg.step == 6 * (2 if encoding == 'mono16' else 1)
    np.testing.assert_array_equal(cv.image_to_rgb(_cdr_round_trip(msg)), rgb)


def test_mono16_scaling_and_big_endian():
    values = np.array([[0, 4095, 65535, 257]], dtype='>u2')
    msg = _raw_image('mono16', 4, 1, 8, values.tobytes(), is_bigendian=1)
    np.testing.assert_array_equal(cv.image_to_rgb(msg)[0, :, 0], [0, 16, 255, 1])
    np.testing.assert_array_equal(cv.image_to_rgb(msg, mono16_max=4095)[0, :, 0],
                                  [0, 255, 255, 16])


def test_padded_step_is_skipped():
    rows = [bytes([1, 2, 3, 4, 5, 6]) + b'\xee\xee', bytes([7, 8, 9, 10, 11, 12]) + b'\xee\xee']
    msg = _raw_image('bgr8', 2, 2, 8, b''.join(rows))
    np.testing.assert_array_equal(cv.image_to_rgb(msg),
                                  [[[3, 2, 1], [6, 5, 4]], [[9, 8, 7], [12, 11, 10]]])


@pytest.mark.parametrize('encoding, width, height, step, size, message', [
    ('yuv422', 2, 2, 4, 8, "unsupported colour encoding 'yuv422'"),
    ('32FC1', 2, 2, 8, 16, "unsupported colour encoding '32FC1'"),
    ('rgb8', 0, 2, 0, 0, 'empty image'),
    ('rgb8', 2, 2, 5, 12, 'step 5 is smaller than width'),
    ('mono16', 2, 2, 3, 8, 'step 3 is smaller than width'),
    ('rgb8', 2, 2, 6, 11, 'has 11 bytes, expected step \\* height = 12'),
])
def test_bad_images_raise_input_error(encoding, width, height, step, size, message):
    with pytest.raises(InputError, match=message):
        cv.image_to_rgb(_raw_image(encoding, width, height, step, bytes(size)))


def test_rgb_to_image_rejects_bad_input():
    with pytest.raises(InputError, match='uint8 RGB'):
        cv.rgb_to_image(TYPES, np.zeros((2, 2, 3), np.float32), HEADER)
    with pytest.raises(InputError, match="cannot write encoding 'yuv422'"):
        cv.rgb_to_image(TYPES, _rng_rgb(), HEADER, 'yuv422')


def test_depth_image_is_rep118():
    depth = np.array([[1.5, 0.0, -1.0], [np.inf, np.nan, 80.25]], dtype=np.float32)
    msg = cv.depth_to_image(TYPES, depth, HEADER)
    assert (msg.encoding, msg.is_bigendian, msg.step, msg.height, msg.width) == ('32FC1', 0, 12,
                                                                                 2, 3)
    expected = np.array([[1.5, np.nan, np.nan], [np.nan, np.nan, 80.25]], dtype='<f4')
    assert bytes(msg.data) == expected.tobytes()
    back = cv.image_to_depth(_cdr_round_trip(msg))
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, expected)


def test_depth_16uc1_millimetres():
    mm = np.array([[0, 1500, 65535]], dtype='<u2')
    depth = cv.image_to_depth(_raw_image('16UC1', 3, 1, 6, mm.tobytes()))
    np.testing.assert_allclose(depth, [[np.nan, 1.5, 65.535]])


# --- camera info -------------------------------------------------------------------------------

def _camera_info(k, p=(0.0,) * 12, roi=(0, 0, 0, 0), binning=(0, 0), size=(640, 480)):
    return TYPES.CameraInfo(
        header=HEADER, height=size[1], width=size[0], distortion_model='plumb_bob',
        d=np.zeros(5), k=np.asarray(k, float), r=np.eye(3).reshape(-1), p=np.asarray(p, float),
        binning_x=binning[0], binning_y=binning[1],
        roi=TYPES.RegionOfInterest(x_offset=roi[0], y_offset=roi[1], width=roi[2],
                                   height=roi[3], do_rectify=False))


def test_camera_info_roi_and_binning():
    k = [500.0, 0, 320.0, 0, 400.0, 240.0, 0, 0, 1]
    intr = cv.camera_info_to_intrinsics(_camera_info(k, roi=(100, 50, 200, 100), binning=(2, 2)))
    assert intr == Intrinsics(250.0, 200.0, 110.0, 95.0, 100, 50)


def test_camera_info_prefers_p():
    k = [500.0, 0, 320.0, 0, 400.0, 240.0, 0, 0, 1]
    p = [450.0, 0, 300.0, 0, 0, 460.0, 230.0, 0, 0, 0, 1, 0]
    assert cv.camera_info_to_intrinsics(_camera_info(k, p)) == Intrinsics(450, 460, 300, 230,
                                                                          640, 480)


def test_camera_info_uncalibrated_raises():
    with pytest.raises(InputError, match='not calibrated'):
        cv.camera_info_to_intrinsics(_camera_info([0.0] * 9))


def test_intrinsics_camera_info_round_trip():
    intr = Intrinsics(180.5, 181.0, 95.25, 60.75, 192, 128)
    msg = _cdr_round_trip(cv.intrinsics_to_camera_info(TYPES, intr, HEADER))
    assert (msg.width, msg.height, msg.distortion_model) == (192, 128, 'plumb_bob')
    np.testing.assert_array_equal(msg.d, np.zeros(5))
    np.testing.assert_array_equal(msg.r, np.eye(3).reshape(-1))
    np.testing.assert_array_equal(msg.p, [180.5, 0, 95.25, 0, 0, 181.0, 60.75, 0, 0, 0, 1, 0])
    assert cv.camera_info_to_intrinsics(msg) == intr
    assert msg.header.frame_id == 'camera_optical'


# --- point clouds ------------------------------------------------------------------------------

def test_point_cloud_bytes_reconstruct_points_and_colours():
    rng = np.random.default_rng(2)
    intr = Intrinsics(30.0, 32.0, 11.5, 8.5, 24, 16)
    depth = rng.uniform(0.5, 20.0, (16, 24)).astype(np.float32)
    depth[rng.random((16, 24)) < 0.2] = np.nan
    rgb = _rng_rgb(16, 24, seed=3)
    msg = cv.depth_to_pointcloud(TYPES, depth, intr, HEADER, rgb=rgb, stride=3)
    assert (msg.point_step, msg.height, msg.is_dense, msg.is_bigendian) == (16, 1, True, False)
    assert [(f.name, f.offset, f.datatype) for f in msg.fields] == [
        ('x', 0, 7), ('y', 4, 7), ('z', 8, 7), ('rgb', 12, 7)]
    xyz, colours = cv.pointcloud_to_arrays(_cdr_round_trip(msg))
    np.testing.assert_array_equal(xyz, depth_to_points(depth, intr, stride=3))
    valid = np.isfinite(depth[::3, ::3])
    np.testing.assert_array_equal(colours, rgb[::3, ::3][valid])
    assert msg.width == valid.sum() and msg.row_step == 16 * msg.width


def test_point_cloud_without_colour():
    intr = Intrinsics(10.0, 10.0, 2.0, 1.0, 4, 3)
    msg = cv.depth_to_pointcloud(TYPES, np.full((3, 4), 2.0, np.float32), intr, HEADER)
    xyz, colours = cv.pointcloud_to_arrays(_cdr_round_trip(msg))
    assert msg.point_step == 12 and colours is None and xyz.shape == (12, 3)


def test_pack_rgb_known_bits():
    packed = cv.pack_rgb(np.array([[255, 128, 1]], np.uint8))
    assert packed.view('<u4')[0] == 0x00FF8001
    np.testing.assert_array_equal(cv.unpack_rgb(packed), [[255, 128, 1]])


# --- poses -------------------------------------------------------------------------------------

def _rot_z(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def test_odometry_known_quaternion_and_unknown_covariance():
    pose = np.eye(4)
    pose[:3, :3] = _rot_z(math.pi / 2)
    pose[:3, 3] = [1.0, -2.0, 0.5]
    odom_header = cv.make_header(TYPES, STAMP_NS, 'odom')
    msg = _cdr_round_trip(cv.pose_to_odometry(TYPES, pose, odom_header, 'camera'))
    q = msg.pose.pose.orientation
    np.testing.assert_allclose([q.x, q.y, q.z, q.w], [0, 0, math.sqrt(0.5), math.sqrt(0.5)])
    p = msg.pose.pose.position
    assert (p.x, p.y, p.z) == (1.0, -2.0, 0.5)
    assert (msg.header.frame_id, msg.child_frame_id) == ('odom', 'camera')
    np.testing.assert_array_equal(msg.pose.covariance, np.eye(6).reshape(-1) * 1e6)
    np.testing.assert_array_equal(msg.twist.covariance, np.eye(6).reshape(-1) * 1e6)
    np.testing.assert_allclose(cv.odometry_to_pose(msg), pose, atol=1e-12)


def test_odometry_with_twist_and_variances():
    msg = cv.pose_to_odometry(TYPES, np.eye(4), HEADER, 'camera', pose_covariance=[1.0] * 6,
                              linear_velocity=[1, 2, 3], angular_velocity=[0, 0, 0.5],
                              twist_covariance=np.eye(6) * 0.25)
    msg = _cdr_round_trip(msg)
    assert (msg.twist.twist.linear.z, msg.twist.twist.angular.z) == (3.0, 0.5)
    np.testing.assert_array_equal(msg.pose.covariance, np.eye(6).reshape(-1))
    np.testing.assert_array_equal(msg.twist.covariance, np.eye(6).reshape(-1) * 0.25)


def test_transform_stamped():
    pose = np.eye(4)
    pose[:3, :3] = _rot_z(-0.3)
    pose[:3, 3] = [0.1, 0.2, 0.3]
    msg = _cdr_round_trip(cv.pose_to_transform_stamped(TYPES, pose, HEADER, 'child'))
    assert msg.child_frame_id == 'child' and cv.stamp_to_ns(msg.header.stamp) == STAMP_NS
    np.testing.assert_allclose(cv.msg_to_pose(msg.transform), pose, atol=1e-12)


def test_non_rigid_pose_raises():
    with pytest.raises(InputError, match='not a rigid transform'):
        cv.pose_to_transform_stamped(TYPES, np.diag([2.0, 1, 1, 1]), HEADER, 'child')


def test_colored_depth_survives_the_bgr8_codec():
    depth = np.array([[0.5, 1.0, 10.0, 100.0, np.nan]], np.float32)
    rgb = colorize_depth(depth, 1.0, 100.0)
    msg = _cdr_round_trip(cv.rgb_to_image(TYPES, rgb, HEADER, 'bgr8'))
    np.testing.assert_array_equal(cv.image_to_rgb(msg), rgb)


def test_image_data_as_bytes_or_list():
    for data in (bytes([1, 2, 3]), [1, 2, 3]):
        msg = TYPES.Image(header=HEADER, height=1, width=1, encoding='rgb8', is_bigendian=0,
                          step=3, data=data)
        np.testing.assert_array_equal(cv.image_to_rgb(msg), [[[1, 2, 3]]])
