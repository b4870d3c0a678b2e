"""Rewrites of an exported fp32 graph that onnxruntime's CPU provider runs faster, same values.

The TorchScript exporter writes every `F.pad` as a Pad node whose pads come from a small chain of
shape arithmetic, and keeps ELU as one op. On the CPU, onnxruntime runs convolutions in its
blocked NCHWc layout; Pad and Elu have no blocked kernels, so every one of them costs a layout
reorder in and out, and its Elu kernel is scalar. For the default weights (DNA-Depth Lite0,
416x128) Pad, Elu and the reorders were half of the depth graph's time (profile, 1 thread:
Conv 31 ms, Elu 16 ms, Pad 9 ms, reorders 12 ms). Three rewrites, each exact or within a float
rounding:

1. `fold_constants`: nodes whose inputs are all constants are evaluated once (onnx's reference
   evaluator) and become initializers, so every Pad's pads are plain numbers.
2. `fold_zero_pads`: a zero (constant-mode) Pad that only feeds convolutions becomes the
   convolutions' own `pads` attribute (EfficientNet's "same" padding). Exact.
3. `decompose_elu`: Elu(x) = Relu(x) + alpha * (Exp(Min(x, 0)) - 1); for x >= 0 the second
   term is exactly 0, so the positive side is exact; the negative side differs from
   onnxruntime's Elu by its vectorised Exp's rounding (measured: at most 1.2e-7 on the output).

Reflection Pads stay (no exact cheaper form). `cpu_graph_bytes` applies all three; the
onnxruntime backend uses it for fp32 sessions on the CPU (`benchmarks/cpu_rewrite_speed.py`
measures the gain; docs/BENCHMARKS.md records it).
"""
from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import helper, numpy_helper


def cpu_graph_bytes(path: str | os.PathLike) -> bytes:
    """The serialised graph at `path` with the three rewrites applied."""
    model = onnx.load(str(path))
    decompose_elu(fold_zero_pads(fold_constants(model)))
    return model.SerializeToString()


def fold_constants(model: onnx.ModelProto) -> onnx.ModelProto:
    """Replace every node computed from constants alone by initializers (in place)."""
    from onnx.reference import ReferenceEvaluator

    graph = model.graph
    known = {init.name for init in graph.initializer}
    constant_nodes = []
    for node in graph.node:  # nodes are in topological order
        if node.op_type in ('RandomNormal', 'RandomUniform', 'RandomNormalLike',
                            'RandomUniformLike', 'Multinomial'):
            continue
        if all(not name or name in known for name in node.input):
            constant_nodes.append(node)
            known.update(node.output)
    if not constant_nodes:
        return model
    produced = {name for node in constant_nodes for name in node.output}
    rest = [node for node in graph.node if not set(node.output) <= produced]
    needed = {name for node in rest for name in node.input if name in produced}
    needed = sorted(needed | {out.name for out in graph.output if out.name in produced})
    read = {name for node in constant_nodes for name in node.input}
    sub = helper.make_model(
        helper.make_graph(constant_nodes, 'constants', [],
                          [helper.make_empty_tensor_value_info(name) for name in needed],
                          [init for init in graph.initializer if init.name in read]),
        opset_imports=list(model.opset_import))
    values = ReferenceEvaluator(sub).run(None, {})
    del graph.node[:]
    graph.node.extend(rest)
    graph.initializer.extend(numpy_helper.from_array(np.asarray(value), name)
                             for name, value in zip(needed, values))
    _drop_unused_initializers(graph)
    return model


def fold_zero_pads(model: onnx.ModelProto) -> onnx.ModelProto:
    """Fold zero constant-mode Pads that feed only Convs into the Convs' pads (in place)."""
    graph = model.graph
    inits = {init.name: init for init in graph.initializer}
    consumers = _consumers(graph)
    outputs = {out.name for out in graph.output}
    for pad in [n for n in graph.node if n.op_type == 'Pad']:
        spatial = _zero_spatial_pads(pad, inits)
        users = consumers.get(pad.output[0], [])
        if (spatial is None or not users or pad.output[0] in outputs
                or any(u.op_type != 'Conv' or u.input[0] != pad.output[0]
                       or _attr(u, 'auto_pad', b'NOTSET') != b'NOTSET'
                       for u in users)):
            continue
        for conv in users:
            current = list(_attr(conv, 'pads', [0] * len(spatial)))
            _set_attr(conv, 'pads', [int(a + b) for a, b in zip(current, spatial)])
            conv.input[0] = pad.input[0]
        graph.node.remove(pad)
    _drop_unused_initializers(graph)
    return model


def decompose_elu(model: onnx.ModelProto) -> onnx.ModelProto:
    """Replace every Elu by Relu(x) + alpha * (Exp(Min(x, 0)) - 1) (in place)."""
    graph = model.graph
    if not any(n.op_type == 'Elu' for n in graph.node):
        return model
    zero, one = '_cpu_rewrite_zero', '_cpu_rewrite_one'
    graph.initializer.extend([numpy_helper.from_array(np.array(0.0, np.float32), zero),
                              numpy_helper.from_array(np.array(1.0, np.float32), one)])
    nodes = []
    for node in graph.node:
        if node.op_type != 'Elu':
            nodes.append(node)
            continue
        x, y, name = node.input[0], node.output[0], node.name or node.output[0]
        alpha = float(_attr(node, 'alpha', 1.0))
        negative = f'{name}/expm1'
        nodes += [helper.make_node('Min', [x, zero], [f'{name}/min'], name=f'{name}/min'),
                  helper.make_node('Exp', [f'{name}/min'], [f'{name}/exp'], name=f'{name}/exp'),
                  helper.make_node('Sub', [f'{name}/exp', one], [negative], name=negative),
                  helper.make_node('Relu', [x], [f'{name}/relu'], name=f'{name}/relu')]
        if alpha != 1.0:
            scale = f'{name}/alpha'
            graph.initializer.append(numpy_helper.from_array(np.array(alpha, np.float32),
                                                             scale))
            nodes.append(helper.make_node('Mul', [negative, scale], [f'{name}/scaled'],
                                          name=f'{name}/scaled'))
            negative = f'{name}/scaled'
        nodes.append(helper.make_node('Add', [f'{name}/relu', negative], [y], name=f'{name}/add'))
    del graph.node[:]
    graph.node.extend(nodes)
    return model


def _zero_spatial_pads(pad: onnx.NodeProto, inits: dict) -> list[int] | None:
    """[begin..., end...] over the spatial axes of a zero constant-mode NCHW Pad, else None."""
    if _attr(pad, 'mode', b'constant') != b'constant':
        return None
    if len(pad.input) < 2 or pad.input[1] not in inits:
        return None
    if len(pad.input) > 2 and pad.input[2]:
        value = inits.get(pad.input[2])
        if value is None or np.any(numpy_helper.to_array(value) != 0):
            return None
    if len(pad.input) > 3 and pad.input[3]:
        return None  # explicit axes: leave it
    pads = numpy_helper.to_array(inits[pad.input[1]]).astype(np.int64).tolist()
    rank = len(pads) // 2
    begin, end = pads[:rank], pads[rank:]
    if rank < 3 or begin[:2] != [0, 0] or end[:2] != [0, 0] or min(pads) < 0:
        return None
    return begin[2:] + end[2:]


def _consumers(graph: onnx.GraphProto) -> dict[str, list[onnx.NodeProto]]:
    users: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)
    return users


def _drop_unused_initializers(graph: onnx.GraphProto) -> None:
    used = {name for node in graph.node for name in node.input}
    used |= {out.name for out in graph.output}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def _attr(node: onnx.NodeProto, name: str, default):
    for attribute in node.attribute:
        if attribute.name == name:
            return helper.get_attribute_value(attribute)
    return default


def _set_attr(node: onnx.NodeProto, name: str, value) -> None:
    for attribute in list(node.attribute):
        if attribute.name == name:
            node.attribute.remove(attribute)
    node.attribute.append(helper.make_attribute(name, value))
