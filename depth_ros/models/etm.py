"""The equivalent transformation module (ETM) of FA-Depth (Wang and Cheng, "FA-Depth: Toward
Fast and Accurate Self-supervised Monocular Depth Estimation", 2024, Sec. III-B).

While training, one k x k convolution + BatchNorm is replaced by parallel branches of several
kernel shapes (k x k, 1 x k, k x 1, 1 x 1, and an identity BatchNorm when the shapes allow),
whose outputs are summed. Every branch is linear, so after training the sum is folded into one
k x k convolution with a bias (structural re-parameterisation, as in Ding et al., "RepVGG",
CVPR 2021): the network trains with more capacity and runs at the cost of a single conv.

Drop-conv regularises the branches: in training each branch is dropped for a whole sample with
probability `drop_prob` and the kept ones are scaled by 1 / (1 - drop_prob), so the expected
output is the full sum that inference computes (as stochastic depth does for residual paths).

Checkpoints hold the unfolded training weights; `fold_for_inference` folds after loading.
"""
from __future__ import annotations

import torch
from torch import nn

from depth_ros.errors import ConfigError


class ETM(nn.Module):
    """A k x k convolution (no bias) + BatchNorm, trained as summed multi-shape branches.

    Args:
        in_ch, out_ch: channels.
        kernel_size: odd k of the equivalent k x k kernel.
        stride, dilation, groups: as in `nn.Conv2d`; every branch shares them, so the branch
            kernels sit centred in the k x k one.
        drop_prob: drop-conv probability per branch and sample while training.

    Input [B, in_ch, H, W] -> output [B, out_ch, H / stride, W / stride] (zero padding).
    """

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = 3, stride: int = 1,
                 dilation: int = 1, groups: int = 1, drop_prob: float = 0.0) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ConfigError(f'ETM kernel_size must be odd and positive, got {kernel_size}')
        if in_ch % groups or out_ch % groups:
            raise ConfigError(f'ETM channels {in_ch}->{out_ch} are not divisible by groups '
                              f'{groups}')
        if not 0.0 <= drop_prob < 1.0:
            raise ConfigError(f'ETM drop_prob must be in [0, 1), got {drop_prob}')
        self.in_ch, self.out_ch, self.kernel_size = in_ch, out_ch, kernel_size
        self.stride, self.dilation, self.groups = stride, dilation, groups
        self.drop_prob = drop_prob
        k = kernel_size
        shapes = [(k, k), (1, k), (k, 1), (1, 1)] if k > 1 else [(1, 1)]
        self.convs = nn.ModuleList(self._conv_bn(shape) for shape in shapes)
        # The identity is a 1x1 conv with a fixed unit kernel: possible without reshaping.
        self.identity = nn.BatchNorm2d(out_ch) if in_ch == out_ch and stride == 1 else None

    def _conv_bn(self, shape: tuple[int, int]) -> nn.Sequential:
        pad = tuple(self.dilation * (s - 1) // 2 for s in shape)
        conv = nn.Conv2d(self.in_ch, self.out_ch, shape, stride=self.stride, padding=pad,
                         dilation=self.dilation, groups=self.groups, bias=False)
        return nn.Sequential(conv, nn.BatchNorm2d(self.out_ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, in_ch, H, W] -> [B, out_ch, H', W']: the sum of the branches."""
        outs = [branch(x) for branch in self.convs]
        if self.identity is not None:
            outs.append(self.identity(x))
        if self.training and self.drop_prob > 0.0:
            keep = 1.0 - self.drop_prob
            outs = [out * ((torch.rand(out.shape[0], 1, 1, 1, device=out.device) < keep)
                           .to(out.dtype) / keep) for out in outs]
        total = outs[0]
        for out in outs[1:]:
            total = total + out
        return total

    def equivalent_kernel_bias(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The folded k x k kernel [out_ch, in_ch / groups, k, k] and bias [out_ch].

        Uses the BatchNorm running statistics, i.e. it equals the module in eval mode.
        """
        k = self.kernel_size
        kernel = self.convs[0][0].weight.new_zeros(self.out_ch, self.in_ch // self.groups, k, k)
        bias = kernel.new_zeros(self.out_ch)
        for conv, bn in self.convs:
            w, b = _fold_bn(conv.weight, bn)
            kh, kw = w.shape[2:]
            # A smaller kernel is the centre of the k x k one (same centre, same dilation).
            top, left = (k - kh) // 2, (k - kw) // 2
            kernel[:, :, top:top + kh, left:left + kw] += w
            bias += b
        if self.identity is not None:
            # Output channel i reads input channel i, which is i % per_group within its group.
            unit = torch.zeros_like(kernel)
            out = torch.arange(self.out_ch, device=kernel.device)
            unit[out, out % (self.in_ch // self.groups), k // 2, k // 2] = 1.0
            w, b = _fold_bn(unit, self.identity)
            kernel += w
            bias += b
        return kernel, bias

    @torch.no_grad()
    def fold(self) -> FoldedConv2d:
        """One convolution (with bias) computing this module's eval-mode output."""
        kernel, bias = self.equivalent_kernel_bias()
        pad = self.dilation * (self.kernel_size - 1) // 2
        conv = FoldedConv2d(self.in_ch, self.out_ch, self.kernel_size, stride=self.stride,
                         padding=pad, dilation=self.dilation, groups=self.groups, bias=True)
        conv.weight.copy_(kernel)
        conv.bias.copy_(bias)
        return conv.to(kernel.device)


def _fold_bn(weight: torch.Tensor, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Kernel and bias of conv(weight) followed by `bn` in eval mode:
    gamma * (w * x - mean) / sqrt(var + eps) + beta."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return weight * scale.view(-1, 1, 1, 1), bn.bias - bn.running_mean * scale


class FoldedConv2d(nn.Conv2d):
    """The convolution an ETM folds into: an `nn.Conv2d` whose type records that the network
    holding it is in inference form (see `is_folded`)."""


def reparameterize(model: nn.Module) -> nn.Module:
    """Replace every ETM inside `model` by its folded convolution, in place.

    Put the model in eval mode first if it is to reproduce its eval-mode outputs (folding uses
    the BatchNorm running statistics). Returns `model`, or the folded conv if `model` is an ETM.
    """
    if isinstance(model, ETM):
        return model.fold()
    for name, child in model.named_children():
        if isinstance(child, ETM):
            setattr(model, name, child.fold())
        else:
            reparameterize(child)
    return model


def has_etm(model: nn.Module) -> bool:
    """Whether `model` still contains an unfolded ETM."""
    return any(isinstance(m, ETM) for m in model.modules())


def is_folded(model: nn.Module) -> bool:
    """Whether ETM branches of `model` were folded (its state dict no longer fits its
    architecture, so it cannot be saved as a checkpoint)."""
    return any(isinstance(m, FoldedConv2d) for m in model.modules())


def fold_for_inference(net: nn.Module) -> nn.Module:
    """Eval mode + fold every ETM: the fast inference form of a network.

    A no-op (beyond `eval()`) for networks without ETM, so it can be called on any network
    after its checkpoint is loaded and before it is run, traced or exported. A folded network
    has another state dict, which its architecture cannot load: save the unfolded one
    (checkpoints hold training weights); `is_folded` tells them apart.
    """
    net.eval()
    if has_etm(net):
        reparameterize(net)
    return net

