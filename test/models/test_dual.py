"""Dual networks: registry, output scales, SA-attention by construction, freezing, ONNX export."""

from onnx_parity import onnx_and_torch_inv_depth
import pytest
import torch
from torch import nn

from depth_ros.errors import ConfigError
from depth_ros.models import (
    ArchSpec,
    build_depth_net,
    build_pose_net,
    depth_net_names,
    load_checkpoint,
    save_checkpoint,
)
from depth_ros.models.dual import DualDepthNet, freeze_lr, neighbour_offsets, sa_attention
from depth_ros.models.etm import fold_for_inference


H, W = 128, 384



def test_registered_and_built_by_name():
    assert 'dual' in depth_net_names()
    net = build_depth_net('dual', lr_arch='smalldepth', lr_factor=2,
                          lr_kwargs={'drop_prob': 0.0})
    assert isinstance(net, DualDepthNet)
    reference = build_depth_net('smalldepth', drop_prob=0.0)
    assert type(net.lr_net.encoder) is type(reference.encoder)
    assert net.lr_net.state_dict().keys() == reference.state_dict().keys()


@pytest.mark.parametrize('kwargs, match', [
    ({'lr_arch': 'nope'}, 'unknown depth architecture'),
    ({'lr_arch': 'dual'}, 'cannot be'),
    ({'lr_factor': 0}, 'lr_factor'),
    ({'kernel_size': 4}, 'kernel_size'),
    ({'lr_kwargs': {'scales': [0]}}, 'scales'),
])
def test_bad_configuration_raises(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        build_depth_net('dual', **kwargs)


@pytest.mark.parametrize('lr_arch, lr_factor', [('smalldepth', 2), ('smalldepth', 3),
                                                ('resnet18', 2)])
def test_output_scales_full_resolution_first(lr_arch, lr_factor):
    torch.manual_seed(0)
    net = build_depth_net('dual', lr_arch=lr_arch, lr_factor=lr_factor).eval()
    with torch.no_grad():
        out = net(torch.rand(2, 3, H, W))
    assert [tuple(d.shape) for d in out.sigmoids] == \
        [(2, 1, H >> s, W >> s) for s in range(4)]
    assert out.full_resolution.shape[-2:] == (H, W)
    # A convex combination of sigmoid outputs stays in [0, 1].
    assert all(((d >= 0) & (d <= 1)).all() for d in out.sigmoids)


def test_lower_scales_are_the_lr_net_outputs_for_factor_two():
    torch.manual_seed(1)
    net = build_depth_net('dual', lr_factor=2).eval()
    images = torch.rand(1, 3, H, W)
    with torch.no_grad():
        out = net(images)
        lr = net.lr_net(nn.functional.avg_pool2d(images, 2))
    for s in range(1, 4):
        torch.testing.assert_close(out.sigmoids[s], lr.sigmoids[s - 1])


def test_input_size_must_be_multiple_of_32():
    net = build_depth_net('dual').eval()
    with pytest.raises(ConfigError, match='multiples of 32'):
        net(torch.rand(1, 3, 100, 192))


def _reference_attention(queries, keys, values, kernel_size):
    """Loop over pixels: cell = floor(y * h / H), neighbours clamped at the border."""
    _, c, height, width = queries.shape
    _, _, h, w = keys.shape
    out = torch.zeros(values.shape[0], values.shape[1], height, width)
    for b in range(queries.shape[0]):
        for y in range(height):
            for x in range(width):
                cy, cx = y * h // height, x * w // width
                cells = [(min(max(cy + dy, 0), h - 1), min(max(cx + dx, 0), w - 1))
                         for dy, dx in neighbour_offsets(kernel_size)]
                logits = torch.stack([(queries[b, :, y, x] * keys[b, :, i, j]).sum()
                                      for i, j in cells]) / c ** 0.5
                weights = torch.softmax(logits, dim=0)
                out[b, :, y, x] = sum(wt * values[b, :, i, j] for wt, (i, j) in
                                      zip(weights, cells))
    return out


def test_sa_attention_matches_a_pixel_loop():
    gen = torch.Generator().manual_seed(3)
    queries = torch.randn(1, 4, 8, 12, generator=gen)
    keys = torch.randn(1, 4, 4, 6, generator=gen)
    values = torch.rand(1, 2, 4, 6, generator=gen)
    got, weights = sa_attention(queries, keys, values, kernel_size=3)
    torch.testing.assert_close(got, _reference_attention(queries, keys, values, 3))
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(1, 8, 12))


@pytest.mark.parametrize('offset', [(0, 0), (1, -1), (-2, 2)])
def test_sa_attention_picks_the_lr_value_of_the_favoured_neighbour(offset):
    # Orthonormal LR keys (one-hot over 24 channels, one per cell) and queries equal to a large
    # multiple of the key of the cell at `offset` from each pixel's own cell: the softmax puts
    # all its weight there, so the output is that cell's value (clamped at the border).
    h, w, f, kernel = 4, 6, 2, 5
    keys = torch.eye(h * w).T.reshape(1, h * w, h, w)
    values = torch.arange(h * w, dtype=torch.float32).reshape(1, 1, h, w) / 10
    queries = torch.zeros(1, h * w, h * f, w * f)
    expected = torch.zeros(1, 1, h * f, w * f)
    for y in range(h * f):
        for x in range(w * f):
            i = min(max(y // f + offset[0], 0), h - 1)
            j = min(max(x // f + offset[1], 0), w - 1)
            queries[0, :, y, x] = 200.0 * keys[0, :, i, j]
            expected[0, 0, y, x] = values[0, 0, i, j]
    got, weights = sa_attention(queries, keys, values, kernel_size=kernel)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    # Away from the border, all the weight sits on that neighbour's slot.
    slot = neighbour_offsets(kernel).index(offset)
    inner = weights[0, slot, 2 * f:-2 * f, 2 * f:-2 * f]
    torch.testing.assert_close(inner, torch.ones_like(inner), atol=1e-5, rtol=0)


def test_freeze_lr_stops_lr_gradients_and_keeps_bn_statistics():
    torch.manual_seed(4)
    net = freeze_lr(build_depth_net('dual', lr_kwargs={'drop_prob': 0.0}))
    net.train()
    assert net.training and not net.lr_net.training
    assert not any(m.training for m in net.lr_net.modules())
    assert net.hr_net.training
    stats = {k: v.clone() for k, v in net.lr_net.state_dict().items() if 'running' in k}
    out = net(torch.rand(2, 3, 64, 192))
    out.full_resolution.mean().backward()
    assert all(p.grad is None and not p.requires_grad for p in net.lr_net.parameters())
    trainable = [p for n, p in net.named_parameters() if not n.startswith('lr_net.')]
    assert trainable and all(p.grad is not None for p in trainable)
    assert any(p.grad.abs().sum() > 0 for p in trainable)
    for k, v in net.lr_net.state_dict().items():
        if k in stats:
            assert torch.equal(v, stats[k]), k
    with pytest.raises(ConfigError, match='DualDepthNet'):
        freeze_lr(nn.Conv2d(3, 3, 1))


def test_unfrozen_network_trains_the_lr_net_too():
    torch.manual_seed(5)
    net = build_depth_net('dual', lr_kwargs={'drop_prob': 0.0}).train()
    net(torch.rand(2, 3, 64, 192)).full_resolution.mean().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.lr_net.parameters())




def test_exports_to_onnx_with_parity(tmp_path):
    torch.manual_seed(6)
    net = fold_for_inference(build_depth_net('dual'))
    with torch.no_grad():  # sharper attention than at initialisation: a non-trivial graph
        net.query.weight.mul_(4)
        net.key.weight.mul_(4)
    got, expected = onnx_and_torch_inv_depth(net, 'dual', torch.rand(1, 3, 64, 192), tmp_path)
    assert got.shape == expected.shape == (1, 1, 64, 192)
    assert abs(got - expected).max() <= 1e-4


def test_checkpoint_rebuilds_the_dual_network(tmp_path):
    torch.manual_seed(7)
    net = build_depth_net('dual', lr_kwargs={'drop_prob': 0.0}).eval()
    path = tmp_path / 'dual.safetensors'
    save_checkpoint(path, net, build_pose_net('pose_lite'),
                    depth_arch=ArchSpec.of('dual', lr_kwargs={'drop_prob': 0.0}),
                    pose_arch=ArchSpec.of('pose_lite'), height=64, width=192)
    ckpt = load_checkpoint(path)
    assert ckpt.meta.depth_arch.name == 'dual'
    assert isinstance(ckpt.depth_net, DualDepthNet)
    x = torch.rand(1, 3, 64, 192)
    with torch.no_grad():
        torch.testing.assert_close(ckpt.depth_net.eval()(x).sigmoids[0], net(x).sigmoids[0])
