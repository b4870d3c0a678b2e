"""The onnxruntime backend: exported graphs run by onnxruntime on the CPU or a CUDA GPU.

Given a .safetensors checkpoint it exports the graphs once (dynamic batch) and caches them beside
the weights under a key of their content (see `depth_ros.export.cache`); given an exported
`*.depth.onnx` file (`load_onnx_checkpoint`) it runs that file, with the `*.pose.onnx` beside it
when present. The provider follows the device: CPUExecutionProvider for 'cpu',
CUDAExecutionProvider for 'cuda:N' (needs the onnxruntime-gpu build).

Options (via `Predictor.from_checkpoint(..., backend='onnxruntime', **options)`):
    precision: 'fp32', or 'fp16' on CUDA (float16 weights and compute, float32 interface).
    threads: intra-op threads (default: the CPUs this process may use).
    optimization: 'all' (ORT_ENABLE_ALL, default), 'extended', 'basic' or 'disable'.
    spinning: let idle worker threads spin-wait (default off, see `session_options`).
    cpu_rewrite: on the CPU, run the graphs with `depth_ros.export.cpu_rewrite` applied (zero
        Pads folded into convolutions, ELU from vectorised ops; same values within 1.2e-7;
        default on).
    cache_dir: where exported graphs go (default: beside the weights).
    opset: ONNX opset of graphs exported on the fly.
    force_export: export again even when a cached graph exists.
"""
from __future__ import annotations

import logging
import os

import numpy as np
import onnxruntime as ort
import torch

from depth_ros.errors import BackendError, ConfigError
from depth_ros.export.cache import ensure_onnx
from depth_ros.export.graphs import DEPTH_INPUT, POSE_INPUTS, SIGMOID_OUTPUT
from depth_ros.export.onnx_export import DEFAULT_OPSET, read_graph_info
from depth_ros.inference.devices import available_cpus
from depth_ros.models.checkpoint import Checkpoint


LOG = logging.getLogger(__name__)
OPTIMIZATION_LEVELS = {
    'disable': ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    'basic': ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    'extended': ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    'all': ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


def session_options(threads: int | None = None, optimization: str = 'all',
                    spinning: bool = False) -> ort.SessionOptions:
    """Session options: graph optimisation level, intra-op threads (default: all CPUs) and
    whether idle worker threads spin-wait.

    Spinning is off by default: the Predictor's torch pre- and post-processing runs right after
    each call, and spinning onnxruntime threads would take the cores from it.
    """
    if optimization not in OPTIMIZATION_LEVELS:
        raise ConfigError(f'optimization must be one of {", ".join(OPTIMIZATION_LEVELS)}, '
                          f'got {optimization!r}')
    options = ort.SessionOptions()
    options.graph_optimization_level = OPTIMIZATION_LEVELS[optimization]
    options.intra_op_num_threads = int(threads or available_cpus())
    options.add_session_config_entry('session.intra_op.allow_spinning', '1' if spinning else '0')
    options.log_severity_level = 3  # errors only; ORT warns about unused initialisers etc.
    return options


def providers_for(device: torch.device) -> list:
    """onnxruntime providers for a torch device; BackendError if CUDA is asked for but absent."""
    if device.type == 'cpu':
        return ['CPUExecutionProvider']
    available = ort.get_available_providers()
    if 'CUDAExecutionProvider' not in available:
        raise BackendError(f'onnxruntime {ort.__version__} has no CUDA provider (it has '
                           f'{", ".join(available)}); install onnxruntime-gpu or use --device cpu')
    return [('CUDAExecutionProvider', {'device_id': device.index or 0}), 'CPUExecutionProvider']


def make_session(path: str | os.PathLike, device: torch.device, threads: int | None = None,
                 optimization: str = 'all', spinning: bool = False,
                 cpu_rewrite: bool = False) -> ort.InferenceSession:
    """An inference session for `path` on `device` (checked to really use the CUDA provider);
    with `cpu_rewrite` (CPU only) the graph is rewritten first (`export.cpu_rewrite`)."""
    providers = providers_for(device)
    graph: str | bytes = str(path)
    if cpu_rewrite and device.type == 'cpu':
        graph = _rewritten(path)
    try:
        session = ort.InferenceSession(graph, session_options(threads, optimization, spinning),
                                       providers=providers)
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... exceptions
        raise BackendError(f'onnxruntime cannot load {path}: {exc}') from None
    if device.type == 'cuda' and session.get_providers()[0] != 'CUDAExecutionProvider':
        raise BackendError('onnxruntime fell back to the CPU: the CUDA provider failed to load '
                           '(CUDA/cuDNN libraries missing?); fix the install or use --device cpu')
    return session


def _rewritten(path: str | os.PathLike) -> str | bytes:
    from depth_ros.export.cpu_rewrite import cpu_graph_bytes

    try:
        return cpu_graph_bytes(path)
    except Exception as exc:  # onnx's own errors: run the graph as exported
        LOG.warning('cannot rewrite %s for the CPU (%s: %s); running it as exported',
                    path, type(exc).__name__, exc)
        return str(path)


class _Graph:
    """One session plus the torch <-> onnxruntime hand-over (IO binding on CUDA)."""

    def __init__(self, session: ort.InferenceSession, device: torch.device) -> None:
        self.session = session
        self.device = device
        # Single-output graphs: the name is read from the graph (older exports call the
        # depth graph's sigmoid output 'inv_depth').
        self.output = session.get_outputs()[0].name
        shape = session.get_inputs()[0].shape
        self.size = tuple(shape[2:])  # (H, W) of the graph
        self.batch = shape[0] if isinstance(shape[0], int) else None  # None: dynamic

    def __call__(self, **inputs: torch.Tensor) -> torch.Tensor:
        first = next(iter(inputs.values()))
        if tuple(first.shape[2:]) != self.size or (self.batch and first.shape[0] != self.batch):
            raise BackendError(f'the ONNX graph takes [{self.batch or "B"},3,{self.size[0]},'
                               f'{self.size[1]}] inputs, got {list(first.shape)}')
        if self.device.type == 'cuda':
            return self._run_cuda(inputs)
        feed = {k: v.detach().float().contiguous().numpy() for k, v in inputs.items()}
        return torch.from_numpy(self.session.run([self.output], feed)[0])

    def _run_cuda(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        # IO binding reads and writes torch's CUDA memory directly: no host round trip.
        binding = self.session.io_binding()
        index = self.device.index or 0
        keep = [v.detach().to(self.device, torch.float32).contiguous() for v in inputs.values()]
        for name, t in zip(inputs, keep):
            binding.bind_input(name, 'cuda', index, np.float32, tuple(t.shape), t.data_ptr())
        out_shape = self.session.get_outputs()[0].shape
        shape = (keep[0].shape[0], *out_shape[1:])
        out = torch.empty(shape, dtype=torch.float32, device=self.device)
        binding.bind_output(self.output, 'cuda', index, np.float32, tuple(shape), out.data_ptr())
        torch.cuda.current_stream(self.device).synchronize()  # inputs written before ORT reads
        self.session.run_with_iobinding(binding)
        return out


class OnnxRuntimeBackend:
    """Depth (and pose, when its graph exists) through onnxruntime sessions."""

    name = 'onnxruntime'

    def __init__(self, checkpoint: Checkpoint, device: torch.device, precision: str = 'fp32',
                 threads: int | None = None, optimization: str = 'all',
                 cache_dir: str | os.PathLike | None = None, opset: int = DEFAULT_OPSET,
                 force_export: bool = False, spinning: bool = False,
                 cpu_rewrite: bool = True) -> None:
        if precision not in ('fp32', 'fp16'):
            raise ConfigError(f'onnxruntime precision must be fp32 or fp16, got {precision!r}')
        if precision == 'fp16' and device.type != 'cuda':
            raise ConfigError('precision fp16 needs a CUDA device; use fp32 on the CPU')
        providers_for(device)  # fail on a missing CUDA provider before exporting anything
        self.device = device
        self.precision = precision
        graphs = ensure_onnx(checkpoint, precision=precision, opset=opset, cache_dir=cache_dir,
                             force=force_export)
        info = read_graph_info(graphs.depth)
        if info.output != SIGMOID_OUTPUT:
            raise BackendError(f'{graphs.depth.name} outputs {info.output!r}; the backend needs '
                               f'a graph exported with the {SIGMOID_OUTPUT!r} output')
        self.depth_path, self.pose_path = graphs.depth, graphs.pose
        session = dict(threads=threads, optimization=optimization, spinning=spinning,
                       cpu_rewrite=cpu_rewrite and precision == 'fp32')
        self._depth = _Graph(make_session(graphs.depth, device, **session), device)
        self._pose = None
        if graphs.pose is not None:
            self._pose = _Graph(make_session(graphs.pose, device, **session), device)
        self.has_pose = self._pose is not None
        LOG.debug('onnxruntime on %s: %s', device, self.depth_path.name)

    def depth(self, images: torch.Tensor) -> torch.Tensor:
        """images [B,3,h,w] in [0,1] -> sigmoid [B,1,h,w] float32."""
        return self._depth(**{DEPTH_INPUT: images})

    def pose(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """second_from_first [B,4,4] for the ordered pair."""
        if self._pose is None:
            raise BackendError('no pose graph for these weights; odometry is unavailable')
        return self._pose(**dict(zip(POSE_INPUTS, (first, second))))
