"""The backend configurations a benchmark can compare, and which of them this machine runs.

A variant is a backend plus its options under a label: on the CPU 'torch' and 'onnxruntime';
on a GPU 'torch' (fp32) and 'torch-graphs' (replayed as a CUDA graph), 'torch-fp16-cl' and
'torch-bf16-cl' (autocast, channels_last), each also '-graphs', 'onnxruntime' and
'onnxruntime-fp16' (with the CUDA provider), 'tensorrt' and 'tensorrt-fp16' (with TensorRT
installed). Variants that compile the network with torch.compile ('torch-compile',
'torch-fp16-cl-compile', '-graphs') take tens of seconds per shape, so they run only when named.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import importlib.util
from typing import Any

import torch

from depth_ros.errors import ConfigError


@dataclass(frozen=True)
class Variant:
    """A backend with options, under a label used in tables and `--backends`."""

    label: str
    backend: str
    options: dict[str, Any] = field(default_factory=dict)
    # Exports files (ONNX, engines): the benchmark gives it a temporary cache folder.
    uses_cache: bool = False
    # Run when no variants are named (False: only when named, e.g. slow to prepare).
    default: bool = True


def candidate_variants(device: torch.device) -> list[Variant]:
    """Every variant that makes sense on `device`, whether or not it is installed."""
    compiled = {'compile': 'inductor'}
    if device.type == 'cpu':
        return [Variant('torch', 'torch'), Variant('onnxruntime', 'onnxruntime', uses_cache=True),
                Variant('torch-compile', 'torch', compiled, default=False)]
    variants = [Variant('torch', 'torch'), Variant('torch-graphs', 'torch', {'cuda_graphs': True})]
    for precision in ('fp16', 'bf16'):
        options = {'precision': precision, 'channels_last': True}
        variants += [Variant(f'torch-{precision}-cl', 'torch', options),
                     Variant(f'torch-{precision}-cl-graphs', 'torch',
                             {**options, 'cuda_graphs': True})]
    fp16 = {'precision': 'fp16', 'channels_last': True, **compiled}
    variants += [
        Variant('torch-fp16-cl-compile', 'torch', fp16, default=False),
        Variant('torch-fp16-cl-compile-graphs', 'torch', {**fp16, 'cuda_graphs': True},
                default=False),
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
    """Available variants, filtered by label (empty `wanted`: every default one)."""
    candidates = candidate_variants(device)
    known = [v.label for v in candidates]
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise ConfigError(f'unknown backend(s) {unknown} on {device.type}; choose from '
                          f'{", ".join(known)}')
    chosen = [v for v in candidates if v.label in wanted or (not wanted and v.default)]
    return [v for v in chosen if is_available(v, device)]
