"""Mixed-precision preparation of the networks, checked on the CPU under bf16/fp16 autocast.

The CUDA backend runs the same preparation under CUDA autocast (test_cuda_backend.py); here
the dtype logic is checked where CI can run it: the depth heads and everything after them stay
float32, and that makes the output closer to the float32 network than plain autocast does.
"""
import copy

import pytest
import torch

from depth_ros.inference.mixed_precision import (
    Float32Head,
    is_depth_head,
    prepare_for_precision,
)
from depth_ros.inference.torch_backend import TorchBackend
from depth_ros.models.checkpoint import Checkpoint, CheckpointMeta
from depth_ros.models.etm import fold_for_inference
from depth_ros.models.registry import ArchSpec, build_for_weights, build_pose_net, depth_net_names


DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16}


def _net(arch: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return fold_for_inference(build_for_weights('depth', arch))


@pytest.mark.parametrize('arch', depth_net_names())
def test_every_depth_head_and_nothing_else_is_kept_float32(arch):
    net = prepare_for_precision(_net(arch), 'bf16')
    heads = [m for m in net.modules() if isinstance(m, Float32Head)]
    # One head per output scale (DRN: the coarse map and three corrections).
    assert len(heads) == 4
    for module in net.modules():
        if isinstance(module, torch.nn.Conv2d):
            in_head = any(module is h.head for h in heads)
            assert module.weight.dtype == (torch.float32 if in_head else torch.bfloat16)
            assert in_head == is_depth_head(module)
        if isinstance(module, torch.nn.BatchNorm2d):
            assert module.weight.dtype == torch.float32


@pytest.mark.parametrize('arch', ['resnet18', 'smalldepth', 'drn', 'dual'])
@pytest.mark.parametrize('precision', ['bf16', 'fp16'])
def test_outputs_are_float32_and_closer_to_float32_than_plain_autocast(arch, precision):
    dtype = DTYPES[precision]
    net = _net(arch)
    images = torch.rand(1, 3, 64, 128, generator=torch.Generator().manual_seed(1))
    prepared = prepare_for_precision(copy.deepcopy(net), precision)
    with torch.inference_mode():
        reference = net(images).sigmoids
        with torch.autocast('cpu', dtype=dtype):
            plain = net(images).sigmoids
            mixed = prepared(images).sigmoids
    assert all(m.dtype == torch.float32 for m in mixed)
    # At full resolution (what inference uses) the rounding of the head's output dominates.
    plain_error = (plain[0].float() - reference[0]).abs().max().item()
    kept_error = (mixed[0] - reference[0]).abs().max().item()
    assert kept_error < plain_error / 3, (plain_error, kept_error)


def test_fp32_is_left_unchanged():
    net = _net('resnet18')
    before = {k: v.clone() for k, v in net.state_dict().items()}
    assert prepare_for_precision(net, 'fp32') is net
    after = net.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize('arch', ['resnet18', 'pose_lite'])
def test_cpu_pose_equals_the_pose_networks_own_matrix(arch):
    torch.manual_seed(2)
    depth_net, pose_net = build_for_weights('depth', 'smalldepth'), build_pose_net(arch).eval()
    meta = CheckpointMeta(depth_arch=ArchSpec.of('smalldepth'), pose_arch=ArchSpec.of(arch),
                          height=64, width=128)
    backend = TorchBackend(Checkpoint(depth_net, copy.deepcopy(pose_net), meta),
                           torch.device('cpu'))
    first, second = torch.rand(2, 1, 3, 64, 128, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = pose_net(first, second)
    got = backend.pose(first, second)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
