"""The native checkpoint: one safetensors file holding both networks, with JSON metadata in its
header (architectures and their arguments, input size, depth range and scale, training config).

Tensor names are prefixed `depth.` and `pose.`. Loading never unpickles anything.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
import json
import os
from pathlib import Path
from typing import Any
import warnings

import torch
from torch import nn

from depth_ros import __version__
from depth_ros.errors import ConfigError, WeightsError
from depth_ros.files import replaced_whole
from depth_ros.models.etm import is_folded
from depth_ros.models.registry import ArchSpec, build_for_weights
from depth_ros.models.state_dict import load_into
from depth_ros.sizes import check_input_size


FORMAT_VERSION = 1
_META_KEY = 'depth_ros'


@dataclass(frozen=True)
class CheckpointMeta:
    """Everything needed to rebuild and use the networks.

    Attributes:
        depth_arch, pose_arch: registry name + kwargs (pose_arch None: depth only).
        height, width: network input size in pixels.
        min_depth, max_depth: the range the sigmoid output is mapped to (network units).
        metres_per_unit: the calibration: metres per network unit (1.0 when trained with
            metric scale). Headers written before the rename call it `depth_scale`.
        training_config: the resolved training configuration, if trained by depth_ros.
    """

    depth_arch: ArchSpec
    pose_arch: ArchSpec | None
    height: int
    width: int
    min_depth: float = 0.1
    max_depth: float = 100.0
    metres_per_unit: float = 1.0
    training_config: dict[str, Any] = field(default_factory=dict)
    notes: str = ''
    format_version: int = FORMAT_VERSION
    depth_ros_version: str = __version__

    @property
    def depth_scale(self) -> float:
        """Deprecated name of `metres_per_unit`; kept for one release."""
        warnings.warn('CheckpointMeta.depth_scale is deprecated; use metres_per_unit',
                      DeprecationWarning, stacklevel=2)
        return self.metres_per_unit

    @property
    def training_sequences(self) -> tuple[str, ...]:
        """The sequences the last training phase read (its config's data.sequences); () for
        weights without a training config."""
        data = self.training_config.get('data') or {}
        return tuple(map(str, data.get('sequences') or ()))

    def with_input_size(self, height: int | None = None,
                        width: int | None = None) -> CheckpointMeta:
        """The same networks run at another input size (None keeps the checkpoint's side): they
        are fully convolutional, so any multiple of the stride works, though accuracy depends on
        the size (docs/learning/). Raises ConfigError for a side that is not a multiple."""
        height = self.height if height is None else int(height)
        width = self.width if width is None else int(width)
        check_input_size(height, width)
        return replace(self, height=height, width=width)

    def to_json(self) -> str:
        d = asdict(self)
        d['depth_arch'] = self.depth_arch.to_dict()
        d['pose_arch'] = self.pose_arch.to_dict() if self.pose_arch else None
        return json.dumps(d, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CheckpointMeta:
        d = json.loads(text)
        if d.get('format_version', 0) > FORMAT_VERSION:
            raise WeightsError(f'checkpoint format {d["format_version"]} is newer than this '
                               f'depth_ros ({FORMAT_VERSION}); upgrade depth_ros')
        d['depth_arch'] = ArchSpec(**d['depth_arch'])
        d['pose_arch'] = ArchSpec(**d['pose_arch']) if d.get('pose_arch') else None
        if 'depth_scale' in d:  # the field's name in older headers
            d.setdefault('metres_per_unit', d.pop('depth_scale'))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class Checkpoint:
    """Networks and metadata of one checkpoint.

    Attributes:
        depth_net: the depth network, or None where only the metadata of an exported graph is
            at hand (`depth_ros.export.onnx_export.load_onnx_checkpoint`).
        pose_net: the pose network, or None (depth only, or an exported graph).
        meta: what the networks are and how their output maps to depth.
        path: the file it was read from, or None when built in memory (export caches key on it).
    """

    depth_net: nn.Module | None
    pose_net: nn.Module | None
    meta: CheckpointMeta
    path: Path | None = None


def save_checkpoint(path: str | os.PathLike, depth_net: nn.Module, pose_net: nn.Module | None,
                    *, depth_arch: ArchSpec, pose_arch: ArchSpec | None = None, height: int,
                    width: int, min_depth: float = 0.1, max_depth: float = 100.0,
                    metres_per_unit: float = 1.0, training_config: dict | None = None,
                    notes: str = '', half: bool = False,
                    depth_scale: float | None = None) -> CheckpointMeta:
    """Write both networks to one .safetensors file.

    Args:
        depth_arch, pose_arch: what each network was built as (`ArchSpec.of(name, **kwargs)`);
            loading rebuilds them through the registry. `pose_arch` is required with a pose
            network.
        metres_per_unit: the calibration (metres per network unit).
        depth_scale: deprecated name of `metres_per_unit` (one release, DeprecationWarning).
        half: store floating-point tensors as float16 (half the file size, e.g. for weights
            shipped inside the package); loading casts them back to the networks' float32. A
            tensor outside float16's range stays float32.
    """
    from safetensors.torch import save_file

    for net in (depth_net, pose_net):
        if net is not None and is_folded(net):
            raise WeightsError('this network was folded for inference (fold_for_inference); '
                               'save the unfolded training network instead')
    if depth_scale is not None:
        warnings.warn('save_checkpoint(depth_scale=...) is deprecated; use metres_per_unit',
                      DeprecationWarning, stacklevel=2)
        metres_per_unit = depth_scale
    if (pose_net is None) != (pose_arch is None):
        raise WeightsError('pass pose_arch exactly when saving a pose network')
    meta = CheckpointMeta(
        depth_arch=depth_arch, pose_arch=pose_arch if pose_net is not None else None,
        height=int(height), width=int(width), min_depth=float(min_depth),
        max_depth=float(max_depth), metres_per_unit=float(metres_per_unit),
        training_config=dict(training_config or {}), notes=notes)
    tensors = {f'depth.{k}': v.detach().cpu().contiguous()
               for k, v in depth_net.state_dict().items()}
    if pose_net is not None:
        tensors.update({f'pose.{k}': v.detach().cpu().contiguous()
                        for k, v in pose_net.state_dict().items()})
    if half:
        tensors = {k: _to_half(v) for k, v in tensors.items()}
    with replaced_whole(path) as partial:
        save_file(tensors, str(partial), metadata={_META_KEY: meta.to_json()})
    return meta


def _to_half(tensor: torch.Tensor) -> torch.Tensor:
    if not tensor.is_floating_point() or tensor.numel() == 0:
        return tensor
    if tensor.abs().max() > torch.finfo(torch.float16).max:
        return tensor
    return tensor.half()


def read_meta(path: str | os.PathLike) -> CheckpointMeta:
    """Read only the metadata of a checkpoint (cheap: the header, no tensors)."""
    from safetensors import safe_open

    path = _existing(path)
    try:
        with safe_open(str(path), framework='pt') as f:
            header = f.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise WeightsError(f'{path} is not a valid safetensors checkpoint: {exc}') from None
    if _META_KEY not in header:
        raise WeightsError(f'{path} has no depth_ros metadata; is it a depth_ros checkpoint? '
                           '(Monodepth2 folders are converted with depth-ros import-monodepth2)')
    return CheckpointMeta.from_json(header[_META_KEY])


def read_weights_meta(path: str | os.PathLike, key: str) -> CheckpointMeta:
    """The metadata of checkpoint `path` named by configuration key `key` (e.g.
    'model.init_depth'), or a ConfigError that names the key."""
    if not Path(path).is_file():
        raise ConfigError(f'{key}: checkpoint not found: {path}')
    try:
        return read_meta(path)
    except WeightsError as exc:
        raise ConfigError(f'{key}: {exc}') from None


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = 'cpu',
                    load_pose: bool = True) -> Checkpoint:
    """Rebuild the networks a checkpoint describes and load its weights, in eval mode."""
    from safetensors.torch import load_file

    meta = read_meta(path)
    tensors = load_file(str(path))
    depth_net = build_for_weights('depth', meta.depth_arch.name, **meta.depth_arch.kwargs)
    load_into(depth_net, _sub(tensors, 'depth.'), f'{path} (depth network)',
              meta.depth_arch.name)
    pose_net = None
    if load_pose and meta.pose_arch is not None:
        pose_net = build_for_weights('pose', meta.pose_arch.name, **meta.pose_arch.kwargs)
        load_into(pose_net, _sub(tensors, 'pose.'), f'{path} (pose network)',
                  meta.pose_arch.name)
        pose_net = pose_net.to(device).eval()
    return Checkpoint(depth_net.to(device).eval(), pose_net, meta, Path(path))


def load_weights_into(net: nn.Module, path: str | os.PathLike, part: str = 'depth',
                      arch: ArchSpec | None = None) -> None:
    """Load one network's weights from a checkpoint into an existing module.

    Args:
        part: 'depth' or 'pose'.
        arch: what `net` was built as; when given, a checkpoint holding another architecture
            (or other arguments, reading-only ones aside: `ArchSpec.has_weights_of`) raises
            WeightsError before any tensor is read.
    """
    from safetensors.torch import load_file

    meta = read_meta(path)
    saved = meta.depth_arch if part == 'depth' else meta.pose_arch
    if saved is None:
        raise WeightsError(f'{path} holds no {part} network')
    if arch is not None and not arch.has_weights_of(saved):
        raise WeightsError(f'{path} holds a {saved.name!r} {part} network {saved.kwargs}, '
                           f'not {arch.name!r} {arch.kwargs}')
    load_into(net, _sub(load_file(str(path)), f'{part}.'), str(path), arch.name if arch else None)


def _sub(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.is_dir():
        raise WeightsError(f'{path} is a folder; pass the .safetensors file (for a Monodepth2 '
                           'folder, run depth-ros import-monodepth2 first)')
    if not path.is_file():
        raise WeightsError(f'weights file not found: {path}')
    return path
