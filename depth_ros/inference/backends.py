"""Inference backends behind the one Predictor API.

A backend runs the networks on prepared tensors: `depth(images [B,3,h,w]) -> sigmoid
[B,1,h,w]` (the depth network's output in [0, 1]) and `pose(first, second) -> [B,4,4]`, the
raw pose-network matrix for the ordered pair (second_from_first). Each backend lives in its own
module, named in the one table `backend_choices.BACKENDS` and imported on first use, so heavy
dependencies stay optional.
"""
from __future__ import annotations

import importlib
from typing import Protocol

import torch

from depth_ros.errors import BackendError, ConfigError
from depth_ros.inference.backend_choices import BACKENDS, resolve_backend
from depth_ros.inference.devices import resolve_device
from depth_ros.models.checkpoint import Checkpoint


__all__ = ['Backend', 'backend_class', 'backend_names', 'make_backend', 'resolve_device']


class Backend(Protocol):
    name: str
    device: torch.device
    has_pose: bool

    def depth(self, images: torch.Tensor) -> torch.Tensor: ...

    def pose(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor: ...


def backend_names() -> list[str]:
    return list(BACKENDS)


def backend_class(name: str) -> type:
    """The class of backend `name`, importing its module (ConfigError for an unknown name)."""
    if name not in BACKENDS:
        raise ConfigError(f'unknown backend {name!r}; choose one of {", ".join(BACKENDS)}')
    module_name, class_name = BACKENDS[name].split(':')
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith('depth_ros'):
            raise BackendError(f'backend {name!r} is not available in this build') from None
        raise
    return getattr(module, class_name)


def make_backend(name: str, checkpoint: Checkpoint, device: torch.device, **options) -> Backend:
    """Create backend `name` ('auto': see `backend_choices.resolve_backend`) for a loaded
    checkpoint on `device`."""
    name = resolve_backend(name, device.type, options.get('precision', 'fp32'))
    return backend_class(name)(checkpoint, device, **options)
