"""ETM: branch layout, drop-conv, and folding into one conv that reproduces eval-mode outputs."""
import pytest
import torch
from torch import nn

from depth_ros.errors import ConfigError
from depth_ros.models.etm import ETM, fold_for_inference, has_etm, is_folded, reparameterize


def randomise_bn(module: nn.Module, seed: int = 0) -> None:
    """Non-trivial BatchNorm statistics and affine parameters, so folding has work to do."""
    gen = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.5)
            m.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.25)
            with torch.no_grad():
                m.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(n, generator=gen) * 0.2)


@pytest.mark.parametrize('in_ch, out_ch, k, stride, dilation, groups', [
    (8, 8, 3, 1, 1, 1),    # all branches and the identity
    (8, 8, 3, 1, 2, 8),    # depthwise, dilated
    (8, 8, 3, 1, 3, 2),    # grouped, dilated
    (6, 12, 3, 2, 1, 1),   # strided, channel change: no identity
    (8, 8, 3, 2, 1, 8),    # strided depthwise
    (8, 8, 1, 1, 1, 1),    # 1x1 + identity
    (8, 16, 5, 1, 1, 1),   # larger kernel
])
def test_fold_reproduces_eval_output(in_ch, out_ch, k, stride, dilation, groups):
    torch.manual_seed(0)
    etm = ETM(in_ch, out_ch, k, stride=stride, dilation=dilation, groups=groups)
    randomise_bn(etm)
    etm.eval()
    x = torch.randn(2, in_ch, 13, 18)
    with torch.no_grad():
        expected = etm(x)
        folded = reparameterize(etm)
        got = folded(x)
    assert isinstance(folded, nn.Conv2d) and folded.kernel_size == (k, k)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5, rtol=0)


def test_branch_layout():
    assert len(ETM(8, 8, 3).convs) == 4 and ETM(8, 8, 3).identity is not None
    assert ETM(8, 16, 3).identity is None
    assert ETM(8, 8, 3, stride=2).identity is None
    assert len(ETM(8, 8, 1).convs) == 1


def test_drop_conv_only_in_training_and_unbiased():
    torch.manual_seed(1)
    etm = ETM(4, 4, 3, drop_prob=0.5)
    x = torch.randn(4000, 4, 5, 5)
    etm.eval()
    with torch.no_grad():
        full = etm(x)
        assert torch.equal(etm(x), full)  # deterministic in eval
        etm.train()
        # Freeze the statistics so train mode differs from eval only by the dropped branches.
        for m in etm.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        dropped = etm(x)
    assert not torch.allclose(dropped, full)
    # Kept branches are rescaled by 1 / (1 - p): the mean over samples matches the full sum.
    assert torch.allclose(dropped.mean(dim=0), full.mean(dim=0), atol=0.1)


def test_fold_for_inference_is_a_no_op_without_etm():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    state = {k: v.clone() for k, v in net.state_dict().items()}
    assert fold_for_inference(net) is net and not net.training
    assert not getattr(net, 'folded', False)
    assert net.state_dict().keys() == state.keys()
    assert all(torch.equal(state[k], v) for k, v in net.state_dict().items())


def test_fold_for_inference_removes_every_etm():
    net = nn.Sequential(ETM(3, 8, 3, stride=2), nn.ReLU(), nn.Sequential(ETM(8, 8, 3)))
    assert has_etm(net) and not is_folded(net)
    fold_for_inference(net)
    assert not has_etm(net) and is_folded(net)
    assert sum(isinstance(m, nn.Conv2d) for m in net.modules()) == 2


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError, match='odd'):
        ETM(4, 4, 2)
    with pytest.raises(ConfigError, match='groups'):
        ETM(4, 6, 3, groups=4)
    with pytest.raises(ConfigError, match='drop_prob'):
        ETM(4, 4, 3, drop_prob=1.0)
