"""RGB-D data for supervised depth training: colour images with metric ground-truth depth.

Two sources:
- `NyuLabeledDataset`: the official NYU Depth v2 labelled file, nyu_depth_v2_labeled.mat
  (Silberman et al., "Indoor Segmentation and Support Inference from RGBD Images", ECCV 2012),
  a MATLAB v7.3 file, i.e. HDF5, read with h5py.
- `RgbdFolderDataset`: a folder of colour images with 16-bit depth images (PNG or PGM) whose raw
  values are metres * depth_scale (5000 for TUM RGB-D and ICL-NUIM PNGs, 1000 for many
  sensors' PGMs), 0 meaning no measurement.

Both return `RgbdSample`s at the requested size: the image resized with a Lanczos filter, the
depth with nearest neighbour (which never invents depths between measurements or at holes).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
import logging
import os
from pathlib import Path
import re
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
import torch
from torch.utils.data import Dataset

from depth_ros.errors import ConfigError, InputError
from training.data.augmentation import (
    AugmentationConfig,
    ColourJitter,
    flip_images,
    maybe_zoom,
)
from training.data.images import (
    CROP_MODES,
    crop_and_resize,
    crop_and_resize_depth,
    crop_box,
    load_rgb,
    to_tensor,
)


if TYPE_CHECKING:
    import h5py


logger = logging.getLogger(__name__)

RGBD_KINDS = ('rgbd_folder', 'nyu_labeled')
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg')
DEPTH_SUFFIXES = ('.png', '.pgm')
# Colour / depth sub-folder names of the two-folder layout (TUM's own layout names it rgb/).
COLOUR_DIRS = ('color', 'colour', 'rgb')


@dataclass
class RgbdSample:
    """One image with ground-truth depth, or a batch of them (leading B after collation).

    Attributes:
        image: [3, H, W] float32 in [0, 1], colour-jittered when augmenting.
        depth_m: [1, H, W] float32 metres, 0 where nothing was measured.
        index: [] int64 position in the dataset.
    """

    image: torch.Tensor
    depth_m: torch.Tensor
    index: torch.Tensor

    def to(self, device: torch.device | str) -> RgbdSample:
        return RgbdSample(self.image.to(device), self.depth_m.to(device), self.index.to(device))


def collate_rgbd(samples: Sequence[RgbdSample]) -> RgbdSample:
    """Stack single samples into a batch (the DataLoader's collate_fn)."""
    return RgbdSample(torch.stack([s.image for s in samples]),
                      torch.stack([s.depth_m for s in samples]),
                      torch.stack([s.index for s in samples]))


class RgbdDataset(Dataset):
    """Base of the RGB-D datasets: resizing and augmentation shared by both; subclasses load
    (PIL RGB image, [H, W] depth in metres, a description for error messages).

    Args:
        height, width: output size; None for both keeps each image's own size.
        crop: 'none', 'center' or 'bottom' (see `images.crop_box`).
        augmentation: zoom, flip and colour jitter (None: none of them, for evaluation).
    """

    def __init__(self, height: int | None, width: int | None, crop: str,
                 augmentation: AugmentationConfig | None) -> None:
        if (height is None) != (width is None):
            raise ConfigError('give both height and width, or neither (keep the image size)')
        if height is not None and (height <= 0 or width <= 0):
            raise ConfigError(f'height and width must be positive, got {height}x{width}')
        if crop not in CROP_MODES:
            raise ConfigError(f'crop {crop!r} is unknown; use one of {", ".join(CROP_MODES)}')
        self.height, self.width = height, width
        self.crop = crop
        self.augmentation = augmentation

    def _load(self, index: int) -> tuple[Image.Image, np.ndarray, str]:
        raise NotImplementedError

    def __getitem__(self, index: int) -> RgbdSample:
        image, depth_m, where = self._load(index)
        if depth_m.shape != (image.height, image.width):
            raise InputError(f'{where}: depth is {depth_m.shape[1]}x{depth_m.shape[0]} but the '
                             f'image is {image.width}x{image.height}')
        width, height = self.width or image.width, self.height or image.height
        box = maybe_zoom(crop_box(image.width, image.height, width, height, self.crop),
                         self.augmentation)
        image_t = to_tensor(crop_and_resize(image, box, width, height))
        depth_t = torch.from_numpy(crop_and_resize_depth(depth_m, box, width, height).copy())
        depth_t = depth_t.unsqueeze(0)
        aug = self.augmentation
        if aug is not None and float(torch.rand(1)) < aug.flip_probability:
            image_t, depth_t = flip_images(image_t), flip_images(depth_t)
        if aug is not None and float(torch.rand(1)) < aug.jitter_probability:
            image_t = ColourJitter.sample(aug)(image_t[None])[0]
        return RgbdSample(image_t, depth_t, torch.tensor(index, dtype=torch.int64))


@dataclass(frozen=True)
class RgbdPair:
    """The files of one RGB-D example."""

    image_path: Path
    depth_path: Path


def _natural_key(path: Path) -> list:
    # '2' before '10': frame numbers are rarely zero-padded in small RGB-D sets.
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', path.stem)]


def _files(folder: Path, suffixes: Sequence[str]) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in suffixes and p.is_file()),
                  key=_natural_key)


def rgbd_folder_pairs(folder: str | os.PathLike) -> list[RgbdPair]:
    """Colour/depth pairs of a folder, in natural file order.

    Two layouts are recognised:
    - sub-folders `color/` (or `colour/`, `rgb/`) and `depth/`, paired by file stem
      (`color/1.png` with `depth/1.png` or `depth/1.pgm`);
    - one flat folder with `NAME.png` (or .jpg) beside `NAME_depth.png` (or .pgm).

    Raises:
        InputError: the folder is missing, matches neither layout, or a colour image has no
            depth image.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f'RGB-D folder not found: {folder}')
    colour_dir = next((folder / d for d in COLOUR_DIRS if (folder / d).is_dir()), None)
    if colour_dir is not None and (folder / 'depth').is_dir():
        depths = {p.stem: p for p in _files(folder / 'depth', DEPTH_SUFFIXES)}
        images = _files(colour_dir, IMAGE_SUFFIXES)
    else:
        depths = {p.stem[:-len('_depth')]: p for p in _files(folder, DEPTH_SUFFIXES)
                  if p.stem.endswith('_depth')}
        images = [p for p in _files(folder, IMAGE_SUFFIXES) if not p.stem.endswith('_depth')]
    if not images:
        raise InputError(f'{folder} holds no RGB-D pairs: expected color/ + depth/ sub-folders '
                         'with matching file names, or NAME.png beside NAME_depth.png')
    missing = [p for p in images if p.stem not in depths]
    if missing:
        raise InputError(f'{len(missing)} colour image(s) in {folder} have no depth image, e.g. '
                         f'{missing[0].name}; each needs a depth file of the same name')
    return [RgbdPair(p, depths[p.stem]) for p in images]


def load_depth_raw(path: str | os.PathLike, depth_scale: float) -> np.ndarray:
    """16-bit depth image (PNG or PGM) -> [H, W] float32 metres = raw value / depth_scale.

    Raises:
        InputError: unreadable, not single-channel, or 8-bit (probably a colour image).
    """
    try:
        with Image.open(path) as image:
            raw = np.asarray(image)
    except (OSError, ValueError) as exc:
        raise InputError(f'cannot read depth image {path}: {exc}') from None
    if raw.ndim != 2 or raw.dtype.kind not in 'ui' or raw.dtype.itemsize < 2:
        raise InputError(f'{path}: expected a single-channel 16-bit depth image, got shape '
                         f'{raw.shape} dtype {raw.dtype}')
    return raw.astype(np.float32) / np.float32(depth_scale)


class RgbdFolderDataset(RgbdDataset):
    """Colour + 16-bit depth images of a folder (layouts: `rgbd_folder_pairs`).

    Args:
        folder: the RGB-D folder.
        depth_scale: raw depth units per metre (metres = value / depth_scale): 5000 for TUM
            RGB-D and ICL-NUIM PNGs, 1000 for millimetre PGMs.
        height, width: output size (None: the images' own size).
        crop: 'none', 'center' or 'bottom'.
        augmentation: None for evaluation.
    """

    def __init__(self, folder: str | os.PathLike, depth_scale: float,
                 height: int | None = None, width: int | None = None, crop: str = 'none',
                 augmentation: AugmentationConfig | None = None) -> None:
        super().__init__(height, width, crop, augmentation)
        if not depth_scale > 0:
            raise ConfigError(f'depth_scale must be > 0 (raw units per metre), got {depth_scale}')
        self.depth_scale = float(depth_scale)
        self.pairs = rgbd_folder_pairs(folder)

    def __len__(self) -> int:
        return len(self.pairs)

    def _load(self, index: int) -> tuple[Image.Image, np.ndarray, str]:
        pair = self.pairs[index]
        return (load_rgb(pair.image_path), load_depth_raw(pair.depth_path, self.depth_scale),
                str(pair.image_path))


class NyuLabeledDataset(RgbdDataset):
    """The 1449 densely labelled NYU Depth v2 frames from nyu_depth_v2_labeled.mat.

    MATLAB stores arrays column-major, so h5py shows the file's 480x640 frames transposed:
    `images` is [N, 3, W, H] uint8 and `depths` [N, W, H] float metres (already in-painted,
    so nearly every pixel is valid). Each frame is transposed back to [H, W].

    Args:
        mat_path: nyu_depth_v2_labeled.mat (MATLAB v7.3 / HDF5).
        height, width: output size (None: 480x640).
        indices: frames to use (e.g. the official train or test split, 0-based); None for all.
        crop: 'none', 'center' or 'bottom'.
        augmentation: None for evaluation.

    Raises:
        ConfigError: h5py is not installed.
        InputError: the file is missing, not HDF5, or lacks consistent `images` / `depths`.
    """

    def __init__(self, mat_path: str | os.PathLike, height: int | None = None,
                 width: int | None = None, indices: Sequence[int] | None = None,
                 crop: str = 'none', augmentation: AugmentationConfig | None = None) -> None:
        super().__init__(height, width, crop, augmentation)
        self.mat_path = Path(mat_path)
        self._handle = None
        self._pid = -1
        with self._open() as f:
            count = _check_nyu_layout(f, self.mat_path)
        self.indices = list(range(count)) if indices is None else [int(i) for i in indices]
        bad = [i for i in self.indices if not 0 <= i < count]
        if bad:
            raise InputError(f'{self.mat_path} has {count} frames; index {bad[0]} is out of range')

    def _open(self) -> h5py.File:
        try:
            import h5py
        except ImportError:
            raise ConfigError('reading nyu_depth_v2_labeled.mat needs h5py: pip install h5py '
                              '(part of the training extra)') from None
        if not self.mat_path.is_file():
            raise InputError(f'NYU labelled file not found: {self.mat_path}')
        try:
            return h5py.File(self.mat_path, 'r')
        except OSError as exc:
            raise InputError(f'{self.mat_path} is not an HDF5 (MATLAB v7.3) file: {exc}') from None

    def _file(self) -> h5py.File:
        # One handle per process: an HDF5 handle inherited by forked loader workers is unsafe.
        if self._handle is None or self._pid != os.getpid():
            self._handle, self._pid = self._open(), os.getpid()
        return self._handle

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state['_handle'], state['_pid'] = None, -1
        return state

    def __len__(self) -> int:
        return len(self.indices)

    def _load(self, index: int) -> tuple[Image.Image, np.ndarray, str]:
        f = self._file()
        frame = self.indices[index]
        image = np.ascontiguousarray(np.asarray(f['images'][frame]).transpose(2, 1, 0))
        depth = np.asarray(f['depths'][frame], dtype=np.float32).T
        return Image.fromarray(image, 'RGB'), depth, f'{self.mat_path} frame {frame}'


def _check_nyu_layout(f: h5py.File, path: Path) -> int:
    """Number of frames, after checking `images` [N, 3, W, H] and `depths` [N, W, H]."""
    if 'images' not in f or 'depths' not in f:
        raise InputError(f'{path} has no `images` and `depths` datasets; is it '
                         'nyu_depth_v2_labeled.mat?')
    images, depths = f['images'], f['depths']
    if (images.ndim != 4 or images.shape[1] != 3 or depths.ndim != 3
            or images.shape[0] != depths.shape[0] or images.shape[2:] != depths.shape[1:]):
        raise InputError(f'{path}: expected images [N,3,W,H] and depths [N,W,H], got '
                         f'{images.shape} and {depths.shape}')
    return int(images.shape[0])


@dataclass(frozen=True)
class RgbdDataConfig:
    """Where the RGB-D data is and how examples are made from it.

    Attributes:
        kind: 'rgbd_folder' (colour + 16-bit depth images) or 'nyu_labeled' (the .mat file).
        path: the training folder or .mat file.
        val_path: validation folder or .mat file ('' for none).
        depth_scale: rgbd_folder raw depth units per metre (metres = value / depth_scale).
        height, width: network input size, multiples of 32.
        crop: crop to the network aspect ratio first: 'none', 'center' or 'bottom'.
        augmentation: zoom, flip and colour jitter (training split only).
    """

    kind: str = 'rgbd_folder'
    path: str = ''
    val_path: str = ''
    depth_scale: float = 5000.0
    height: int = 480
    width: int = 640
    crop: str = 'none'
    augmentation: AugmentationConfig = field(default_factory=AugmentationConfig)

    def validate(self) -> None:
        """Raise ConfigError for values that cannot work (files are checked when building)."""
        if self.kind not in RGBD_KINDS:
            raise ConfigError(f'data.kind {self.kind!r} is unknown; use one of '
                              f'{", ".join(RGBD_KINDS)}')
        if not self.path:
            raise ConfigError('data.path is empty: set it to the RGB-D folder or .mat file')
        if self.height <= 0 or self.width <= 0 or self.height % 32 or self.width % 32:
            raise ConfigError(f'data.height and data.width must be positive multiples of 32, '
                              f'got {self.height}x{self.width}')
        if not self.depth_scale > 0:
            raise ConfigError(f'data.depth_scale must be > 0, got {self.depth_scale}')
        if self.crop not in CROP_MODES:
            raise ConfigError(f'data.crop {self.crop!r} is unknown; use one of '
                              f'{", ".join(CROP_MODES)}')
        self.augmentation.validate('data.augmentation')


def build_rgbd_dataset(config: RgbdDataConfig, split: str = 'train') -> RgbdDataset | None:
    """The training or validation dataset (None for 'val' without data.val_path).

    Only the training split is augmented. Raises InputError for missing or malformed data.
    """
    if split not in ('train', 'val'):
        raise ConfigError(f"split must be 'train' or 'val', got {split!r}")
    path = config.path if split == 'train' else config.val_path
    if not path:
        return None
    aug = config.augmentation if split == 'train' else None
    size = {'height': config.height, 'width': config.width, 'crop': config.crop,
            'augmentation': aug}
    if config.kind == 'nyu_labeled':
        dataset = NyuLabeledDataset(path, **size)
    else:
        dataset = RgbdFolderDataset(path, config.depth_scale, **size)
    logger.info('%s data: %d RGB-D examples (%s at %s)', split, len(dataset), config.kind, path)
    return dataset
