"""Networks prepared for fp16 / bf16 inference under autocast, output heads kept in float32.

Under autocast a convolution's output is rounded to the low-precision type. For the depth
heads that rounding is what limits the depth: a bf16 logit of -7 (sigmoid 1e-3, far away) is
off by up to 0.03, which moves depth at the far end of the range by about 3 %; fp16 by about
0.4 %. The heads are tiny (one to four output channels), so they run in float32 here: the
sigmoid after them, and every later step (the decoders' sums of upsampled logits, the
sigmoid -> depth conversion), then sees float32.

The other convolutions keep their weights in the compute type ahead of time, so autocast does
not cast every weight on every call (one extra kernel per layer, also inside a CUDA graph).
BatchNorm and other parameters stay float32, as autocast expects.
"""
from __future__ import annotations

import torch
from torch import nn


# Depth heads predict one channel (four for SmallDepth's pixel-shuffle head); no other
# convolution of a registered depth network has so few outputs (test/inference checks this).
HEAD_MAX_CHANNELS = 4
PRECISIONS = {'fp32': None, 'fp16': torch.float16, 'bf16': torch.bfloat16}


class Float32Head(nn.Module):
    """Runs the wrapped output head in float32 with autocast off: [B,C,H,W] (any float type)
    -> float32 [B,C_out,H,W]."""

    def __init__(self, head: nn.Module) -> None:
        super().__init__()
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return self.head(x.float())


def is_depth_head(module: nn.Module) -> bool:
    return isinstance(module, nn.Conv2d) and module.out_channels <= HEAD_MAX_CHANNELS


def keep_heads_float32(net: nn.Module) -> int:
    """Wrap every depth head of `net` (in place) in `Float32Head`; returns how many."""
    targets = [(parent, name, child) for parent in net.modules()
               for name, child in parent.named_children()
               if is_depth_head(child) and not isinstance(parent, Float32Head)]
    for parent, name, child in targets:
        setattr(parent, name, Float32Head(child))
    return len(targets)


def cast_compute_weights(net: nn.Module, dtype: torch.dtype) -> None:
    """Store the weights of convolutions and linear layers (not the float32 heads) in
    `dtype`, in place; normalisation layers keep float32."""
    heads = {id(m.head) for m in net.modules() if isinstance(m, Float32Head)}
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) \
                and id(module) not in heads:
            module.to(dtype)


def prepare_for_precision(net: nn.Module, precision: str, depth: bool = True) -> nn.Module:
    """`net` (modified in place) for inference under autocast at `precision`.

    Args:
        precision: 'fp32' (no change), 'fp16' or 'bf16'.
        depth: a depth network, whose heads stay float32; a pose network keeps every
            convolution in the compute type (its matrix is built in float32 by the backend).
    """
    dtype = PRECISIONS[precision]
    if dtype is None:
        return net
    if depth:
        keep_heads_float32(net)
    cast_compute_weights(net, dtype)
    return net
