"""Scale-invariant log depth error for the frames that have ground-truth depth (the synthetic
world's exact depth, LiDAR of a real drive), added to the self-supervised loss.

Eigen et al., "Depth Map Prediction from a Single Image using a Multi-Scale Deep Network",
NIPS 2014, Eq. 4: with d_i = log y_i - log y*_i over the n pixels of one image that have ground
truth,

    D(y, y*) = (1 / n) sum d_i^2 - (lambda / n^2) (sum d_i)^2.

lambda = 1 makes it blind to the image's scale (only the structure is supervised), lambda = 0
is the plain mean squared log error; in between (0.85 in Lee et al.'s BTS) the structure counts
most and the scale a little, which pins the self-supervised network's unit to metres without
fighting the photometric loss over it frame by frame.
"""
from __future__ import annotations

import torch

from depth_ros.errors import ConfigError


def silog_loss(depth: torch.Tensor, gt_depth: torch.Tensor, valid: torch.Tensor,
               variance_focus: float = 0.85) -> torch.Tensor:
    """Eigen's scale-invariant error per image, averaged over the images with ground truth.

    Args:
        depth: [B, 1, H, W] predicted depth (> 0), in the unit of `gt_depth`.
        gt_depth: [B, 1, H, W] ground-truth depth; read only where `valid`.
        valid: [B, 1, H, W] bool, pixels with ground truth.
        variance_focus: lambda in [0, 1].

    Returns:
        [] scalar; 0 (still attached to the graph) when no image has ground truth. 0 when
        depth == gt_depth, and with lambda = 1 also when depth == c * gt_depth for any c > 0.
    """
    if not 0.0 <= variance_focus <= 1.0:
        raise ConfigError(f'variance_focus must be in [0, 1], got {variance_focus}')
    mask = valid.to(depth.dtype)
    safe_gt = torch.where(valid, gt_depth, torch.ones_like(gt_depth))
    diff = (torch.log(depth) - torch.log(safe_gt)) * mask
    count = mask.flatten(1).sum(1)
    has_gt = count > 0
    n = count.clamp(min=1.0)
    mean_sq = diff.pow(2).flatten(1).sum(1) / n
    mean = diff.flatten(1).sum(1) / n
    per_image = mean_sq - variance_focus * mean.pow(2)
    return (per_image * has_gt).sum() / has_gt.sum().clamp(min=1)
