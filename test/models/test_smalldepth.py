"""SmallDepth: size and cost budget, output scales, ETM folding, ONNX export, checkpoints."""

from onnx_parity import onnx_and_torch_inv_depth
import pytest
import torch
from torch import nn

from depth_ros.errors import ConfigError
from depth_ros.models import (
    ArchSpec,
    DepthNet,
    build_depth_net,
    build_pose_net,
    depth_net_names,
    load_checkpoint,
    save_checkpoint,
)
from depth_ros.models.etm import ETM, fold_for_inference, has_etm


# FA-Depth reports about 2.35 M parameters and 0.42 G (multiply-accumulates) at 192x640.
PAPER_PARAMS = 2.35e6
PAPER_MACS = 0.42e9
H, W = 64, 192


def randomise_bn(net: nn.Module, seed: int) -> None:
    """Random BatchNorm scales and shifts, running statistics measured on random images and
    then perturbed: non-trivial statistics that still keep the activations in a sane range (a
    saturated sigmoid would make output comparisons vacuous)."""
    gen = torch.Generator().manual_seed(seed)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            n = bn.num_features
            bn.weight.copy_(torch.rand(n, generator=gen) + 0.5)
            bn.bias.copy_(torch.randn(n, generator=gen) * 0.2)
            bn.momentum = None  # cumulative average over the calibration batches
        net.train()
        for _ in range(2):
            net(torch.rand(2, 3, H, W, generator=gen))
        for bn in bns:
            n = bn.num_features
            bn.running_var.mul_(torch.rand(n, generator=gen) * 0.5 + 0.75)
            bn.running_mean.add_(torch.randn(n, generator=gen) * 0.1 * bn.running_var.sqrt())
            bn.momentum = 0.1
    net.eval()


def conv_macs(net: nn.Module, height: int, width: int) -> int:
    """Multiply-accumulates of every conv for one image, counted with forward hooks."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        total += output.numel() * module.weight[0].numel()

    hooks = [m.register_forward_hook(count) for m in net.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        net(torch.rand(1, 3, height, width))
    for hook in hooks:
        hook.remove()
    return total


@pytest.fixture(scope='module')
def nets():
    """(trained-form network with random BN statistics in eval mode, its folded copy)."""
    torch.manual_seed(0)
    net = build_depth_net('smalldepth', drop_prob=0.0)
    randomise_bn(net, seed=1)
    folded = build_depth_net('smalldepth')
    folded.load_state_dict(net.state_dict())
    return net, fold_for_inference(folded)


def test_registered_and_built_by_name():
    assert 'smalldepth' in depth_net_names()
    net = build_depth_net('smalldepth', scales=[0, 1], drop_prob=0.0)
    assert isinstance(net, DepthNet)
    with torch.no_grad():
        out = net.eval()(torch.rand(1, 3, H, W))
    assert [d.shape[-1] for d in out.sigmoids] == [W, W // 2]
    with pytest.raises(ConfigError, match='scales'):
        build_depth_net('smalldepth', scales=[4])


def test_parameter_count_matches_the_paper(nets):
    _, folded = nets
    params = sum(p.numel() for p in folded.parameters())
    assert abs(params - PAPER_PARAMS) <= 0.15 * PAPER_PARAMS, params


def test_macs_match_the_paper(nets):
    _, folded = nets
    # Every level is an exact power-of-two stride, so the count scales with the pixel count.
    macs = conv_macs(folded, H, W) * (192 * 640) / (H * W)
    assert abs(macs - PAPER_MACS) <= 0.15 * PAPER_MACS, macs


def test_output_scales_and_range():
    torch.manual_seed(1)
    net = build_depth_net('smalldepth').eval()
    with torch.no_grad():
        out = net(torch.rand(2, 3, H, W))
    assert [tuple(d.shape) for d in out.sigmoids] == \
        [(2, 1, H >> s, W >> s) for s in range(4)]
    # Initialised near sigmoid(0): not saturated, so the photometric loss has gradients.
    assert all(((d > 0.2) & (d < 0.8)).all() for d in out.sigmoids)


def test_folded_network_equals_the_trained_form(nets):
    net, folded = nets
    assert has_etm(net) and not has_etm(folded)
    x = torch.rand(2, 3, H, W)
    with torch.no_grad():
        expected, got = net(x).sigmoids, folded(x).sigmoids
    for e, g in zip(expected, got):
        assert torch.allclose(g, e, atol=1e-5, rtol=0)
    # Most pixels away from the flat ends of the sigmoid, or the comparison would be vacuous.
    assert ((expected[0] > 0.01) & (expected[0] < 0.99)).float().mean() > 0.5


def test_drop_conv_is_active_only_in_training():
    torch.manual_seed(2)
    net = build_depth_net('smalldepth', drop_prob=0.5)
    assert all(m.drop_prob == 0.5 for m in net.modules() if isinstance(m, ETM))
    x = torch.rand(1, 3, H, W)
    with torch.no_grad():
        net.eval()
        assert torch.equal(net(x).sigmoids[0], net(x).sigmoids[0])
        net.train()
        assert not torch.equal(net(x).sigmoids[0], net(x).sigmoids[0])




def test_folded_network_exports_to_onnx(nets, tmp_path):
    _, folded = nets
    images = torch.rand(1, 3, H, W)
    got, expected = onnx_and_torch_inv_depth(folded, 'smalldepth', images, tmp_path)
    assert got.shape == expected.shape
    assert abs(got - expected).max() <= 1e-4


def test_checkpoint_holds_training_weights_and_folds_at_load(tmp_path, nets):
    net, folded = nets
    path = tmp_path / 'small.safetensors'
    save_checkpoint(path, net, build_pose_net('pose_lite'), depth_arch=ArchSpec.of('smalldepth'),
                    pose_arch=ArchSpec.of('pose_lite'), height=H, width=W)
    ckpt = load_checkpoint(path)
    assert ckpt.meta.depth_arch.name == 'smalldepth'
    assert ckpt.meta.pose_arch.name == 'pose_lite'
    assert has_etm(ckpt.depth_net)  # unfolded, as trained
    x = torch.rand(1, 3, H, W)
    with torch.no_grad():
        got = fold_for_inference(ckpt.depth_net)(x).sigmoids[0]
        expected = folded(x).sigmoids[0]
    assert torch.allclose(got, expected, atol=1e-6, rtol=0)
    assert path.stat().st_size < 16e6  # both networks, unfolded, float32: ~3.8 M values
