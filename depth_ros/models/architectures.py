"""The built-in architectures, registered explicitly in `DEPTH_NETS` and `POSE_NETS` (read by
`depth_ros.models.registry`). Each factory's keyword arguments are the architecture's config.

Heavier architectures import their module inside the factory, so listing names stays cheap.
"""
from __future__ import annotations

from depth_ros.errors import ConfigError
from depth_ros.models.arch_spec import Factory, call_factory
from depth_ros.models.depth_decoder import DepthDecoder
from depth_ros.models.networks import DepthNet, PoseNet
from depth_ros.models.pose_decoder import PoseDecoder
from depth_ros.models.resnet import ResNetEncoder


def _resnet_depth(num_layers: int, scales: tuple[int, ...]) -> DepthNet:
    encoder = ResNetEncoder(num_layers, num_input_images=1)
    return DepthNet(encoder, DepthDecoder(encoder.num_ch_enc, scales=tuple(scales)))


def _resnet_pose(num_layers: int, num_outputs: int) -> PoseNet:
    encoder = ResNetEncoder(num_layers, num_input_images=2)
    return PoseNet(encoder, PoseDecoder(encoder.num_ch_enc, num_outputs=num_outputs))


def resnet18_depth(scales: tuple[int, ...] = (0, 1, 2, 3)) -> DepthNet:
    """Monodepth2: ResNet-18 encoder + U-Net decoder."""
    return _resnet_depth(18, scales)


def resnet34_depth(scales: tuple[int, ...] = (0, 1, 2, 3)) -> DepthNet:
    return _resnet_depth(34, scales)


def resnet50_depth(scales: tuple[int, ...] = (0, 1, 2, 3)) -> DepthNet:
    return _resnet_depth(50, scales)


def resnet18_pose(num_outputs: int = 2) -> PoseNet:
    """Monodepth2's separate pose network: ResNet-18 over a stacked pair + pose decoder."""
    return _resnet_pose(18, num_outputs)


def resnet34_pose(num_outputs: int = 2) -> PoseNet:
    return _resnet_pose(34, num_outputs)


def resnet50_pose(num_outputs: int = 2) -> PoseNet:
    return _resnet_pose(50, num_outputs)


def smalldepth_depth(scales: tuple[int, ...] = (0, 1, 2, 3), drop_prob: float = 0.1) -> DepthNet:
    """FA-Depth's SmallDepth with ETM branches (call `fold_for_inference` before inference)."""
    from depth_ros.models.smalldepth import smalldepth_net

    return smalldepth_net(scales=scales, drop_prob=drop_prob)


def pose_lite_pose(antisymmetric: bool = False) -> PoseNet:
    """SfMLearner-style seven-conv pose network with BatchNorm (about 1.4 M parameters);
    `antisymmetric`: read each pair in both orders, so a repeated frame gives zero motion."""
    from depth_ros.models.pose_lite import pose_lite_net

    return pose_lite_net(antisymmetric=antisymmetric)


def pose_lite0_pose(pretrained: bool = True, antisymmetric: bool = False) -> PoseNet:
    """EfficientNet-Lite0 (ImageNet weights when `pretrained`) up to stride 16 over the stacked
    pair + a small head (about 0.9 M parameters); `antisymmetric` as for pose_lite."""
    from depth_ros.models.pose_lite0 import pose_lite0_net

    return pose_lite0_net(pretrained=pretrained, antisymmetric=antisymmetric)


def pose_corr_pose(pretrained: bool = True, max_displacement: int = 4,
                   fine_displacement: int = 0, antisymmetric: bool = True) -> PoseNet:
    """A frozen Lite0 trunk on each frame, local correlations of the two feature maps (stride
    8, +-`max_displacement` cells; stride 4, +-`fine_displacement` cells when > 0) and a
    position-aware head (0.43-0.53 M parameters); antisymmetric by default."""
    from depth_ros.models.pose_corr import pose_corr_net

    return pose_corr_net(pretrained=pretrained, max_displacement=max_displacement,
                         fine_displacement=fine_displacement, antisymmetric=antisymmetric)


def drn_depth(num_layers: int = 18) -> DepthNet:
    """Double Refinement Network (Durasov et al., IROS 2019), supervised with ground truth."""
    from depth_ros.models.drn import drn_net

    return drn_net(num_layers=num_layers)


def dna_lite0_depth(pretrained: bool = True,
                    scales: tuple[int, ...] = (0, 1, 2, 3)) -> DepthNet:
    """DNA-Depth: EfficientNet-Lite0 (ImageNet weights when `pretrained`, which needs the
    'training' extra) + neighbour-layer aggregation decoder, about 4 M parameters."""
    from depth_ros.models.dna_depth import dna_lite0_net

    return dna_lite0_net(pretrained=pretrained, scales=scales)


def dual_depth(lr_arch: str = 'smalldepth', lr_factor: int = 2, lr_kwargs: dict | None = None,
               hr_channels: int = 16, key_dim: int = 16, kernel_size: int = 3) -> DepthNet:
    """Dual networks: an LR-Net (`lr_arch`) on the image downsampled by `lr_factor` and a light
    HR-Net on the full image, linked by SA-attention (a DepthNet-compatible module).

    Args:
        lr_arch: built-in depth architecture of the LR-Net (e.g. 'smalldepth', 'resnet18').
        lr_factor: integer downsampling of the LR-Net's input (2 or 3 typical).
        lr_kwargs: keyword arguments of the LR architecture (its scales are always 0..3).
        hr_channels, key_dim, kernel_size: see `depth_ros.models.dual.DualDepthNet`.
    """
    from depth_ros.models.dual import DualDepthNet, check_dual_arguments

    check_dual_arguments(lr_arch, lr_factor, lr_kwargs, hr_channels, key_dim, kernel_size)
    lr_net = call_factory(DEPTH_NETS, 'depth', lr_arch, dict(lr_kwargs or {}))
    encoder = getattr(lr_net, 'encoder', None)
    if not hasattr(encoder, 'num_ch_enc') or not hasattr(lr_net, 'decoder'):
        raise ConfigError(f'lr_arch {lr_arch!r} is not an encoder + decoder DepthNet; use '
                          "e.g. 'smalldepth' or 'resnet18'")
    return DualDepthNet(lr_net, lr_factor, hr_channels, key_dim, kernel_size)


DEPTH_NETS: dict[str, Factory] = {
    'resnet18': resnet18_depth, 'resnet34': resnet34_depth, 'resnet50': resnet50_depth,
    'smalldepth': smalldepth_depth, 'drn': drn_depth, 'dna_lite0': dna_lite0_depth,
    'dual': dual_depth,
}
POSE_NETS: dict[str, Factory] = {
    'resnet18': resnet18_pose, 'resnet34': resnet34_pose, 'resnet50': resnet50_pose,
    'pose_lite': pose_lite_pose, 'pose_lite0': pose_lite0_pose,
    'pose_corr': pose_corr_pose,
}
