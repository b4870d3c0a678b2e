"""DRN, the Double Refinement Network (Durasov et al., "Double Refinement Network for Efficient
Monocular Depth Estimation", IROS 2019), a depth network trained with ground-truth depth.

Two refinements run from coarse to fine over a ResNet encoder's feature pyramid (Sec. III):

- Feature refinement, the upsampling branch: at each level a 1x1 conv at the low resolution
  predicts 4x the channels, which a pixel shuffle (Shi et al., "Real-Time Single Image and Video
  Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural Network", CVPR 2016)
  rearranges into a map of twice the size; the encoder feature of that size is concatenated and
  fused by a 3x3 conv.
- Depth refinement, the refinement branch: a coarse map is predicted at 1/8 of the input
  resolution; every finer level upsamples the previous estimate x2 and adds a correction term
  predicted from the upsampling branch's features at that level and the upsampled estimate.

Every level is supervised (the auxiliary losses of `training/losses/supervised.py`).

What the maps are. DRN honours the contract of every depth_ros depth network:
`DepthOutput.sigmoids` holds four maps, full resolution first (strides 1, 2, 4, 8), each a
sigmoid in (0, 1) that `geometry.projection.inv_depth_to_depth(x, min_depth, max_depth)` maps
to inverse depth 1/max + (1/min - 1/max) x and to depth, so the Predictor, export and bench use
DRN unchanged. The depth refinement therefore works on the logit z of that normalised inverse
depth: level k is sigmoid(z_k) with z_k = up(z_{k+1}) + delta_k. The paper adds the corrections
to depth itself; adding them before the sigmoid keeps every level inside [min_depth, max_depth].
The supervised losses are computed on the depth obtained from these maps with the training
depth range.

The channel layout is ours (the paper's backbones are larger); a ResNet-18 encoder keeps the
network small: about 13.5 M parameters, 2.3 M of them in the two branches.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
import torch.nn.functional as F

from depth_ros.errors import ConfigError
from depth_ros.models.networks import DepthNet
from depth_ros.models.resnet import ResNetEncoder


# Upsampling-branch channels at strides 16, 8, 4, 2, 1 (coarse to fine).
DECODER_CHANNELS = (256, 128, 64, 32, 16)
# Stride of the coarse depth map, then of each refinement level (the four outputs).
DEPTH_STRIDES = (8, 4, 2, 1)


def _conv3x3(in_ch: int, out_ch: int) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, 3, padding=1)


def _small_init(conv: nn.Conv2d) -> nn.Conv2d:
    # Small initial weights: maps start near sigmoid(0) = 0.5 and corrections near zero, rather
    # than saturated where no loss has a gradient (as Monodepth2's decoder starts).
    with torch.no_grad():
        conv.weight.mul_(0.1)
        conv.bias.zero_()
    return conv


class PixelShuffleUp(nn.Module):
    """One level of the upsampling branch: 1x1 conv to 4 * out_ch, ReLU, pixel shuffle x2, then
    concatenate the skip feature (if any) and fuse with a 3x3 conv + ReLU.

    [B, in_ch, H, W] (+ skip [B, skip_ch, 2H, 2W]) -> [B, out_ch, 2H, 2W].
    """

    def __init__(self, in_ch: int, out_ch: int, skip_ch: int = 0) -> None:
        super().__init__()
        # 1x1, not 3x3: the expansion to 4x the channels would otherwise dominate the branch
        # (4.7 M parameters at stride 32 alone); the 3x3 fuse conv provides the spatial context.
        self.expand = nn.Conv2d(in_ch, 4 * out_ch, 1)
        self.fuse = _conv3x3(out_ch + skip_ch, out_ch)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        x = F.pixel_shuffle(F.relu(self.expand(x)), 2)
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return F.relu(self.fuse(x))


class DepthCorrection(nn.Module):
    """One level of the refinement branch: the correction term for the upsampled estimate.

    features [B, C, H, W] and the upsampled previous logit [B, 1, H, W] -> delta [B, 1, H, W].
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = _conv3x3(channels + 1, channels)
        self.conv2 = _small_init(_conv3x3(channels, 1))

    def forward(self, features: torch.Tensor, prev_logit: torch.Tensor) -> torch.Tensor:
        return self.conv2(F.relu(self.conv1(torch.cat([features, prev_logit], dim=1))))


class DRNDecoder(nn.Module):
    """Upsampling branch + refinement branch over encoder features.

    Args:
        num_ch_enc: encoder channels at strides 2, 4, 8, 16, 32.
        channels: upsampling-branch channels at strides 16, 8, 4, 2, 1.
    """

    def __init__(self, num_ch_enc: Sequence[int], channels: Sequence[int] = DECODER_CHANNELS
                 ) -> None:
        super().__init__()
        if len(num_ch_enc) != 5 or len(channels) != 5:
            raise ConfigError('DRN needs five encoder levels and five decoder channel counts, got '
                              f'{list(num_ch_enc)} and {list(channels)}')
        # Level i upsamples to stride 2^(4-i); encoder feature 3-i has that stride (none at 1).
        skips = [num_ch_enc[3], num_ch_enc[2], num_ch_enc[1], num_ch_enc[0], 0]
        ins = [num_ch_enc[4], *channels[:4]]
        self.ups = nn.ModuleList(
            PixelShuffleUp(i, o, s) for i, o, s in zip(ins, channels, skips))
        # Branch levels 1..4 have strides 8, 4, 2, 1: the coarse map, then three corrections.
        self.coarse = _small_init(_conv3x3(channels[1], 1))
        self.corrections = nn.ModuleList(DepthCorrection(c) for c in channels[2:])

    def forward(self, features: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Encoder features (finest first) -> four sigmoid maps [B, 1, H / s, W / s] for
        s = 1, 2, 4, 8 (finest first)."""
        skips = [features[3], features[2], features[1], features[0], None]
        x = features[4]
        logits = []
        for level, (up, skip) in enumerate(zip(self.ups, skips)):
            x = up(x, skip)
            if level == 1:
                logits.append(self.coarse(x))
            elif level > 1:
                prev = F.interpolate(logits[-1], scale_factor=2.0, mode='bilinear',
                                     align_corners=False)
                logits.append(prev + self.corrections[level - 2](x, prev))
        return [torch.sigmoid(z) for z in reversed(logits)]


def drn_net(num_layers: int = 18) -> DepthNet:
    """DRN as a `DepthNet`: ResNet encoder + pixel-shuffle upsampling + depth refinement.

    Args:
        num_layers: ResNet depth of the encoder (18, 34 or 50).

    Input [B, 3, H, W] in [0, 1], H and W multiples of 32; output `DepthOutput` with four
    sigmoid maps (see the module docstring).
    """
    encoder = ResNetEncoder(num_layers, num_input_images=1)
    return DepthNet(encoder, DRNDecoder(encoder.num_ch_enc))
