"""TensorRT engines: built from an exported ONNX graph, cached under a key, run on torch tensors.

An engine only runs on the GPU model and TensorRT version that built it, so the cache key is
the ONNX file's hash, the GPU name, the TensorRT version, the precision and the largest batch:
`<onnx stem>.<onnx sha256[:12]>.<gpu>.trt<version>.<precision>.b<max batch>.engine`.

Precision: 'fp32' builds with TF32 disabled (so results match torch fp32 to ~1e-5); 'fp16' sets
BuilderFlag.FP16 on the float32 graph and lets TensorRT choose per layer (the flag is deprecated
from TensorRT 10.12 in favour of strongly typed networks, but still honoured).

TensorRT >= 10 is required (the tensor-name API: set_input_shape / set_tensor_address /
execute_async_v3). `tensorrt` is imported only inside these functions.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
import re

import torch

from depth_ros.errors import BackendError, ConfigError
from depth_ros.files import replaced_whole


LOG = logging.getLogger(__name__)
PRECISIONS = ('fp32', 'fp16')
MIN_TENSORRT_MAJOR = 10


def import_tensorrt():
    """The tensorrt module, or a one-line BackendError saying how to get it."""
    try:
        import tensorrt as trt
    except ImportError:
        raise BackendError("TensorRT is not installed (pip install 'depth_ros[tensorrt]', "
                           'TensorRT >= 10, on a machine with an NVIDIA GPU); use ONNX with the '
                           'onnxruntime backend instead') from None
    major = int(str(trt.__version__).split('.')[0])
    if major < MIN_TENSORRT_MAJOR:
        raise BackendError(f'TensorRT {trt.__version__} is too old; the tensorrt backend needs '
                           f'TensorRT >= {MIN_TENSORRT_MAJOR}')
    return trt


def require_cuda(device: torch.device) -> None:
    """Raise a one-line BackendError unless `device` is an available CUDA device."""
    if device.type != 'cuda':
        raise BackendError(f'TensorRT runs on an NVIDIA GPU, not on {device}; pass --device cuda '
                           '(or use the onnxruntime backend on the CPU)')
    if not torch.cuda.is_available():
        raise BackendError('TensorRT needs a CUDA GPU, but torch sees none on this machine; use '
                           'the onnxruntime or torch backend on the CPU')


def gpu_slug(device: torch.device) -> str:
    """The GPU's name as a file-name part, e.g. 'nvidia-h100-80gb-hbm3'."""
    name = torch.cuda.get_device_name(device)
    return re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')


def engine_file_name(onnx_path: Path, onnx_sha256: str, device: torch.device, precision: str,
                     max_batch: int) -> str:
    """Cache file name of the engine for a graph on this GPU and TensorRT version."""
    trt = import_tensorrt()
    stem = onnx_path.name[:-len('.onnx')] if onnx_path.name.endswith('.onnx') else onnx_path.name
    return (f'{stem}.{onnx_sha256[:12]}.{gpu_slug(device)}.trt{trt.__version__}.{precision}'
            f'.b{max_batch}.engine')


def build_engine(onnx_path: str | os.PathLike, engine_path: str | os.PathLike, *,
                 precision: str = 'fp32', max_batch: int = 1, workspace_gb: float = 2.0) -> Path:
    """Build and serialise a TensorRT engine from an ONNX graph.

    Inputs with a symbolic batch get one optimisation profile, batch 1 (optimal) to `max_batch`.
    """
    if precision not in PRECISIONS:
        raise ConfigError(f'TensorRT precision must be fp32 or fp16, got {precision!r}')
    if max_batch < 1:
        raise ConfigError(f'max_batch must be >= 1, got {max_batch}')
    trt = import_tensorrt()
    onnx_path, engine_path = Path(onnx_path), Path(engine_path)
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # explicit batch is the only mode in TensorRT 10
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = '; '.join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise BackendError(f'TensorRT cannot parse {onnx_path.name}: {errors}')
    config = _builder_config(trt, builder, network, precision, max_batch, workspace_gb)
    LOG.info('building TensorRT %s engine from %s (takes a minute or more)', precision,
             onnx_path.name)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise BackendError(f'TensorRT failed to build an engine from {onnx_path.name}; run with '
                           '--verbose for the TensorRT log')
    with replaced_whole(engine_path) as partial:
        partial.write_bytes(bytes(serialized))
    LOG.info('wrote %s', engine_path)
    return engine_path


def _builder_config(trt, builder, network, precision: str, max_batch: int,
                    workspace_gb: float):
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_gb * (1 << 30)))
    if precision == 'fp16':
        config.set_flag(trt.BuilderFlag.FP16)
    else:
        config.clear_flag(trt.BuilderFlag.TF32)  # true fp32, for parity with torch
    profile = None
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        shape = tuple(tensor.shape)
        if shape[0] != -1:
            continue
        profile = profile or builder.create_optimization_profile()
        rest = shape[1:]
        profile.set_shape(tensor.name, (1, *rest), (1, *rest), (max_batch, *rest))
    if profile is not None:
        config.add_optimization_profile(profile)
    return config


class EngineRunner:
    """Runs a serialised engine on CUDA torch tensors, on torch's current stream.

    Call it with the graph's inputs by name; it returns the outputs by name as new tensors.
    """

    def __init__(self, engine_path: str | os.PathLike, device: torch.device) -> None:
        trt = import_tensorrt()
        self.path = Path(engine_path)
        self.device = device
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        with torch.cuda.device(device):
            self.engine = self._runtime.deserialize_cuda_engine(self.path.read_bytes())
        if self.engine is None:
            raise BackendError(f'{self.path} does not load on this GPU / TensorRT version; '
                               'rebuild it (force_rebuild=True)')
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        is_input = {n: self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT for n in names}
        self.inputs = [n for n in names if is_input[n]]
        self.outputs = [n for n in names if not is_input[n]]
        dtypes = {trt.DataType.FLOAT: torch.float32, trt.DataType.HALF: torch.float16,
                  trt.DataType.INT32: torch.int32}
        self._dtypes = {n: dtypes[self.engine.get_tensor_dtype(n)] for n in names}

    def __call__(self, **inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        missing = set(self.inputs) - set(inputs)
        if missing:
            raise BackendError(f'{self.path.name} needs inputs {sorted(missing)}')
        keep = []  # converted inputs must outlive the enqueue, or their memory is reused
        for name in self.inputs:
            t = inputs[name].to(self.device, self._dtypes[name]).contiguous()
            keep.append(t)
            if not self.context.set_input_shape(name, tuple(t.shape)):
                raise BackendError(f'{self.path.name}: input {name} of shape {tuple(t.shape)} '
                                   'is outside the engine profile (batch or size too large?)')
            self.context.set_tensor_address(name, t.data_ptr())
        outputs = {}
        for name in self.outputs:
            shape = tuple(self.context.get_tensor_shape(name))
            outputs[name] = torch.empty(shape, dtype=self._dtypes[name], device=self.device)
            self.context.set_tensor_address(name, outputs[name].data_ptr())
        stream = torch.cuda.current_stream(self.device)
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise BackendError(f'TensorRT failed to run {self.path.name}')
        return outputs
