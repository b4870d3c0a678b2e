"""The file-level description of one training example, shared by every dataset layout."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from depth_ros.errors import ConfigError, InputError
from depth_ros.geometry.intrinsics import Intrinsics


@dataclass(frozen=True)
class FrameRecord:
    """Where the frames of one example are and how the camera sees them.

    Attributes:
        image_paths: one image per frame offset, in the dataset's `frame_offsets` order
            (the target, offset 0, first).
        intrinsics: pinhole intrinsics at the images' native size.
        depth_path: optional ground-truth depth of the target (16-bit PNG, metres * 256).
    """

    image_paths: tuple[Path, ...]
    intrinsics: Intrinsics
    depth_path: Path | None = None


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image file, reading only its header."""
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, ValueError) as exc:
        raise InputError(f'cannot read image {path}: {exc}') from None


def check_offsets(frame_offsets: Sequence[int]) -> None:
    """Frame offsets must start with the target (0) and not repeat."""
    offsets = list(frame_offsets)
    if not offsets or offsets[0] != 0 or len(set(offsets)) != len(offsets):
        raise ConfigError(f'frame offsets must start with 0 and be distinct, got {offsets}')


def missing_files(records: Sequence[FrameRecord]) -> list[Path]:
    """Image files referenced by `records` that do not exist (deduplicated, in order)."""
    seen: set[Path] = set()
    missing = []
    for record in records:
        for path in record.image_paths:
            if path not in seen:
                seen.add(path)
                if not path.is_file():
                    missing.append(path)
    return missing


def require_files(records: Sequence[FrameRecord], what: str) -> None:
    """Raise InputError naming the first missing image (and how many are missing)."""
    missing = missing_files(records)
    if missing:
        raise InputError(f'{what}: {len(missing)} image file(s) missing, e.g. {missing[0]}')
