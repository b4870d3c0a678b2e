"""The export cache: keyed by content, beside the weights, reused, rebuilt on demand.

The exporters are replaced by fakes that record their calls: what is tested is where files go
and when they are (re)made, not the export itself (see test_onnx_export.py).
"""
import hashlib

import pytest
import torch

from depth_ros.errors import BackendError
from depth_ros.export import cache
from depth_ros.models import (
    ArchSpec,
    Checkpoint,
    CheckpointMeta,
    build_depth_net,
    build_pose_net,
    save_checkpoint,
)


@pytest.fixture()
def calls(monkeypatch):
    made = []

    def fake(kind):
        def export(net, meta, path, **options):
            made.append((kind, path.name, options))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b'graph')
            return path
        return export

    monkeypatch.setattr(cache, 'export_depth_onnx', fake('depth'))
    monkeypatch.setattr(cache, 'export_pose_onnx', fake('pose'))
    return made


@pytest.fixture(scope='module')
def nets():
    torch.manual_seed(0)
    return build_depth_net('resnet18'), build_pose_net('resnet18')


RESNET18 = ArchSpec.of('resnet18')
SIZE = dict(height=64, width=192)


def _loaded(path, nets):
    meta = CheckpointMeta(depth_arch=RESNET18, pose_arch=RESNET18, **SIZE)
    return Checkpoint(nets[0], nets[1], meta, path)


def _save(path, nets, **meta):
    save_checkpoint(path, *nets, depth_arch=RESNET18, pose_arch=RESNET18, **SIZE, **meta)


def test_graphs_cached_beside_weights_under_a_content_key(tmp_path, nets, calls):
    weights = tmp_path / 'model.safetensors'
    _save(weights, nets)
    graphs = cache.ensure_onnx(_loaded(weights, nets))
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    key = hashlib.sha256(f'{digest}:v{cache.EXPORT_VERSION}'.encode()).hexdigest()[:12]
    assert graphs.depth == tmp_path / f'model.{key}.64x192.op17.fp32.depth.onnx'
    assert graphs.pose == tmp_path / f'model.{key}.64x192.op17.fp32.pose.onnx'
    assert [c[0] for c in calls] == ['depth', 'pose']
    assert calls[0][2]['dynamic_batch'] and calls[0][2]['source_sha256'] == digest

    assert cache.ensure_onnx(_loaded(weights, nets)) == graphs
    assert len(calls) == 2  # reused, not exported again
    cache.ensure_onnx(_loaded(weights, nets), force=True)
    assert len(calls) == 4


def test_other_weights_precision_or_opset_give_other_files(tmp_path, nets, calls):
    weights = tmp_path / 'model.safetensors'
    _save(weights, nets)
    first = cache.ensure_onnx(_loaded(weights, nets)).depth
    half = cache.ensure_onnx(_loaded(weights, nets), precision='fp16', opset=18).depth
    assert half != first and '.op18.fp16.' in half.name
    _save(weights, nets, notes='retrained')
    assert cache.ensure_onnx(_loaded(weights, nets)).depth != first


def test_read_only_weights_folder_falls_back_to_user_cache(tmp_path, nets, calls, monkeypatch):
    weights = tmp_path / 'ro' / 'model.safetensors'
    _save(weights, nets)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
    monkeypatch.setattr(cache.os, 'access', lambda path, mode: False)
    graphs = cache.ensure_onnx(_loaded(weights, nets))
    assert graphs.depth.parent == tmp_path / 'xdg' / 'depth_ros'
    explicit = cache.ensure_onnx(_loaded(weights, nets), cache_dir=tmp_path / 'mine')
    assert explicit.depth.parent == tmp_path / 'mine'


def test_in_memory_networks_are_keyed_by_their_tensors(tmp_path, nets, calls):
    ckpt = Checkpoint(nets[0], None, CheckpointMeta(depth_arch=RESNET18, pose_arch=None, **SIZE))
    graphs = cache.ensure_onnx(ckpt, cache_dir=tmp_path)
    assert graphs.pose is None and graphs.depth.name.startswith('resnet18.')
    assert cache.ensure_onnx(ckpt, cache_dir=tmp_path) == graphs and len(calls) == 1
    torch.manual_seed(3)
    other = Checkpoint(build_depth_net('resnet18'), None, ckpt.meta)
    assert cache.ensure_onnx(other, cache_dir=tmp_path).depth != graphs.depth


def test_checkpoint_without_networks_or_graph_is_refused(tmp_path, nets):
    meta = CheckpointMeta(depth_arch=RESNET18, pose_arch=None, **SIZE)
    with pytest.raises(BackendError, match='no depth network'):
        cache.ensure_onnx(Checkpoint(None, None, meta), cache_dir=tmp_path)
