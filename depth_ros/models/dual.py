"""Dual networks for sharp full-resolution depth (issue 7, item 3).

A low-resolution network (LR-Net) sees the image downsampled by `lr_factor` and predicts a
coarse but globally consistent inverse depth; a lightweight high-resolution network (HR-Net)
sees the full-resolution image and only describes each pixel. The two are linked by
SA-attention: every full-resolution pixel attends to the k x k LR cells around the cell that
contains it and takes the softmax-weighted mean of their inverse depths, so edges follow the
full-resolution image while the depth values come from the LR-Net.

- LR-Net: any registered `DepthNet` architecture (its encoder's stride-2 feature and its
  scale-0 inverse depth form the keys and values).
- HR-Net: a full-resolution conv, one stride-2 stage and a pixel-shuffle upsampling back to
  full resolution; a 1x1 conv embeds its features with the RGB values and normalised pixel
  coordinates into the queries.
- SA-attention: scaled dot-product similarities (Vaswani et al., "Attention Is All You Need",
  NeurIPS 2017, Eq. 1) between a query and the keys of its k x k LR neighbours, a softmax over
  the neighbours, and the weighted mean of their values. Neighbours are gathered with shifted
  copies of an edge-padded map and nearest upsampling, so the graph exports to plain ONNX ops.

Output: `DepthOutput(sigmoids=[full, /2, /4, /8])`, the full scale from SA-attention (a convex
combination of sigmoid outputs, so still in [0, 1]), the lower scales the LR-Net's own outputs
resized where the factor is not 2.

Two-stage training:
1. Stage 1: train the whole network (or the LR architecture alone at the downsampled size) with
   the usual self-supervised losses; the lower scales supervise the LR-Net directly.
2. Stage 2: `freeze_lr(net)` freezes the LR-Net (no gradients, BatchNorm in eval mode even when
   the trainer calls `net.train()`) and the HR-Net and SA-attention are trained on the
   full-resolution scale, e.g. with the photometric loss plus the feature reconstruction loss of
   `training.losses.feature_reconstruction`.
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from depth_ros.errors import ConfigError
from depth_ros.models.networks import PartlyFrozen
from depth_ros.models.outputs import DepthOutput
from depth_ros.models.resnet import INPUT_MEAN, INPUT_STD


# The LR-Net's encoder stride: its input sides must be multiples of it.
LR_STRIDE = 32
NUM_SCALES = 4


def pixel_coordinates(batch: int, height: int, width: int,
                      like: torch.Tensor) -> torch.Tensor:
    """Pixel centres normalised to [-1, 1] (x then y), as `grid_sample` with align_corners=False.

    Returns:
        [batch, 2, height, width] with the dtype and device of `like`.
    """
    ys = (torch.arange(height, dtype=like.dtype, device=like.device) * 2 + 1) / height - 1
    xs = (torch.arange(width, dtype=like.dtype, device=like.device) * 2 + 1) / width - 1
    grid = torch.stack([xs.view(1, width).expand(height, width),
                        ys.view(height, 1).expand(height, width)])
    return grid.unsqueeze(0).expand(batch, 2, height, width)


def neighbour_offsets(kernel_size: int) -> list[tuple[int, int]]:
    """The (dy, dx) offsets of a k x k neighbourhood, row-major."""
    r = kernel_size // 2
    return [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)]


def _shifted(padded: torch.Tensor, dy: int, dx: int, radius: int) -> torch.Tensor:
    """A map read at (y + dy, x + dx), from its copy edge-padded by `radius`.

    [B, C, h + 2r, w + 2r] -> [B, C, h, w].
    """
    h, w = padded.shape[-2] - 2 * radius, padded.shape[-1] - 2 * radius
    return padded[:, :, radius + dy:radius + dy + h, radius + dx:radius + dx + w]


def sa_attention(queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
                 kernel_size: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Local scaled dot-product attention from full-resolution queries to LR cells.

    The HR pixel (y, x) lies in the LR cell of nearest upsampling (floor(y * h / H), ...) and
    attends to the k x k cells around it; cells past the border repeat the edge cell.

    Args:
        queries: [B, C, H, W] full-resolution embeddings.
        keys: [B, C, h, w] LR embeddings.
        values: [B, V, h, w] what is aggregated (e.g. the LR inverse depth, V = 1).
        kernel_size: odd neighbourhood side k.

    Returns:
        ([B, V, H, W] aggregated values, [B, k*k, H, W] softmax weights over the neighbours
        in the order of `neighbour_offsets`).
    """
    radius = kernel_size // 2
    size = queries.shape[-2:]
    pad = (radius, radius, radius, radius)
    keys_padded = F.pad(keys, pad, mode='replicate')
    values_padded = F.pad(values, pad, mode='replicate')
    scale = queries.shape[1] ** -0.5
    logits, gathered = [], []
    for dy, dx in neighbour_offsets(kernel_size):
        # Shift at low resolution, then nearest-upsample: cheap, and no custom gather op.
        key = F.interpolate(_shifted(keys_padded, dy, dx, radius), size=size, mode='nearest')
        logits.append((queries * key).sum(dim=1, keepdim=True) * scale)
        gathered.append(F.interpolate(_shifted(values_padded, dy, dx, radius), size=size,
                                      mode='nearest'))
    weights = torch.softmax(torch.cat(logits, dim=1), dim=1)
    out = weights[:, :1] * gathered[0]
    for i in range(1, len(gathered)):
        out = out + weights[:, i:i + 1] * gathered[i]
    return out, weights


def _conv_bn_relu(in_ch: int, out_ch: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False),
                         nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True))


class HRNet(nn.Module):
    """Lightweight full-resolution feature extractor.

    A 3x3 conv at full resolution (fine edges), a stride-2 stage for a little context, and a
    1x1 conv + pixel shuffle (Shi et al., CVPR 2016) back to full resolution, added to the
    first features. [B, 3, H, W] in [0, 1] -> [B, channels, H, W], H and W even.
    """

    def __init__(self, channels: int = 16) -> None:
        super().__init__()
        self.stem = _conv_bn_relu(3, channels)
        self.down = nn.Sequential(_conv_bn_relu(channels, 2 * channels, stride=2),
                                  _conv_bn_relu(2 * channels, 2 * channels))
        self.up = nn.Conv2d(2 * channels, 4 * channels, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.stem((images - INPUT_MEAN) / INPUT_STD)
        return x + F.relu(F.pixel_shuffle(self.up(self.down(x)), 2))


class DualDepthNet(PartlyFrozen):
    """LR-Net + HR-Net linked by SA-attention: images [B, 3, H, W] in [0, 1] -> `DepthOutput`.

    H and W must be multiples of 32; the LR input is H / lr_factor x W / lr_factor rounded to
    multiples of 32.

    Args:
        lr_net: a `DepthNet` (has `encoder` with `num_ch_enc` and `decoder`) predicting scales
            0..3.
        lr_factor: downsampling of the LR-Net's input.
        hr_channels: HR-Net feature channels.
        key_dim: query / key embedding channels.
        kernel_size: odd side of the LR neighbourhood each HR pixel attends to.
    """

    def __init__(self, lr_net: nn.Module, lr_factor: int = 2, hr_channels: int = 16,
                 key_dim: int = 16, kernel_size: int = 3) -> None:
        super().__init__()
        self.lr_net = lr_net
        self.lr_factor = lr_factor
        self.kernel_size = kernel_size
        self.hr_net = HRNet(hr_channels)
        # Query: HR features + RGB + coordinates; key: LR features + LR inverse depth + LR RGB
        # + coordinates of the cell centre. Coordinates in one normalised frame let the dot
        # product prefer nearby cells.
        self.query = nn.Conv2d(hr_channels + 3 + 2, key_dim, 1)
        self.key = nn.Conv2d(lr_net.encoder.num_ch_enc[0] + 1 + 3 + 2, key_dim, 1)

    def lr_size(self, height: int, width: int) -> tuple[int, int]:
        """The LR-Net's input size for an H x W image."""
        def side(n: int) -> int:
            return max(LR_STRIDE, int(n / self.lr_factor / LR_STRIDE + 0.5) * LR_STRIDE)
        return side(height), side(width)

    def forward(self, images: torch.Tensor) -> DepthOutput:
        batch, _, height, width = images.shape
        if height % LR_STRIDE or width % LR_STRIDE:
            raise ConfigError(f'dual network input {height}x{width} must be multiples of '
                              f'{LR_STRIDE} (e.g. 192x640)')
        lr_images = _downsample(images, self.lr_size(height, width))
        features = self.lr_net.encoder(lr_images)
        lr_sigmoids = list(self.lr_net.decoder(features))
        lr_sigmoid = lr_sigmoids[0]
        lr_h, lr_w = lr_sigmoid.shape[-2:]
        lr_features = F.interpolate(features[0], size=(lr_h, lr_w), mode='bilinear',
                                    align_corners=False)
        keys = self.key(torch.cat([lr_features, lr_sigmoid, lr_images,
                                   pixel_coordinates(batch, lr_h, lr_w, images)], dim=1))
        queries = self.query(torch.cat([self.hr_net(images), images,
                                        pixel_coordinates(batch, height, width, images)], dim=1))
        full, _ = sa_attention(queries, keys, lr_sigmoid, self.kernel_size)
        coarse = [_resize(lr_sigmoids[s - 1], (height >> s, width >> s))
                  for s in range(1, NUM_SCALES)]
        return DepthOutput(sigmoids=[full] + coarse)


def _downsample(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Area average for an exact integer factor (no aliasing), bilinear otherwise."""
    height, width = images.shape[-2:]
    if height % size[0] == 0 and width % size[1] == 0 and height // size[0] == width // size[1]:
        return F.avg_pool2d(images, height // size[0])
    return F.interpolate(images, size=size, mode='bilinear', align_corners=False)


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == size:
        return x
    return F.interpolate(x, size=size, mode='bilinear', align_corners=False)


def freeze_lr(net: DualDepthNet) -> DualDepthNet:
    """Stage 2 of training: freeze the LR-Net in place (`PartlyFrozen.freeze`: no gradients,
    frozen BatchNorm statistics and no drop-conv). Returns `net`.
    """
    if not isinstance(net, DualDepthNet):
        raise ConfigError(f'freeze_lr needs a DualDepthNet, got {type(net).__name__}')
    return net.freeze('lr_net')


def check_dual_arguments(lr_arch: str, lr_factor: int, lr_kwargs: dict | None,
                         hr_channels: int, key_dim: int, kernel_size: int) -> None:
    """ConfigError unless the dual architecture's arguments are usable (see `DualDepthNet`;
    the network itself is built by `depth_ros.models.architectures.dual_depth`)."""
    if 'scales' in (lr_kwargs or {}):
        raise ConfigError('lr_kwargs must not set scales: the dual LR-Net always predicts 0..3')
    if not isinstance(lr_factor, int) or lr_factor < 1:
        raise ConfigError(f'lr_factor must be a positive integer, got {lr_factor!r}')
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ConfigError(f'kernel_size must be odd and positive, got {kernel_size}')
    if hr_channels < 1 or key_dim < 1:
        raise ConfigError(f'hr_channels and key_dim must be positive, got {hr_channels}, '
                          f'{key_dim}')
    if lr_arch == 'dual':
        raise ConfigError("lr_arch cannot be 'dual'; use e.g. 'smalldepth' or 'resnet18'")
