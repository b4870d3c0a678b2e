"""Convert a KITTI odometry sequence or KITTI raw drive to a rosbag2 for replay and evaluation.

Inputs: KITTI odometry sequences and raw drives, read by `kitti_sequence` (see there).

Topics written (every message of frame i is stamped, header and receive time, with its stamp):

| topic                  | type                     | frame_id -> child   |
|------------------------|--------------------------|---------------------|
| /camera/image_raw      | sensor_msgs/Image        | camera              |
| /camera/camera_info    | sensor_msgs/CameraInfo   | camera              |
| /ground_truth/odom     | nav_msgs/Odometry        | world -> camera_gt  |
| /ground_truth/depth    | sensor_msgs/Image 32FC1  | camera              |

Frame conventions: `camera` is the optical frame of the published image (z forward, x right,
y down). Ground-truth poses are those of KITTI: the rectified left grey camera (cam 0) of
frame i expressed in cam 0 of frame 0, so `world` is cam 0 of the first frame, with optical
axes. For the colour camera 2 the images come from a camera about 6 cm to the right of cam 0;
the poses are left as KITTI gives them (as Monodepth2's pose evaluation does), a rigid offset
that leaves every relative rotation unchanged. OXTS poses of raw drives are converted to the
same convention (rectified cam 0 of the first frame) with the date's calibration.

Stamps: see `kitti_sequence`; relative times start at `start_time_s` (default
DEFAULT_START_TIME_S, 2023-11-14 22:13:20 UTC), since a stamp of 0 reads as "unset" to several
ROS tools. The bag is written to `<out>.partial` and appears at `out` only when complete.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
import logging
import math
import os
from pathlib import Path

import numpy as np
from tqdm import tqdm

from depth_ros.errors import InputError
from depth_ros.evaluation.bag_io import BagWriter, typestore
from depth_ros.evaluation.kitti_sequence import (
    DEPTH_PNG_UNITS_PER_M,
    EARTH_RADIUS_M,
    NOMINAL_RATE_HZ,
    KittiSequence,
    _parse_raw_timestamp,
    load_kitti_sequence,
    load_odometry_sequence,
    load_raw_drive,
    oxts_to_poses,
    rect_cam_from_imu,
)
from depth_ros.geometry.intrinsics import Intrinsics, kitti_intrinsics
from depth_ros.inference.image_io import read_image
from depth_ros.ros.codecs import (
    MsgTypes,
    depth_to_image,
    intrinsics_to_camera_info,
    make_header,
    pose_to_odometry,
    rgb_to_image,
)


LOG = logging.getLogger(__name__)

IMAGE_TOPIC = '/camera/image_raw'
CAMERA_INFO_TOPIC = '/camera/camera_info'
GT_ODOM_TOPIC = '/ground_truth/odom'
GT_DEPTH_TOPIC = '/ground_truth/depth'
CAMERA_FRAME = 'camera'
WORLD_FRAME = 'world'
GT_CHILD_FRAME = 'camera_gt'
DEFAULT_START_TIME_S = 1_700_000_000  # first stamp of relative times: a realistic epoch
# Re-exported: the sequence readers live in kitti_sequence.
__all__ = ['DEPTH_PNG_UNITS_PER_M', 'EARTH_RADIUS_M', 'NOMINAL_RATE_HZ', 'KittiSequence',
           '_parse_raw_timestamp', 'load_kitti_sequence', 'load_odometry_sequence',
           'load_raw_drive', 'oxts_to_poses', 'rect_cam_from_imu']


@dataclass(frozen=True)
class BagSummary:
    """What `write_kitti_bag` wrote: message counts per topic and the provenance of the data."""

    bag: Path
    storage: str
    frames: int
    topics: dict[str, int]
    stamps_source: str
    gt_source: str
    width: int
    height: int
    first_stamp_ns: int = 0

    def to_dict(self) -> dict:
        return {'bag': str(self.bag), 'storage': self.storage, 'frames': self.frames,
                'topics': dict(self.topics), 'stamps_source': self.stamps_source,
                'gt_source': self.gt_source, 'width': self.width, 'height': self.height,
                'first_stamp_ns': self.first_stamp_ns}


def _camera_image(image: np.ndarray, path: Path) -> tuple[np.ndarray, str]:
    """(RGB [H, W, 3] uint8, encoding to publish): mono8 for grey files, rgb8 otherwise."""
    if image.dtype != np.uint8:
        raise InputError(f'{path}: {image.dtype} images are not supported; expected 8-bit')
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2), 'mono8'
    return np.ascontiguousarray(image[:, :, :3]), 'rgb8'


def _frame_messages(types: MsgTypes, sequence: KittiSequence, index: int,
                    intrinsics: Intrinsics | None) -> tuple[list[tuple[str, object]],
                                                            Intrinsics]:
    """(topic, message) pairs of one frame, and the intrinsics of its image."""
    path = sequence.image_paths[index]
    rgb, encoding = _camera_image(read_image(path), path)
    height, width = rgb.shape[:2]
    if intrinsics is None:
        intrinsics = kitti_intrinsics(sequence.calib_path, sequence.camera, width, height)
    elif (width, height) != (intrinsics.width, intrinsics.height):
        raise InputError(f'{path} is {width}x{height}, but the first frame is '
                         f'{intrinsics.width}x{intrinsics.height}')
    stamp = int(sequence.stamps_ns[index])
    header = make_header(types, stamp, CAMERA_FRAME)
    messages = [(CAMERA_INFO_TOPIC, intrinsics_to_camera_info(types, intrinsics, header)),
                (IMAGE_TOPIC, rgb_to_image(types, rgb, header, encoding))]
    if sequence.depth_reader is not None:
        messages.append((GT_DEPTH_TOPIC,
                         depth_to_image(types, sequence.depth_reader(index), header)))
    if sequence.world_from_cam is not None:
        messages.append((GT_ODOM_TOPIC, pose_to_odometry(
            types, sequence.world_from_cam[index], make_header(types, stamp, WORLD_FRAME),
            GT_CHILD_FRAME, pose_covariance=np.zeros(6))))
    return messages, intrinsics


def write_kitti_bag(sequence: KittiSequence, out: str | os.PathLike,
                    storage: str = 'sqlite3') -> BagSummary:
    """Write every frame of `sequence` to a new rosbag2 (topics in the module docstring).

    Raises:
        InputError: unreadable or inconsistent frames. OutputError: `out` exists or is not
            writable.
    """
    types = MsgTypes.from_typestore(typestore())
    intrinsics = None
    with BagWriter(out, storage) as writer:
        for index in tqdm(range(len(sequence)), desc='kitti-to-bag', unit='frame',
                          disable=len(sequence) < 2):
            messages, intrinsics = _frame_messages(types, sequence, index, intrinsics)
            for topic, msg in messages:
                writer.write(topic, int(sequence.stamps_ns[index]), msg)
    return BagSummary(Path(out), storage, len(sequence), dict(writer.counts),
                      sequence.stamps_source, sequence.gt_source, intrinsics.width,
                      intrinsics.height,
                      int(sequence.stamps_ns[0]))


def with_start_time(sequence: KittiSequence, start_time_s: float | None) -> KittiSequence:
    """`sequence` with its first stamp at `start_time_s` (None: DEFAULT_START_TIME_S for
    relative times, measured UTC stamps kept)."""
    measured = sequence.stamps_source == 'timestamps.txt'
    if start_time_s is None and measured:
        return sequence
    start_s = DEFAULT_START_TIME_S if start_time_s is None else start_time_s
    if not (math.isfinite(start_s) and 0 < start_s < 2**31 - 1e6):
        raise InputError(f'start time must be seconds since 1970 within builtin_interfaces/Time '
                         f'(0 < t < 2^31), got {start_s}')
    stamps = sequence.stamps_ns - sequence.stamps_ns[0] + int(round(start_s * 1e9))
    return replace(sequence, stamps_ns=stamps)


def kitti_to_bag(path: str | os.PathLike, out: str | os.PathLike,
                 poses: str | os.PathLike | None = None, storage: str = 'sqlite3',
                 camera: int | None = None, rate_hz: float | None = None,
                 calib_dir: str | os.PathLike | None = None,
                 start_time_s: float | None = None) -> BagSummary:
    """Convert a KITTI odometry sequence or raw drive folder to a rosbag2 at `out`.

    See `load_kitti_sequence` for the arguments, `with_start_time` for `start_time_s`, and the
    module docstring for the bag's content. The bag appears at `out` only when complete.
    """
    sequence = with_start_time(load_kitti_sequence(path, camera, poses, rate_hz, calib_dir),
                               start_time_s)
    return write_kitti_bag(sequence, out, storage)
