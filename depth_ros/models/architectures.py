"""Registered architectures. Each factory's keyword arguments are the architecture's config."""
from __future__ import annotations

from depth_ros.models.depth_decoder import DepthDecoder
from depth_ros.models.networks import DepthNet, PoseNet
from depth_ros.models.pose_decoder import PoseDecoder
from depth_ros.models.registry import register_depth_net, register_pose_net
from depth_ros.models.resnet import ResNetEncoder


def _resnet_depth(num_layers: int, scales: tuple[int, ...]) -> DepthNet:
    encoder = ResNetEncoder(num_layers, num_input_images=1)
    return DepthNet(encoder, DepthDecoder(encoder.num_ch_enc, scales=tuple(scales)))


def _resnet_pose(num_layers: int, num_outputs: int) -> PoseNet:
    encoder = ResNetEncoder(num_layers, num_input_images=2)
    return PoseNet(encoder, PoseDecoder(encoder.num_ch_enc, num_outputs=num_outputs))


@register_depth_net('resnet18')
def resnet18_depth(scales: tuple[int, ...] = (0, 1, 2, 3)) -> DepthNet:
    """Monodepth2: ResNet-18 encoder + U-Net decoder."""
    return _resnet_depth(18, scales)


@register_depth_net('resnet34')
def resnet34_depth(scales: tuple[int, ...] = (0, 1, 2, 3)) -> DepthNet:
    return _resnet_depth(34, scales)


@register_depth_net('resnet50')
def resnet50_depth(scales: tuple[int, ...] = (0, 1, 2, 3)) -> DepthNet:
    return _resnet_depth(50, scales)


@register_pose_net('resnet18')
def resnet18_pose(num_outputs: int = 2) -> PoseNet:
    """Monodepth2's separate pose network: ResNet-18 over a stacked pair + pose decoder."""
    return _resnet_pose(18, num_outputs)


@register_pose_net('resnet34')
def resnet34_pose(num_outputs: int = 2) -> PoseNet:
    return _resnet_pose(34, num_outputs)


@register_pose_net('resnet50')
def resnet50_pose(num_outputs: int = 2) -> PoseNet:
    return _resnet_pose(50, num_outputs)


@register_depth_net('smalldepth')
def smalldepth_depth(scales: tuple[int, ...] = (0, 1, 2, 3), drop_prob: float = 0.1) -> DepthNet:
    """FA-Depth's SmallDepth with ETM branches (call `fold_for_inference` before inference)."""
    from depth_ros.models.smalldepth import smalldepth_net

    return smalldepth_net(scales=scales, drop_prob=drop_prob)


@register_pose_net('pose_lite')
def pose_lite_pose() -> PoseNet:
    """SfMLearner-style seven-conv pose network with BatchNorm (about 1.4 M parameters)."""
    from depth_ros.models.pose_lite import pose_lite_net

    return pose_lite_net()


@register_depth_net('drn')
def drn_depth(num_layers: int = 18) -> DepthNet:
    """Double Refinement Network (Durasov et al., IROS 2019), supervised with ground truth."""
    from depth_ros.models.drn import drn_net

    return drn_net(num_layers=num_layers)


@register_depth_net('dna_lite0')
def dna_lite0_depth(pretrained: bool = True,
                    scales: tuple[int, ...] = (0, 1, 2, 3)) -> DepthNet:
    """DNA-Depth: EfficientNet-Lite0 (ImageNet weights when `pretrained`, which needs the
    'training' extra) + neighbour-layer aggregation decoder, about 4 M parameters."""
    from depth_ros.models.dna_depth import dna_lite0_net

    return dna_lite0_net(pretrained=pretrained, scales=scales)


@register_depth_net('dual')
def dual_depth(lr_arch: str = 'smalldepth', lr_factor: int = 2, lr_kwargs: dict | None = None,
               hr_channels: int = 16, key_dim: int = 16, kernel_size: int = 3) -> DepthNet:
    """Dual networks: an LR-Net (`lr_arch`) on the image downsampled by `lr_factor` and a light
    HR-Net on the full image, linked by SA-attention (a DepthNet-compatible module)."""
    from depth_ros.models.dual import dual_net

    return dual_net(lr_arch=lr_arch, lr_factor=lr_factor, lr_kwargs=lr_kwargs,
                    hr_channels=hr_channels, key_dim=key_dim, kernel_size=kernel_size)
