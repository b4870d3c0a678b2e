"""ONNX export of the depth and pose networks, with the checkpoint's metadata inside the file.

Exporter: torch.onnx's TorchScript-based exporter (`dynamo=False`). The torch.export-based
exporter that torch >= 2.9 uses by default needs the `onnxscript` package and gains nothing for
these convolutional networks; the TorchScript exporter needs only torch and supports opsets up to
20. Default opset 17 (onnxruntime >= 1.11, TensorRT >= 8.5).

Each graph has fixed height and width (the checkpoint's, or the size asked for) and, with
`dynamic_batch`, a symbolic batch dimension named 'batch'. Every file carries `metadata_props`:
'depth_ros.meta' (the CheckpointMeta JSON, height and width updated to the exported size), the
graph kind, its output, precision, export version and the SHA-256 of the source weights, so a
Predictor can be rebuilt from the .onnx file alone (`load_onnx_checkpoint`).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
import logging
import os
from pathlib import Path
import warnings

import torch
from torch import nn

from depth_ros.errors import BackendError, ConfigError, WeightsError
from depth_ros.export.graphs import (
    DEPTH_INPUT,
    LEGACY_SIGMOID_OUTPUT,
    POSE_INPUTS,
    POSE_OUTPUT,
    SIGMOID_OUTPUT,
    DepthGraph,
    PoseGraph,
    depth_output_name,
)
from depth_ros.export.options import DEFAULT_OPSET, MAX_OPSET, MIN_OPSET
from depth_ros.files import replaced_whole
from depth_ros.models.checkpoint import Checkpoint, CheckpointMeta
from depth_ros.models.etm import fold_for_inference
from depth_ros.sizes import check_input_size


LOG = logging.getLogger(__name__)
PRECISIONS = ('fp32', 'fp16')
# Bumped whenever the exported graphs change, so cached files from older versions are rebuilt.
EXPORT_VERSION = 2  # 2: the depth graph's sigmoid output is called 'sigmoid' (was 'inv_depth')

META_KEY = 'depth_ros.meta'
GRAPH_KEY = 'depth_ros.graph'
OUTPUT_KEY = 'depth_ros.output'
PRECISION_KEY = 'depth_ros.precision'
SOURCE_KEY = 'depth_ros.source_sha256'
VERSION_KEY = 'depth_ros.export_version'


@dataclass(frozen=True)
class GraphInfo:
    """What an exported .onnx file holds, read from its metadata.

    Attributes:
        path: the .onnx file.
        graph: 'depth' or 'pose'.
        output: 'sigmoid', 'depth_m' or 'matrix' (a graph exported as 'inv_depth', the
            sigmoid's old name, reads as 'sigmoid').
        precision: 'fp32' or 'fp16' (inputs and outputs are float32 either way).
        meta: the checkpoint metadata, height and width those of the graph.
        source_sha256: SHA-256 of the weights it was exported from ('' if unknown).
        dynamic_batch: whether the batch dimension is symbolic.
    """

    path: Path
    graph: str
    output: str
    precision: str
    meta: CheckpointMeta
    source_sha256: str
    dynamic_batch: bool


def validate_export_args(height: int, width: int, opset: int, precision: str) -> None:
    """Raise ConfigError for a size, opset or precision the exporter cannot produce."""
    check_input_size(height, width, 'export size')
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ConfigError(f'opset {opset} is unsupported; use {MIN_OPSET}..{MAX_OPSET} '
                          f'(default {DEFAULT_OPSET})')
    if precision not in PRECISIONS:
        raise ConfigError(f'precision must be one of {", ".join(PRECISIONS)}, got {precision!r}')


def export_depth_onnx(depth_net: nn.Module, meta: CheckpointMeta, path: str | os.PathLike, *,
                      opset: int = DEFAULT_OPSET, precision: str = 'fp32',
                      dynamic_batch: bool = False, output: str = SIGMOID_OUTPUT,
                      source_sha256: str = '') -> Path:
    """Export the depth network at meta.height x meta.width to one single-output graph.

    Graph: `images` [B,3,H,W] float32 in [0,1] -> `output` [B,1,H,W] float32, where output is
    'sigmoid' (the decoder's full-resolution sigmoid) or 'depth_m' (metres); see `DepthGraph`.

    Returns:
        The written path (written atomically: a reader never sees a partial file).
    """
    validate_export_args(meta.height, meta.width, opset, precision)
    output = depth_output_name(output)
    half = precision == 'fp16'
    module = DepthGraph(_cpu_copy(depth_net, half), output, meta.min_depth, meta.max_depth,
                        meta.metres_per_unit, half=half).eval()
    images = torch.rand(2 if dynamic_batch else 1, 3, meta.height, meta.width)
    props = _props(meta, 'depth', output, precision, source_sha256)
    return _export(module, (images,), Path(path), (DEPTH_INPUT,), output, opset, dynamic_batch,
                   props)


def export_pose_onnx(pose_net: nn.Module, meta: CheckpointMeta, path: str | os.PathLike, *,
                     opset: int = DEFAULT_OPSET, precision: str = 'fp32',
                     dynamic_batch: bool = False, source_sha256: str = '') -> Path:
    """Export the pose network: `first`, `second` [B,3,H,W] -> `matrix` [B,4,4] float32.

    `matrix` is second_from_first for the ordered pair, translation in network units.
    """
    validate_export_args(meta.height, meta.width, opset, precision)
    half = precision == 'fp16'
    module = PoseGraph(_cpu_copy(pose_net, half), half=half).eval()
    batch = 2 if dynamic_batch else 1
    pair = tuple(torch.rand(batch, 3, meta.height, meta.width) for _ in POSE_INPUTS)
    props = _props(meta, 'pose', POSE_OUTPUT, precision, source_sha256)
    return _export(module, pair, Path(path), POSE_INPUTS, POSE_OUTPUT, opset, dynamic_batch, props)


def read_graph_info(path: str | os.PathLike) -> GraphInfo:
    """Read the depth_ros metadata of an exported .onnx file (weights are not loaded)."""
    import onnx

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f'ONNX file not found: {path}')
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # onnx raises DecodeError and others for a corrupt file
        raise WeightsError(f'{path} is not a valid ONNX file: {exc}') from None
    props = {p.key: p.value for p in model.metadata_props}
    if META_KEY not in props:
        raise WeightsError(f'{path} has no depth_ros metadata; export it with depth-ros export')
    batch_dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    output = props.get(OUTPUT_KEY, '')
    output = SIGMOID_OUTPUT if output == LEGACY_SIGMOID_OUTPUT else output  # older exports
    return GraphInfo(path=path, graph=props.get(GRAPH_KEY, ''), output=output,
                     precision=props.get(PRECISION_KEY, 'fp32'),
                     meta=CheckpointMeta.from_json(props[META_KEY]),
                     source_sha256=props.get(SOURCE_KEY, ''),
                     dynamic_batch=bool(batch_dim.dim_param))


def load_onnx_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """A network-less Checkpoint for an exported depth graph: its meta, and `path` set to the
    .onnx file, which the onnxruntime and tensorrt backends accept in place of weights."""
    info = read_graph_info(path)
    if info.graph != 'depth':
        raise WeightsError(f'{path} holds the {info.graph or "unknown"} graph; pass the depth '
                           'graph (*.depth.onnx)')
    return Checkpoint(depth_net=None, pose_net=None, meta=info.meta, path=info.path)


def pose_graph_beside(depth_path: Path) -> Path | None:
    """The pose graph exported with a depth graph (`X.depth.onnx` -> `X.pose.onnx`), if any."""
    name = depth_path.name
    if not name.endswith('.depth.onnx'):
        return None
    pose = depth_path.with_name(name[:-len('.depth.onnx')] + '.pose.onnx')
    return pose if pose.is_file() else None


def _cpu_copy(net: nn.Module, half: bool) -> nn.Module:
    # A copy, so exporting never changes the caller's network (device, dtype, mode, folding);
    # training-time branches (ETM) are folded into the plain convolutions that get exported.
    net = fold_for_inference(copy.deepcopy(net).cpu())
    return net.half() if half else net.float()


def _props(meta: CheckpointMeta, graph: str, output: str, precision: str,
           source_sha256: str) -> dict[str, str]:
    return {META_KEY: meta.to_json(), GRAPH_KEY: graph, OUTPUT_KEY: output,
            PRECISION_KEY: precision, SOURCE_KEY: source_sha256,
            VERSION_KEY: str(EXPORT_VERSION)}


def _export(module: nn.Module, args: tuple[torch.Tensor, ...], path: Path,
            input_names: tuple[str, ...], output_name: str, opset: int, dynamic_batch: bool,
            props: dict[str, str]) -> Path:
    import onnx

    axes = {n: {0: 'batch'} for n in (*input_names, output_name)} if dynamic_batch else None
    try:
        with replaced_whole(path) as tmp, warnings.catch_warnings(), torch.no_grad():
            # The TorchScript exporter warns that it is deprecated and about Slice folding.
            warnings.simplefilter('ignore', (DeprecationWarning, UserWarning, FutureWarning))
            torch.onnx.export(module, args, str(tmp), dynamo=False, opset_version=opset,
                              input_names=list(input_names), output_names=[output_name],
                              dynamic_axes=axes, do_constant_folding=True)
            model = onnx.load(str(tmp))
            model.producer_name = 'depth_ros'
            onnx.helper.set_model_props(model, props)
            onnx.checker.check_model(model, full_check=True)
            onnx.save(model, str(tmp))
    except onnx.checker.ValidationError as exc:
        raise BackendError(f'exported graph {path.name} fails the ONNX checker: {exc}') from None
    except (RuntimeError, torch.onnx.OnnxExporterError) as exc:
        raise BackendError(f'ONNX export of {path.name} failed: {exc}') from None
    LOG.info('exported %s (opset %d%s)', path, opset, ', dynamic batch' if dynamic_batch else '')
    return path


