"""Photometric and geometric augmentation of frame tuples.

As in Monodepth2, one colour jitter is drawn per example and applied to every frame of the tuple,
and only to the copies fed to the networks: the loss compares the un-jittered images. A
horizontal flip mirrors every frame of the tuple and the intrinsics with them, so the geometry
stays consistent. A zoom (off by default; not Monodepth2's) crops one random window of every frame
of the tuple, its depth label with them, and the intrinsics follow the crop.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import torch

from depth_ros.errors import ConfigError
from depth_ros.geometry.intrinsics import Intrinsics


@dataclass(frozen=True)
class AugmentationConfig:
    """Training-time augmentation (defaults: Monodepth2's).

    Attributes:
        flip_probability: chance of mirroring an example horizontally.
        jitter_probability: chance of colour-jittering an example.
        brightness, contrast, saturation: factors drawn uniformly from [1 - x, 1 + x].
        hue: shift drawn uniformly from [-x, x] (fraction of a full turn, at most 0.5).
        zoom_probability: chance of zooming an example in: a window 1/z the frame's width and
            height, z uniform in [1, max_zoom], placed uniformly inside the frame, is resized
            to the network size (0: never, and nothing is drawn).
        max_zoom: the largest z (at least 1).
    """

    flip_probability: float = 0.5
    jitter_probability: float = 0.5
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.1
    zoom_probability: float = 0.0
    max_zoom: float = 1.0

    def validate(self, where: str = 'augmentation') -> None:
        """Raise ConfigError for a value out of its range; `where` names it in the message."""
        for name in ('flip_probability', 'jitter_probability', 'zoom_probability'):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ConfigError(f'{where}.{name} must be in [0, 1], got {value}')
        check_jitter(self, where)
        if not self.max_zoom >= 1:
            raise ConfigError(f'{where}.max_zoom must be at least 1, got {self.max_zoom}')


class JitterStrengths(Protocol):
    """A config with colour-jitter strengths: AugmentationConfig, the pyramid loss's."""

    brightness: float
    contrast: float
    saturation: float
    hue: float


def check_jitter(config: JitterStrengths, where: str) -> None:
    """Raise ConfigError unless the jitter strengths are usable: brightness, contrast,
    saturation in [0, 1), hue in [0, 0.5] turns."""
    for name in ('brightness', 'contrast', 'saturation'):
        value = getattr(config, name)
        if not 0 <= value < 1:
            raise ConfigError(f'{where}.{name} must be in [0, 1), got {value}')
    if not 0 <= config.hue <= 0.5:
        raise ConfigError(f'{where}.hue must be in [0, 0.5] turns, got {config.hue}')


def zoom_box(box: tuple[int, int, int, int], max_zoom: float,
             generator: torch.Generator | None = None) -> tuple[int, int, int, int]:
    """A random window of `box` (x0, y0, width, height), 1/z its size with z uniform in
    [1, max_zoom], placed uniformly inside it; the same (x0, y0, width, height) form."""
    x0, y0, width, height = box
    zoom = 1 + (max_zoom - 1) * float(torch.rand(1, generator=generator))
    w, h = max(1, round(width / zoom)), max(1, round(height / zoom))
    dx = int(torch.randint(width - w + 1, (1,), generator=generator))
    dy = int(torch.randint(height - h + 1, (1,), generator=generator))
    return x0 + dx, y0 + dy, w, h


def maybe_zoom(box: tuple[int, int, int, int],
               config: AugmentationConfig | None) -> tuple[int, int, int, int]:
    """`box` zoomed with the config's probability (torch's global generator), else as it is;
    nothing is drawn when the config is None or its zoom_probability is 0."""
    if (config is None or config.zoom_probability <= 0
            or float(torch.rand(1)) >= config.zoom_probability):
        return box
    return zoom_box(box, config.max_zoom)


@dataclass(frozen=True)
class ColourJitter:
    """One drawn jitter: factors, hue shift and the order the four operations run in."""

    brightness: float = 1.0
    contrast: float = 1.0
    saturation: float = 1.0
    hue: float = 0.0
    order: tuple[int, ...] = (0, 1, 2, 3)

    @classmethod
    def sample(cls, config: AugmentationConfig,
               generator: torch.Generator | None = None) -> ColourJitter:
        def uniform(low: float, high: float) -> float:
            return low + (high - low) * float(torch.rand(1, generator=generator))

        return cls(brightness=uniform(1 - config.brightness, 1 + config.brightness),
                   contrast=uniform(1 - config.contrast, 1 + config.contrast),
                   saturation=uniform(1 - config.saturation, 1 + config.saturation),
                   hue=uniform(-config.hue, config.hue),
                   order=tuple(torch.randperm(4, generator=generator).tolist()))

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Apply to [N, 3, H, W] images in [0, 1]; returns a new tensor."""
        for op in self.order:
            if op == 0:
                images = (images * self.brightness).clamp(0, 1)
            elif op == 1:
                mean = grey(images).mean(dim=(1, 2, 3), keepdim=True)
                images = _blend(images, mean, self.contrast)
            elif op == 2:
                images = _blend(images, grey(images), self.saturation)
            elif self.hue != 0:
                images = shift_hue(images, self.hue)
        return images


def _blend(images: torch.Tensor, other: torch.Tensor, factor: float) -> torch.Tensor:
    return (factor * images + (1 - factor) * other).clamp(0, 1)


def grey(images: torch.Tensor) -> torch.Tensor:
    """ITU-R 601 luma of [N, 3, H, W] RGB -> [N, 1, H, W]."""
    r, g, b = images[:, 0:1], images[:, 1:2], images[:, 2:3]
    return 0.299 * r + 0.587 * g + 0.114 * b


def shift_hue(images: torch.Tensor, shift: float) -> torch.Tensor:
    """Rotate the HSV hue of [N, 3, H, W] RGB images by `shift` turns."""
    value, _ = images.max(dim=1, keepdim=True)
    minimum, _ = images.min(dim=1, keepdim=True)
    chroma = value - minimum
    saturation = torch.where(value > 0, chroma / value.clamp_min(1e-12), torch.zeros_like(value))
    safe = chroma.clamp_min(1e-12)
    r, g, b = images[:, 0:1], images[:, 1:2], images[:, 2:3]
    # Hue sector by the largest channel (Smith 1978), in sixths of a turn.
    hue6 = torch.where(value == r, ((g - b) / safe) % 6,
                       torch.where(value == g, (b - r) / safe + 2, (r - g) / safe + 4))
    hue6 = torch.where(chroma > 0, hue6, torch.zeros_like(hue6))
    hue = (hue6 / 6 + shift) % 1.0
    # HSV -> RGB: channel n (R=5, G=3, B=1) is v - v s clamp(min(k, 4 - k), 0, 1),
    # with k = (n + 6h) mod 6.
    n = torch.tensor([5.0, 3.0, 1.0], dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    k = (n + hue * 6) % 6
    return value - value * saturation * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def flip_images(images: torch.Tensor) -> torch.Tensor:
    """Mirror [..., H, W] tensors left-right."""
    return images.flip(-1)


def flip_intrinsics(intrinsics: Intrinsics) -> Intrinsics:
    """Intrinsics of the mirrored image: pixel x maps to W - 1 - x, so cx -> W - 1 - cx."""
    return replace(intrinsics, cx=intrinsics.width - 1 - intrinsics.cx)
