"""A folder of consecutive video frames plus an intrinsics file: custom robot data.

Frames are the folder's .png/.jpg/.jpeg files in natural name order (frame2 before frame10);
consecutive files are consecutive frames. The intrinsics file defaults to intrinsics.yaml,
intrinsics.yml or intrinsics.json inside the folder (see `intrinsics_file`).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
import re

from depth_ros.errors import InputError
from training.data.intrinsics_file import read_intrinsics_file
from training.data.records import FrameRecord, image_size


IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg')
DEFAULT_INTRINSICS_NAMES = ('intrinsics.yaml', 'intrinsics.yml', 'intrinsics.json')


def _natural_key(path: Path) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r'(\d+)', path.name)]


def list_frames(folder: Path) -> list[Path]:
    """Image files of `folder` in natural order."""
    if not folder.is_dir():
        raise InputError(f'frame folder not found: {folder}')
    frames = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                    key=_natural_key)
    if not frames:
        raise InputError(f'no .png/.jpg frames in {folder}')
    return frames


def find_intrinsics_file(folder: Path) -> Path:
    for name in DEFAULT_INTRINSICS_NAMES:
        if (folder / name).is_file():
            return folder / name
    raise InputError(f'no intrinsics file in {folder} (expected one of '
                     f'{", ".join(DEFAULT_INTRINSICS_NAMES)}; or set data.intrinsics_file)')


def video_folder_records(folder: Path, frame_offsets: Sequence[int],
                         intrinsics_file: Path | None = None) -> list[FrameRecord]:
    """One record per frame whose neighbours at every offset exist."""
    folder = Path(folder)
    frames = list_frames(folder)
    width, height = image_size(frames[0])
    intrinsics = read_intrinsics_file(intrinsics_file or find_intrinsics_file(folder), width,
                                      height)
    lo, hi = min(frame_offsets), max(frame_offsets)
    records = [FrameRecord(tuple(frames[i + o] for o in frame_offsets), intrinsics)
               for i in range(-lo, len(frames) - hi)]
    if not records:
        raise InputError(f'{folder} has {len(frames)} frames: too few for offsets '
                         f'{list(frame_offsets)}')
    return records
