"""Photometric (appearance) error between a synthesised view and the real one.

A weighted sum of structural dissimilarity and absolute difference, both averaged over colour
channels (Godard et al., "Unsupervised Monocular Depth Estimation with Left-Right Consistency",
CVPR 2017, Eq. 2; Monodepth2 Eq. 1 with alpha = 0.85).
"""
from __future__ import annotations

import torch

from training.losses.ssim import ssim_dissimilarity


DEFAULT_SSIM_WEIGHT = 0.85


def photometric_error(predicted: torch.Tensor, target: torch.Tensor,
                      ssim_weight: float = DEFAULT_SSIM_WEIGHT) -> torch.Tensor:
    """alpha * (1 - SSIM) / 2 + (1 - alpha) * |predicted - target|, averaged over channels.

    Args:
        predicted, target: [B, 3, H, W] images in [0, 1].
        ssim_weight: alpha; 0 gives pure L1.

    Returns:
        [B, 1, H, W] per-pixel error.
    """
    l1 = (target - predicted).abs().mean(dim=1, keepdim=True)
    if ssim_weight == 0:
        return l1
    ssim = ssim_dissimilarity(predicted, target).mean(dim=1, keepdim=True)
    return ssim_weight * ssim + (1 - ssim_weight) * l1
