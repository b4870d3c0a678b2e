"""Export a camera topic of a rosbag2 to the KITTI odometry layout, to train on your own video.

The reverse of `kitti_to_bag` for the camera. Written under `out`:

    sequences/<name>/image_2/000000.png ...   the frames, lossless RGB PNG (grey cameras
                                              replicated to three channels)
    sequences/<name>/calib.txt                P0 = P2 = [K | 0] of the written image (the
                                              camera_info's projection, ROI and binning
                                              applied), as the synthetic world writes it
    sequences/<name>/times.txt                seconds since the first frame (header stamps)

which is what an entry of `config/real_mix.yaml` (`sequence_dir: <out>/sequences/<name>`,
`camera: 2`) and `python -m training.data.prepare_mix` read (docs/TRAINING.md, "Your own
robot").

Training needs rectified frames (view synthesis assumes a pinhole camera). A topic whose
camera_info has distortion is refused unless `rectify` (the node's own undistortion,
`geometry.rectify`, onto the camera_info's P) or `allow_distorted`. The topic's first
camera_info calibrates every image; one sequence has one camera, so a camera_info that changes
mid-bag is an error. The folder appears at `out` only when complete.
"""
from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path
import shutil
from typing import Any

import numpy as np
from tqdm import tqdm

from depth_ros.errors import InputError, OutputError
from depth_ros.evaluation.bag_io import BagReader, typestore
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.geometry.rectify import RawCamera, Rectifier
from depth_ros.ros.codecs import MsgTypes, camera_info_to_intrinsics, image_to_rgb, stamp_to_ns
from depth_ros.ros.codecs.compressed import compressed_to_image
from depth_ros.synth.writer import calib_text


IMAGE_TYPES = ('sensor_msgs/msg/Image', 'sensor_msgs/msg/CompressedImage')
INFO_TYPES = ('sensor_msgs/msg/CameraInfo',)


@dataclass(frozen=True)
class ExportSummary:
    """What `bag_to_kitti` wrote (`intrinsics`: of the written frames, their size too)."""

    sequence_dir: Path
    frames: int
    intrinsics: Intrinsics
    rectified: bool
    duration_s: float

    def to_dict(self) -> dict:
        i = self.intrinsics
        return {'sequence_dir': str(self.sequence_dir), 'frames': self.frames,
                'width': i.width, 'height': i.height, 'rectified': self.rectified,
                'fx': i.fx, 'fy': i.fy, 'cx': i.cx, 'cy': i.cy, 'duration_s': self.duration_s}


def default_info_topic(image_topic: str) -> str:
    """/ns/image_raw or /ns/image_raw/compressed -> /ns/camera_info (image_transport's rule)."""
    parts = image_topic.rstrip('/').split('/')
    if parts[-1] in ('compressed', 'theora', 'zstd') and len(parts) > 2:
        parts = parts[:-1]
    return '/'.join(parts[:-1] + ['camera_info'])


class _Camera:
    """The one calibration of the sequence (its first camera_info), and the frames turned into
    rectified RGB."""

    def __init__(self, rectify: bool, allow_distorted: bool, mono16_max: int) -> None:
        self.rectify, self.allow_distorted, self.mono16_max = rectify, allow_distorted, mono16_max
        self.key: tuple | None = None
        self.raw: RawCamera | None = None
        self.intrinsics: Intrinsics | None = None
        self.rectifier = Rectifier()

    def check_info(self, info: Any, position: int) -> None:
        raw = RawCamera.from_camera_info(info)
        roi = info.roi
        key = (raw, int(info.binning_x), int(info.binning_y), int(roi.x_offset),
               int(roi.y_offset), int(roi.width), int(roi.height))
        if self.key is None:
            if any(abs(v) > 1e-9 for v in raw.d) and not (self.rectify or self.allow_distorted):
                raise InputError(
                    f'the camera_info has distortion ({raw.model} D='
                    f'{[round(v, 4) for v in raw.d]}): training needs rectified frames; pass '
                    '--rectify to undistort them here (or export image_rect; '
                    '--allow-distorted writes them as they are)')
            if self.rectify and not any(raw.p):
                raise InputError('--rectify needs the projection P of the rectified image, but '
                                 'the camera_info has P = 0 (an uncalibrated camera?)')
            self.key, self.raw = key, raw
            self.intrinsics = camera_info_to_intrinsics(info)
        elif key != self.key:
            raise InputError(f'camera_info message {position} differs from the first: one '
                             'sequence has one camera; export the parts separately (--start, '
                             '--max-frames)')

    def rgb(self, image: Any) -> np.ndarray:
        rgb = image_to_rgb(image, mono16_max=self.mono16_max)
        if self.rectify:
            rgb = self.rectifier.rectify(rgb, self.raw)
        intr = self.intrinsics
        if rgb.shape[:2] != (intr.height, intr.width):
            raise InputError(f'image is {rgb.shape[1]}x{rgb.shape[0]} but its camera_info '
                             f'describes {intr.width}x{intr.height}')
        return rgb


def bag_to_kitti(bag: str | os.PathLike, image_topic: str, out: str | os.PathLike,
                 name: str = 'robot', info_topic: str | None = None, every: int = 1,
                 start: int = 0, max_frames: int | None = None, rectify: bool = False,
                 allow_distorted: bool = False, mono16_max: int = 65535) -> ExportSummary:
    """Write images `start`, `start + every`, ... of `image_topic` as a KITTI sequence.

    Args:
        bag: rosbag2 folder (or file).
        image_topic: sensor_msgs/Image or CompressedImage topic.
        out: folder to create (must not exist); the sequence is out/sequences/<name>.
        name: the sequence's folder name.
        info_topic: its CameraInfo topic (default: `default_info_topic(image_topic)`).
        every, start, max_frames: which images (by position on the topic) are written.
        rectify, allow_distorted: see the module docstring.
        mono16_max: the mono16 value written as white (as the node's parameter).

    Raises:
        InputError: a missing topic, no camera_info, distortion, a changing camera, no image
            selected. OutputError: `out` exists or cannot be written.
    """
    if every < 1 or start < 0 or (max_frames is not None and max_frames < 1):
        raise InputError(f'every must be >= 1, start >= 0 and max_frames >= 1, got {every}, '
                         f'{start}, {max_frames}')
    if not name or '/' in name or name in ('.', '..'):
        raise InputError(f'sequence name must be one folder name, got {name!r}')
    out = Path(out)
    if out.exists():
        raise OutputError(f'{out} exists: give a new folder')
    partial = out.with_name(out.name + '.partial')
    shutil.rmtree(partial, ignore_errors=True)
    seq_dir = partial / 'sequences' / name
    try:
        try:
            (seq_dir / 'image_2').mkdir(parents=True)
        except OSError as exc:
            raise OutputError(f'cannot create {seq_dir}: {exc.strerror or exc}') from None
        frames, stamps, camera = _write_frames(bag, image_topic, info_topic, seq_dir, every,
                                               start, max_frames,
                                               _Camera(rectify, allow_distorted, mono16_max))
        seconds = (np.asarray(stamps, dtype=np.int64) - stamps[0]) * 1e-9
        (seq_dir / 'times.txt').write_text(''.join(f'{t:.9f}\n' for t in seconds))
        (seq_dir / 'calib.txt').write_text(calib_text(camera.intrinsics))
        partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    intr = camera.intrinsics
    return ExportSummary(out / 'sequences' / name, frames, intr,
                         rectify, float(seconds[-1]))


def _write_frames(bag, image_topic: str, info_topic: str | None, seq_dir: Path, every: int,
                  start: int, max_frames: int | None, camera: _Camera):
    from PIL import Image

    info_topic = info_topic or default_info_topic(image_topic)
    types = MsgTypes.from_typestore(typestore())
    stamps: list[int] = []
    try:
        with BagReader(bag) as reader:
            kind = reader.require(image_topic, IMAGE_TYPES)
            reader.require(info_topic, INFO_TYPES)
            wanted = len(range(start, kind.count, every))
            if max_frames is not None:
                wanted = min(wanted, max_frames)
            if wanted == 0:
                raise InputError(f'{image_topic} has {kind.count} images: none selected by '
                                 f'start {start}, every {every}')
            # The first camera_info calibrates every image (drivers may record it just after
            # its image); every later one must say the same.
            infos = reader.messages([info_topic])
            first = next(infos, None)
            infos.close()
            if first is None:
                raise InputError(f'{info_topic} has no message: the frames need their '
                                 'camera_info (--info-topic)')
            first = first[3]()
            camera.check_info(first, 0)
            bar = tqdm(total=wanted, desc='bag-to-kitti', unit='frame', disable=wanted < 2)
            for topic, position, _, decode in reader.messages([image_topic, info_topic]):
                if topic == info_topic:
                    camera.check_info(decode(), position)
                    continue
                if position < start or (position - start) % every:
                    continue
                msg = decode()
                if kind.msgtype.endswith('CompressedImage'):
                    msg = compressed_to_image(types, msg)
                Image.fromarray(camera.rgb(msg)).save(
                    seq_dir / 'image_2' / f'{len(stamps):06d}.png')
                stamps.append(stamp_to_ns(msg.header.stamp))
                bar.update()
                if len(stamps) == wanted:
                    break
            bar.close()
    except OSError as exc:
        raise OutputError(f'cannot write {seq_dir}: {exc.strerror or exc}') from None
    if np.any(np.diff(stamps) <= 0):
        raise InputError(f'{image_topic}: header stamps do not increase; times.txt needs them '
                         'in order')
    return len(stamps), stamps, camera
