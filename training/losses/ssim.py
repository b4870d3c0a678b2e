"""Structural dissimilarity per pixel (Wang et al., "Image Quality Assessment: From Error
Visibility to Structural Similarity", IEEE TIP 2004, Eq. 13), as used for self-supervised depth.

Local statistics are 3x3 box averages over reflection-padded images, so the map has the input's
size; the result is (1 - SSIM) / 2 clamped to [0, 1]: 0 for identical patches.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


# Stabilising constants (K1 L)^2 and (K2 L)^2 with dynamic range L = 1 (Wang et al., Eq. 7, 9).
SSIM_C1 = 0.01 ** 2
SSIM_C2 = 0.03 ** 2


def _local_mean(x: torch.Tensor) -> torch.Tensor:
    """3x3 box average of an already padded tensor (valid positions only).

    Separable sums of shifted views: equal to avg_pool2d(x, 3, stride=1) up to rounding, and
    about 3x faster forward + backward on the CPU, where pooling was a third of a training step.
    """
    rows = x[..., :-2, :] + x[..., 1:-1, :] + x[..., 2:, :]
    return (rows[..., :-2] + rows[..., 1:-1] + rows[..., 2:]) * (1.0 / 9.0)


def ssim_dissimilarity(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-pixel, per-channel clamp((1 - SSIM(x, y)) / 2, 0, 1).

    Args:
        x, y: [B, C, H, W] images in [0, 1].

    Returns:
        [B, C, H, W] dissimilarity in [0, 1].
    """
    x = F.pad(x, (1, 1, 1, 1), mode='reflect')
    y = F.pad(y, (1, 1, 1, 1), mode='reflect')
    # All five local means in one pass: E[x], E[y], E[x^2], E[y^2], E[xy].
    means = _local_mean(torch.cat([x, y, x * x, y * y, x * y], dim=1))
    mu_x, mu_y, mean_xx, mean_yy, mean_xy = means.chunk(5, dim=1)
    # Variances and covariance as E[ab] - E[a]E[b] over the 3x3 window.
    var_x = mean_xx - mu_x * mu_x
    var_y = mean_yy - mu_y * mu_y
    cov_xy = mean_xy - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + SSIM_C1) * (2 * cov_xy + SSIM_C2)
    denominator = (mu_x * mu_x + mu_y * mu_y + SSIM_C1) * (var_x + var_y + SSIM_C2)
    return torch.clamp((1 - numerator / denominator) / 2, 0, 1)
