"""Inference backends behind the one Predictor API.

A backend runs the networks on prepared tensors: `depth(images [B,3,h,w]) -> sigmoid inverse
depth [B,1,h,w]` and `pose(first, second) -> [B,4,4]`, the raw pose-network matrix for the
ordered pair (second_from_first). The torch backend lives here; others register with
`register_backend` from their own modules so their heavy imports stay optional.
"""
from __future__ import annotations

from collections.abc import Callable
import importlib
from typing import Protocol

import torch

from depth_ros.errors import BackendError, ConfigError
from depth_ros.inference.backend_choices import BACKEND_NAMES, OPTIONAL_BACKEND_MODULES
from depth_ros.models.checkpoint import Checkpoint
from depth_ros.models.etm import fold_for_inference


class Backend(Protocol):
    name: str
    device: torch.device
    has_pose: bool

    def depth(self, images: torch.Tensor) -> torch.Tensor: ...

    def pose(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor: ...


BackendFactory = Callable[..., Backend]
_FACTORIES: dict[str, BackendFactory] = {}


def register_backend(name: str) -> Callable[[BackendFactory], BackendFactory]:
    def wrap(factory: BackendFactory) -> BackendFactory:
        _FACTORIES[name] = factory
        return factory
    return wrap


def backend_names() -> list[str]:
    return list(BACKEND_NAMES)


def make_backend(name: str, checkpoint: Checkpoint, device: torch.device, **options) -> Backend:
    """Create backend `name` for a loaded checkpoint on `device`."""
    if name not in _FACTORIES and name in OPTIONAL_BACKEND_MODULES:
        try:
            importlib.import_module(OPTIONAL_BACKEND_MODULES[name])
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith('depth_ros'):
                raise BackendError(f'backend {name!r} is not available in this build') from None
            raise
    if name not in _FACTORIES:
        raise ConfigError(f'unknown backend {name!r}; choose one of {", ".join(backend_names())}')
    return _FACTORIES[name](checkpoint, device, **options)


def resolve_device(device: str | torch.device) -> torch.device:
    """Parse an explicit device string, failing clearly when CUDA is asked for but absent."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f'invalid device {device!r}; use cpu, cuda or cuda:N') from None
    if dev.type == 'cuda' and not torch.cuda.is_available():
        raise BackendError(f'device {device!r} requested but CUDA is not available on this '
                           'machine; use --device cpu')
    if dev.type not in ('cpu', 'cuda'):
        raise ConfigError(f'unsupported device {device!r}; use cpu or cuda')
    return dev


@register_backend('torch')
class TorchBackend:
    """Eager PyTorch. On CUDA, `precision` fp16/bf16 runs the networks under autocast and
    `cuda_graphs` captures the depth network once per input shape and replays it (no Python or
    kernel-launch overhead per frame; the input is copied into the captured buffer)."""

    name = 'torch'

    def __init__(self, checkpoint: Checkpoint, device: torch.device,
                 precision: str = 'fp32', channels_last: bool = False,
                 cuda_graphs: bool = False) -> None:
        if precision not in ('fp32', 'fp16', 'bf16'):
            raise ConfigError(f'precision must be fp32, fp16 or bf16, got {precision!r}')
        if precision != 'fp32' and device.type != 'cuda':
            raise ConfigError(f'precision {precision} needs a CUDA device; use fp32 on the CPU')
        if cuda_graphs and device.type != 'cuda':
            raise ConfigError('cuda_graphs needs a CUDA device')
        self.cuda_graphs = cuda_graphs
        self._graphs: dict[tuple[int, ...], tuple] = {}
        self.device = device
        self.precision = precision
        self.channels_last = channels_last
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        # Re-parameterisable blocks (ETM) become single convolutions for inference.
        self.depth_net = fold_for_inference(checkpoint.depth_net).to(device, memory_format=fmt)
        self.pose_net = checkpoint.pose_net
        if self.pose_net is not None:
            self.pose_net = fold_for_inference(self.pose_net).to(device, memory_format=fmt)
        self.has_pose = self.pose_net is not None

    def _autocast(self):
        dtype = {'fp16': torch.float16, 'bf16': torch.bfloat16}.get(self.precision)
        return torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None)

    @torch.inference_mode()
    def depth(self, images: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        if self.cuda_graphs:
            return self._replay(images).clone()
        return self._depth_eager(images)

    def _depth_eager(self, images: torch.Tensor) -> torch.Tensor:
        with self._autocast():
            return self.depth_net(images).inv_depths[0].float()

    def _replay(self, images: torch.Tensor) -> torch.Tensor:
        """Capture (first call per shape, after warm-up on a side stream) or replay a graph."""
        key = tuple(images.shape)
        if key not in self._graphs:
            static_in = images.clone()
            side = torch.cuda.Stream(self.device)
            side.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(side):
                for _ in range(3):  # cuDNN autotuning and allocator warm-up before capture
                    self._depth_eager(static_in)
            torch.cuda.current_stream(self.device).wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_out = self._depth_eager(static_in)
            self._graphs[key] = (graph, static_in, static_out)
        graph, static_in, static_out = self._graphs[key]
        static_in.copy_(images)
        graph.replay()
        return static_out

    @torch.inference_mode()
    def pose(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        if self.pose_net is None:
            raise BackendError('these weights have no pose network; odometry is unavailable')
        with self._autocast():
            return self.pose_net(first, second).float()
