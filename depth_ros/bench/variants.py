"""The backend configurations a benchmark can compare, and which of them this machine runs.

A variant is a backend plus its options under a label: on the CPU 'torch' and 'onnxruntime';
on a GPU also 'torch-fp16-cl' (autocast fp16, channels_last), 'torch-fp16-cl-graphs' (the same
replayed as a CUDA graph, when the torch backend offers `cuda_graphs`), 'onnxruntime-fp16' (with
the CUDA provider), 'tensorrt' and 'tensorrt-fp16' (with TensorRT installed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
import importlib.util
import inspect
from typing import Any

import torch

from depth_ros.errors import ConfigError
from depth_ros.inference.backends import TorchBackend


@dataclass(frozen=True)
class Variant:
    """A backend with options, under a label used in tables and `--backends`."""

    label: str
    backend: str
    options: dict[str, Any] = field(default_factory=dict)
    # Exports files (ONNX, engines): the benchmark gives it a temporary cache folder.
    uses_cache: bool = False


def candidate_variants(device: torch.device) -> list[Variant]:
    """Every variant that makes sense on `device`, whether or not it is installed."""
    if device.type == 'cpu':
        return [Variant('torch', 'torch'), Variant('onnxruntime', 'onnxruntime', uses_cache=True)]
    variants = [Variant('torch', 'torch'),
                Variant('torch-fp16-cl', 'torch', {'precision': 'fp16', 'channels_last': True})]
    if 'cuda_graphs' in inspect.signature(TorchBackend.__init__).parameters:
        variants.append(Variant('torch-fp16-cl-graphs', 'torch', {
            'precision': 'fp16', 'channels_last': True, 'cuda_graphs': True}))
    variants += [
        Variant('onnxruntime', 'onnxruntime', uses_cache=True),
        Variant('onnxruntime-fp16', 'onnxruntime', {'precision': 'fp16'}, uses_cache=True),
        Variant('tensorrt', 'tensorrt', uses_cache=True),
        Variant('tensorrt-fp16', 'tensorrt', {'precision': 'fp16'}, uses_cache=True),
    ]
    return variants


def is_available(variant: Variant, device: torch.device) -> bool:
    """Whether the variant's backend is installed for `device` (cheap: no model is built)."""
    if variant.backend == 'torch':
        return True
    if variant.backend == 'onnxruntime':
        if importlib.util.find_spec('onnxruntime') is None:
            return False
        if device.type == 'cpu':
            return True
        import onnxruntime

        return 'CUDAExecutionProvider' in onnxruntime.get_available_providers()
    if variant.backend == 'tensorrt':
        return device.type == 'cuda' and importlib.util.find_spec('tensorrt') is not None
    return False


def select_variants(device: torch.device, wanted: tuple[str, ...] = ()) -> list[Variant]:
    """Available variants, filtered by label (empty `wanted`: all of them)."""
    candidates = candidate_variants(device)
    known = [v.label for v in candidates]
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise ConfigError(f'unknown backend(s) {unknown} on {device.type}; choose from '
                          f'{", ".join(known)}')
    chosen = [v for v in candidates if not wanted or v.label in wanted]
    return [v for v in chosen if is_available(v, device)]
