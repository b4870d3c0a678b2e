"""KITTI and TUM file formats: pose files, velodyne scans, and ground-truth depth from lidar.

Pose files:
- KITTI odometry: one row-major 3x4 `world_from_cam` matrix per line (12 values), optionally
  preceded by a frame index (13 values).
- TUM: `timestamp tx ty tz qx qy qz qw` per line, `#` comments allowed.

Depth ground truth follows the way Monodepth2 exports KITTI raw ground truth (itself taken from
the KITTI devkit's MATLAB code): lidar points in front of the sensor are projected with
P_rect @ R_rect_00 @ velo_to_cam, pixel coordinates are rounded and shifted by -1 (the
MATLAB 1-based legacy the benchmark's depth maps carry), and the nearest point wins a pixel.
"""
from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path

import numpy as np

from depth_ros.errors import InputError
from depth_ros.evaluation.trajectory import PoseSequence
from depth_ros.geometry.intrinsics import read_kitti_calib
from depth_ros.geometry.se3 import check_rigid, from_rotation_translation, quaternion_to_rotation


def _text_lines(path: str | os.PathLike, what: str = 'pose file') -> list[str]:
    """The lines of a UTF-8 text file.

    Raises:
        InputError: a binary file (NUL bytes or bytes that are not UTF-8).
    """
    with open(path, 'rb') as f:
        data = f.read()
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise InputError(f'{path} is not a text {what} (byte {exc.start} is not UTF-8)') from None
    if '\x00' in text:
        raise InputError(f'{path} is not a text {what} (NUL byte at {text.index(chr(0))})')
    return text.splitlines()


def _read_rows(path: str | os.PathLike) -> tuple[np.ndarray, list[int]]:
    """Numeric rows of a whitespace-separated text file, skipping blank and `#` lines."""
    if not os.path.isfile(path):
        raise InputError(f'pose file not found: {path}')
    rows, line_numbers = [], []
    for number, line in enumerate(_text_lines(path), start=1):
        text = line.split('#', 1)[0].replace(',', ' ').strip()
        if not text:
            continue
        try:
            rows.append([float(v) for v in text.split()])
        except ValueError as exc:
            raise InputError(f'{path}:{number}: not a number ({exc})') from None
        line_numbers.append(number)
    if not rows:
        raise InputError(f'{path} contains no poses')
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        bad = next(i for i, r in enumerate(rows) if len(r) != len(rows[0]))
        raise InputError(f'{path}:{line_numbers[bad]}: {len(rows[bad])} values, but line '
                         f'{line_numbers[0]} has {len(rows[0])}')
    return np.asarray(rows, dtype=np.float64), line_numbers


def _check_poses(path: str | os.PathLike, poses: np.ndarray, lines: list[int]) -> None:
    """Raise InputError naming the file line of the first non-finite or non-rigid pose."""
    try:
        check_rigid(poses, what='pose')
    except InputError:
        for i, pose in enumerate(poses):
            try:
                check_rigid(pose)
            except InputError as exc:
                detail = str(exc).removeprefix('pose 0 ')
                raise InputError(f'{path}:{lines[i]}: the pose {detail}') from None


def _kitti_from_rows(path: str | os.PathLike, rows: np.ndarray, lines: list[int]) -> PoseSequence:
    if rows.shape[1] not in (12, 13):
        raise InputError(f'{path}: {rows.shape[1]} values per line; a KITTI pose file has 12 '
                         '(3x4 matrix) or 13 (frame index + matrix), a TUM file 8')
    frame_ids = rows[:, 0].astype(np.int64) if rows.shape[1] == 13 else None
    poses = np.tile(np.eye(4), (len(rows), 1, 1))
    poses[:, :3, :] = rows[:, -12:].reshape(-1, 3, 4)
    _check_poses(path, poses, lines)
    return PoseSequence(poses, None, frame_ids, str(path))


def _tum_from_rows(path: str | os.PathLike, rows: np.ndarray, lines: list[int]) -> PoseSequence:
    if rows.shape[1] != 8:
        raise InputError(f'{path}: {rows.shape[1]} values per line; a TUM trajectory has 8 '
                         '(timestamp tx ty tz qx qy qz qw)')
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        raise InputError(f'{path}:{lines[int(np.argmin(finite))]}: the pose contains NaN or '
                         'infinity')
    norms = np.linalg.norm(rows[:, 4:], axis=1)
    if np.any(np.abs(norms - 1.0) > 1e-3):
        bad = int(np.argmax(np.abs(norms - 1.0)))
        raise InputError(f'{path}:{lines[bad]}: quaternion norm {norms[bad]:.4f} is not 1')
    poses = from_rotation_translation(quaternion_to_rotation(rows[:, 4:]), rows[:, 1:4])
    return PoseSequence(poses, rows[:, 0].copy(), None, str(path))


def read_kitti_poses(path: str | os.PathLike) -> PoseSequence:
    """Read a KITTI odometry pose file (12 values per line, or 13 with a leading frame index).

    Raises:
        InputError: missing file, wrong column count, NaN, or a non-rigid matrix (the message
            names the line).
    """
    return _kitti_from_rows(path, *_read_rows(path))


def read_tum_trajectory(path: str | os.PathLike) -> PoseSequence:
    """Read a TUM trajectory file (`timestamp tx ty tz qx qy qz qw` per line, seconds)."""
    return _tum_from_rows(path, *_read_rows(path))


def read_pose_file(path: str | os.PathLike) -> PoseSequence:
    """Read a KITTI (12/13 columns) or TUM (8 columns) pose file, telling them apart by width."""
    rows, lines = _read_rows(path)
    if rows.shape[1] == 8:
        return _tum_from_rows(path, rows, lines)
    return _kitti_from_rows(path, rows, lines)


def write_kitti_poses(path: str | os.PathLike, world_from_cam: np.ndarray) -> None:
    """Write poses [N, 4, 4] as a KITTI pose file (12 values per line)."""
    poses = np.asarray(world_from_cam, dtype=np.float64)
    np.savetxt(path, poses[:, :3, :].reshape(len(poses), 12), fmt='%.9e')


def read_velodyne_bin(path: str | os.PathLike) -> np.ndarray:
    """Read a KITTI velodyne scan: float32 (x, y, z, reflectance) rows -> [N, 4] float32."""
    if not os.path.isfile(path):
        raise InputError(f'velodyne file not found: {path}')
    data = np.fromfile(path, dtype=np.float32)
    if data.size % 4:
        raise InputError(f'{path}: {data.size} floats is not a whole number of (x, y, z, r) '
                         'points; is it a KITTI velodyne .bin?')
    return data.reshape(-1, 4)


@dataclass(frozen=True, eq=False)
class VeloToImage:
    """Projection of velodyne points into a rectified KITTI camera.

    Attributes:
        image_from_velo: [3, 4] P_rect_0X @ R_rect_00 @ cam_from_velo.
        height, width: rectified image size in pixels.
    """

    image_from_velo: np.ndarray
    height: int
    width: int


def _calib_entry(calib: dict[str, np.ndarray], key: str, size: int, path: Path) -> np.ndarray:
    if key not in calib or calib[key].size != size:
        raise InputError(f'{path}: missing or malformed {key} (expected {size} values)')
    return calib[key]


def kitti_velo_to_image(calib_dir: str | os.PathLike, camera: int = 2) -> VeloToImage:
    """Velodyne-to-image projection of KITTI raw camera `camera` (0-3) from a date's calib folder.

    Args:
        calib_dir: folder with calib_cam_to_cam.txt and calib_velo_to_cam.txt.
        camera: rectified camera index (2 = left colour, what Monodepth2 evaluates).
    """
    calib_dir = Path(calib_dir)
    cam_path, velo_path = calib_dir / 'calib_cam_to_cam.txt', calib_dir / 'calib_velo_to_cam.txt'
    cam2cam, velo2cam = read_kitti_calib(cam_path), read_kitti_calib(velo_path)
    cam_from_velo = from_rotation_translation(
        _calib_entry(velo2cam, 'R', 9, velo_path).reshape(3, 3),
        _calib_entry(velo2cam, 'T', 3, velo_path))
    rect_from_cam = np.eye(4)
    rect_from_cam[:3, :3] = _calib_entry(cam2cam, 'R_rect_00', 9, cam_path).reshape(3, 3)
    p_rect = _calib_entry(cam2cam, f'P_rect_0{camera}', 12, cam_path).reshape(3, 4)
    width, height = _calib_entry(cam2cam, f'S_rect_0{camera}', 2, cam_path).astype(int)
    return VeloToImage(p_rect @ rect_from_cam @ cam_from_velo, int(height), int(width))


def project_velodyne_to_depth(points: np.ndarray, projection: VeloToImage) -> np.ndarray:
    """Sparse depth map [H, W] (m, 0 = no point) from velodyne points [N, 3+].

    Points behind the lidar (x < 0) are dropped; pixel = round(u) - 1, round(v) - 1 as in the
    KITTI/Monodepth2 ground truth; when several points hit a pixel the nearest is kept; depth is
    the rectified camera z (negative depths end as 0, as in the reference export).
    """
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] < 3:
        raise InputError(f'velodyne points must be [N,3] or [N,4], got shape {points.shape}')
    xyz = points[points[:, 0] >= 0, :3].astype(np.float64)
    image = np.concatenate([xyz, np.ones((len(xyz), 1))], axis=1) @ projection.image_from_velo.T
    depth = image[:, 2]
    with np.errstate(divide='ignore', invalid='ignore'):
        col = np.round(image[:, 0] / depth) - 1
        row = np.round(image[:, 1] / depth) - 1
    inside = ((col >= 0) & (row >= 0) & (col < projection.width) & (row < projection.height))
    nearest = np.full((projection.height, projection.width), np.inf)
    np.minimum.at(nearest, (row[inside].astype(np.int64), col[inside].astype(np.int64)),
                  depth[inside])
    nearest[~np.isfinite(nearest) | (nearest < 0)] = 0.0
    return nearest


def velodyne_depth_map(velo_path: str | os.PathLike, calib_dir: str | os.PathLike,
                       camera: int = 2) -> np.ndarray:
    """Ground-truth depth [H, W] (m, 0 = none) of a KITTI raw scan, as Monodepth2 exports it."""
    return project_velodyne_to_depth(read_velodyne_bin(velo_path),
                                     kitti_velo_to_image(calib_dir, camera))
