"""`export_checkpoint`: a native checkpoint -> verified ONNX graphs and, optionally, engines.

Files are written to `out_dir` (default: beside the weights), named
`<weights stem>.<H>x<W>.<precision>.depth.onnx` and `.pose.onnx`; TensorRT engines go beside
them under the engine cache key (see `tensorrt_engine`), so the tensorrt backend finds them when
given the .depth.onnx file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import logging
import os
from pathlib import Path

import torch

from depth_ros.errors import BackendError, ConfigError
from depth_ros.export.cache import file_sha256
from depth_ros.export.graphs import (
    DEPTH_INPUT,
    POSE_INPUTS,
    SIGMOID_OUTPUT,
    DepthGraph,
    PoseGraph,
    depth_output_name,
)
from depth_ros.export.onnx_export import (
    DEFAULT_OPSET,
    export_depth_onnx,
    export_pose_onnx,
    read_graph_info,
    validate_export_args,
)
from depth_ros.export.options import FORMATS
from depth_ros.export.verify import (
    TOLERANCE,
    depth_difference,
    engine_difference,
    parity_inputs,
    pose_difference,
)
from depth_ros.models.checkpoint import Checkpoint, CheckpointMeta, load_checkpoint


LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportedFile:
    """One written artefact and its measured parity with torch (None: not verified)."""

    path: Path
    graph: str  # 'depth' or 'pose'
    kind: str  # 'onnx' or 'engine'
    difference: float | None = None


@dataclass
class ExportReport:
    """What `export_checkpoint` wrote, and the tolerance the differences were checked against."""

    meta: CheckpointMeta
    tolerance: float
    files: list[ExportedFile] = field(default_factory=list)


def export_checkpoint(weights: str | os.PathLike, *, fmt: str = 'onnx', precision: str = 'fp32',
                      height: int | None = None, width: int | None = None,
                      out_dir: str | os.PathLike | None = None, opset: int = DEFAULT_OPSET,
                      dynamic_batch: bool = False, depth_output: str = SIGMOID_OUTPUT,
                      include_pose: bool = True, verify: bool = True, max_batch: int = 4,
                      device: str = 'cuda') -> ExportReport:
    """Export a checkpoint's networks and check each graph against torch.

    Args:
        fmt: 'onnx', or 'tensorrt' (float32 ONNX graphs plus engines at `precision`, built on
            `device`).
        precision: 'fp32' or 'fp16'.
        height, width: network input size (default: the checkpoint's); multiples of 32.
        dynamic_batch: symbolic batch dimension (engines then accept 1..max_batch).
        depth_output: 'sigmoid' (the sigmoid map, what the backends use) or 'depth_m'
            (metres); 'inv_depth', the sigmoid's old name, is accepted with a FutureWarning.
        verify: measure parity and raise BackendError when above `verify.TOLERANCE`.

    Raises:
        ConfigError, WeightsError, OutputError, BackendError.
    """
    if fmt not in FORMATS:
        raise ConfigError(f'format must be one of {", ".join(FORMATS)}, got {fmt!r}')
    depth_output = depth_output_name(depth_output)
    if fmt == 'tensorrt':
        _require_tensorrt(device)  # before minutes of exporting
    ckpt = load_checkpoint(weights)
    meta = ckpt.meta.with_input_size(height, width)
    validate_export_args(meta.height, meta.width, opset, precision)
    onnx_precision = precision if fmt == 'onnx' else 'fp32'
    folder = Path(out_dir) if out_dir is not None else Path(weights).parent
    stem = f'{Path(weights).stem}.{meta.height}x{meta.width}.{onnx_precision}'
    report = ExportReport(meta, TOLERANCE[precision])
    pose_net = ckpt.pose_net if include_pose else None
    report.files += _export_onnx(ckpt, meta, folder / stem, file_sha256(weights), opset,
                                 onnx_precision, dynamic_batch, depth_output, pose_net, verify)
    if fmt == 'tensorrt':
        report.files += _build_engines(ckpt, report.files, precision,
                                       max_batch if dynamic_batch else 1, device, verify)
    return report


def _export_onnx(ckpt: Checkpoint, meta: CheckpointMeta, base: Path, digest: str, opset: int,
                 precision: str, dynamic_batch: bool, depth_output: str, pose_net,
                 verify: bool) -> list[ExportedFile]:
    options = dict(opset=opset, precision=precision, dynamic_batch=dynamic_batch,
                   source_sha256=digest)
    suffix = 'depth' if depth_output == SIGMOID_OUTPUT else depth_output
    depth = export_depth_onnx(ckpt.depth_net, meta, f'{base}.{suffix}.onnx', output=depth_output,
                              **options)
    files = [_checked(depth, 'depth', depth_difference(ckpt.depth_net, depth, batch=2)
                      if verify else None, precision)]
    if pose_net is not None:
        pose = export_pose_onnx(pose_net, meta, f'{base}.pose.onnx', **options)
        files.append(_checked(pose, 'pose', pose_difference(pose_net, pose, batch=2)
                              if verify else None, precision))
    return files


def _build_engines(ckpt: Checkpoint, onnx_files: list[ExportedFile], precision: str,
                   max_batch: int, device: str, verify: bool) -> list[ExportedFile]:
    from depth_ros.export.tensorrt_engine import build_engine, engine_file_name

    dev = torch.device(device)
    engines = []
    for item in onnx_files:
        name = engine_file_name(item.path, file_sha256(item.path), dev, precision, max_batch)
        engine = build_engine(item.path, item.path.with_name(name), precision=precision,
                              max_batch=max_batch)
        diff = _engine_parity(ckpt, item, engine, dev) if verify else None
        engines.append(_checked(engine, item.graph, diff, precision, kind='engine'))
    return engines


def _require_tensorrt(device: str) -> None:
    from depth_ros.export.tensorrt_engine import import_tensorrt, require_cuda

    import_tensorrt()
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f'invalid device {device!r}; use cuda or cuda:N') from None
    require_cuda(dev)


def _engine_parity(ckpt: Checkpoint, item: ExportedFile, engine: Path,
                   device: torch.device) -> float:
    info = read_graph_info(item.path)
    meta = info.meta
    if item.graph == 'depth':
        reference = DepthGraph(ckpt.depth_net, info.output, meta.min_depth, meta.max_depth,
                               meta.metres_per_unit).eval()
        feed = parity_inputs((DEPTH_INPUT,), 1, meta.height, meta.width)
    else:
        reference = PoseGraph(ckpt.pose_net).eval()
        feed = parity_inputs(POSE_INPUTS, 1, meta.height, meta.width, seed=1)
    return engine_difference(reference, engine, feed, device, relative=info.output == 'depth_m')


def _checked(path: Path, graph: str, difference: float | None, precision: str,
             kind: str = 'onnx') -> ExportedFile:
    if difference is not None:
        tolerance = TOLERANCE[precision]
        LOG.info('%s: max difference to torch %.2e (tolerance %.0e)', path.name, difference,
                 tolerance)
        if not difference <= tolerance:
            raise BackendError(f'{path} differs from the torch {graph} network by {difference:.2e}'
                               f' (tolerance {tolerance:.0e}); do not deploy it')
    return ExportedFile(path, graph, kind, difference)
