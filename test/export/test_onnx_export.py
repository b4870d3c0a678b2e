"""ONNX export: graph interface, parity with torch, metadata round trip, fp16, errors."""
import hashlib

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from depth_ros.errors import BackendError, ConfigError, WeightsError
from depth_ros.export import (
    export_checkpoint,
    export_depth_onnx,
    load_onnx_checkpoint,
    pipeline,
    read_graph_info,
)
from depth_ros.models import (
    ArchSpec,
    CheckpointMeta,
    build_depth_net,
    build_pose_net,
    load_checkpoint,
    save_checkpoint,
)


H, W = 64, 192
RESNET18 = ArchSpec.of('resnet18')


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('export') / 'm.safetensors'
    save_checkpoint(path, build_depth_net('resnet18'), build_pose_net('resnet18'),
                    depth_arch=RESNET18, pose_arch=RESNET18, height=H, width=W, min_depth=0.1,
                    max_depth=80.0, metres_per_unit=2.0)
    return path


@pytest.fixture(scope='module')
def exported(weights):
    """fp32, dynamic batch, depth + pose, parity checked by the exporter itself."""
    report = export_checkpoint(weights, dynamic_batch=True)
    return {f.graph: f for f in report.files}


@pytest.fixture(scope='module')
def nets(weights):
    return load_checkpoint(weights)


def _session(path):
    return ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])


def _images(batch, seed):
    return torch.rand(batch, 3, H, W, generator=torch.Generator().manual_seed(seed))


def test_graph_interface(exported):
    model = onnx.load(str(exported['depth'].path))
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ['images']
    assert [o.name for o in model.graph.output] == ['sigmoid']
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == 'batch' and [d.dim_value for d in dims[1:]] == [3, H, W]
    assert {o.domain: o.version for o in model.opset_import}[''] == 17
    pose = onnx.load(str(exported['pose'].path))
    assert [i.name for i in pose.graph.input] == ['first', 'second']
    assert [o.name for o in pose.graph.output] == ['matrix']


def test_depth_parity_fp32_at_another_batch(exported, nets):
    images = _images(3, seed=5)  # the graph was traced at batch 2
    with torch.no_grad():
        expected = nets.depth_net(images).sigmoids[0].numpy()
    got = _session(exported['depth'].path).run(None, {'images': images.numpy()})[0]
    assert got.shape == (3, 1, H, W) and got.dtype == np.float32
    assert np.abs(got - expected).max() <= 1e-4
    assert exported['depth'].difference <= 1e-4


def test_pose_parity_and_matrix_form(exported, nets):
    first, second = _images(2, seed=6), _images(2, seed=7)
    with torch.no_grad():
        expected = nets.pose_net(first, second).numpy()
    got = _session(exported['pose'].path).run(
        None, {'first': first.numpy(), 'second': second.numpy()})[0]
    assert got.shape == (2, 4, 4)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(got[:, 3], [[0, 0, 0, 1]] * 2, atol=1e-7)
    rot = got[:, :3, :3].astype(np.float64)
    np.testing.assert_allclose(rot @ rot.transpose(0, 2, 1), np.eye(3)[None].repeat(2, 0),
                               atol=1e-5)


def test_metadata_rebuilds_the_checkpoint_meta(exported, weights, nets):
    info = read_graph_info(exported['depth'].path)
    assert info.meta == nets.meta
    assert (info.graph, info.output, info.precision, info.dynamic_batch) == (
        'depth', 'sigmoid', 'fp32', True)
    assert info.source_sha256 == hashlib.sha256(weights.read_bytes()).hexdigest()
    ckpt = load_onnx_checkpoint(exported['depth'].path)
    assert ckpt.meta == nets.meta and ckpt.depth_net is None
    with pytest.raises(WeightsError, match='pose graph'):
        load_onnx_checkpoint(exported['pose'].path)


def test_metric_depth_graph_at_another_size(weights, nets, tmp_path):
    report = export_checkpoint(weights, height=96, width=320, out_dir=tmp_path,
                               depth_output='depth_m', include_pose=False, verify=False)
    (item,) = report.files
    assert item.path.name == 'm.96x320.fp32.depth_m.onnx'
    info = read_graph_info(item.path)
    assert (info.meta.height, info.meta.width, info.output) == (96, 320, 'depth_m')
    assert not info.dynamic_batch
    images = torch.rand(1, 3, 96, 320, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        sigmoid = nets.depth_net(images).sigmoids[0].double().numpy()
    # depth_m = depth_scale / (1/max + (1/min - 1/max) * sigmoid), written out independently.
    expected = 2.0 / (1 / 80.0 + (1 / 0.1 - 1 / 80.0) * sigmoid)
    got = _session(item.path).run(None, {'images': images.numpy()})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_fp16_graph_has_half_weights_and_float_interface(weights, nets, tmp_path):
    report = export_checkpoint(weights, precision='fp16', out_dir=tmp_path, include_pose=False)
    (item,) = report.files
    model = onnx.load(str(item.path))
    float_types = {i.data_type for i in model.graph.initializer if i.dims and
                   i.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16)}
    assert float_types == {onnx.TensorProto.FLOAT16}
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert read_graph_info(item.path).precision == 'fp16'
    images = _images(1, seed=9)
    with torch.no_grad():
        expected = nets.depth_net(images).sigmoids[0].numpy()
    got = _session(item.path).run(None, {'images': images.numpy()})[0]
    assert np.abs(got - expected).max() <= 1e-2


def test_export_leaves_the_network_unchanged(tmp_path):
    torch.manual_seed(1)
    net = build_depth_net('resnet18').train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    meta = CheckpointMeta(depth_arch=RESNET18, pose_arch=None, height=H, width=W)
    export_depth_onnx(net, meta, tmp_path / 'x.depth.onnx', precision='fp16')
    assert net.training
    for k, v in net.state_dict().items():
        assert v.dtype == before[k].dtype and torch.equal(v, before[k]), k


@pytest.mark.parametrize('kwargs, fragment', [
    ({'height': 100}, 'multiples of 32'),
    ({'opset': 21}, 'opset 21'),
    ({'precision': 'int8'}, 'precision'),
    ({'fmt': 'tflite'}, 'format'),
])
def test_invalid_arguments_are_config_errors(weights, tmp_path, kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        export_checkpoint(weights, out_dir=tmp_path, **kwargs)
    assert not list(tmp_path.iterdir())


def test_parity_above_tolerance_refuses_the_graph(weights, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, 'depth_difference', lambda *a, **k: 0.5)
    with pytest.raises(BackendError, match='differs from the torch depth network'):
        export_checkpoint(weights, out_dir=tmp_path, include_pose=False)


def test_read_graph_info_rejects_foreign_files(tmp_path):
    not_onnx = tmp_path / 'a.onnx'
    not_onnx.write_bytes(b'not a model')
    with pytest.raises(WeightsError, match='not a valid ONNX'):
        read_graph_info(not_onnx)
    x = onnx.helper.make_tensor_value_info('x', onnx.TensorProto.FLOAT, [1])
    y = onnx.helper.make_tensor_value_info('y', onnx.TensorProto.FLOAT, [1])
    graph = onnx.helper.make_graph([onnx.helper.make_node('Identity', ['x'], ['y'])], 'g', [x],
                                   [y])
    plain = tmp_path / 'plain.onnx'
    onnx.save(onnx.helper.make_model(graph), str(plain))
    with pytest.raises(WeightsError, match='no depth_ros metadata'):
        read_graph_info(plain)
    with pytest.raises(WeightsError, match='not found'):
        read_graph_info(tmp_path / 'missing.onnx')
