"""Small dataclasses for network outputs (instead of dicts keyed by tuples)."""
from __future__ import annotations

from dataclasses import dataclass
import warnings

import torch


@dataclass
class DepthOutput:
    """The multi-scale output of a depth network.

    Attributes:
        sigmoids: sigmoid outputs in [0, 1], full resolution first ([B,1,H,W], [B,1,H/2,W/2],
            ...). `geometry.projection.inv_depth_to_depth` maps them to inverse depth and
            depth in network units.
    """

    sigmoids: list[torch.Tensor]

    @property
    def full_resolution(self) -> torch.Tensor:
        return self.sigmoids[0]

    @property
    def inv_depths(self) -> list[torch.Tensor]:
        """Deprecated name of `sigmoids` (they are not inverse depths); kept for one release."""
        warnings.warn('DepthOutput.inv_depths is deprecated; use DepthOutput.sigmoids',
                      DeprecationWarning, stacklevel=2)
        return self.sigmoids


@dataclass
class PoseParameters:
    """The pose network's raw prediction for an ordered image pair.

    Attributes:
        axis_angle: [B, 1, 3] rotation vector (radians).
        translation: [B, 1, 3] in the depth network's units.
    """

    axis_angle: torch.Tensor
    translation: torch.Tensor
