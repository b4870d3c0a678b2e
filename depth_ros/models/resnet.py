"""ResNet encoders (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016).

Parameter names follow torchvision's ResNet (conv1, bn1, layer1..layer4, downsample.0/1) so that
ImageNet weights and Monodepth2 checkpoints load by name. The classification head is omitted.
"""
from __future__ import annotations

import torch
from torch import nn

from depth_ros.errors import ConfigError


# Monodepth2 normalises inside the encoder, with one mean and std for all channels.
INPUT_MEAN = 0.45
INPUT_STD = 0.225

# Blocks per stage for each depth (Table 1 of the ResNet paper).
_LAYOUTS = {18: ('basic', (2, 2, 2, 2)), 34: ('basic', (3, 4, 6, 3)),
            50: ('bottleneck', (3, 4, 6, 3))}


def _conv3x3(in_ch: int, out_ch: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with an identity (or 1x1 projection) shortcut."""

    expansion = 1

    def __init__(self, in_ch: int, ch: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv3x3(in_ch, ch, stride)
        self.bn1 = nn.BatchNorm2d(ch)
        self.conv2 = _conv3x3(ch, ch)
        self.bn2 = nn.BatchNorm2d(ch)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(in_ch, ch * self.expansion, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided, as torchvision's v1.5), 1x1 expand, with a shortcut."""

    expansion = 4

    def __init__(self, in_ch: int, ch: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, ch, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(ch)
        self.conv2 = _conv3x3(ch, ch, stride)
        self.bn2 = nn.BatchNorm2d(ch)
        self.conv3 = nn.Conv2d(ch, ch * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(ch * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(in_ch, ch * self.expansion, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def _shortcut(in_ch: int, out_ch: int, stride: int) -> nn.Sequential | None:
    if stride == 1 and in_ch == out_ch:
        return None
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False),
                         nn.BatchNorm2d(out_ch))


def init_conv_bn_(module: nn.Module) -> None:
    """He initialisation (fan-out) of convolutions and unit BatchNorm, for training from
    scratch; shared by the encoders."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class ResNetEncoder(nn.Module):
    """ResNet feature pyramid for dense prediction.

    Args:
        num_layers: 18, 34 or 50.
        num_input_images: images stacked on the channel axis (2 for the pose encoder).

    Input [B, 3 * num_input_images, H, W] in [0, 1]; output five feature maps at strides
    2, 4, 8, 16, 32 with channels `num_ch_enc`.
    """

    def __init__(self, num_layers: int = 18, num_input_images: int = 1) -> None:
        super().__init__()
        if num_layers not in _LAYOUTS:
            raise ConfigError(f'ResNet depth must be one of {sorted(_LAYOUTS)}, got {num_layers}')
        if num_input_images < 1:
            raise ConfigError(f'num_input_images must be >= 1, got {num_input_images}')
        kind, blocks = _LAYOUTS[num_layers]
        block = BasicBlock if kind == 'basic' else Bottleneck
        self.num_layers = num_layers
        self.num_input_images = num_input_images
        self.conv1 = nn.Conv2d(3 * num_input_images, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        in_ch = 64
        for i, (n, ch) in enumerate(zip(blocks, (64, 128, 256, 512))):
            stride = 1 if i == 0 else 2
            layers = []
            for j in range(n):
                layers.append(block(in_ch, ch, stride if j == 0 else 1))
                in_ch = ch * block.expansion
            setattr(self, f'layer{i + 1}', nn.Sequential(*layers))
        e = block.expansion
        self.num_ch_enc = [64, 64 * e, 128 * e, 256 * e, 512 * e]
        init_conv_bn_(self)

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = (images - INPUT_MEAN) / INPUT_STD
        f0 = self.relu(self.bn1(self.conv1(x)))
        f1 = self.layer1(self.maxpool(f0))
        f2 = self.layer2(f1)
        f3 = self.layer3(f2)
        f4 = self.layer4(f3)
        return [f0, f1, f2, f3, f4]
