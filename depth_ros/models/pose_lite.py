"""A light pose network after SfMLearner's (Zhou et al., "Unsupervised Learning of Depth and
Ego-Motion from Video", CVPR 2017, Sec. 3.5 and Fig. 4(b)).

Seven stride-2 convolutions (kernels 7, 5, then 3) over the stacked image pair, a 1x1 conv to 6
values, global average pooling and a 0.01 output scaling. Two changes to SfMLearner: every conv
is followed by BatchNorm and ReLU, which lets it train from scratch at the learning rates used
for the depth network, and the fifth layer has 192 channels instead of 256, which brings it to
1.36 M parameters (1.59 M with 256) so SmallDepth + pose_lite stay near 15 MB in float32.
There is no explainability mask. `antisymmetric=True` reads each pair in both orders
(`depth_ros.models.networks.AntisymmetricPoseNet`): same weights, zero motion for a repeated frame.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from depth_ros.errors import ConfigError
from depth_ros.models.networks import AntisymmetricPoseNet, PoseNet
from depth_ros.models.outputs import PoseParameters
from depth_ros.models.pose_decoder import OUTPUT_SCALE
from depth_ros.models.resnet import INPUT_MEAN, INPUT_STD


CHANNELS = (16, 32, 64, 128, 192, 256, 256)
KERNELS = (7, 5, 3, 3, 3, 3, 3)


class PoseLiteEncoder(nn.Module):
    """Seven stride-2 conv + BatchNorm + ReLU layers over a stacked image pair.

    Args:
        num_input_images: images stacked on the channel axis.

    Input [B, 3 * num_input_images, H, W] in [0, 1]; output the seven feature maps, the i-th
    [B, CHANNELS[i], ceil(H / 2^(i+1)), ceil(W / 2^(i+1))].
    """

    def __init__(self, num_input_images: int = 2) -> None:
        super().__init__()
        if num_input_images < 2:
            raise ConfigError(f'a pose encoder needs at least 2 input images, got '
                              f'{num_input_images}')
        self.num_ch_enc = list(CHANNELS)
        layers = []
        in_ch = 3 * num_input_images
        for ch, k in zip(CHANNELS, KERNELS):
            layers.append(nn.Sequential(
                nn.Conv2d(in_ch, ch, k, stride=2, padding=k // 2, bias=False),
                nn.BatchNorm2d(ch), nn.ReLU(inplace=True)))
            in_ch = ch
        self.layers = nn.ModuleList(layers)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = (images - INPUT_MEAN) / INPUT_STD
        features = []
        for layer in self.layers:
            x = layer(x)
            features.append(x)
        return features


class PoseLiteDecoder(nn.Module):
    """1x1 conv to 6 values per pixel, spatial mean, 0.01 scaling (SfMLearner's pose head).

    Args:
        num_ch_enc: encoder channels; only the last (coarsest) is used.
    """

    def __init__(self, num_ch_enc: Sequence[int]) -> None:
        super().__init__()
        self.out = nn.Conv2d(num_ch_enc[-1], 6, 1)

    def forward(self, features: Sequence[torch.Tensor]) -> PoseParameters:
        """Features -> axis-angle and translation, each [B, 1, 3]."""
        x = OUTPUT_SCALE * self.out(features[-1]).mean(dim=(2, 3)).view(-1, 1, 6)
        return PoseParameters(axis_angle=x[..., :3], translation=x[..., 3:])


def pose_lite_net(antisymmetric: bool = False) -> PoseNet:
    """The light pose network as a `PoseNet` (pair stacked in the order given), or as an
    `AntisymmetricPoseNet` (both orders, half their difference)."""
    encoder = PoseLiteEncoder(num_input_images=2)
    net_class = AntisymmetricPoseNet if antisymmetric else PoseNet
    return net_class(encoder, PoseLiteDecoder(encoder.num_ch_enc))
