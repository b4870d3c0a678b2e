"""ONNX parity of a depth network through the product's exporter (depth_ros.export)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from depth_ros.models.checkpoint import CheckpointMeta
from depth_ros.models.registry import ArchSpec


def onnx_and_torch_inv_depth(net: nn.Module, arch: str, images: torch.Tensor,
                             tmp_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Export `net` (eval mode, built as registry architecture `arch`) with export_depth_onnx,
    run the file with onnxruntime's CPU provider, and return (onnx, torch) full-resolution
    inverse depth."""
    ort = pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    from depth_ros.export import export_depth_onnx

    height, width = images.shape[-2:]
    meta = CheckpointMeta(depth_arch=ArchSpec.of(arch), pose_arch=None, height=height,
                          width=width)
    path = export_depth_onnx(net, meta, tmp_path / f'{arch}.onnx')
    with torch.no_grad():
        expected = net.eval()(images).sigmoids[0].numpy()
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    got = session.run(None, {session.get_inputs()[0].name: images.numpy()})[0]
    return got, expected
