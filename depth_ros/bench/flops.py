"""Model size and cost: parameter count and GFLOPs per image.

Convention: FLOPs = 2 x multiply-accumulates of convolutions and matrix products, counted by
torch.utils.flop_counter.FlopCounterMode on a 'meta' copy (no memory, no compute); elementwise
work (BatchNorm, activations, padding, upsampling) is not counted. Networks are counted in their
inference form (`fold_for_inference`: ETM branches folded). Monodepth2's ResNet-18 depth network
at 192x640: 16.0 GFLOPs (8.0 GMACs); SmallDepth: 0.85 GFLOPs.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from depth_ros.models.etm import fold_for_inference
from depth_ros.models.registry import build_for_weights


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def depth_net_gflops(arch: str, height: int, width: int) -> float:
    """GFLOPs (2 x GMACs) of one forward pass of depth network `arch` on one image."""
    with torch.device('meta'):
        net = fold_for_inference(build_for_weights('depth', arch))
        images = torch.empty(1, 3, height, width)
    return module_gflops(net, images)


def module_gflops(net: nn.Module, *inputs: torch.Tensor) -> float:
    """GFLOPs (2 x GMACs) of `net(*inputs)`; inputs may live on the 'meta' device."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        net(*inputs)
    return counter.get_total_flops() / 1e9
