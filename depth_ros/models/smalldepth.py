"""SmallDepth, the lightweight depth network of FA-Depth (Wang and Cheng, "FA-Depth: Toward Fast
and Accurate Self-supervised Monocular Depth Estimation", 2024, Sec. III-A).

SmallDepth is built on sparsity: sparse (depthwise) spatial convolutions everywhere, so that
almost all parameters sit at the coarsest resolutions where they are cheap to run.

- Sparse downsampling: a stride-2 depthwise conv followed by a pointwise conv, instead of a
  dense strided conv or a pooling + conv stage.
- Double-scale sparse residual module: two parallel sparse 3x3 convs, one plain and one
  dilated, see two receptive-field scales; their sum is mixed by a pointwise conv and added to
  the input (a residual block).
- Sparse upsampling: a 1x1 conv at the low resolution predicts 4x the channels, which a pixel
  shuffle (Shi et al., CVPR 2016) rearranges into a map of twice the size, so no convolution
  runs at the higher resolution; encoder skips are added, not concatenated.
- Dilated disparity head: a dilated 3x3 conv predicts the inverse depth of each decoder level,
  upsampled x2 by a pixel shuffle, so the finest head runs at half resolution.

Every conv + BatchNorm is an ETM (`depth_ros.models.etm`), trained with multi-shape branches and
folded into a single conv for inference with `fold_for_inference`.

The channel and block layout is ours (the paper's exact one is not reproduced): it is chosen to
match the paper's budget of about 2.35 M parameters and 0.42 G multiply-accumulates at 192x640.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
import torch.nn.functional as F

from depth_ros.errors import ConfigError
from depth_ros.models.etm import ETM
from depth_ros.models.networks import DepthNet
from depth_ros.models.resnet import INPUT_MEAN, INPUT_STD


class SparseDownsample(nn.Module):
    """Depthwise 3x3 stride-2 ETM, pointwise 1x1 ETM, ReLU.

    [B, in_ch, H, W] -> [B, out_ch, H / 2, W / 2].
    """

    def __init__(self, in_ch: int, out_ch: int, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.spatial = ETM(in_ch, in_ch, 3, stride=2, groups=in_ch, drop_prob=drop_prob)
        self.point = ETM(in_ch, out_ch, 1, drop_prob=drop_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.point(self.spatial(x)))


class DoubleScaleResidual(nn.Module):
    """Double-scale sparse residual module: relu(x + point(relu(local(x) + context(x)))).

    `local` is a depthwise 3x3 conv, `context` the same with dilation `dilation` (a (2d+1)^2
    receptive field at the cost of a 3x3), `point` a pointwise conv; all three are ETMs.
    [B, C, H, W] -> [B, C, H, W].
    """

    def __init__(self, channels: int, dilation: int, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.local = ETM(channels, channels, 3, groups=channels, drop_prob=drop_prob)
        self.context = ETM(channels, channels, 3, dilation=dilation, groups=channels,
                           drop_prob=drop_prob)
        self.point = ETM(channels, channels, 1, drop_prob=drop_prob)
        # Zero-initialised last BatchNorm scales (Goyal et al., "Accurate, Large Minibatch SGD",
        # 2017): each module starts as the identity, so a deep stack starts well conditioned.
        for m in self.point.modules():
            if isinstance(m, nn.BatchNorm2d):
                nn.init.zeros_(m.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.local(x) + self.context(x))
        return F.relu(x + self.point(y))


class SparseUpsample(nn.Module):
    """1x1 ETM to 4 * out_ch channels + ReLU at the low resolution, then pixel shuffle x2.

    [B, in_ch, H, W] -> [B, out_ch, 2H, 2W].
    """

    def __init__(self, in_ch: int, out_ch: int, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.point = ETM(in_ch, 4 * out_ch, 1, drop_prob=drop_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(F.relu(self.point(x)), 2)


class DilatedDispHead(nn.Module):
    """Dilated 3x3 conv to 4 channels, pixel shuffle x2, sigmoid.

    [B, C, H, W] -> sigmoid [B, 1, 2H, 2W] in (0, 1).
    """

    def __init__(self, in_ch: int, dilation: int = 2) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, 4, 3, padding=dilation, dilation=dilation)
        # Small initial weights: every pixel starts near sigmoid(0) = 0.5, as Monodepth2's
        # decoder does, rather than saturated where the photometric loss has no gradient.
        with torch.no_grad():
            self.conv.weight.mul_(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(F.pixel_shuffle(self.conv(x), 2))


class SmallDepthEncoder(nn.Module):
    """Five-level sparse encoder.

    Args:
        channels: channels of the five levels (strides 2, 4, 8, 16, 32).
        blocks: double-scale residual modules per level.
        dilations: dilation of the context branch per level.
        drop_prob: drop-conv probability of every ETM.

    Input [B, 3, H, W] in [0, 1], H and W multiples of 32; output five features, level i is
    [B, channels[i], H / 2^(i+1), W / 2^(i+1)].
    """

    def __init__(self, channels: Sequence[int], blocks: Sequence[int],
                 dilations: Sequence[int], drop_prob: float = 0.0) -> None:
        super().__init__()
        self.num_ch_enc = list(channels)
        self.stem = nn.Sequential(ETM(3, channels[0], 3, stride=2, drop_prob=drop_prob),
                                  nn.ReLU(inplace=True))
        self.downs = nn.ModuleList(
            SparseDownsample(channels[i - 1], channels[i], drop_prob) for i in range(1, 5))
        self.stages = nn.ModuleList(
            nn.Sequential(*(DoubleScaleResidual(channels[i], dilations[i], drop_prob)
                            for _ in range(blocks[i])))
            for i in range(5))

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = self.stages[0](self.stem((images - INPUT_MEAN) / INPUT_STD))
        features = [x]
        for down, stage in zip(self.downs, self.stages[1:]):
            x = stage(down(x))
            features.append(x)
        return features


class SmallDepthDecoder(nn.Module):
    """Sparse-upsampling decoder with a dilated disparity head per output scale.

    Level i (i = 3..0) upsamples the coarser level to stride 2^(i+1), adds encoder feature i and
    refines with one double-scale residual module; its head predicts scale i (stride 2^i).

    Args:
        num_ch_enc: encoder channels (the decoder uses the same, so skips are added).
        scales: output scales, a subset of 0..3 (0 = full input resolution).
        dilations: of the residual module's context branch per level.
        drop_prob: drop-conv probability of every ETM.
    """

    def __init__(self, num_ch_enc: Sequence[int], scales: Sequence[int],
                 dilations: Sequence[int], drop_prob: float = 0.0) -> None:
        super().__init__()
        self.scales = tuple(sorted(scales))
        ch = num_ch_enc
        self.ups = nn.ModuleList(SparseUpsample(ch[i + 1], ch[i], drop_prob) for i in range(4))
        self.refine = nn.ModuleList(
            DoubleScaleResidual(ch[i], dilations[i], drop_prob) for i in range(4))
        self.heads = nn.ModuleDict({str(s): DilatedDispHead(ch[s]) for s in self.scales})

    def forward(self, features: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Encoder features (finest first) -> sigmoid [B, 1, h, w] per scale, finest first."""
        x = features[4]
        outputs: dict[int, torch.Tensor] = {}
        for i in range(3, -1, -1):
            x = self.refine[i](self.ups[i](x) + features[i])
            if i in self.scales:
                outputs[i] = self.heads[str(i)](x)
        return [outputs[s] for s in self.scales]


# The layout (ours): 2.32 M parameters and 0.418 G multiply-accumulates at 192x640 once folded
# (2.46 M parameters while training). Most parameters sit at stride 32, where a parameter costs
# only 120 MACs per 192x640 image; the stride-2 level has no residual module in the encoder.
CHANNELS = (16, 24, 48, 96, 560)
BLOCKS = (0, 1, 2, 3, 6)
DILATIONS = (2, 2, 2, 3, 3)


def smalldepth_net(scales: Sequence[int] = (0, 1, 2, 3), drop_prob: float = 0.0) -> DepthNet:
    """SmallDepth as a `DepthNet` (unfolded, for training; see `fold_for_inference`).

    Args:
        scales: output scales, a subset of 0..3.
        drop_prob: drop-conv probability of every ETM while training.
    """
    scales = tuple(scales)
    if not scales or not set(scales) <= {0, 1, 2, 3}:
        raise ConfigError(f'SmallDepth scales must be a non-empty subset of 0..3, got {scales}')
    encoder = SmallDepthEncoder(CHANNELS, BLOCKS, DILATIONS, drop_prob)
    decoder = SmallDepthDecoder(CHANNELS, scales, DILATIONS, drop_prob)
    return DepthNet(encoder, decoder)
