"""Feature reconstruction loss: view synthesis on learned features instead of colours.

Zhan et al., "Unsupervised Learning of Monocular Depth Estimation and Visual Odometry with Deep
Feature Reconstruction", CVPR 2018, Sec. 3.2: source-frame feature maps are warped into the
target with the predicted depth and pose, exactly as the images are for the photometric loss
(Zhou et al. 2017, Eq. 2), and compared with the target's own features. Features are smoother
than raw intensities in textureless regions, so the loss gives depth a usable gradient where
the photometric one is flat; the dual network's stage 2 uses it on the HR-Net's features.

The per-pixel error is the L1 distance averaged over channels; occlusions are handled as for
the photometric loss by the per-pixel minimum over source views (Monodepth2, Eq. 4), with
optional auto-masking by the unwarped sources' errors (Eq. 5).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from depth_ros.errors import ConfigError
from training.losses.reprojection import MinReprojection, min_reprojection
from training.view_synthesis import synthesize_view


def feature_error(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """|predicted - target| averaged over channels.

    Args:
        predicted, target: [B, C, H, W] feature maps.

    Returns:
        [B, 1, H, W] per-pixel error.
    """
    return (target - predicted).abs().mean(dim=1, keepdim=True)


def feature_reconstruction(target_features: torch.Tensor,
                           source_features: Sequence[torch.Tensor], depth: torch.Tensor,
                           k: torch.Tensor, sources_from_target: Sequence[torch.Tensor],
                           automask: bool = False,
                           generator: torch.Generator | None = None) -> MinReprojection:
    """Per-pixel minimum feature reconstruction error over the source views.

    Args:
        target_features: [B, C, H, W] features of the target frame.
        source_features: per source view, [B, C, H, W] features of that frame.
        depth: [B, 1, H, W] target depth at the features' resolution.
        k: [B, 4, 4] (or [B, 3, 3]) intrinsics in pixels at H x W.
        sources_from_target: per source view, [B, 4, 4] target-camera to source-camera.
        automask: let the unwarped sources' errors compete in the minimum (Monodepth2 Eq. 5).
        generator: random generator of the auto-mask tie-breaking noise.

    Returns:
        `MinReprojection` with per_pixel [B, H, W] and automask [B, H, W].
    """
    _check_inputs(target_features, source_features, depth, sources_from_target)
    inv_k = torch.linalg.inv(k)
    errors = [feature_error(synthesize_view(source, depth, k, pose, inv_k), target_features)
              for source, pose in zip(source_features, sources_from_target)]
    identity = None
    if automask:
        identity = [feature_error(source, target_features) for source in source_features]
    return min_reprojection(errors, identity, generator=generator)


def feature_reconstruction_loss(target_features: torch.Tensor,
                                source_features: Sequence[torch.Tensor], depth: torch.Tensor,
                                k: torch.Tensor, sources_from_target: Sequence[torch.Tensor],
                                automask: bool = False) -> torch.Tensor:
    """Mean over pixels of `feature_reconstruction` (same arguments): a scalar."""
    return feature_reconstruction(target_features, source_features, depth, k,
                                  sources_from_target, automask).per_pixel.mean()


def _check_inputs(target_features: torch.Tensor, source_features: Sequence[torch.Tensor],
                  depth: torch.Tensor, sources_from_target: Sequence[torch.Tensor]) -> None:
    if not source_features or len(source_features) != len(sources_from_target):
        raise ConfigError(f'feature reconstruction needs one pose per source view, got '
                          f'{len(source_features)} views and {len(sources_from_target)} poses')
    for source in source_features:
        if source.shape != target_features.shape:
            raise ConfigError(f'source features {tuple(source.shape)} differ from the target '
                              f'features {tuple(target_features.shape)}')
    if depth.shape[-2:] != target_features.shape[-2:]:
        raise ConfigError(f"depth {tuple(depth.shape[-2:])} must have the features' size "
                          f'{tuple(target_features.shape[-2:])}; resize it and scale k to match')
