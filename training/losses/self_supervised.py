"""The self-supervised monocular depth loss of Monodepth2 (Godard et al., "Digging Into
Self-Supervised Monocular Depth Estimation", ICCV 2019, Sec. 3).

At every decoder scale the predicted inverse depth is upsampled to the input resolution (Sec. 3.3,
"full-resolution multi-scale"), converted to depth, and each source frame is warped into the
target view. The loss per scale is the mean over pixels of the auto-masked minimum photometric
reprojection error, plus edge-aware smoothness of the mean-normalised inverse depth at that
scale, weighted by smoothness_weight / 2^scale. The total is the average over scales.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from depth_ros.geometry.projection import inv_depth_to_depth
from training.losses.photometric import DEFAULT_SSIM_WEIGHT, photometric_error
from training.losses.reprojection import DEFAULT_TIE_NOISE, min_reprojection
from training.losses.smoothness import edge_aware_smoothness, mean_normalised
from training.view_synthesis import synthesize_view


@dataclass(frozen=True)
class LossConfig:
    """Weights and switches of the self-supervised loss (defaults: Monodepth2's).

    Attributes:
        scales: decoder scales supervised (0 = full resolution).
        ssim_weight: alpha in alpha * SSIM + (1 - alpha) * L1.
        smoothness_weight: weight of the edge-aware smoothness at scale 0 (halved per scale).
        automask: compete with identity reprojection errors (auto-masking).
        tie_noise: std of the Gaussian added to identity errors to break ties (0: none).
    """

    scales: tuple[int, ...] = (0, 1, 2, 3)
    ssim_weight: float = DEFAULT_SSIM_WEIGHT
    smoothness_weight: float = 1e-3
    automask: bool = True
    tie_noise: float = DEFAULT_TIE_NOISE


@dataclass
class LossResult:
    """Everything the loss computed, for optimisation and logging.

    Attributes:
        total: scalar, the mean of `per_scale`.
        per_scale: scalar loss per entry of `scales`.
        scales: the scales, in the order of the per-scale lists.
        warped: frame offset -> per scale, [B, 3, H, W] source warped into the target view.
        automask: per scale, [B, H, W] 1 where a warped view supervised the pixel.
    """

    total: torch.Tensor
    per_scale: list[torch.Tensor]
    scales: tuple[int, ...]
    warped: dict[int, list[torch.Tensor]]
    automask: list[torch.Tensor]


def self_supervised_loss(target_scales: Sequence[torch.Tensor],
                         sources: Mapping[int, torch.Tensor],
                         sigmoids: Sequence[torch.Tensor],
                         source_from_target: Mapping[int, torch.Tensor], k: torch.Tensor, *,
                         min_depth: float, max_depth: float, config: LossConfig = LossConfig(),
                         generator: torch.Generator | None = None) -> LossResult:
    """Monodepth2's loss for one batch.

    Args:
        target_scales: target colour image per scale s, [B, 3, H / 2^s, W / 2^s] in [0, 1]
            (index = scale; index 0 is the full-resolution target).
        sources: frame offset (e.g. -1, +1) -> [B, 3, H, W] full-resolution source image.
        sigmoids: the depth network's sigmoid outputs per scale (index = scale).
        source_from_target: frame offset -> [B, 4, 4] transform of target-camera points into
            that source camera.
        k: [B, 4, 4] intrinsics in pixels at H x W.
        min_depth, max_depth: the range the sigmoid output maps to.
        config: loss weights and switches.
        generator: random generator for the tie-breaking noise.

    Returns:
        `LossResult`.
    """
    target = target_scales[0]
    height, width = target.shape[-2:]
    inv_k = torch.linalg.inv(k)
    identity = None
    if config.automask:
        identity = [photometric_error(src, target, config.ssim_weight) for src in sources.values()]
    per_scale, automasks = [], []
    warped: dict[int, list[torch.Tensor]] = {offset: [] for offset in sources}
    for scale in config.scales:
        sigmoid = F.interpolate(sigmoids[scale], size=(height, width), mode='bilinear',
                                  align_corners=False)
        _, depth = inv_depth_to_depth(sigmoid, min_depth, max_depth)
        errors = []
        for offset, source in sources.items():
            image = synthesize_view(source, depth, k, source_from_target[offset], inv_k)
            warped[offset].append(image)
            errors.append(photometric_error(image, target, config.ssim_weight))
        reprojection = min_reprojection(errors, identity, config.tie_noise, generator)
        smoothness = edge_aware_smoothness(mean_normalised(sigmoids[scale]),
                                           target_scales[scale])
        per_scale.append(reprojection.per_pixel.mean()
                         + config.smoothness_weight * smoothness / (2 ** scale))
        automasks.append(reprojection.automask)
    total = torch.stack(per_scale).mean()
    return LossResult(total, per_scale, tuple(config.scales), warped, automasks)
