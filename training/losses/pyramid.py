"""FA-Depth's pyramid loss: consistency terms around the main photometric loss.

Wang and Cheng, "FA-Depth: Toward Fast and Accurate Self-supervised Monocular Depth Estimation",
2024, use a pyramid loss "to improve the ability of each layer to perceive different context
information and the robustness to left-right direction and illumination changes". This module is
our interpretation of it, three optional terms (no reference vectors exist):

1. Multi-resolution inputs (`input_scales`): the depth network also runs on the target image
   resized to each fraction f (sides snapped to multiples of 32). Every decoder scale of that
   prediction is resized to the size of the same scale of the main prediction, so the main
   photometric loss (view synthesis at full resolution, smoothness, every supervised scale)
   applies unchanged; the term is the mean over the fractions. With f = 1 it equals the main
   loss exactly (without the auto-mask's tie-breaking noise, which is drawn anew).
2. Flip consistency (`flip_weight`): the prediction for the mirrored target, mirrored back,
   must match the prediction for the target itself.
3. Colour consistency (`colour_weight`): the prediction for a photometrically perturbed target
   (brightness, contrast, saturation and hue drawn from a seeded generator, one draw per
   image) must match the prediction for the target itself.

Consistency distance: the mean L1 distance between log depths, |log d_a - log d_b|, at every
supervised scale (each at its own resolution), averaged over the scales. Log depth makes the
error relative, so near and far pixels weigh alike (an inverse-depth distance would be
dominated by the nearest pixels), and it keeps the scale: the mirrored or recoloured image shows
the same scene, so the depths must agree as they are, not only up to a factor, which a
mean-normalised inverse depth would allow. The prediction for the unchanged target is the
reference and receives no gradient from these terms: the photometric loss supervises it, the
consistency teaches the network to reproduce it under the transformation.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import math

import torch
from torch import nn
import torch.nn.functional as F

from depth_ros.errors import ConfigError
from depth_ros.geometry.projection import inv_depth_to_depth
from training.data.augmentation import AugmentationConfig, ColourJitter, check_jitter


# Network input sides must be multiples of the encoders' total stride.
SIZE_MULTIPLE = 32

RESOLUTION, FLIP, COLOUR = 'pyramid_resolution', 'pyramid_flip', 'pyramid_colour'


@dataclass(frozen=True)
class PyramidConfig:
    """The pyramid loss terms; all off by default.

    Attributes:
        input_scales: extra input resolutions as fractions of the input size, in (0, 1],
            e.g. [0.75, 0.5] (empty: no multi-resolution term).
        resolution_weight: weight of the mean multi-resolution photometric loss.
        flip_weight: weight of the flip consistency (0: off).
        colour_weight: weight of the colour consistency (0: off).
        brightness, contrast, saturation: colour-consistency factors drawn uniformly from
            [1 - x, 1 + x].
        hue: colour-consistency hue shift drawn uniformly from [-x, x] turns (at most 0.5).
    """

    input_scales: tuple[float, ...] = ()
    resolution_weight: float = 1.0
    flip_weight: float = 0.0
    colour_weight: float = 0.0
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.1

    @property
    def weights(self) -> dict[str, float]:
        """Term name -> weight, for the terms that are on."""
        weights = {RESOLUTION: self.resolution_weight if self.input_scales else 0.0,
                   FLIP: self.flip_weight, COLOUR: self.colour_weight}
        return {name: weight for name, weight in weights.items() if weight > 0}

    def validate(self, where: str = 'loss.pyramid') -> None:
        """Raise ConfigError for a value that cannot work."""
        scales = self.input_scales
        if any(not 0 < f <= 1 for f in scales) or len(set(scales)) != len(scales):
            raise ConfigError(f'{where}.input_scales must be distinct fractions in (0, 1], '
                              f'e.g. [0.75, 0.5], got {list(scales)}')
        for name in ('resolution_weight', 'flip_weight', 'colour_weight'):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f'{where}.{name} must be a finite value >= 0, got {value}')
        check_jitter(self, where)


def snapped_size(height: int, width: int, fraction: float) -> tuple[int, int]:
    """(height, width) times `fraction`, each rounded to a multiple of 32 (at least 32)."""
    def side(n: int) -> int:
        return max(SIZE_MULTIPLE, int(n * fraction / SIZE_MULTIPLE + 0.5) * SIZE_MULTIPLE)
    return side(height), side(width)


def resized_input_sigmoids(depth_net: nn.Module, image: torch.Tensor, fraction: float,
                             sizes: Sequence[tuple[int, int]]) -> list[torch.Tensor]:
    """The depth network's outputs for `image` resized by `fraction`, resized to `sizes`.

    Args:
        depth_net: image [B, 3, H, W] -> `DepthOutput`.
        image: [B, 3, H, W] network input.
        fraction: input resolution as a fraction of H x W (snapped with `snapped_size`).
        sizes: per decoder scale, the (height, width) its output is resized to (the main
            prediction's sizes).

    Returns:
        Per scale, [B, 1, *sizes[s]] sigmoid outputs.
    """
    height, width = image.shape[-2:]
    size = snapped_size(height, width, fraction)
    if size != (height, width):
        # Area averaging when shrinking: no aliasing of fine texture.
        mode = 'area' if size[0] <= height and size[1] <= width else 'bilinear'
        image = F.interpolate(image, size=size, mode=mode,
                              **({} if mode == 'area' else {'align_corners': False}))
    sigmoids = depth_net(image).sigmoids
    return [_resize(sigmoid, tuple(size)) for sigmoid, size in zip(sigmoids, sizes)]


def log_depth(sigmoid: torch.Tensor, min_depth: float, max_depth: float) -> torch.Tensor:
    """log of the depth that a sigmoid output maps to (same shape)."""
    scaled, _ = inv_depth_to_depth(sigmoid, min_depth, max_depth)
    return -torch.log(scaled)


def consistency(sigmoids: Sequence[torch.Tensor], reference: Sequence[torch.Tensor],
                scales: Sequence[int], min_depth: float, max_depth: float) -> torch.Tensor:
    """Mean over `scales` of mean |log d - log d_reference|; the reference gets no gradient.

    Args:
        sigmoids, reference: per scale, [B, 1, h, w] sigmoid outputs of the same size.
        scales: which entries to compare.
        min_depth, max_depth: the range the sigmoid output maps to.

    Returns:
        Scalar.
    """
    terms = [(log_depth(sigmoids[s].float(), min_depth, max_depth)
              - log_depth(reference[s].detach().float(), min_depth, max_depth)).abs().mean()
             for s in scales]
    return torch.stack(terms).mean()


def flip_consistency(depth_net: nn.Module, image: torch.Tensor,
                     reference: Sequence[torch.Tensor], scales: Sequence[int],
                     min_depth: float, max_depth: float) -> torch.Tensor:
    """`consistency` of the mirrored image's prediction, mirrored back, with `reference`.

    Args:
        depth_net: image [B, 3, H, W] -> `DepthOutput`.
        image: [B, 3, H, W] network input whose prediction is `reference`.
        Other arguments as in `consistency`.
    """
    flipped = depth_net(image.flip(-1)).sigmoids
    return consistency([d.flip(-1) for d in flipped], reference, scales, min_depth, max_depth)


def perturb_colours(images: torch.Tensor, config: PyramidConfig,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Each image of [B, 3, H, W] (in [0, 1]) with its own random colour jitter.

    The draws come from `generator` (a CPU generator; None: the global one).
    """
    jitter = AugmentationConfig(brightness=config.brightness, contrast=config.contrast,
                                saturation=config.saturation, hue=config.hue)
    return torch.cat([ColourJitter.sample(jitter, generator)(images[i:i + 1])
                      for i in range(images.shape[0])])


def colour_consistency(depth_net: nn.Module, image: torch.Tensor,
                       reference: Sequence[torch.Tensor], scales: Sequence[int],
                       min_depth: float, max_depth: float, config: PyramidConfig,
                       generator: torch.Generator | None = None) -> torch.Tensor:
    """`consistency` of the colour-perturbed image's prediction with `reference`.

    Arguments as in `flip_consistency`; `config` holds the perturbation strengths and
    `generator` draws them.
    """
    perturbed = depth_net(perturb_colours(image, config, generator)).sigmoids
    return consistency(perturbed, reference, scales, min_depth, max_depth)


def pyramid_terms(depth_net: nn.Module, image: torch.Tensor,
                  sigmoids: Sequence[torch.Tensor], config: PyramidConfig,
                  scales: Sequence[int], min_depth: float, max_depth: float,
                  photometric: Callable[[list[torch.Tensor]], torch.Tensor],
                  generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """The unweighted pyramid terms that `config` switches on (weights: `config.weights`).

    Args:
        depth_net: image [B, 3, H, W] -> `DepthOutput`.
        image: [B, 3, H, W] the target as the network saw it.
        sigmoids: the network's sigmoid outputs for `image`, per scale.
        config: which terms and how strong the colour perturbation is.
        scales: supervised decoder scales.
        min_depth, max_depth: the range the sigmoid output maps to.
        photometric: the main loss for a list of per-scale sigmoid outputs (of the sizes of
            `sigmoids`) -> scalar.
        generator: CPU generator for the colour perturbation.

    Returns:
        Term name (RESOLUTION, FLIP, COLOUR) -> scalar, for the terms that are on.
    """
    weights = config.weights
    terms = {}
    if RESOLUTION in weights:
        sizes = [tuple(d.shape[-2:]) for d in sigmoids]
        terms[RESOLUTION] = torch.stack([
            photometric(resized_input_sigmoids(depth_net, image, fraction, sizes))
            for fraction in config.input_scales]).mean()
    if FLIP in weights:
        terms[FLIP] = flip_consistency(depth_net, image, sigmoids, scales, min_depth,
                                       max_depth)
    if COLOUR in weights:
        terms[COLOUR] = colour_consistency(depth_net, image, sigmoids, scales, min_depth,
                                           max_depth, config, generator)
    return terms


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == size:
        return x
    return F.interpolate(x, size=size, mode='bilinear', align_corners=False)
