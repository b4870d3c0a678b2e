"""Exported graphs cached beside the weights they come from, under a key of their content.

`model.safetensors` exported at 192x640, opset 17, fp32 is cached as
`model.<key>.192x640.op17.fp32.depth.onnx` (and `.pose.onnx`), where <key> is the first 12 hex
digits of SHA-256 over the weights file and the export version: new weights or a new exporter
give a new file, never a stale one. When the weights' folder is read-only (an installed package)
the cache is `$XDG_CACHE_HOME/depth_ros` (default ~/.cache/depth_ros).
"""
from __future__ import annotations

from dataclasses import dataclass
import hashlib
import logging
import os
from pathlib import Path

import torch
from torch import nn

from depth_ros.errors import BackendError
from depth_ros.export.onnx_export import (
    DEFAULT_OPSET,
    EXPORT_VERSION,
    export_depth_onnx,
    export_pose_onnx,
    pose_graph_beside,
    read_graph_info,
    validate_export_args,
)
from depth_ros.models.checkpoint import Checkpoint


LOG = logging.getLogger(__name__)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class OnnxGraphs:
    """Paths of a depth graph and its pose graph (None: depth only)."""

    depth: Path
    pose: Path | None


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def modules_sha256(*nets: nn.Module | None) -> str:
    """Hex SHA-256 over the parameters and buffers of in-memory networks (name, shape, bytes)."""
    digest = hashlib.sha256()
    for i, net in enumerate(nets):
        if net is None:
            continue
        for name, tensor in net.state_dict().items():
            t = tensor.detach().cpu().contiguous()
            digest.update(f'{i}.{name}:{tuple(t.shape)}:{t.dtype}'.encode())
            digest.update(t.view(-1).view(dtype=torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def checkpoint_sha256(checkpoint: Checkpoint) -> str:
    """Digest of the checkpoint's weights: its file when it has one, else its tensors."""
    path = checkpoint_path(checkpoint)
    if path is not None and path.is_file():
        return file_sha256(path)
    return modules_sha256(checkpoint.depth_net, checkpoint.pose_net)


def checkpoint_path(checkpoint: Checkpoint) -> Path | None:
    """The file a checkpoint was loaded from (set by load_checkpoint), or None."""
    return Path(checkpoint.path) if checkpoint.path is not None else None


def default_cache_dir() -> Path:
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return Path(base) / 'depth_ros'


def cache_dir_for(checkpoint: Checkpoint, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where derived files (ONNX, engines) go: `cache_dir` if given, else beside the weights when
    that folder is writable, else the user cache."""
    if cache_dir is not None:
        return Path(cache_dir)
    path = checkpoint_path(checkpoint)
    if path is not None and os.access(path.parent, os.W_OK):
        return path.parent
    fallback = default_cache_dir()
    if path is not None:
        LOG.info('%s is read-only; caching exported graphs in %s', path.parent, fallback)
    return fallback


def onnx_cache_stem(checkpoint: Checkpoint, digest: str, opset: int, precision: str) -> str:
    """`<weights stem>.<key>.<H>x<W>.op<opset>.<precision>` (see the module docstring)."""
    path = checkpoint_path(checkpoint)
    stem = path.stem if path is not None else checkpoint.meta.depth_arch.name
    key = hashlib.sha256(f'{digest}:v{EXPORT_VERSION}'.encode()).hexdigest()[:12]
    meta = checkpoint.meta
    return f'{stem}.{key}.{meta.height}x{meta.width}.op{opset}.{precision}'


def ensure_onnx(checkpoint: Checkpoint, *, precision: str = 'fp32', opset: int = DEFAULT_OPSET,
                cache_dir: str | os.PathLike | None = None, force: bool = False) -> OnnxGraphs:
    """The ONNX graphs of a checkpoint, exported (dynamic batch) unless already cached.

    A checkpoint whose `path` is an exported .onnx depth graph is used as it is, with the pose
    graph beside it when present.
    """
    path = checkpoint_path(checkpoint)
    if path is not None and path.suffix == '.onnx':
        return OnnxGraphs(read_graph_info(path).path, pose_graph_beside(path))
    if checkpoint.depth_net is None:
        raise BackendError('the checkpoint holds no depth network to export; pass a '
                           '.safetensors checkpoint or an exported .depth.onnx file')
    validate_export_args(checkpoint.meta.height, checkpoint.meta.width, opset, precision)
    digest = checkpoint_sha256(checkpoint)
    stem = onnx_cache_stem(checkpoint, digest, opset, precision)
    folder = cache_dir_for(checkpoint, cache_dir)
    depth = folder / f'{stem}.depth.onnx'
    pose = folder / f'{stem}.pose.onnx' if checkpoint.pose_net is not None else None
    options = dict(opset=opset, precision=precision, dynamic_batch=True, source_sha256=digest)
    if force or not depth.is_file():
        LOG.debug('exporting the depth network to %s', depth)
        export_depth_onnx(checkpoint.depth_net, checkpoint.meta, depth, **options)
    if pose is not None and (force or not pose.is_file()):
        LOG.debug('exporting the pose network to %s', pose)
        export_pose_onnx(checkpoint.pose_net, checkpoint.meta, pose, **options)
    return OnnxGraphs(depth, pose)
