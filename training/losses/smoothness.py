"""Edge-aware smoothness of the network's sigmoid map (Godard et al. 2017, Eq. 3; Monodepth2
Sec. 3).

First differences of the map are penalised less where the image itself has an edge: each
gradient is weighted by exp(-|image gradient|), the image gradient averaged over channels.
Callers normalise the map by its mean first (Monodepth2, following Wang et al. 2018)
so the term cannot be lowered by shrinking the depth scale.
"""
from __future__ import annotations

import torch


def edge_aware_smoothness(sigmoid: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """mean(|dx d| exp(-|dx I|)) + mean(|dy d| exp(-|dy I|)).

    Args:
        sigmoid: [B, 1, H, W] the network's sigmoid output (Monodepth2 smooths it after
            `mean_normalised`; any map works).
        image: [B, 3, H, W] colour image of the same size.

    Returns:
        Scalar loss.
    """
    d_dx = (sigmoid[:, :, :, :-1] - sigmoid[:, :, :, 1:]).abs()
    d_dy = (sigmoid[:, :, :-1, :] - sigmoid[:, :, 1:, :]).abs()
    i_dx = (image[:, :, :, :-1] - image[:, :, :, 1:]).abs().mean(dim=1, keepdim=True)
    i_dy = (image[:, :, :-1, :] - image[:, :, 1:, :]).abs().mean(dim=1, keepdim=True)
    return (d_dx * torch.exp(-i_dx)).mean() + (d_dy * torch.exp(-i_dy)).mean()


def mean_normalised(sigmoid: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Divide each [1, H, W] map of a [B, 1, H, W] batch by its spatial mean."""
    return sigmoid / (sigmoid.mean(dim=(2, 3), keepdim=True) + eps)
