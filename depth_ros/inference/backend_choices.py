"""The inference backends, in one table read by the CLI, the node's parameters and
`backends.make_backend` (free of heavy imports, so argument parsing needs no torch).

Each entry is `'module:Class'`; the module is imported when the backend is first made, so its
dependencies (onnxruntime, TensorRT) stay optional. 'auto' (the default everywhere) picks one:
`resolve_backend`.
"""
from __future__ import annotations

import importlib.util


AUTO = 'auto'

BACKENDS: dict[str, str] = {
    'torch': 'depth_ros.inference.torch_backend:TorchBackend',
    'onnxruntime': 'depth_ros.inference.onnx_backend:OnnxRuntimeBackend',
    'tensorrt': 'depth_ros.inference.tensorrt_backend:TensorRTBackend',
}
BACKEND_NAMES = tuple(BACKENDS)
BACKEND_CHOICES = (AUTO, *BACKEND_NAMES)


def onnxruntime_installed() -> bool:
    """onnxruntime and onnx (which the on-the-fly export needs) are importable."""
    return all(importlib.util.find_spec(m) is not None for m in ('onnxruntime', 'onnx'))


def resolve_backend(name: str, device_type: str, precision: str = 'fp32') -> str:
    """The backend 'auto' stands for, or `name` itself.

    'auto': onnxruntime for fp32 on the CPU when it is installed (1.4-1.5x faster than eager
    torch there, docs/BENCHMARKS.md), else torch (CUDA, reduced precision, no onnxruntime).
    TensorRT is never picked implicitly: its engine build takes minutes.
    """
    if name != AUTO:
        return name
    if device_type == 'cpu' and precision == 'fp32' and onnxruntime_installed():
        return 'onnxruntime'
    return 'torch'
