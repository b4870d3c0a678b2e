"""Image and depth files to tensors: loading, cropping to an aspect ratio, resizing, pyramids."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
import torch
import torch.nn.functional as F

from depth_ros.errors import ConfigError, InputError


CROP_MODES = ('none', 'center', 'bottom')
# KITTI-style depth PNGs store metres * 256 in 16 bits; 0 means no measurement.
DEPTH_PNG_SCALE = 256.0


def load_rgb(path: Path) -> Image.Image:
    """An image file as an RGB PIL image (grey images are replicated to three channels)."""
    try:
        with Image.open(path) as image:
            return image.convert('RGB')
    except (OSError, ValueError) as exc:
        raise InputError(f'cannot read image {path}: {exc}') from None


def crop_box(width: int, height: int, target_width: int, target_height: int,
             mode: str) -> tuple[int, int, int, int]:
    """(x0, y0, width, height) of the largest crop with the target aspect ratio.

    'none' keeps the whole image (it is then stretched), 'center' crops symmetrically and
    'bottom' keeps the bottom rows when cropping vertically (the road, for a driving camera).
    """
    if mode not in CROP_MODES:
        raise ConfigError(f'unknown crop mode {mode!r}; use one of {", ".join(CROP_MODES)}')
    if mode == 'none':
        return 0, 0, width, height
    aspect = target_width / target_height
    crop_w, crop_h = min(width, round(height * aspect)), min(height, round(width / aspect))
    x0 = (width - crop_w) // 2
    y0 = (height - crop_h) // 2 if mode == 'center' else height - crop_h
    return x0, y0, crop_w, crop_h


def crop_and_resize(image: Image.Image, box: tuple[int, int, int, int], width: int,
                    height: int) -> Image.Image:
    """Crop `box` then resize to width x height with a Lanczos filter (antialiased)."""
    x0, y0, w, h = box
    if (x0, y0, w, h) != (0, 0, image.width, image.height):
        image = image.crop((x0, y0, x0 + w, y0 + h))
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    return image


def to_tensor(image: Image.Image) -> torch.Tensor:
    """RGB PIL image -> [3, H, W] float32 in [0, 1]."""
    array = np.asarray(image, dtype=np.uint8)
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float().div_(255.0)


def area_pyramid(images: torch.Tensor, num_scales: int) -> list[torch.Tensor]:
    """[N, C, H, W] -> per scale s, [N, C, H / 2^s, W / 2^s] by 2^s x 2^s area averaging."""
    return [images if s == 0 else F.avg_pool2d(images, 2 ** s) for s in range(num_scales)]


def load_depth_png(path: Path) -> np.ndarray:
    """16-bit depth PNG (metres * 256, 0 = missing) -> [H, W] float32 metres."""
    try:
        with Image.open(path) as image:
            raw = np.asarray(image)
    except (OSError, ValueError) as exc:
        raise InputError(f'cannot read depth image {path}: {exc}') from None
    if raw.ndim != 2 or raw.dtype.kind not in 'ui':
        raise InputError(f'{path}: expected a single-channel 16-bit depth PNG, '
                         f'got shape {raw.shape} dtype {raw.dtype}')
    return raw.astype(np.float32) / DEPTH_PNG_SCALE


def crop_and_resize_depth(depth: np.ndarray, box: tuple[int, int, int, int], width: int,
                          height: int) -> np.ndarray:
    """Crop then nearest-neighbour resize, which never invents depths between measurements."""
    x0, y0, w, h = box
    depth = depth[y0:y0 + h, x0:x0 + w]
    rows = np.minimum((np.arange(height) + 0.5) * h / height, h - 1).astype(np.int64)
    cols = np.minimum((np.arange(width) + 0.5) * w / width, w - 1).astype(np.int64)
    return depth[rows[:, None], cols[None, :]]
