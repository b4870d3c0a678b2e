"""ONNX parity of a depth network through the product's exporter (depth_ros.export)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from depth_ros.models.checkpoint import CheckpointMeta


def onnx_and_torch_inv_depth(net: nn.Module, images: torch.Tensor,
                             tmp_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Export `net` (eval mode, registry-built) with export_depth_onnx, run the file with
    onnxruntime's CPU provider, and return (onnx, torch) full-resolution inverse depth."""
    ort = pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    from depth_ros.export import export_depth_onnx

    height, width = images.shape[-2:]
    meta = CheckpointMeta(depth_arch=net.arch, pose_arch=None, height=height, width=width)
    path = export_depth_onnx(net, meta, tmp_path / f'{net.arch.name}.onnx')
    with torch.no_grad():
        expected = net.eval()(images).inv_depths[0].numpy()
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    got = session.run(None, {session.get_inputs()[0].name: images.numpy()})[0]
    return got, expected
