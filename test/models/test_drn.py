"""DRN: registry, output levels, the refinement structure, ONNX export parity, checkpoints."""
import io

import pytest
import torch
from torch import nn
import torch.nn.functional as F

from depth_ros.export.graphs import DepthGraph
from depth_ros.models import (
    ArchSpec,
    DepthNet,
    build_depth_net,
    depth_net_names,
    load_checkpoint,
    save_checkpoint,
)
from depth_ros.models.drn import DRNDecoder


H, W = 64, 96



def calibrated(seed: int = 0) -> nn.Module:
    """A DRN in eval mode with BatchNorm statistics measured on random images and non-trivial
    weights everywhere (so that parity checks compare informative outputs)."""
    torch.manual_seed(seed)
    net = build_depth_net('drn')
    with torch.no_grad():
        for bn in (m for m in net.modules() if isinstance(m, nn.BatchNorm2d)):
            bn.momentum = None
        net.train()
        net(torch.rand(2, 3, H, W))
        # The small-initialised heads would leave the finer levels close to the coarse one.
        for conv in (net.decoder.coarse, *(c.conv2 for c in net.decoder.corrections)):
            conv.weight.mul_(10.0)
            conv.bias.normal_(0.0, 0.3)
    return net.eval()


def test_registered_and_built_by_name():
    assert 'drn' in depth_net_names()
    net = build_depth_net('drn')
    assert isinstance(net, DepthNet) and isinstance(net.decoder, DRNDecoder)
    params = sum(p.numel() for p in net.parameters())
    assert 12e6 < params < 15e6  # ResNet-18 (11.2 M) + both branches (2.3 M)


def test_four_sigmoid_levels_full_resolution_first():
    net = calibrated()
    with torch.no_grad():
        maps = net(torch.rand(2, 3, H, W)).sigmoids
    assert [tuple(m.shape) for m in maps] == [(2, 1, H // s, W // s) for s in (1, 2, 4, 8)]
    for m in maps:
        assert m.dtype == torch.float32 and bool(((m > 0) & (m < 1)).all())
    assert float(maps[0].std()) > 1e-3  # not a constant map


def test_each_level_is_the_upsampled_previous_plus_a_correction():
    net = calibrated()
    images = torch.rand(1, 3, H, W)
    with torch.no_grad():
        refined = [torch.logit(m.double()) for m in net(images).sigmoids]
        for correction in net.decoder.corrections:
            correction.conv2.weight.zero_()
            correction.conv2.bias.zero_()
        plain = [torch.logit(m.double()) for m in net(images).sigmoids]
    # Without corrections every level is exactly the bilinear x2 upsampling of the coarser one.
    for fine, coarse in zip(plain[:-1], plain[1:]):
        up = F.interpolate(coarse, scale_factor=2.0, mode='bilinear', align_corners=False)
        torch.testing.assert_close(fine, up, atol=1e-5, rtol=0)
    # The coarse map does not depend on the corrections; the finer levels do.
    torch.testing.assert_close(refined[3], plain[3])
    for fine_refined, fine_plain in zip(refined[:3], plain[:3]):
        assert float((fine_refined - fine_plain).abs().max()) > 1e-2


def test_predictor_graph_works_on_drn():
    """The export graph (what every backend runs) takes DRN's full-resolution map."""
    net = calibrated()
    images = torch.rand(1, 3, H, W)
    with torch.no_grad():
        depth = DepthGraph(net, output='depth_m', min_depth=0.1, max_depth=10.0)(images)
    assert depth.shape == (1, 1, H, W)
    assert float(depth.min()) >= 0.1 - 1e-5 and float(depth.max()) <= 10.0 + 1e-4


class _AllLevels(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.net(images).sigmoids)


def test_onnx_export_matches_torch():
    pytest.importorskip('onnx')
    ort = pytest.importorskip('onnxruntime')
    net = calibrated()
    images = torch.rand(1, 3, H, W, generator=torch.Generator().manual_seed(3))
    buffer = io.BytesIO()
    names = [f'level{k}' for k in range(4)]
    # The wrapper must be in eval mode too: the exporter restores the mode of the module it was
    # given, recursively, which would otherwise leave the network in training mode.
    torch.onnx.export(_AllLevels(net).eval(), (images,), buffer, input_names=['images'],
                      output_names=names, opset_version=17, dynamo=False)
    session = ort.InferenceSession(buffer.getvalue(), providers=['CPUExecutionProvider'])
    got = session.run(names, {'images': images.numpy()})
    assert not net.training
    with torch.no_grad():
        expected = net(images).sigmoids
    for onnx_map, torch_map in zip(got, expected):
        assert onnx_map.shape == tuple(torch_map.shape)
        assert float(abs(onnx_map - torch_map.numpy()).max()) <= 1e-4


def test_checkpoint_round_trip(tmp_path):
    net = calibrated()
    path = tmp_path / 'drn.safetensors'
    save_checkpoint(path, net, None, depth_arch=ArchSpec.of('drn'), height=H, width=W,
                    min_depth=0.1, max_depth=10.0)
    ckpt = load_checkpoint(path)
    assert ckpt.pose_net is None and ckpt.meta.depth_arch.name == 'drn'
    assert (ckpt.meta.height, ckpt.meta.width, ckpt.meta.max_depth) == (H, W, 10.0)
    images = torch.rand(1, 3, H, W)
    with torch.no_grad():
        for a, b in zip(net(images).sigmoids, ckpt.depth_net(images).sigmoids):
            torch.testing.assert_close(a, b, atol=0, rtol=0)
