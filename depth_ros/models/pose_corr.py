"""A pose network that reads motion from a local correlation of the two frames' features
(issue 12).

Both images go through the same frozen EfficientNet-Lite0 trunk (stem + blocks up to stride 8,
40 channels; `training.pose_fit` copies the depth network's own encoder into it). Their
features, normalised to unit length per position, are compared by a local correlation: at every
position of the first frame the cosine similarity with the second frame's features displaced
by up to `max_displacement` cells in x and y ((2d + 1)^2 channels; FlowNet's correlation layer,
Dosovitskiy et al., ICCV 2015, Sec. 3). That volume is apparent motion, whatever the scene
looks like. With `fine_displacement` a second correlation at stride 4 (finer steps) is averaged
to stride 8 and added. The first frame's features ride along as context (near road, far sky).

The head sees where each cell is: image coordinates x, y in [-1, 1] are concatenated before
every convolution (CoordConv, Liu et al., NeurIPS 2018), and the six outputs are pooled as
mean(a) + mean(x * b) + mean(y * c) of three 6-channel maps: camera motion is a position-
dependent flow field (forward motion expands around the centre, yaw shifts everything
sideways), which a plain spatial mean would cancel. SfMLearner's 0.01 output scaling keeps the
first outputs small. 0.43 M parameters with the defaults (0.53 M with `max_displacement` 5 and
`fine_displacement` 4), of which the trunk holds 0.06 M.

Why: pose networks over a stacked pair trained on a few hundred real frames learned either a
constant "drive forward" or almost no motion (docs/learning/real_world_recipe.md); here motion
is explicit in the input and only the head is trained, on features computed once
(`training.pose_fit`).
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
    load_imagenet_weights,
)
from depth_ros.models.networks import AntisymmetricPoseNet, PoseNet
from depth_ros.models.outputs import PoseParameters
from depth_ros.models.pose_decoder import OUTPUT_SCALE


STRIDE8_TAP = 2  # index into EfficientNetLite0Encoder.taps: the last block at stride 8
HEAD_CHANNELS = (96, 128, 128)
POOLED_MAPS = 3  # mean(a), mean(x * b), mean(y * c)


class Lite0Trunk(nn.Module):
    """Lite0 stem + blocks up to stride 8: [B, 3, H, W] in [0, 1] -> the features at stride 4
    [B, 24, H / 4, W / 4] and stride 8 [B, 40, H / 8, W / 8].

    Module names are the encoder's (`_conv_stem`, `_bn0`, `_blocks.N`), so the depth network's
    encoder state dict loads into it with its deeper blocks left out.
    """

    def __init__(self, pretrained: bool = True) -> None:
        super().__init__()
        base = EfficientNetLite0Encoder()
        if pretrained:
            load_imagenet_weights(base)
        self._conv_stem, self._bn0 = base._conv_stem, base._bn0
        self._blocks = nn.ModuleList(base._blocks[:base.taps[STRIDE8_TAP] + 1])
        self.fine_tap = base.taps[STRIDE8_TAP - 1]
        self.fine_channels = base.num_ch_enc[STRIDE8_TAP - 1]
        self.out_channels = base.num_ch_enc[STRIDE8_TAP]

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = F.relu6(self._bn0(self._conv_stem((images - INPUT_MEAN) / INPUT_STD)))
        fine = x
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i == self.fine_tap:
                fine = x
        return fine, x


def local_correlation(first: torch.Tensor, second: torch.Tensor,
                      max_displacement: int) -> torch.Tensor:
    """Cosine similarity of `first` [B, C, h, w] with `second` displaced by (dy, dx), for
    dy, dx in -d..d (row-major, dy outer): [B, (2d + 1)^2, h, w]. Displaced positions outside
    the map compare with zeros (similarity 0)."""
    d = max_displacement
    a = F.normalize(first, dim=1)
    b = F.pad(F.normalize(second, dim=1), (d, d, d, d))
    h, w = first.shape[-2:]
    return torch.cat([(a * b[:, :, dy:dy + h, dx:dx + w]).sum(dim=1, keepdim=True)
                      for dy in range(2 * d + 1) for dx in range(2 * d + 1)], dim=1)


def _with_coordinates(x: torch.Tensor) -> torch.Tensor:
    """`x` [B, C, h, w] with two more channels: x and y image coordinates in [-1, 1]."""
    b, _, h, w = x.shape
    xs = torch.linspace(-1.0, 1.0, w, dtype=x.dtype, device=x.device).view(1, 1, 1, w)
    ys = torch.linspace(-1.0, 1.0, h, dtype=x.dtype, device=x.device).view(1, 1, h, 1)
    return torch.cat([x, xs.expand(b, 1, h, w), ys.expand(b, 1, h, w)], dim=1)


class CorrelationPairEncoder(nn.Module):
    """Stacked pair [B, 6, H, W] -> [correlation volumes ++ first-frame features] at stride 8.

    The stride-8 correlation reaches +-8 `max_displacement` pixels; with `fine_displacement`
    > 0 a stride-4 correlation (+-4 `fine_displacement` pixels, finer steps) is added, averaged
    to stride 8. H and W must be multiples of 8. The trunk is frozen (no gradient, BatchNorm in
    eval mode even when the network trains): training fits the head on features computed once.
    """

    def __init__(self, pretrained: bool = True, max_displacement: int = 4,
                 fine_displacement: int = 0) -> None:
        super().__init__()
        self.trunk = Lite0Trunk(pretrained)
        self.trunk.requires_grad_(False)
        self.trunk.eval()
        self.max_displacement = int(max_displacement)
        self.fine_displacement = int(fine_displacement)
        channels = (2 * self.max_displacement + 1) ** 2 + self.trunk.out_channels
        if self.fine_displacement > 0:
            channels += (2 * self.fine_displacement + 1) ** 2
        self.num_ch_enc = [channels]

    def train(self, mode: bool = True) -> CorrelationPairEncoder:
        super().train(mode)
        self.trunk.eval()
        return self

    def combine(self, first: tuple[torch.Tensor, torch.Tensor],
                second: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """The head's input from the two frames' trunk features (fine, coarse)."""
        parts = [local_correlation(first[1], second[1], self.max_displacement), first[1]]
        if self.fine_displacement > 0:
            fine = local_correlation(first[0], second[0], self.fine_displacement)
            parts.insert(1, F.avg_pool2d(fine, 2))
        return torch.cat(parts, dim=1)

    def forward(self, pair: torch.Tensor) -> list[torch.Tensor]:
        fine, coarse = self.trunk(torch.cat([pair[:, :3], pair[:, 3:]], dim=0))
        fine, coarse = fine.chunk(2, dim=0), coarse.chunk(2, dim=0)
        return [self.combine((fine[0], coarse[0]), (fine[1], coarse[1]))]


class CorrelationPoseHead(nn.Module):
    """Head input [B, C, h, w] -> axis-angle and translation, each [B, 1, 3] (see the module
    docstring for the coordinate channels and the position-weighted pooling)."""

    def __init__(self, num_ch_enc: Sequence[int]) -> None:
        super().__init__()
        layers, in_ch = [], num_ch_enc[-1]
        for i, out_ch in enumerate(HEAD_CHANNELS):
            layers.append(nn.Conv2d(in_ch + 2, out_ch, 3, stride=1 if i == 0 else 2, padding=1))
            in_ch = out_ch
        self.convs = nn.ModuleList(layers)
        self.out = nn.Conv2d(in_ch + 2, 6 * POOLED_MAPS, 1)

    def forward(self, features: Sequence[torch.Tensor]) -> PoseParameters:
        x = features[-1]
        for conv in self.convs:
            x = F.relu(conv(_with_coordinates(x)))
        maps = self.out(_with_coordinates(x))
        coords = _with_coordinates(maps[:, :1])[:, 1:]  # [B, 2, h, w]: x, y
        pooled = (maps[:, :6].mean(dim=(2, 3))
                  + (coords[:, :1] * maps[:, 6:12]).mean(dim=(2, 3))
                  + (coords[:, 1:] * maps[:, 12:]).mean(dim=(2, 3)))
        x = OUTPUT_SCALE * pooled.view(-1, 1, 6)
        return PoseParameters(axis_angle=x[..., :3], translation=x[..., 3:])


def pose_corr_net(pretrained: bool = True, max_displacement: int = 4,
                  fine_displacement: int = 0, antisymmetric: bool = True) -> PoseNet:
    """The correlation pose network as an `AntisymmetricPoseNet` (or a plain `PoseNet`)."""
    encoder = CorrelationPairEncoder(pretrained=pretrained, max_displacement=max_displacement,
                                     fine_displacement=fine_displacement)
    net_class = AntisymmetricPoseNet if antisymmetric else PoseNet
    return net_class(encoder, CorrelationPoseHead(encoder.num_ch_enc))
