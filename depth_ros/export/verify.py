"""Parity of exported graphs with the torch networks they come from (onnxruntime on the CPU).

Differences are the maximum absolute difference on the graph's output ('sigmoid' map, pose
'matrix'), and the maximum relative difference for 'depth_m'. Tolerances, checked by
`depth-ros export` and the tests: fp32 1e-4, fp16 1e-2 (float16 weights and activations against
the float32 reference).
"""
from __future__ import annotations

import os

import numpy as np
import torch
from torch import nn

from depth_ros.export.graphs import DEPTH_INPUT, POSE_INPUTS, DepthGraph, PoseGraph
from depth_ros.export.onnx_export import read_graph_info


TOLERANCE = {'fp32': 1e-4, 'fp16': 1e-2}


def run_onnx_cpu(path: str | os.PathLike, feed: dict[str, np.ndarray]) -> np.ndarray:
    """The first output of a graph run by onnxruntime on the CPU, all optimisations on."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])
    return session.run(None, feed)[0]


def parity_inputs(names: tuple[str, ...], batch: int, height: int, width: int,
                  seed: int = 0) -> dict[str, torch.Tensor]:
    """Reproducible random images [batch,3,height,width] in [0,1], one per input name."""
    gen = torch.Generator().manual_seed(seed)
    return {n: torch.rand(batch, 3, height, width, generator=gen) for n in names}


def depth_difference(depth_net: nn.Module, path: str | os.PathLike, batch: int = 1) -> float:
    """Largest difference between an exported depth graph and the float32 torch network."""
    info = read_graph_info(path)
    meta = info.meta
    reference = DepthGraph(depth_net, info.output, meta.min_depth, meta.max_depth,
                           meta.metres_per_unit).eval()
    feed = parity_inputs((DEPTH_INPUT,), batch if info.dynamic_batch else 1, meta.height,
                         meta.width)
    return _difference(reference, path, feed, relative=info.output == 'depth_m')


def pose_difference(pose_net: nn.Module, path: str | os.PathLike, batch: int = 1) -> float:
    """Largest absolute difference between an exported pose graph and the torch network."""
    info = read_graph_info(path)
    feed = parity_inputs(POSE_INPUTS, batch if info.dynamic_batch else 1, info.meta.height,
                         info.meta.width, seed=1)
    return _difference(PoseGraph(pose_net).eval(), path, feed, relative=False)


def _difference(reference: nn.Module, path: str | os.PathLike, feed: dict[str, torch.Tensor],
                relative: bool) -> float:
    device = next(reference.parameters()).device
    with torch.inference_mode():
        expected = reference(*(t.to(device) for t in feed.values())).float().cpu().numpy()
    got = run_onnx_cpu(path, {k: v.numpy() for k, v in feed.items()})
    return _max_difference(got, expected, relative)


def _max_difference(got: np.ndarray, expected: np.ndarray, relative: bool) -> float:
    diff = np.abs(got.astype(np.float64) - expected)
    if relative:
        diff /= np.maximum(np.abs(expected), 1e-12)
    return float(diff.max())


def engine_difference(reference: nn.Module, engine_path: str | os.PathLike,
                      feed: dict[str, torch.Tensor], device: torch.device,
                      relative: bool = False) -> float:
    """Largest difference between a TensorRT engine on `device` and a float32 torch module on
    the CPU (the CPU reference avoids cuDNN's TF32 convolutions)."""
    from depth_ros.export.tensorrt_engine import EngineRunner

    with torch.inference_mode():
        expected = reference.cpu()(*feed.values()).float().numpy()
    outputs = EngineRunner(engine_path, device)(**feed)
    got = next(iter(outputs.values())).float().cpu().numpy()
    return _max_difference(got, expected, relative)
