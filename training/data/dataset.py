"""`FrameTupleDataset`: frame records -> `Sample`s (load, crop, resize, augment, pyramid)."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import Dataset

from depth_ros.errors import InputError
from training.data.augmentation import (
    AugmentationConfig,
    ColourJitter,
    flip_images,
    flip_intrinsics,
    maybe_zoom,
)
from training.data.images import (
    area_pyramid,
    crop_and_resize,
    crop_and_resize_depth,
    crop_box,
    load_depth_png,
    load_rgb,
    to_tensor,
)
from training.data.records import FrameRecord, check_offsets
from training.data.sample import Sample


class FrameTupleDataset(Dataset):
    """Frame tuples at a fixed network resolution.

    Every frame is cropped to the network's aspect ratio (unless `crop` is 'none'), resized to
    width x height, and the intrinsics follow each step. With `augmentation`, examples are
    randomly zoomed (when its zoom_probability is above 0), flipped and colour-jittered using
    torch's global generator, which the DataLoader seeds per worker.

    Args:
        records: one per example; image paths ordered like `frame_offsets`.
        frame_offsets: e.g. (0, -1, 1).
        height, width: network input size (multiples of 32 for the ResNet encoders).
        num_scales: number of pyramid levels returned in `Sample.images`.
        crop: 'none', 'center' or 'bottom' (see `images.crop_box`).
        augmentation: None for evaluation (no flip, no jitter).
    """

    def __init__(self, records: Sequence[FrameRecord], frame_offsets: Sequence[int], height: int,
                 width: int, num_scales: int = 4, crop: str = 'none',
                 augmentation: AugmentationConfig | None = None) -> None:
        check_offsets(frame_offsets)
        self.records = list(records)
        self.frame_offsets = tuple(frame_offsets)
        self.height, self.width = int(height), int(width)
        self.num_scales = int(num_scales)
        self.crop = crop
        self.augmentation = augmentation

    def __len__(self) -> int:
        return len(self.records)

    @property
    def has_depth(self) -> bool:
        return bool(self.records) and all(r.depth_path is not None for r in self.records)

    def __getitem__(self, index: int) -> Sample:
        record = self.records[index]
        frames = [load_rgb(path) for path in record.image_paths]
        intrinsics = record.intrinsics
        if frames[0].size != (intrinsics.width, intrinsics.height):
            raise InputError(f'{record.image_paths[0]} is {frames[0].width}x{frames[0].height} '
                             f'but its intrinsics are for {intrinsics.width}x{intrinsics.height}')
        box = crop_box(frames[0].width, frames[0].height, self.width, self.height, self.crop)
        box = maybe_zoom(box, self.augmentation)
        intrinsics = intrinsics.cropped(*box).scaled(self.width, self.height)
        images = torch.stack([to_tensor(crop_and_resize(f, box, self.width, self.height))
                              for f in frames])
        depth = None
        if record.depth_path is not None:
            depth_np = crop_and_resize_depth(load_depth_png(record.depth_path), box, self.width,
                                             self.height)
            depth = torch.from_numpy(depth_np.copy()).unsqueeze(0)
        aug = self.augmentation
        if aug is not None and float(torch.rand(1)) < aug.flip_probability:
            images, intrinsics = flip_images(images), flip_intrinsics(intrinsics)
            depth = None if depth is None else flip_images(depth)
        network_images = images
        if aug is not None and float(torch.rand(1)) < aug.jitter_probability:
            network_images = ColourJitter.sample(aug)(images)
        k = torch.from_numpy(intrinsics.matrix(homogeneous=True)).float()
        return Sample(self.frame_offsets, area_pyramid(images, self.num_scales), network_images,
                      k, depth, torch.tensor(index, dtype=torch.int64))
