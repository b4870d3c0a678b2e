"""Reading images and writing depth outputs (raw .npy and a magma-coloured PNG).

Colour maps live in `depth_ros.colormaps`.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from depth_ros.colormaps import colorize_inv_depth
from depth_ros.errors import InputError, OutputError


IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.ppm', '.pgm', '.tif', '.tiff', '.webp')


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as uint8 (grey HxW, RGB HxWx3 or RGBA HxWx4); 16-bit grey is kept."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise InputError(f'image not found: {path}')
    try:
        with Image.open(path) as im:
            if im.mode in ('I;16', 'I;16B', 'I;16L'):
                return np.asarray(im, dtype=np.uint16)
            if im.mode not in ('L', 'RGB', 'RGBA'):
                im = im.convert('RGB')
            return np.asarray(im)
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InputError(f'{path} is not a readable image ({type(exc).__name__})') from None


def list_images(inputs: list[str | os.PathLike]) -> list[Path]:
    """Expand files and folders into a sorted list of image paths."""
    paths: list[Path] = []
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            found = sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise InputError(f'folder {item} contains no images ({", ".join(IMAGE_SUFFIXES)})')
            paths.extend(found)
        elif item.exists():
            paths.append(item)
        else:
            raise InputError(f'no such file or folder: {item}')
    if not paths:
        raise InputError('no input images given')
    return paths


def ensure_writable_dir(path: str | os.PathLike) -> Path:
    """Create `path` if needed and check that files can be written there."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f'cannot create output folder {path}: {exc.strerror or exc}') from None
    if not path.is_dir() or not os.access(path, os.W_OK):
        raise OutputError(f'output folder {path} is not writable')
    return path


def write_depth_outputs(out_dir: Path, stem: str, depth_m: np.ndarray,
                        inv_depth_m: np.ndarray) -> tuple[Path, Path]:
    """Write `<stem>_depth.npy` (float32 metres) and `<stem>_depth.png` (colourised)."""
    from PIL import Image

    npy, png = out_dir / f'{stem}_depth.npy', out_dir / f'{stem}_depth.png'
    try:
        np.save(npy, depth_m.astype(np.float32))
        Image.fromarray(colorize_inv_depth(inv_depth_m)).save(png)
    except OSError as exc:
        raise OutputError(f'cannot write to {out_dir}: {exc.strerror or exc}') from None
    return npy, png
