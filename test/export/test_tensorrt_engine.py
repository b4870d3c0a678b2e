"""TensorRT: one-line errors without TensorRT or a GPU (always run); engine parity, cache and
rebuild on a GPU with TensorRT (skipped elsewhere)."""
import importlib.util
import sys

import numpy as np
import pytest
import torch

from depth_ros.errors import BackendError, ConfigError
from depth_ros.export import tensorrt_engine
from depth_ros.inference import Predictor
from depth_ros.inference.backends import make_backend
from depth_ros.models import load_checkpoint


HAS_TENSORRT_GPU = (importlib.util.find_spec('tensorrt') is not None
                    and torch.cuda.is_available())


@pytest.fixture(scope='module')
def weights(tiny_checkpoint):
    return tiny_checkpoint


def _one_line(exc_info):
    message = str(exc_info.value)
    assert '\n' not in message
    return message


def test_missing_tensorrt_is_a_one_line_backend_error(monkeypatch, weights):
    monkeypatch.setitem(sys.modules, 'tensorrt', None)  # makes `import tensorrt` fail
    with pytest.raises(BackendError) as exc:
        tensorrt_engine.import_tensorrt()
    assert 'TensorRT is not installed' in _one_line(exc)
    with pytest.raises(BackendError) as exc:
        make_backend('tensorrt', load_checkpoint(weights), torch.device('cpu'))
    assert 'TensorRT' in _one_line(exc)


def test_tensorrt_on_the_cpu_is_refused(weights):
    # Here: TensorRT missing; on a TensorRT machine: the CPU device. Both are BackendErrors.
    with pytest.raises(BackendError) as exc:
        Predictor.from_checkpoint(weights, device='cpu', backend='tensorrt')
    assert 'TensorRT' in _one_line(exc)
    with pytest.raises(BackendError, match='pass --device cuda'):
        tensorrt_engine.require_cuda(torch.device('cpu'))


@pytest.mark.skipif(torch.cuda.is_available(), reason='this machine has a GPU')
def test_cuda_device_without_gpu_is_refused():
    with pytest.raises(BackendError, match='no GPU|sees none'):
        tensorrt_engine.require_cuda(torch.device('cuda'))


def test_build_arguments_checked_before_tensorrt_is_needed(tmp_path):
    with pytest.raises(ConfigError, match='fp32 or fp16'):
        tensorrt_engine.build_engine(tmp_path / 'x.onnx', tmp_path / 'x.engine', precision='int8')
    with pytest.raises(ConfigError, match='max_batch'):
        tensorrt_engine.build_engine(tmp_path / 'x.onnx', tmp_path / 'x.engine', max_batch=0)


@pytest.mark.skipif(not HAS_TENSORRT_GPU, reason='needs TensorRT and a CUDA GPU')
@pytest.mark.parametrize('precision, tolerance', [('fp32', 1e-4), ('fp16', 1e-2)])
def test_engine_parity_cache_and_rebuild(weights, tmp_path, precision, tolerance):
    cache = tmp_path / precision
    trt_pred = Predictor.from_checkpoint(weights, device='cuda', backend='tensorrt',
                                         precision=precision, cache_dir=cache)
    ref = Predictor.from_checkpoint(weights, device='cpu')
    image = np.random.default_rng(0).integers(0, 256, (75, 250, 3), dtype=np.uint8)
    images = torch.rand(2, 3, 64, 192, generator=torch.Generator().manual_seed(1))
    expected = ref.backend.depth(images)
    got = trt_pred.backend.depth(images.cuda()).cpu()
    assert got.shape == expected.shape and (got - expected).abs().max() <= tolerance
    np.testing.assert_allclose(trt_pred.predict(image).depth_m, ref.predict(image).depth_m,
                               rtol=50 * tolerance)
    engines = sorted(cache.glob('*.engine'))
    assert len(engines) == 2 and all(precision in e.name for e in engines)
    stamps = [e.stat().st_mtime_ns for e in engines]
    Predictor.from_checkpoint(weights, device='cuda', backend='tensorrt', precision=precision,
                              cache_dir=cache)
    assert [e.stat().st_mtime_ns for e in engines] == stamps  # loaded from the cache
    Predictor.from_checkpoint(weights, device='cuda', backend='tensorrt', precision=precision,
                              cache_dir=cache, force_rebuild=True)
    assert [e.stat().st_mtime_ns for e in engines] != stamps
