"""KITTI odometry sequences and raw drives as `KittiSequence`: frames, stamps, ground truth.

Inputs:
- KITTI odometry: `.../sequences/XX` with `image_2` (colour) or `image_0` (grey) frames (PNG,
  JPEG or any format of `IMAGE_SUFFIXES`, in name order), `calib.txt` (P0..P3), optionally
  `times.txt` (seconds from the start) and `depth_2` / `depth_0` (16-bit PNG, metres * 256,
  0 = no measurement: what `depth_ros.synth` writes). Ground truth comes from
  `--poses` or, when it exists, `.../poses/XX.txt` beside `sequences/`, trimmed to the frames.
- KITTI raw: `.../2011_09_26/2011_09_26_drive_XXXX_sync` with `image_0X/data/*.png` (or
  .jpg) and `image_0X/timestamps.txt`; calibration from the date folder (the drive's parent).
  Optional: `oxts/data/*.txt` (GPS/IMU, converted to camera poses) and `velodyne_points/data/*.bin`
  (projected into the camera as sparse ground-truth depth, as Monodepth2 exports it).

Frame conventions of the ground truth: see `kitti_to_bag`.

Stamps: `times.txt` / `timestamps.txt` when present; otherwise frame i is stamped i / rate with
a nominal 10 Hz rate (KITTI's camera rate), and the summary says so. `rate_hz` forces a nominal
rate even when a times file exists. Raw timestamps are read as UTC. Times must increase line
after line (a file that does not is refused with the line number). Stamps here are as the
files give them (times.txt: seconds from the start); `kitti_to_bag.with_start_time` moves them
to a realistic epoch for the bag.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
import logging
import os
from pathlib import Path

import numpy as np

from depth_ros.errors import InputError
from depth_ros.evaluation.kitti import _text_lines, read_kitti_poses, velodyne_depth_map
from depth_ros.geometry.intrinsics import read_kitti_calib
from depth_ros.geometry.se3 import from_rotation_translation
from depth_ros.inference.image_io import IMAGE_SUFFIXES, read_image


LOG = logging.getLogger(__name__)

NOMINAL_RATE_HZ = 10.0
DEPTH_PNG_UNITS_PER_M = 256.0  # KITTI depth benchmark PNGs: metres * 256, 0 = invalid
EARTH_RADIUS_M = 6378137.0  # the KITTI devkit's Mercator projection of OXTS positions


@dataclass(frozen=True, eq=False)
class KittiSequence:
    """Everything a bag of one KITTI sequence holds, before any image is read.

    Attributes:
        name: sequence or drive name, for messages.
        image_paths: frames in order.
        calib_path, camera: the calibration file and camera index of the projection used.
        stamps_ns: [N] int64 stamps.
        stamps_source: where the stamps come from ('times.txt', 'nominal 10 Hz', ...).
        world_from_cam: [N, 4, 4] ground truth (see the module docstring), or None.
        gt_source: where the ground truth comes from ('' when there is none).
        depth_reader: frame index -> [H, W] ground-truth depth (m, 0 = none), or None.
    """

    name: str
    image_paths: tuple[Path, ...]
    calib_path: Path
    camera: int
    stamps_ns: np.ndarray = field(repr=False)
    stamps_source: str
    world_from_cam: np.ndarray | None = field(default=None, repr=False)
    gt_source: str = ''
    depth_reader: Callable[[int], np.ndarray] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.image_paths)


def _images_in(folder: Path) -> tuple[Path, ...]:
    return tuple(sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))


def _nominal_stamps(frames: int, rate_hz: float) -> np.ndarray:
    if not rate_hz > 0:
        raise InputError(f'rate must be positive, got {rate_hz} Hz')
    return np.rint(np.arange(frames) * (1e9 / rate_hz)).astype(np.int64)


def _check_increasing(path: Path, stamps: np.ndarray, line_numbers: list[int]) -> None:
    """InputError naming the first line whose time does not increase."""
    bad = np.flatnonzero(np.diff(stamps) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise InputError(f'{path}:{line_numbers[i]}: time {stamps[i]} does not increase (line '
                         f'{line_numbers[i - 1]} has {stamps[i - 1]}); frames would be '
                         'reordered: fix the times file')


def _time_lines(path: Path, frames: int) -> tuple[list[str], list[int]]:
    """Non-blank lines (and their numbers) of a times file, at least `frames` of them."""
    lines = [(n, line.strip()) for n, line in enumerate(_text_lines(path, 'times file'), 1)
             if line.strip()]
    if len(lines) < frames:
        raise InputError(f'{path} has {len(lines)} stamps for {frames} frames')
    return [text for _, text in lines[:frames]], [n for n, _ in lines[:frames]]


def _read_stamps(path: Path, frames: int, parse: Callable[[str], float | int], dtype: type,
                 what: str) -> np.ndarray:
    """One parsed stamp per line, trimmed to `frames`, strictly increasing."""
    texts, numbers = _time_lines(path, frames)
    try:
        stamps = np.array([parse(text) for text in texts], dtype=dtype)
    except ValueError as exc:
        raise InputError(f'{path}: not {what} ({exc})') from None
    _check_increasing(path, stamps, numbers)
    return stamps


def _read_times_s(path: Path, frames: int) -> np.ndarray:
    """Seconds per frame from a KITTI odometry times.txt, trimmed to `frames`, increasing."""
    return _read_stamps(path, frames, float, np.float64, 'one number per line')


def _stamps(times_path: Path | None, frames: int, rate_hz: float | None,
            reader: Callable[[Path, int], np.ndarray]) -> tuple[np.ndarray, str]:
    """Stamps from a times file, else (or when `rate_hz` is given) a nominal rate."""
    if rate_hz is None and times_path is not None and times_path.is_file():
        return reader(times_path, frames), times_path.name
    rate = NOMINAL_RATE_HZ if rate_hz is None else float(rate_hz)
    if rate_hz is None:
        LOG.warning('no times file: stamping frames at a nominal %g Hz', rate)
    return _nominal_stamps(frames, rate), f'nominal {rate:g} Hz'


def _ground_truth(poses: Path | None, sequence_dir: Path, frames: int) -> tuple[np.ndarray | None,
                                                                                 str]:
    """KITTI ground truth from `poses`, else from ../../poses/XX.txt when it exists."""
    if poses is None:
        candidate = sequence_dir.parent.parent / 'poses' / f'{sequence_dir.name}.txt'
        if not candidate.is_file():
            return None, ''
        poses = candidate
    world_from_cam = read_kitti_poses(poses).world_from_cam
    if len(world_from_cam) < frames:
        raise InputError(f'{poses} has {len(world_from_cam)} poses but the sequence has '
                         f'{frames} frames; is it the file of another sequence?')
    return world_from_cam[:frames], str(poses)


def _png_depth_reader(paths: tuple[Path, ...]) -> Callable[[int], np.ndarray]:
    def read(index: int) -> np.ndarray:
        raw = read_image(paths[index])
        if raw.dtype != np.uint16 or raw.ndim != 2:
            raise InputError(f'{paths[index]}: a depth PNG must be 16-bit grey (metres * 256)')
        return raw.astype(np.float32) / DEPTH_PNG_UNITS_PER_M
    return read


def load_odometry_sequence(sequence_dir: str | os.PathLike, camera: int | None = None,
                           poses: str | os.PathLike | None = None,
                           rate_hz: float | None = None) -> KittiSequence:
    """Describe a KITTI odometry sequence folder (`.../sequences/XX`).

    Args:
        sequence_dir: the folder with image_2 / image_0, calib.txt, optionally times.txt.
        camera: 2 (colour) or 0 (grey); None picks image_2 when present, else image_0.
        poses: KITTI pose file; None looks for ../../poses/XX.txt.
        rate_hz: stamp at this nominal rate instead of times.txt.

    Raises:
        InputError: no images, no calib.txt, or a poses/times file of the wrong length.
    """
    sequence_dir = Path(sequence_dir)
    if camera is None:
        camera = 2 if (sequence_dir / 'image_2').is_dir() else 0
    image_dir = sequence_dir / f'image_{camera}'
    if not image_dir.is_dir() or not _images_in(image_dir):
        raise InputError(f'{image_dir} has no images; give a KITTI odometry sequence folder '
                         '(sequences/XX with image_2 or image_0) and the matching --camera')
    images = _images_in(image_dir)
    stamps, stamps_source = _stamps(sequence_dir / 'times.txt', len(images), rate_hz,
                                    lambda path, n: np.rint(_read_times_s(path, n) * 1e9)
                                    .astype(np.int64))
    gt, gt_source = _ground_truth(None if poses is None else Path(poses), sequence_dir,
                                  len(images))
    depth_dir = sequence_dir / f'depth_{camera}'
    depth_reader = None
    if depth_dir.is_dir():
        depth_paths = _images_in(depth_dir)
        if len(depth_paths) != len(images):
            raise InputError(f'{depth_dir} has {len(depth_paths)} depth images for '
                             f'{len(images)} frames')
        depth_reader = _png_depth_reader(depth_paths)
    return KittiSequence(sequence_dir.name, images, sequence_dir / 'calib.txt', camera, stamps,
                         stamps_source, gt, gt_source, depth_reader)


def _parse_raw_timestamp(line: str) -> int:
    """'2011-09-26 13:02:25.964389445' (UTC) -> nanoseconds since the epoch."""
    text = line.strip()
    whole, _, fraction = text.partition('.')
    moment = datetime.strptime(whole, '%Y-%m-%d %H:%M:%S').replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) * 1_000_000_000 + int((fraction + '000000000')[:9])


def _read_raw_timestamps(path: Path, frames: int) -> np.ndarray:
    """Nanosecond stamps from a KITTI raw timestamps.txt, trimmed to `frames`, increasing."""
    return _read_stamps(path, frames, _parse_raw_timestamp, np.int64, 'a KITTI raw timestamp')


def _rigid_from_calib(calib: dict[str, np.ndarray], path: Path) -> np.ndarray:
    if calib.get('R', np.empty(0)).size != 9 or calib.get('T', np.empty(0)).size != 3:
        raise InputError(f'{path}: expected R (9 values) and T (3 values)')
    return from_rotation_translation(calib['R'].reshape(3, 3), calib['T'])


def rect_cam_from_imu(calib_dir: str | os.PathLike) -> np.ndarray:
    """[4, 4] rectified cam 0 from the OXTS IMU: R_rect_00 @ cam_from_velo @ velo_from_imu."""
    calib_dir = Path(calib_dir)
    paths = [calib_dir / name for name in ('calib_imu_to_velo.txt', 'calib_velo_to_cam.txt',
                                           'calib_cam_to_cam.txt')]
    velo_from_imu = _rigid_from_calib(read_kitti_calib(paths[0]), paths[0])
    cam_from_velo = _rigid_from_calib(read_kitti_calib(paths[1]), paths[1])
    rect = read_kitti_calib(paths[2]).get('R_rect_00', np.empty(0))
    if rect.size != 9:
        raise InputError(f'{paths[2]}: missing R_rect_00')
    rect_from_cam = np.eye(4)
    rect_from_cam[:3, :3] = rect.reshape(3, 3)
    return rect_from_cam @ cam_from_velo @ velo_from_imu


def oxts_to_poses(oxts: np.ndarray, cam_from_imu: np.ndarray) -> np.ndarray:
    """Camera poses [N, 4, 4] of OXTS records, in the camera of the first record.

    The KITTI devkit's convertOxtsToPose: a Mercator projection with the scale of the first
    latitude, s = cos(lat0); x = s R lon pi / 180, y = s R ln(tan(pi (90 + lat) / 360)),
    z = altitude; rotation Rz(yaw) Ry(pitch) Rx(roll). Then
    cam_0_from_cam_i = cam_from_imu @ inv(W_from_imu_0) @ W_from_imu_i @ inv(cam_from_imu).

    Args:
        oxts: [N, >= 6] records: lat, lon (deg), alt (m), roll, pitch, yaw (rad), ...
        cam_from_imu: [4, 4], see `rect_cam_from_imu`.
    """
    oxts = np.asarray(oxts, dtype=np.float64)
    lat, lon, alt = np.radians(oxts[:, 0]), np.radians(oxts[:, 1]), oxts[:, 2]
    scale = np.cos(lat[0])
    xyz = np.stack([scale * EARTH_RADIUS_M * lon,
                    scale * EARTH_RADIUS_M * np.log(np.tan(np.pi / 4 + lat / 2)), alt], axis=1)
    roll, pitch, yaw = oxts[:, 3], oxts[:, 4], oxts[:, 5]
    world_from_imu = from_rotation_translation(
        _rot_z(yaw) @ _rot_y(pitch) @ _rot_x(roll), xyz)
    imu0_from_imu = np.linalg.inv(world_from_imu[0]) @ world_from_imu
    return cam_from_imu @ imu0_from_imu @ np.linalg.inv(cam_from_imu)


def _rot_x(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([o, z, z, z, c, -s, z, s, c], axis=-1).reshape(-1, 3, 3)


def _rot_y(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([c, z, s, z, o, z, -s, z, c], axis=-1).reshape(-1, 3, 3)


def _rot_z(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([c, -s, z, s, c, z, z, z, o], axis=-1).reshape(-1, 3, 3)


def _raw_ground_truth(drive_dir: Path, calib_dir: Path, frames: int) -> tuple[np.ndarray | None,
                                                                               str]:
    oxts_dir = drive_dir / 'oxts' / 'data'
    files = sorted(oxts_dir.glob('*.txt')) if oxts_dir.is_dir() else []
    if not files:
        return None, ''
    if len(files) < frames:
        raise InputError(f'{oxts_dir} has {len(files)} records for {frames} frames')
    try:
        oxts = np.stack([np.loadtxt(path, ndmin=1)[:6] for path in files[:frames]])
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f'{oxts_dir}: unreadable OXTS record ({exc})') from None
    return oxts_to_poses(oxts, rect_cam_from_imu(calib_dir)), str(oxts_dir)


def _velodyne_reader(drive_dir: Path, calib_dir: Path, camera: int,
                     frames: int) -> Callable[[int], np.ndarray] | None:
    velo_dir = drive_dir / 'velodyne_points' / 'data'
    scans = sorted(velo_dir.glob('*.bin')) if velo_dir.is_dir() else []
    if not scans:
        return None
    if len(scans) < frames:
        raise InputError(f'{velo_dir} has {len(scans)} scans for {frames} frames')
    return lambda index: velodyne_depth_map(scans[index], calib_dir, camera).astype(np.float32)


def load_raw_drive(drive_dir: str | os.PathLike, camera: int | None = None,
                   rate_hz: float | None = None,
                   calib_dir: str | os.PathLike | None = None) -> KittiSequence:
    """Describe a KITTI raw synced drive (`.../2011_09_26/2011_09_26_drive_XXXX_sync`).

    Args:
        drive_dir: the drive folder with image_0X/data.
        camera: 0-3; None picks 2 (left colour) when present, else 0.
        rate_hz: stamp at this nominal rate instead of image_0X/timestamps.txt.
        calib_dir: folder of calib_cam_to_cam.txt etc.; default the drive's parent folder.
    """
    drive_dir = Path(drive_dir)
    if camera is None:
        camera = 2 if (drive_dir / 'image_02' / 'data').is_dir() else 0
    image_dir = drive_dir / f'image_0{camera}' / 'data'
    if not image_dir.is_dir() or not _images_in(image_dir):
        raise InputError(f'{image_dir} has no images; give a KITTI raw drive folder '
                         '(..._drive_XXXX_sync with image_0X/data) and the matching --camera')
    calib_dir = drive_dir.parent if calib_dir is None else Path(calib_dir)
    images = _images_in(image_dir)
    stamps, stamps_source = _stamps(image_dir.parent / 'timestamps.txt', len(images), rate_hz,
                                    _read_raw_timestamps)
    gt, gt_source = _raw_ground_truth(drive_dir, calib_dir, len(images))
    return KittiSequence(drive_dir.name, images, calib_dir / 'calib_cam_to_cam.txt', camera,
                         stamps, stamps_source, gt, gt_source,
                         _velodyne_reader(drive_dir, calib_dir, camera, len(images)))


def load_kitti_sequence(path: str | os.PathLike, camera: int | None = None,
                        poses: str | os.PathLike | None = None, rate_hz: float | None = None,
                        calib_dir: str | os.PathLike | None = None) -> KittiSequence:
    """A KITTI raw drive (has image_0X/data) or odometry sequence (has image_X) folder."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(f'sequence folder not found: {path}')
    if any((path / f'image_0{c}' / 'data').is_dir() for c in range(4)):
        if poses is not None:
            raise InputError('--poses applies to KITTI odometry sequences; a raw drive takes '
                             'its ground truth from oxts/')
        return load_raw_drive(path, camera, rate_hz, calib_dir)
    return load_odometry_sequence(path, camera, poses, rate_hz)
