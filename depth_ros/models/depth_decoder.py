"""The Monodepth2 U-Net depth decoder (Godard et al., "Digging Into Self-Supervised Monocular
Depth Estimation", ICCV 2019, Sec. 3 and Table 6).

From the coarsest encoder feature, five levels each reduce channels with a 3x3 conv + ELU,
upsample x2 (nearest), concatenate the encoder skip of that resolution and fuse with another
3x3 conv + ELU. Levels 0..3 end in a 3x3 conv + sigmoid head: normalised inverse depth.
All 3x3 convolutions use reflection padding, which reduces border artefacts (Sec. 4.1).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
import torch.nn.functional as F


# Decoder channels per level, finest (level 0) first.
DECODER_CHANNELS = (16, 32, 64, 128, 256)


def reflect_conv3x3(in_ch: int, out_ch: int) -> nn.Conv2d:
    """3x3 convolution over a reflection-padded input, same output size."""
    return nn.Conv2d(in_ch, out_ch, 3, padding=1, padding_mode='reflect')


def conv_elu(in_ch: int, out_ch: int) -> nn.Sequential:
    return nn.Sequential(reflect_conv3x3(in_ch, out_ch), nn.ELU(inplace=True))


class DecoderLevel(nn.Module):
    """reduce (conv+ELU) -> upsample x2 -> concat skip -> fuse (conv+ELU)."""

    def __init__(self, in_ch: int, out_ch: int, skip_ch: int) -> None:
        super().__init__()
        self.reduce = conv_elu(in_ch, out_ch)
        self.fuse = conv_elu(out_ch + skip_ch, out_ch)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None) -> torch.Tensor:
        x = F.interpolate(self.reduce(x), scale_factor=2.0, mode='nearest')
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return self.fuse(x)


class DepthDecoder(nn.Module):
    """Multi-scale inverse-depth decoder.

    Args:
        num_ch_enc: channels of the five encoder features (strides 2..32).
        scales: output scales (0 = full input resolution).
        use_skips: concatenate encoder features (Monodepth2 does).

    `blocks[j]` is the decoder level 4 - j (coarsest first); `heads[s]` predicts scale s.
    """

    def __init__(self, num_ch_enc: Sequence[int], scales: Sequence[int] = (0, 1, 2, 3),
                 use_skips: bool = True) -> None:
        super().__init__()
        self.scales = tuple(sorted(scales))
        self.use_skips = use_skips
        blocks = []
        for level in range(4, -1, -1):
            in_ch = num_ch_enc[-1] if level == 4 else DECODER_CHANNELS[level + 1]
            skip_ch = num_ch_enc[level - 1] if (use_skips and level > 0) else 0
            blocks.append(DecoderLevel(in_ch, DECODER_CHANNELS[level], skip_ch))
        self.blocks = nn.ModuleList(blocks)
        self.heads = nn.ModuleList(reflect_conv3x3(DECODER_CHANNELS[s], 1) for s in range(4))

    def forward(self, features: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Features (encoder order) -> sigmoid [B, 1, h, w] per scale, finest first."""
        x = features[-1]
        outputs: dict[int, torch.Tensor] = {}
        for j, block in enumerate(self.blocks):
            level = 4 - j
            skip = features[level - 1] if (self.use_skips and level > 0) else None
            x = block(x, skip)
            if level in self.scales:
                outputs[level] = torch.sigmoid(self.heads[level](x))
        return [outputs[s] for s in self.scales]
