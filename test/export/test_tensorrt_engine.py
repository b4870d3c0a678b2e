"""TensorRT: one-line errors without TensorRT or a GPU (always run); engine parity, cache and
rebuild on a GPU with TensorRT (skipped elsewhere).

Tolerances on the sigmoid output (the tiny random ResNet-18 of `tiny_checkpoint`, whose sigmoid
lies in 0.48..0.53):
- fp32 (TF32 off): 1e-4, float32 rounding with another summation order.
- fp16: 1e-3. Measured on the CPU for the same network and inputs, running every layer in
  float16 (torch .half(), weights and activations) moves the sigmoid by at most 2.6e-4 (five
  input seeds: 2.60e-4..2.63e-4), about half a float16 spacing at 0.5 (2^-11 = 4.9e-4); an
  onnxruntime fp16 graph, which keeps the output in float32, by 1.8e-5. TensorRT's FP16 flag
  runs each layer in float16 or float32, so its error is expected at or below the all-float16
  figure; 1e-3 allows about four times it, two float16 spacings.
Depth is compared as inverse depth: 1/depth = 1/max + (1/min - 1/max) * sigmoid is linear, and
bilinear resizing is a convex combination, so a sigmoid bound `t` bounds the inverse depth at
the image size by (1/min - 1/max) * t exactly (depth itself would amplify it by up to 1/min).
"""
from dataclasses import replace
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
@pytest.mark.parametrize('precision, tolerance', [('fp32', 1e-4), ('fp16', 1e-3)])
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
    meta = ref.meta
    inv_tolerance = (1 / meta.min_depth - 1 / meta.max_depth) * tolerance
    np.testing.assert_allclose(trt_pred.predict(image).inv_depth_m, ref.predict(image).inv_depth_m,
                               rtol=0, atol=inv_tolerance)
    first = trt_pred.backend.engines
    assert set(first) == {'depth', 'pose'} and all(e.built for e in first.values())
    assert sorted(cache.glob('*.engine')) == sorted(e.path for e in first.values())
    assert all(precision in e.path.name for e in first.values())
    again = Predictor.from_checkpoint(weights, device='cuda', backend='tensorrt',
                                      precision=precision, cache_dir=cache).backend.engines
    assert again == {k: replace(e, built=False) for k, e in first.items()}  # cache hits
    forced = Predictor.from_checkpoint(weights, device='cuda', backend='tensorrt',
                                       precision=precision, cache_dir=cache,
                                       force_rebuild=True).backend.engines
    assert forced == first  # same files, built again


def test_engine_cache_records_builds_and_hits(tmp_path, monkeypatch):
    """The cache logic alone (no TensorRT here): the builder is replaced by one that writes a
    file and counts its calls, so the record can be checked against what really happened."""
    from depth_ros.inference import tensorrt_backend

    builds = []

    def fake_build(onnx_path, engine_path, **options):
        builds.append(engine_path)
        engine_path.write_bytes(b'engine %d' % len(builds))
        return engine_path

    monkeypatch.setattr(tensorrt_backend, 'build_engine', fake_build)
    monkeypatch.setattr(tensorrt_backend, 'engine_file_name',
                        lambda onnx, sha, device, precision, max_batch: f'g.{precision}.engine')
    onnx = tmp_path / 'g.depth.onnx'
    onnx.write_bytes(b'graph')
    options = dict(precision='fp16', max_batch=1, workspace_gb=1.0, cache_dir=tmp_path)
    first = tensorrt_backend.ensure_engine(onnx, torch.device('cpu'), **options)
    again = tensorrt_backend.ensure_engine(onnx, torch.device('cpu'), **options)
    forced = tensorrt_backend.ensure_engine(onnx, torch.device('cpu'), force_rebuild=True,
                                            **options)
    assert (first.built, again.built, forced.built) == (True, False, True)
    assert first.path == again.path == forced.path == tmp_path / 'g.fp16.engine'
    assert builds == [first.path, forced.path]
