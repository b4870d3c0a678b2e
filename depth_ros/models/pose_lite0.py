"""A pose network on an ImageNet-initialised EfficientNet-Lite0 encoder (issue 12 experiment).

The stacked pair (6 channels) goes through Lite0's stem and blocks up to stride 16 (112
channels); the stem's ImageNet kernel is repeated for the second image and halved, so at the
start a pair of identical images gives the ImageNet features of one (Monodepth2 initialises its
ResNet pose encoder the same way, Sec. 4.1 / `multi-image input`). The head: 1x1 conv to 128 +
ReLU, a stride-2 3x3 conv + ReLU, a 1x1 conv to 6 values, the spatial mean and SfMLearner's 0.01
output scaling. About 0.9 M parameters (3.6 MB in float32). With `antisymmetric` it reads each
pair in both orders (`AntisymmetricPoseNet`): zero motion for a repeated frame.

Why: the SfMLearner-style `pose_lite` trained from scratch on a few hundred frames learned a
constant "drive forward" (docs/learning/real_world_recipe.md); pretrained features are the usual
remedy.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
import torch.nn.functional as F

from depth_ros.models.efficientnet_lite import (
    INPUT_MEAN,
    INPUT_STD,
    EfficientNetLite0Encoder,
    SameConv2d,
    load_imagenet_weights,
)
from depth_ros.models.networks import AntisymmetricPoseNet, PoseNet
from depth_ros.models.outputs import PoseParameters
from depth_ros.models.pose_decoder import OUTPUT_SCALE


STRIDE16_TAP = 3  # index into EfficientNetLite0Encoder.taps: the last block at stride 16
HEAD_CHANNELS = 128


class Lite0PairEncoder(nn.Module):
    """Lite0 stem + blocks up to stride 16 over a stacked pair.

    Input [B, 6, H, W] in [0, 1] (two RGB images), H and W multiples of 16; output a one-item
    list: [B, 112, H / 16, W / 16].
    """

    def __init__(self, pretrained: bool = True) -> None:
        super().__init__()
        base = EfficientNetLite0Encoder()
        if pretrained:
            load_imagenet_weights(base)
        stem = SameConv2d(6, base._conv_stem.out_channels, 3, stride=2)
        with torch.no_grad():  # both images see the ImageNet kernel, half weight each
            stem.weight.copy_(torch.cat([base._conv_stem.weight] * 2, dim=1) / 2)
        self._conv_stem, self._bn0 = stem, base._bn0
        last = base.taps[STRIDE16_TAP]
        self._blocks = nn.ModuleList(base._blocks[:last + 1])
        self.num_ch_enc = [base.num_ch_enc[STRIDE16_TAP]]

    def forward(self, pair: torch.Tensor) -> list[torch.Tensor]:
        x = F.relu6(self._bn0(self._conv_stem((pair - INPUT_MEAN) / INPUT_STD)))
        for block in self._blocks:
            x = block(x)
        return [x]


class Lite0PoseHead(nn.Module):
    """Features -> axis-angle and translation, each [B, 1, 3] (see the module docstring)."""

    def __init__(self, num_ch_enc: Sequence[int]) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(num_ch_enc[-1], HEAD_CHANNELS, 1)
        self.conv = nn.Conv2d(HEAD_CHANNELS, HEAD_CHANNELS, 3, stride=2, padding=1)
        self.out = nn.Conv2d(HEAD_CHANNELS, 6, 1)

    def forward(self, features: Sequence[torch.Tensor]) -> PoseParameters:
        x = F.relu(self.conv(F.relu(self.squeeze(features[-1]))))
        x = OUTPUT_SCALE * self.out(x).mean(dim=(2, 3)).view(-1, 1, 6)
        return PoseParameters(axis_angle=x[..., :3], translation=x[..., 3:])


def pose_lite0_net(pretrained: bool = True, antisymmetric: bool = False) -> PoseNet:
    """The Lite0 pose network as a `PoseNet`, or an `AntisymmetricPoseNet`."""
    encoder = Lite0PairEncoder(pretrained=pretrained)
    net_class = AntisymmetricPoseNet if antisymmetric else PoseNet
    return net_class(encoder, Lite0PoseHead(encoder.num_ch_enc))
