"""A training example (or a batch of them): named tensors instead of tuple-keyed dicts."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass
class Sample:
    """The frames of one example, ready for the networks and the loss.

    Shapes are given for one example; after `collate_samples` every tensor has a leading batch
    dimension B.

    Attributes:
        frame_offsets: frame offsets relative to the target, target (0) first, e.g. (0, -1, 1).
        images: per scale s, [T, 3, H / 2^s, W / 2^s] in [0, 1], frames in `frame_offsets`
            order, without colour jitter (what the loss compares).
        network_images: [T, 3, H, W] the same frames at scale 0 with the colour jitter applied
            (what the networks see).
        k: [4, 4] intrinsics in pixels at H x W (scale 0).
        depth_m: [1, H, W] ground-truth depth of the target in metres (0: no measurement), or
            None when the example has none (in a batch where some examples have it, theirs
            is all zeros).
        index: [] int64 position in the dataset.
    """

    frame_offsets: tuple[int, ...]
    images: list[torch.Tensor]
    network_images: torch.Tensor
    k: torch.Tensor
    depth_m: torch.Tensor | None
    index: torch.Tensor

    def _slot(self, offset: int) -> int:
        return self.frame_offsets.index(offset)

    def image(self, offset: int, scale: int = 0) -> torch.Tensor:
        """Un-jittered frame `offset` at `scale`: [B, 3, H / 2^s, W / 2^s] (batched samples)."""
        return self.images[scale][:, self._slot(offset)]

    def network_image(self, offset: int) -> torch.Tensor:
        """Colour-jittered frame `offset` at scale 0: [B, 3, H, W] (batched samples)."""
        return self.network_images[:, self._slot(offset)]

    def k_at(self, scale: int) -> torch.Tensor:
        """Intrinsics [(B,) 4, 4] for the images of `scale` (Monodepth2's convention: the
        first two rows of K scale with the image, fx / 2^s and cx / 2^s)."""
        k = self.k.clone()
        k[..., :2, :] /= 2 ** scale
        return k

    @property
    def source_offsets(self) -> tuple[int, ...]:
        return self.frame_offsets[1:]

    def to(self, device: torch.device | str) -> Sample:
        """A copy with every tensor on `device` (non-blocking from pinned memory)."""
        def move(t: torch.Tensor) -> torch.Tensor:
            return t.to(device, non_blocking=True)

        return Sample(self.frame_offsets, [move(t) for t in self.images],
                      move(self.network_images), move(self.k),
                      None if self.depth_m is None else move(self.depth_m), move(self.index))

    def pin_memory(self) -> Sample:
        """Called by DataLoader(pin_memory=True) for custom batch types."""
        return Sample(self.frame_offsets, [t.pin_memory() for t in self.images],
                      self.network_images.pin_memory(), self.k.pin_memory(),
                      None if self.depth_m is None else self.depth_m.pin_memory(),
                      self.index.pin_memory())


def collate_samples(samples: Sequence[Sample]) -> Sample:
    """Stack single examples into a batch (the DataLoader's collate_fn)."""
    first = samples[0]
    depths = [s.depth_m for s in samples]
    known = next((d for d in depths if d is not None), None)
    if known is not None:  # mixed data (e.g. synthetic with depth, real video without)
        depths = [torch.zeros_like(known) if d is None else d for d in depths]
    return Sample(
        frame_offsets=first.frame_offsets,
        images=[torch.stack([s.images[i] for s in samples]) for i in range(len(first.images))],
        network_images=torch.stack([s.network_images for s in samples]),
        k=torch.stack([s.k for s in samples]),
        depth_m=None if known is None else torch.stack(depths),
        index=torch.stack([s.index for s in samples]),
    )
