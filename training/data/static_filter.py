"""Dropping examples recorded while the camera stood still.

A static camera gives the photometric loss nothing to learn from (Zhou et al. 2017 remove such
frames from their KITTI split). Every frame is reduced to a small grey thumbnail; an example is
dropped when the mean absolute difference between its target and any neighbour is below a
threshold (intensities in [0, 1]).
"""
from __future__ import annotations

from collections.abc import Sequence
import logging
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from depth_ros.errors import InputError
from training.data.records import FrameRecord


logger = logging.getLogger(__name__)

THUMBNAIL_WIDTH = 64


def thumbnail(path: Path, width: int = THUMBNAIL_WIDTH) -> np.ndarray:
    """Grey [h, width] uint8 thumbnail (box-filtered); about 1 kB per frame."""
    try:
        with Image.open(path) as image:
            image.draft('L', (width, width))  # JPEG: decode at reduced size
            grey = image.convert('L')
    except (OSError, ValueError) as exc:
        raise InputError(f'cannot read image {path}: {exc}') from None
    height = max(1, round(grey.height * width / grey.width))
    return np.asarray(grey.resize((width, height), Image.Resampling.BOX), np.uint8)


def neighbour_difference(record: FrameRecord, cache: dict[Path, np.ndarray]) -> float:
    """Smallest mean absolute thumbnail difference between the target and a neighbour."""
    def get(path: Path) -> np.ndarray:
        if path not in cache:
            cache[path] = thumbnail(path)
        return cache[path]

    target = get(record.image_paths[0]).astype(np.float32)
    return min(float(np.abs(get(p) - target).mean()) / 255.0 for p in record.image_paths[1:])


def drop_static(records: Sequence[FrameRecord], threshold: float) -> list[FrameRecord]:
    """Records whose every neighbour differs from the target by at least `threshold`."""
    if threshold <= 0:
        return list(records)
    cache: dict[Path, np.ndarray] = {}
    kept = [r for r in tqdm(records, desc='static-frame filter', unit='example', leave=False)
            if neighbour_difference(r, cache) >= threshold]
    logger.info('static-frame filter (threshold %.4g): kept %d of %d examples', threshold,
                len(kept), len(records))
    if not kept:
        raise InputError(f'static-frame filter dropped all {len(records)} examples; lower '
                         f'data.static_threshold (now {threshold})')
    return kept
