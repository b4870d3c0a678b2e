"""The onnxruntime backend: parity with the torch backend through the Predictor, the export
cache beside the weights, Predictors from an .onnx file alone, and its errors.

Documented tolerance (fp32, CPU): depth_m within a relative 1e-4 of the torch backend, the pose
matrix within 1e-5 (measured: about 1e-6 and 1e-9).
"""
import numpy as np
import pytest
import torch

from depth_ros.errors import BackendError, ConfigError
from depth_ros.export import export_checkpoint
from depth_ros.export.onnx_export import load_onnx_checkpoint
from depth_ros.inference import Predictor, onnx_backend
from depth_ros.models import ArchSpec, build_depth_net, build_pose_net, save_checkpoint


DEPTH_RTOL = 1e-4
POSE_ATOL = 1e-5


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('ort') / 'm.safetensors'
    save_checkpoint(path, build_depth_net('resnet18'), build_pose_net('resnet18'),
                    depth_arch=ArchSpec.of('resnet18'), pose_arch=ArchSpec.of('resnet18'),
                    height=64, width=192, metres_per_unit=1.5)
    return path


@pytest.fixture(scope='module')
def predictors(weights):
    return (Predictor.from_checkpoint(weights, backend='onnxruntime'),
            Predictor.from_checkpoint(weights, backend='torch'))


def _image(seed, h=375, w=1242):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_depth_matches_the_torch_backend(predictors):
    ort_pred, torch_pred = predictors
    got, expected = ort_pred.predict(_image(0)), torch_pred.predict(_image(0))
    assert got.depth_m.shape == (375, 1242) and got.depth_m.dtype == np.float32
    np.testing.assert_allclose(got.depth_m, expected.depth_m, rtol=DEPTH_RTOL)
    np.testing.assert_allclose(got.inv_depth_m, expected.inv_depth_m, rtol=DEPTH_RTOL)


def test_batch_and_pose_match_the_torch_backend(predictors):
    ort_pred, torch_pred = predictors
    images = [_image(1), _image(2, 120, 400)]
    for got, expected in zip(ort_pred.predict_batch(images), torch_pred.predict_batch(images)):
        np.testing.assert_allclose(got.depth_m, expected.depth_m, rtol=DEPTH_RTOL)
    assert ort_pred.has_pose
    np.testing.assert_allclose(ort_pred.relative_pose(images[0], _image(3)),
                               torch_pred.relative_pose(images[0], _image(3)), atol=POSE_ATOL)



def test_flip_average_matches_the_torch_backend(weights):
    """Two runs of the fixed-batch graph (image, mirror) give the torch backend's mean."""
    got, expected = (Predictor.from_checkpoint(weights, backend=b, flip_average=True)
                     .predict(_image(5)) for b in ('onnxruntime', 'torch'))
    np.testing.assert_allclose(got.depth_m, expected.depth_m, rtol=DEPTH_RTOL)

def test_input_size_exports_at_that_size_and_matches_the_torch_backend(weights):
    got, expected = (Predictor.from_checkpoint(weights, backend=b, input_size=(96, 288))
                     for b in ('onnxruntime', 'torch'))
    assert got.backend.depth_path.name.endswith('.96x288.op17.fp32.depth.onnx')
    np.testing.assert_allclose(got.predict(_image(6)).depth_m, expected.predict(_image(6)).depth_m,
                               rtol=DEPTH_RTOL)
    # An exported graph has one size: from_onnx takes it, and refuses another.
    graph = got.backend.depth_path
    assert Predictor.from_onnx(graph, input_size=(96, 288)).input_size == (96, 288)
    with pytest.raises(ConfigError, match='exported at 288x96'):
        Predictor.from_onnx(graph, input_size=(64, 192))

def test_graphs_cached_beside_the_weights_and_reused(weights, predictors):
    ort_pred = predictors[0]
    backend = ort_pred.backend
    assert backend.depth_path.parent == weights.parent
    assert backend.depth_path.name.startswith('m.') and backend.depth_path.name.endswith(
        '.64x192.op17.fp32.depth.onnx')
    stamp = backend.depth_path.stat().st_mtime_ns
    again = Predictor.from_checkpoint(weights, backend='onnxruntime')
    assert again.backend.depth_path == backend.depth_path
    assert backend.depth_path.stat().st_mtime_ns == stamp


def test_predictor_from_the_onnx_file_alone(predictors):
    ort_pred, torch_pred = predictors
    alone = Predictor.from_onnx(ort_pred.backend.depth_path)
    assert alone.meta == torch_pred.meta and alone.metres_per_unit == 1.5 and alone.has_pose
    np.testing.assert_allclose(alone.predict(_image(4)).depth_m,
                               torch_pred.predict(_image(4)).depth_m, rtol=DEPTH_RTOL)


def test_fixed_batch_graph_refuses_other_batches(weights, tmp_path):
    report = export_checkpoint(weights, out_dir=tmp_path, include_pose=False, verify=False)
    pred = Predictor.from_onnx(report.files[0].path)
    assert not pred.has_pose
    pred.predict(_image(5))
    with pytest.raises(BackendError, match=r'takes \[1,3,64,192\]'):
        pred.predict_batch([_image(5), _image(6)])
    with pytest.raises(BackendError, match='odometry is unavailable'):
        pred.relative_pose(_image(5), _image(6))


def test_metric_depth_graph_is_refused_by_the_backend(weights, tmp_path):
    report = export_checkpoint(weights, out_dir=tmp_path, include_pose=False, verify=False,
                               depth_output='depth_m')
    ckpt = load_onnx_checkpoint(report.files[0].path)
    with pytest.raises(BackendError, match="needs a graph exported with the 'sigmoid'"):
        onnx_backend.OnnxRuntimeBackend(ckpt, torch.device('cpu'))


def test_missing_cuda_provider_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(onnx_backend.ort, 'get_available_providers',
                        lambda: ['CPUExecutionProvider'])
    with pytest.raises(BackendError, match='onnxruntime-gpu'):
        onnx_backend.providers_for(torch.device('cuda:0'))
    assert onnx_backend.providers_for(torch.device('cpu')) == ['CPUExecutionProvider']


def test_option_errors(weights):
    with pytest.raises(ConfigError, match='fp16 needs a CUDA device'):
        Predictor.from_checkpoint(weights, backend='onnxruntime', precision='fp16')
    with pytest.raises(ConfigError, match='fp32 or fp16'):
        Predictor.from_checkpoint(weights, backend='onnxruntime', precision='int8')
    with pytest.raises(ConfigError, match='optimization'):
        onnx_backend.session_options(optimization='max')
    options = onnx_backend.session_options(threads=1, optimization='basic')
    assert options.intra_op_num_threads == 1


def test_graphs_exported_before_the_sigmoid_rename_still_run(weights, tmp_path):
    """An older export names the depth output 'inv_depth' (tensor and metadata); it reads as
    'sigmoid' and predicts what the current export predicts. Asking for the old name warns."""
    import onnx

    with pytest.warns(FutureWarning, match="now called 'sigmoid'"):
        report = export_checkpoint(weights, out_dir=tmp_path / 'new', include_pose=False,
                                   depth_output='inv_depth')
    current = report.files[0].path
    model = onnx.load(str(current))
    model.graph.output[0].name = 'inv_depth'
    for node in model.graph.node:
        node.output[:] = ['inv_depth' if o == 'sigmoid' else o for o in node.output]
    for prop in model.metadata_props:
        if prop.key == 'depth_ros.output':
            prop.value = 'inv_depth'
    legacy = tmp_path / 'legacy.depth.onnx'
    onnx.save(model, str(legacy))
    assert load_onnx_checkpoint(legacy).path == legacy
    image = _image(7)
    np.testing.assert_array_equal(Predictor.from_onnx(legacy).predict(image).depth_m,
                                  Predictor.from_onnx(current).predict(image).depth_m)
