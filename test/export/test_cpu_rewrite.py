"""CPU rewrites of exported graphs: constructed graphs with known answers, the packaged default
weights' graphs against themselves unrewritten, and the backend's sessions against torch."""
from collections import Counter

import numpy as np
import pytest


onnx = pytest.importorskip('onnx')
ort = pytest.importorskip('onnxruntime')

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from depth_ros.export.cpu_rewrite import (  # noqa: E402
    cpu_graph_bytes,
    decompose_elu,
    fold_constants,
    fold_zero_pads,
)
from depth_ros.export.graphs import DEPTH_INPUT  # noqa: E402


def _run(model_or_bytes, feed):
    data = (model_or_bytes if isinstance(model_or_bytes, bytes)
            else model_or_bytes.SerializeToString())
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(data, options, providers=['CPUExecutionProvider'])
    return session.run(None, feed)[0]


def _ops(model):
    return Counter(node.op_type for node in model.graph.node)


def _pad_conv_model(mode='constant', value=0.0, second_user='Conv', conv_pads=(0, 0, 0, 0)):
    """x -> Pad (pads computed by Concat of Constants, as torch exports them) -> Conv, and the
    Pad's output also read by `second_user`."""
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), 'w')
    zeros = helper.make_node('Constant', [], ['p0'], value=numpy_helper.from_array(
        np.array([0, 0, 0, 1], np.int64)))
    spatial = helper.make_node('Constant', [], ['p1'], value=numpy_helper.from_array(
        np.array([0, 0, 1, 2], np.int64)))
    nodes = [zeros, spatial, helper.make_node('Concat', ['p0', 'p1'], ['pads'], axis=0),
             helper.make_node('Constant', [], ['v'], value=numpy_helper.from_array(
                 np.array(value, np.float32))),
             helper.make_node('Pad', ['x', 'pads', 'v'], ['xp'], mode=mode),
             helper.make_node('Conv', ['xp', 'w'], ['y'], pads=list(conv_pads))]
    outputs = [helper.make_tensor_value_info('y', TensorProto.FLOAT, None)]
    if second_user == 'Conv':
        nodes.append(helper.make_node('Conv', ['xp', 'w'], ['y2'], pads=[1, 1, 1, 1]))
        outputs.append(helper.make_tensor_value_info('y2', TensorProto.FLOAT, None))
    elif second_user == 'Relu':
        nodes.append(helper.make_node('Relu', ['xp'], ['y2']))
        outputs.append(helper.make_tensor_value_info('y2', TensorProto.FLOAT, None))
    graph = helper.make_graph(nodes, 'g', [helper.make_tensor_value_info(
        'x', TensorProto.FLOAT, [1, 3, 9, 11])], outputs, [weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])


X = {'x': np.random.default_rng(1).standard_normal((1, 3, 9, 11)).astype(np.float32)}


def test_zero_pads_fold_into_every_conv_reading_them_exactly():
    model = _pad_conv_model(conv_pads=(1, 0, 0, 1))
    expected = _run(model, X)
    fold_zero_pads(fold_constants(model))
    assert _ops(model) == {'Conv': 2}
    convs = [n for n in model.graph.node if n.op_type == 'Conv']
    # begin (h, w) = (0, 1) + conv (1, 0); end (h, w) = (1, 2) + conv (0, 1)
    assert [list(helper.get_attribute_value(c.attribute[0])) for c in convs] == [
        [1, 1, 1, 3], [1, 2, 2, 3]]
    np.testing.assert_array_equal(_run(model, X), expected)


@pytest.mark.parametrize('case', [dict(mode='reflect'), dict(value=0.5),
                                  dict(second_user='Relu')])
def test_pads_that_are_not_plain_zero_padding_of_convs_stay(case):
    model = _pad_conv_model(**case)
    expected = _run(model, X)
    fold_zero_pads(fold_constants(model))
    assert _ops(model)['Pad'] == 1
    np.testing.assert_array_equal(_run(model, X), expected)


def test_constants_fold_into_initializers():
    model = fold_constants(_pad_conv_model())
    assert 'Constant' not in _ops(model) and 'Concat' not in _ops(model)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    assert inits['pads'].tolist() == [0, 0, 0, 1, 0, 0, 1, 2]


@pytest.mark.parametrize('alpha', [1.0, 0.5])
def test_elu_from_primitives_matches_the_definition(alpha):
    graph = helper.make_graph(
        [helper.make_node('Elu', ['x'], ['y'], alpha=alpha)], 'g',
        [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 2, 50, 40])],
        [helper.make_tensor_value_info('y', TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    x = np.random.default_rng(2).standard_normal((1, 2, 50, 40)).astype(np.float32) * 4
    x.flat[:3] = [0.0, 1e-8, -1e-8]
    decompose_elu(model)
    assert 'Elu' not in _ops(model)
    got = _run(model, {'x': x})
    expected = np.where(x > 0, x, alpha * np.expm1(x.astype(np.float64))).astype(np.float32)
    positive = x >= 0
    np.testing.assert_array_equal(got[positive], x[positive])  # exact on the positive side
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-7)


@pytest.fixture(scope='module')
def default_graphs():
    from depth_ros.export.cache import ensure_onnx
    from depth_ros.inference.predictor import resolve_weights
    from depth_ros.models import load_checkpoint

    return ensure_onnx(load_checkpoint(resolve_weights(None)))


def test_default_weights_graph_gives_the_same_depth_rewritten(default_graphs):
    model = onnx.load(str(default_graphs.depth))
    before = _ops(model)
    rewritten = cpu_graph_bytes(default_graphs.depth)
    after = onnx.ModelProto()
    after.ParseFromString(rewritten)
    after_ops = _ops(after)
    assert after_ops['Elu'] == 0 and before['Elu'] == 10
    assert after_ops['Pad'] == 11 < before['Pad'] == 28  # the 17 zero pads folded, reflect kept
    assert after_ops['Conv'] == before['Conv']
    rng = np.random.default_rng(3)
    feed = {DEPTH_INPUT: rng.random((1, 3, 128, 416), dtype=np.float32)}
    np.testing.assert_allclose(_run(rewritten, feed), _run(model, feed), rtol=0, atol=1e-6)
