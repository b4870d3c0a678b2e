"""Import Monodepth2 checkpoints (encoder.pth, depth.pth, pose_encoder.pth, pose.pth).

Monodepth2 saves `torch.save(state_dict)` per module; they are read with weights_only=True and
their parameter names mapped onto depth_ros's modules (same tensors, readable names).
"""
from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path
import re

import torch
from torch import nn

from depth_ros.errors import WeightsError
from depth_ros.models.registry import ArchSpec, build_depth_net, build_pose_net


# Extra, non-tensor entries Monodepth2 stores in encoder.pth.
_ENCODER_EXTRAS = ('height', 'width', 'use_stereo')
_POSE_DECODER_NAMES = {'0': 'squeeze', '1': 'conv1', '2': 'conv2', '3': 'out'}


@dataclass
class Monodepth2Model:
    """Networks imported from a Monodepth2 folder.

    Attributes:
        depth_net, depth_arch: the depth network and what it was built as.
        pose_net, pose_arch: the pose network and its spec, or None (stereo models).
        input_size: (height, width) in pixels Monodepth2 trained at (from encoder.pth).
    """

    depth_net: nn.Module
    depth_arch: ArchSpec
    pose_net: nn.Module | None
    pose_arch: ArchSpec | None
    input_size: tuple[int, int]


def import_monodepth2(folder: str | os.PathLike,
                      device: str | torch.device = 'cpu') -> Monodepth2Model:
    """Load a Monodepth2 model folder into depth_ros networks, in eval mode.

    Args:
        folder: holds encoder.pth and depth.pth, and optionally pose_encoder.pth + pose.pth.
        device: where the modules are placed.

    Returns:
        The networks in eval mode with their specs and training input size; pose_net is None
        when the folder has no pose weights (stereo models).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise WeightsError(f'Monodepth2 folder not found: {folder}')
    encoder = _load(folder / 'encoder.pth')
    size = (int(encoder.get('height', 192)), int(encoder.get('width', 640)))
    encoder = _strip_prefix(encoder, 'encoder.')
    depth_arch = ArchSpec.of(f'resnet{_resnet_depth(encoder)}')
    depth_net = build_depth_net(depth_arch.name)
    depth_net.encoder.load_state_dict(encoder, strict=True)
    _load_strict(depth_net.decoder, _depth_decoder_names(_load(folder / 'depth.pth')), 'depth.pth')
    pose_net, pose_arch = None, None
    if (folder / 'pose_encoder.pth').exists() or (folder / 'pose.pth').exists():
        pose_enc = _strip_prefix(_load(folder / 'pose_encoder.pth'), 'encoder.')
        pose_dec = _pose_decoder_names(_load(folder / 'pose.pth'))
        n_out = int(pose_dec['out.weight'].shape[0]) // 6
        pose_arch = ArchSpec.of(f'resnet{_resnet_depth(pose_enc)}', num_outputs=n_out)
        pose_net = build_pose_net(pose_arch.name, **pose_arch.kwargs)
        _load_strict(pose_net.encoder, pose_enc, 'pose_encoder.pth')
        _load_strict(pose_net.decoder, pose_dec, 'pose.pth')
        pose_net = pose_net.to(device).eval()
    return Monodepth2Model(depth_net.to(device).eval(), depth_arch, pose_net, pose_arch, size)


def _load(path: Path) -> dict:
    if not path.is_file():
        raise WeightsError(f'missing Monodepth2 weights file: {path}')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        raise WeightsError(f'cannot read {path}: {type(exc).__name__}: {exc}'.splitlines()[0]) \
            from None


def _strip_prefix(state: dict, prefix: str) -> dict:
    out = {}
    for key, value in state.items():
        if key in _ENCODER_EXTRAS or key.startswith(prefix + 'fc.'):
            continue
        out[key[len(prefix):] if key.startswith(prefix) else key] = value
    return out


def _resnet_depth(state: dict) -> int:
    """Infer the ResNet depth from which blocks exist."""
    if 'layer1.0.conv3.weight' in state:
        if 'layer3.6.conv1.weight' in state:
            raise WeightsError('ResNet-101/152 Monodepth2 encoders are not supported')
        return 50
    if 'layer1.0.conv1.weight' not in state:
        raise WeightsError('not a ResNet encoder state dict (no layer1.0.conv1.weight)')
    return 34 if 'layer3.5.conv1.weight' in state else 18


def _depth_decoder_names(state: dict) -> dict:
    """decoder.{k}: k < 10 are (reduce, fuse) pairs from the coarsest level, 10 + s the heads."""
    out = {}
    for key, value in state.items():
        m = re.fullmatch(r'decoder\.(\d+)\.conv(?:\.conv)?\.(weight|bias)', key)
        if not m:
            raise WeightsError(f'depth.pth: unexpected parameter {key!r}')
        k, param = int(m.group(1)), m.group(2)
        if k < 10:
            out[f'blocks.{k // 2}.{"reduce" if k % 2 == 0 else "fuse"}.0.{param}'] = value
        else:
            out[f'heads.{k - 10}.{param}'] = value
    return out


def _pose_decoder_names(state: dict) -> dict:
    out = {}
    for key, value in state.items():
        m = re.fullmatch(r'net\.(\d)\.(weight|bias)', key)
        if not m or m.group(1) not in _POSE_DECODER_NAMES:
            raise WeightsError(f'pose.pth: unexpected parameter {key!r}')
        out[f'{_POSE_DECODER_NAMES[m.group(1)]}.{m.group(2)}'] = value
    return out


def _load_strict(module: nn.Module, state: dict, what: str) -> None:
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0:2]
        raise WeightsError(f'{what} does not match the expected network: {" ".join(first)}') \
            from None
