"""KITTI raw (synced + rectified) through Monodepth2-style split files.

Layout: ROOT/2011_09_26/calib_cam_to_cam.txt and
ROOT/2011_09_26/2011_09_26_drive_0001_sync/image_0{2,3}/data/0000000000.png.
Split lines are "folder frame side", e.g. "2011_09_26/2011_09_26_drive_0001_sync 12 l", with side
l (left colour camera, image_02) or r (right, image_03). Intrinsics are the rectified projection
P_rect_0{2,3} of the drive's date folder.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from depth_ros.errors import InputError
from depth_ros.geometry.intrinsics import Intrinsics, kitti_intrinsics
from training.data.records import FrameRecord, image_size


SIDE_TO_CAMERA = {'l': 2, 'r': 3}


@dataclass(frozen=True)
class SplitEntry:
    """One line of a split file: a drive folder, a frame number and a side ('l' or 'r')."""

    folder: str
    frame: int
    side: str


def read_split_file(path: Path) -> list[SplitEntry]:
    """Parse "folder frame side" lines (blank lines ignored)."""
    if not path.is_file():
        raise InputError(f'split file not found: {path}')
    entries = []
    for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 3 or not fields[1].lstrip('-').isdigit() or fields[2] not in 'lr':
            raise InputError(f'{path}:{number}: expected "folder frame l|r", got {line.strip()!r}')
        entries.append(SplitEntry(fields[0], int(fields[1]), fields[2]))
    if not entries:
        raise InputError(f'split file {path} lists no frames')
    return entries


def kitti_raw_records(root: Path, split_file: Path, frame_offsets: Sequence[int],
                      image_ext: str = 'png') -> list[FrameRecord]:
    """One record per split line; neighbours are frame + offset in the same drive."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f'KITTI raw folder not found: {root}')
    cache: dict[tuple[str, int], Intrinsics] = {}
    records = []
    for entry in read_split_file(Path(split_file)):
        camera = SIDE_TO_CAMERA[entry.side]
        image_dir = root / entry.folder / f'image_0{camera}' / 'data'
        paths = tuple(image_dir / f'{entry.frame + o:010d}.{image_ext}' for o in frame_offsets)
        key = (entry.folder, camera)
        if key not in cache:
            cache[key] = _drive_intrinsics(root, entry.folder, camera, paths[0])
        records.append(FrameRecord(paths, cache[key]))
    return records


def _drive_intrinsics(root: Path, folder: str, camera: int, image: Path) -> Intrinsics:
    date = Path(folder).parts[0]
    calib = root / date / 'calib_cam_to_cam.txt'
    if not image.is_file():
        raise InputError(f'KITTI raw image not found: {image} (check data.path and the split '
                         'file; data.image_ext selects png or jpg)')
    width, height = image_size(image)
    return kitti_intrinsics(calib, camera, width, height)
