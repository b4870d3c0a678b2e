"""View synthesis: rebuild the target view from a source view, the target's depth, the relative
pose and the intrinsics (Zhou et al., "Unsupervised Learning of Depth and Ego-Motion from Video",
CVPR 2017, Eq. 2; Monodepth2 Eq. 2).

Each target pixel p_t is lifted with its depth, moved into the source camera and projected:
p_s ~ K T_{s<-t} D(p_t) K^-1 p_t. The source image is then read at p_s with bilinear sampling;
samples outside the image take the border colour.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from depth_ros.geometry.projection import backproject, project_to_grid


def source_sampling_grid(depth: torch.Tensor, k: torch.Tensor,
                         source_from_target: torch.Tensor,
                         inv_k: torch.Tensor | None = None) -> torch.Tensor:
    """Where each target pixel lands in the source image, normalised for `grid_sample`.

    Args:
        depth: [B, 1, H, W] target depth.
        k: [B, 4, 4] (or [B, 3, 3]) intrinsics in pixels at H x W.
        source_from_target: [B, 4, 4] maps target-camera points into the source camera.
        inv_k: optional precomputed inverse of `k`.

    Returns:
        [B, H, W, 2] grid, x then y, in [-1, 1] inside the image.
    """
    if inv_k is None:
        inv_k = torch.linalg.inv(k)
    _, _, height, width = depth.shape
    points = backproject(depth, inv_k)
    return project_to_grid(points, k, source_from_target, height, width)


def sample_source(source: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Bilinearly read [B, C, H, W] `source` at `grid` [B, H, W, 2], clamping to the border."""
    return F.grid_sample(source, grid, mode='bilinear', padding_mode='border',
                         align_corners=False)


def synthesize_view(source: torch.Tensor, depth: torch.Tensor, k: torch.Tensor,
                    source_from_target: torch.Tensor,
                    inv_k: torch.Tensor | None = None) -> torch.Tensor:
    """The target view rebuilt from `source` ([B, 3, H, W]); other arguments as in
    `source_sampling_grid`. Returns [B, 3, H, W]."""
    return sample_source(source, source_sampling_grid(depth, k, source_from_target, inv_k))
