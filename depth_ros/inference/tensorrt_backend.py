"""The TensorRT backend: engines built from the exported ONNX graphs, cached, run on one GPU.

Given a .safetensors checkpoint it exports float32 ONNX graphs beside the weights (as the
onnxruntime backend does), then builds an engine per graph and caches it beside them under a key
of ONNX hash, GPU name, TensorRT version, precision and largest batch (see
`depth_ros.export.tensorrt_engine`). Given an exported `*.depth.onnx` file it builds from that.
The first start therefore takes minutes; later starts load the cached engines.

Options (via `Predictor.from_checkpoint(..., backend='tensorrt', **options)`):
    precision: 'fp32' (TF32 off) or 'fp16'.
    force_rebuild: build the engines again even when cached.
    max_batch: largest batch the engines accept (default 4).
    workspace_gb: TensorRT builder workspace (default 2 GiB).
    cache_dir: where ONNX graphs and engines go (default: beside the weights).
    opset: ONNX opset of graphs exported on the fly.
"""
from __future__ import annotations

from dataclasses import dataclass
import logging
import os
from pathlib import Path

import torch

from depth_ros.errors import BackendError, ConfigError
from depth_ros.export.cache import default_cache_dir, ensure_onnx, file_sha256
from depth_ros.export.graphs import DEPTH_INPUT, POSE_INPUTS, POSE_OUTPUT, SIGMOID_OUTPUT
from depth_ros.export.onnx_export import DEFAULT_OPSET, read_graph_info
from depth_ros.export.tensorrt_engine import (
    PRECISIONS,
    EngineRunner,
    build_engine,
    engine_file_name,
    import_tensorrt,
    require_cuda,
)
from depth_ros.models.checkpoint import Checkpoint


LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedEngine:
    """The cache's record of one engine request.

    Attributes:
        path: the engine file.
        built: True when this request built it (missing or forced), False when it was found
            in the cache and loaded as it was.
    """

    path: Path
    built: bool


def ensure_engine(onnx_path: Path, device: torch.device, *, precision: str, max_batch: int,
                  workspace_gb: float, cache_dir: str | os.PathLike | None = None,
                  force_rebuild: bool = False) -> CachedEngine:
    """The cached engine for an ONNX graph on this GPU, built when missing or forced."""
    folder = Path(cache_dir) if cache_dir is not None else onnx_path.parent
    if cache_dir is None and not os.access(folder, os.W_OK):
        folder = default_cache_dir()
    name = engine_file_name(onnx_path, file_sha256(onnx_path), device, precision, max_batch)
    engine = folder / name
    built = force_rebuild or not engine.is_file()
    if built:
        build_engine(onnx_path, engine, precision=precision, max_batch=max_batch,
                     workspace_gb=workspace_gb)
    else:
        LOG.info('using cached TensorRT engine %s', engine)
    return CachedEngine(engine, built)


class TensorRTBackend:
    """Depth (and pose, when its graph exists) through TensorRT engines.

    `engines` records, per graph ('depth', 'pose'), which engine file is used and whether this
    backend built it or found it in the cache.
    """

    name = 'tensorrt'

    def __init__(self, checkpoint: Checkpoint, device: torch.device, precision: str = 'fp32',
                 force_rebuild: bool = False, max_batch: int = 4, workspace_gb: float = 2.0,
                 cache_dir: str | os.PathLike | None = None,
                 opset: int = DEFAULT_OPSET) -> None:
        if precision not in PRECISIONS:
            raise ConfigError(f'TensorRT precision must be fp32 or fp16, got {precision!r}')
        import_tensorrt()  # one-line BackendError when TensorRT is missing
        require_cuda(device)  # ... or when there is no GPU
        self.device = device
        self.precision = precision
        graphs = ensure_onnx(checkpoint, precision='fp32', opset=opset, cache_dir=cache_dir)
        if read_graph_info(graphs.depth).output != SIGMOID_OUTPUT:
            raise BackendError(f'{graphs.depth.name} does not output {SIGMOID_OUTPUT!r}; export '
                               f'the depth graph with the {SIGMOID_OUTPUT} output')
        options = dict(precision=precision, max_batch=max_batch, workspace_gb=workspace_gb,
                       cache_dir=cache_dir, force_rebuild=force_rebuild)
        self.engines = {'depth': ensure_engine(graphs.depth, device, **options)}
        self.depth_engine = self.engines['depth'].path
        self._depth = EngineRunner(self.depth_engine, device)
        self._pose = None
        if graphs.pose is not None:
            self.engines['pose'] = ensure_engine(graphs.pose, device, **options)
            self._pose = EngineRunner(self.engines['pose'].path, device)
        self.has_pose = self._pose is not None

    def depth(self, images: torch.Tensor) -> torch.Tensor:
        """images [B,3,h,w] in [0,1] -> sigmoid [B,1,h,w] float32 (on the GPU)."""
        out = self._depth(**{DEPTH_INPUT: images})
        return next(iter(out.values())).float()

    def pose(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """second_from_first [B,4,4] for the ordered pair."""
        if self._pose is None:
            raise BackendError('no pose graph for these weights; odometry is unavailable')
        return self._pose(**dict(zip(POSE_INPUTS, (first, second))))[POSE_OUTPUT].float()
