"""The eager PyTorch backend (the default; no dependency beyond torch)."""
from __future__ import annotations

import copy

import torch

from depth_ros.errors import BackendError, ConfigError
from depth_ros.geometry.poses import pose_from_parameters
from depth_ros.inference.mixed_precision import PRECISIONS, prepare_for_precision
from depth_ros.models.checkpoint import Checkpoint
from depth_ros.models.etm import fold_for_inference


class TorchBackend:
    """Eager PyTorch, with options for CUDA.

    `precision` fp16/bf16 runs the networks under autocast with their convolution weights
    stored in that type and the depth heads, sigmoid and pose matrix in float32
    (`mixed_precision`); `channels_last` (default: on with fp16/bf16) suits tensor cores;
    `cuda_graphs` captures the depth network once per input shape and replays it (no Python or
    kernel-launch overhead per frame; the input is copied into the captured buffer);
    `compile` names a torch.compile backend (e.g. 'inductor') for the depth network. On CUDA
    the cuDNN autotuner is switched on (inputs have fixed shapes)."""

    name = 'torch'

    def __init__(self, checkpoint: Checkpoint, device: torch.device,
                 precision: str = 'fp32', channels_last: bool | None = None,
                 cuda_graphs: bool = False, compile: str = '') -> None:
        if precision not in PRECISIONS:
            raise ConfigError(f'precision must be fp32, fp16 or bf16, got {precision!r}')
        if precision != 'fp32' and device.type != 'cuda':
            raise ConfigError(f'precision {precision} needs a CUDA device; use fp32 on the CPU')
        if cuda_graphs and device.type != 'cuda':
            raise ConfigError('cuda_graphs needs a CUDA device')
        self.cuda_graphs = cuda_graphs
        self._graphs: dict[tuple, tuple] = {}
        self.device = device
        self.precision = precision
        self.channels_last = precision != 'fp32' if channels_last is None else channels_last
        if device.type == 'cuda':
            torch.backends.cudnn.benchmark = True
        self.depth_net = self._prepare(checkpoint.depth_net, depth=True)
        self.pose_net = checkpoint.pose_net
        if self.pose_net is not None:
            self.pose_net = self._prepare(self.pose_net, depth=False)
        self.has_pose = self.pose_net is not None
        self._forward = (torch.compile(self.depth_net, backend=compile, dynamic=False)
                         if compile else self.depth_net)

    def _prepare(self, net: torch.nn.Module, depth: bool) -> torch.nn.Module:
        # Re-parameterisable blocks (ETM) become single convolutions for inference.
        net = fold_for_inference(net)
        if self.precision != 'fp32':  # on a copy: the checkpoint's network stays float32
            net = prepare_for_precision(copy.deepcopy(net), self.precision, depth=depth)
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        return net.to(self.device, memory_format=fmt)

    def _autocast(self):
        dtype = PRECISIONS[self.precision]
        return torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None)

    @torch.inference_mode()
    def depth(self, images: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        if self.cuda_graphs:
            # The captured output is overwritten by the next replay: hand out a copy (device
            # to device, from the caching allocator; no host synchronisation).
            return self._replay(images).clone()
        return self._depth_eager(images)

    def _depth_eager(self, images: torch.Tensor) -> torch.Tensor:
        with self._autocast():
            return self._forward(images).sigmoids[0].float()

    def _replay(self, images: torch.Tensor) -> torch.Tensor:
        """Capture (first call per input shape and layout, after warm-up on a side stream) or
        replay a graph."""
        key = (*images.shape, images.dtype, images.is_contiguous())
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
        if self.channels_last:
            first = first.contiguous(memory_format=torch.channels_last)
            second = second.contiguous(memory_format=torch.channels_last)
        with self._autocast():
            params = self.pose_net.predict_parameters(first, second)
        # The matrix in float32 even under mixed precision, as in training.
        return pose_from_parameters(params.axis_angle.float(), params.translation.float(),
                                    invert=False)
