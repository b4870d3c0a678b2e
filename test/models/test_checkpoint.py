"""Native checkpoints: exact round trip, metadata, wrong architecture, corrupt files."""
import json

import pytest
import torch

from depth_ros.errors import WeightsError
from depth_ros.models import (
    ArchSpec,
    build_depth_net,
    build_pose_net,
    load_checkpoint,
    save_checkpoint,
)
from depth_ros.models.checkpoint import load_weights_into, read_meta
from depth_ros.models.state_dict import load_into


@pytest.fixture(scope='module')
def saved(tmp_path_factory):
    torch.manual_seed(3)
    depth_net, pose_net = build_depth_net('resnet18', scales=[0, 1]), build_pose_net('resnet18')
    path = tmp_path_factory.mktemp('ckpt') / 'model.safetensors'
    save_checkpoint(path, depth_net, pose_net, depth_arch=ArchSpec.of('resnet18', scales=(0, 1)),
                    pose_arch=ArchSpec.of('resnet18'), height=96, width=320, min_depth=0.5,
                    max_depth=80.0, metres_per_unit=2.0, training_config={'lr': 1e-4})
    return path, depth_net, pose_net


def test_round_trip_is_exact(saved):
    path, depth_net, pose_net = saved
    ckpt = load_checkpoint(path)
    for a, b in ((depth_net, ckpt.depth_net), (pose_net, ckpt.pose_net)):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    meta = ckpt.meta
    assert (meta.height, meta.width, meta.min_depth, meta.max_depth, meta.metres_per_unit) == \
        (96, 320, 0.5, 80.0, 2.0)
    assert meta.depth_arch.name == 'resnet18' and meta.depth_arch.kwargs == {'scales': [0, 1]}
    assert meta.training_config == {'lr': 1e-4}
    assert not ckpt.depth_net.training


def test_outputs_identical_after_reload(saved):
    path, depth_net, _ = saved
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        a = depth_net.eval()(x).sigmoids[0]
        b = load_checkpoint(path).depth_net(x).sigmoids[0]
    assert torch.equal(a, b)


def test_wrong_architecture_is_a_clear_error(saved):
    path, _, _ = saved
    with pytest.raises(WeightsError, match="holds a 'resnet18'"):
        load_weights_into(build_depth_net('resnet50'), path, arch=ArchSpec.of('resnet50'))
    with pytest.raises(WeightsError, match="does not fit architecture 'DepthNet'"):
        load_weights_into(build_depth_net('resnet50'), path)  # no spec: the tensors decide
    with pytest.raises(WeightsError, match='does not fit'):
        load_into(build_depth_net('resnet34'), build_depth_net('resnet18').state_dict(), 'x')


def test_corrupt_and_foreign_files(tmp_path):
    bad = tmp_path / 'bad.safetensors'
    bad.write_bytes(b'\x00' * 64)
    with pytest.raises(WeightsError, match='not a valid safetensors'):
        read_meta(bad)
    from safetensors.torch import save_file
    save_file({'x': torch.zeros(2)}, str(tmp_path / 'plain.safetensors'))
    with pytest.raises(WeightsError, match='no depth_ros metadata'):
        load_checkpoint(tmp_path / 'plain.safetensors')
    with pytest.raises(WeightsError, match='is a folder'):
        load_checkpoint(tmp_path)


def test_init_only_arguments_are_not_stored_and_not_replayed(tmp_path, monkeypatch):
    from depth_ros.models import registry
    seen = []

    @registry.register_depth_net('test_pretrained_arch')
    def factory(pretrained: bool = True):
        seen.append(pretrained)
        return build_depth_net('resnet18')

    try:
        net = build_depth_net('test_pretrained_arch', pretrained=True)
        spec = ArchSpec.of('test_pretrained_arch', pretrained=True)
        assert spec.kwargs == {}
        path = tmp_path / 'p.safetensors'
        save_checkpoint(path, net, None, depth_arch=spec, height=64, width=96)
        load_checkpoint(path)
        assert seen == [True, False]  # loading never asks for the pretrained file
    finally:
        registry._DEPTH.pop('test_pretrained_arch')


def test_half_storage_halves_the_file_and_loads_as_float32(saved, tmp_path):
    path, depth_net, pose_net = saved
    half = tmp_path / 'half.safetensors'
    save_checkpoint(half, depth_net, pose_net, depth_arch=ArchSpec.of('resnet18', scales=[0, 1]),
                    pose_arch=ArchSpec.of('resnet18'), height=96, width=320, half=True)
    assert half.stat().st_size < 0.52 * path.stat().st_size
    ckpt = load_checkpoint(half)
    for a, b in ((depth_net, ckpt.depth_net), (pose_net, ckpt.pose_net)):
        sa, sb = a.state_dict(), b.state_dict()
        for k in sa:
            assert sb[k].dtype == sa[k].dtype  # float32 networks again
            if sa[k].is_floating_point():
                # float16 keeps 11 significant bits: relative error <= 2^-11 (normal range).
                torch.testing.assert_close(sb[k], sa[k], rtol=2 ** -11, atol=6.2e-5)
            else:
                assert torch.equal(sa[k], sb[k])
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        a = depth_net.eval()(x).sigmoids[0]
        b = ckpt.depth_net(x).sigmoids[0]
    assert (a - b).abs().max() < 1e-2 * a.abs().max()


def test_half_storage_keeps_values_outside_float16_range(tmp_path):
    depth_net = build_depth_net('resnet18', scales=[0])
    with torch.no_grad():
        depth_net.encoder.bn1.running_var.fill_(1e6)
    path = tmp_path / 'big.safetensors'
    save_checkpoint(path, depth_net, None, depth_arch=ArchSpec.of('resnet18', scales=[0]),
                    height=64, width=96, half=True)
    loaded = load_checkpoint(path).depth_net
    assert torch.equal(loaded.encoder.bn1.running_var,
                       depth_net.encoder.bn1.running_var)


def test_headers_and_names_before_the_metres_per_unit_rename(saved, tmp_path):
    """A header written with 'depth_scale' (every checkpoint before the rename, the shipped
    weights among them) reads as metres_per_unit; the old Python names still work for one
    release and say so."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    path, depth_net, pose_net = saved
    with safe_open(str(path), framework='pt') as f:
        header = json.loads(f.metadata()['depth_ros'])
    header['depth_scale'] = header.pop('metres_per_unit')
    old = tmp_path / 'old.safetensors'
    save_file(load_file(str(path)), str(old), metadata={'depth_ros': json.dumps(header)})
    assert read_meta(old) == read_meta(path) and read_meta(old).metres_per_unit == 2.0
    with pytest.warns(DeprecationWarning, match='metres_per_unit'):
        assert read_meta(old).depth_scale == 2.0
    again = tmp_path / 'again.safetensors'
    with pytest.warns(DeprecationWarning, match='metres_per_unit'):
        save_checkpoint(again, depth_net, None, depth_arch=ArchSpec.of('resnet18', scales=[0, 1]),
                        height=96, width=320, depth_scale=3.0)
    assert read_meta(again).metres_per_unit == 3.0


def test_saved_weights_get_a_new_files_permissions_and_a_failed_save_keeps_the_old(tmp_path):
    from torch import nn

    from depth_ros.models import ArchSpec, build_depth_net, save_checkpoint

    probe = tmp_path / 'probe'
    probe.write_bytes(b'')
    target = tmp_path / 'w.safetensors'
    save_checkpoint(target, build_depth_net('smalldepth'), None,
                    depth_arch=ArchSpec.of('smalldepth'), height=64, width=192)
    # safetensors writes 0600; a package installed by one user must be readable by another.
    assert target.stat().st_mode & 0o777 == probe.stat().st_mode & 0o777
    before = target.read_bytes()

    tied = build_depth_net('smalldepth')
    tied.extra = nn.Linear(2, 2, bias=False)
    tied.extra_copy = nn.Linear(2, 2, bias=False)
    tied.extra_copy.weight = tied.extra.weight  # shared memory: safetensors refuses to save it
    with pytest.raises(RuntimeError):
        save_checkpoint(target, tied, None, depth_arch=ArchSpec.of('smalldepth'), height=64,
                        width=192)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['probe', 'w.safetensors']
