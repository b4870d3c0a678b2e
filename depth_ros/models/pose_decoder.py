"""The Monodepth2 pose decoder (Godard et al., ICCV 2019, Sec. 3.3 and supplementary Table 7).

A 1x1 squeeze of the coarsest encoder feature, two 3x3 convs, a 1x1 conv to 6 values per
predicted transform, global average pooling, and a 0.01 output scaling that keeps the initial
motion small (as in Zhou et al.'s SfMLearner).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from depth_ros.models.outputs import PoseParameters


# Scales the raw outputs so an untrained network predicts near-identity motion.
OUTPUT_SCALE = 0.01


class PoseDecoder(nn.Module):
    """Axis-angle + translation from encoder features.

    Args:
        num_ch_enc: encoder channels; only the last (coarsest) is used.
        num_outputs: transforms predicted per pair. Monodepth2 checkpoints predict 2 and use the
            first; depth_ros keeps that layout so they load unchanged.
    """

    def __init__(self, num_ch_enc: Sequence[int], num_outputs: int = 2) -> None:
        super().__init__()
        self.num_outputs = num_outputs
        self.squeeze = nn.Conv2d(num_ch_enc[-1], 256, 1)
        self.conv1 = nn.Conv2d(256, 256, 3, padding=1)
        self.conv2 = nn.Conv2d(256, 256, 3, padding=1)
        self.out = nn.Conv2d(256, 6 * num_outputs, 1)
        self.relu = nn.ReLU()

    def forward(self, features: Sequence[torch.Tensor]) -> PoseParameters:
        x = self.relu(self.squeeze(features[-1]))
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.out(x).mean(dim=(2, 3))
        x = OUTPUT_SCALE * x.view(-1, self.num_outputs, 1, 6)
        # The first predicted transform is the one for the given pair.
        return PoseParameters(axis_angle=x[:, 0, :, :3], translation=x[:, 0, :, 3:])
