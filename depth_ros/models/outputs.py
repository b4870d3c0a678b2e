"""Small dataclasses for network outputs (instead of dicts keyed by tuples)."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class DepthOutput:
    """Inverse-depth maps from a depth network.

    Attributes:
        inv_depths: sigmoid outputs in [0, 1], full resolution first ([B,1,H,W], [B,1,H/2,W/2],
            ...). Map them to inverse depth with `geometry.projection.inv_depth_to_depth`.
    """

    inv_depths: list[torch.Tensor]

    @property
    def full_resolution(self) -> torch.Tensor:
        return self.inv_depths[0]


@dataclass
class PoseParameters:
    """The pose network's raw prediction for an ordered image pair.

    Attributes:
        axis_angle: [B, 1, 3] rotation vector (radians).
        translation: [B, 1, 3] in the depth network's units.
    """

    axis_angle: torch.Tensor
    translation: torch.Tensor
