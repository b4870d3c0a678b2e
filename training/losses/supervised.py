"""Supervised depth losses on every refinement level of a depth network (DRN, Durasov et al.,
"Double Refinement Network for Efficient Monocular Depth Estimation", IROS 2019, Sec. III-C).

The three terms follow Hu et al., "Revisiting Single Image Depth Estimation: Toward Higher
Resolution Maps with Accurate Object Boundaries", WACV 2019, Sec. 3.2, each averaged over the
pixels with valid ground truth (depth > 0):

- depth: ln(|d - g| + a), Eq. (1): a log of the absolute error, steep for small errors and flat
  for large ones; it equals ln(a) where prediction and ground truth agree.
- gradient: |dx(d) - dx(g)| + |dy(d) - dy(g)|, the L1 difference of the depth gradients, which
  penalises blurred or shifted edges. Zero for identical maps.
- normal: 1 - <n_d, n_g>, the cosine distance of the surface normals n = (-dx, -dy, 1) / |.|
  that the depth gradients define, Eq. (3), which penalises wrong surface orientation.

Gradients are forward differences in metres per full-resolution pixel (a level-k difference is
divided by 2^k), so a plane has the same gradients and normals at every level and the levels'
terms are comparable.

The network's maps are sigmoid-normalised inverse depths (the `DepthOutput` contract); the
losses use the depth that `geometry.projection.inv_depth_to_depth` obtains from them with the
training depth range. Ground truth reaches each coarser level by a masked mean over 2^k x 2^k
blocks (a block is valid when it holds any valid pixel), so holes do not pull depths to zero.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from depth_ros.errors import ConfigError, InputError
from depth_ros.geometry.projection import inv_depth_to_depth


@dataclass(frozen=True)
class SupervisedLossConfig:
    """Weights of the supervised loss.

    Attributes:
        log_offset: a in ln(|d - g| + a), in metres (Hu et al. use 0.5).
        gradient_weight, normal_weight: weights of the gradient and normal terms relative to
            the depth term (1 and 1 in Hu et al.).
        level_weights: weight of each output level, full resolution first.
    """

    log_offset: float = 0.5
    gradient_weight: float = 1.0
    normal_weight: float = 1.0
    level_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)

    def validate(self) -> None:
        """Raise ConfigError for weights that cannot work."""
        if self.log_offset <= 0:
            raise ConfigError(f'loss.log_offset must be > 0, got {self.log_offset}')
        if self.gradient_weight < 0 or self.normal_weight < 0:
            raise ConfigError('loss.gradient_weight and loss.normal_weight must be >= 0')
        if not self.level_weights or any(w < 0 for w in self.level_weights):
            raise ConfigError(f'loss.level_weights must be non-empty and >= 0, got '
                              f'{list(self.level_weights)}')


@dataclass
class SupervisedLossResult:
    """The total loss and its parts (scalars; level-weighted sums over levels).

    Attributes:
        per_level: [] loss of each level, full resolution first (unweighted by level).
    """

    total: torch.Tensor
    log_depth: torch.Tensor
    gradient: torch.Tensor
    normal: torch.Tensor
    per_level: list[torch.Tensor] = field(default_factory=list)


def _masked_mean(values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    # Zero (not NaN) when nothing is valid, so one empty batch does not poison the weights.
    valid = valid.to(values.dtype)
    return (values * valid).sum() / valid.sum().clamp(min=1.0)


def log_depth_loss(depth: torch.Tensor, gt: torch.Tensor, valid: torch.Tensor,
                   offset: float = 0.5) -> torch.Tensor:
    """Mean of ln(|d - g| + a) over valid pixels (Hu et al., Eq. 1).

    Args:
        depth, gt: [B, 1, H, W] predicted and ground-truth depth (m).
        valid: [B, 1, H, W] bool, where the ground truth is measured.
        offset: a (m), > 0.

    Returns:
        [] scalar; ln(a) when depth == gt.
    """
    return _masked_mean(torch.log((depth - gt).abs() + offset), valid)


def depth_gradients(depth: torch.Tensor, spacing: float = 1.0
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences, both on the same [H-1, W-1] grid.

    Args:
        depth: [B, 1, H, W].
        spacing: pixel size in the unit the gradient is taken per (2^k for level k when
            gradients are per full-resolution pixel).

    Returns:
        (dx, dy), each [B, 1, H-1, W-1]: (d(x+1, y) - d(x, y)) / spacing and
        (d(x, y+1) - d(x, y)) / spacing.
    """
    dx = (depth[..., :-1, 1:] - depth[..., :-1, :-1]) / spacing
    dy = (depth[..., 1:, :-1] - depth[..., :-1, :-1]) / spacing
    return dx, dy


def gradient_valid(valid: torch.Tensor) -> torch.Tensor:
    """[B, 1, H, W] bool -> [B, 1, H-1, W-1]: the three pixels of both differences valid."""
    return valid[..., :-1, :-1] & valid[..., :-1, 1:] & valid[..., 1:, :-1]


def surface_normals(depth: torch.Tensor, spacing: float = 1.0) -> torch.Tensor:
    """Unit normals n = (-dx, -dy, 1) / |(-dx, -dy, 1)| from depth gradients (Hu et al., Sec.
    3.2), treating the depth map as a height field over the pixel grid.

    Args:
        depth: [B, 1, H, W].
        spacing: pixel size (see `depth_gradients`).

    Returns:
        [B, 3, H-1, W-1].
    """
    dx, dy = depth_gradients(depth, spacing)
    normals = torch.cat([-dx, -dy, torch.ones_like(dx)], dim=1)
    return F.normalize(normals, dim=1)


def gradient_loss(depth: torch.Tensor, gt: torch.Tensor, valid: torch.Tensor,
                  spacing: float = 1.0) -> torch.Tensor:
    """Mean of |dx(d) - dx(g)| + |dy(d) - dy(g)| over pixels with valid differences.

    Args:
        depth, gt: [B, 1, H, W] depth (m); valid: [B, 1, H, W] bool.
        spacing: pixel size (see `depth_gradients`).

    Returns:
        [] scalar; 0 when depth == gt.
    """
    dx, dy = depth_gradients(depth, spacing)
    gx, gy = depth_gradients(gt, spacing)
    return _masked_mean((dx - gx).abs() + (dy - gy).abs(), gradient_valid(valid))


def normal_loss(depth: torch.Tensor, gt: torch.Tensor, valid: torch.Tensor,
                spacing: float = 1.0) -> torch.Tensor:
    """Mean of 1 - cos(angle between the normals of d and g) (Hu et al., Eq. 3).

    Args:
        depth, gt: [B, 1, H, W] depth (m); valid: [B, 1, H, W] bool.
        spacing: pixel size (see `depth_gradients`).

    Returns:
        [] scalar in [0, 2]; 0 when depth == gt.
    """
    normals = surface_normals(depth, spacing), surface_normals(gt, spacing)
    cosine = (normals[0] * normals[1]).sum(dim=1, keepdim=True)
    return _masked_mean(1.0 - cosine, gradient_valid(valid))


def downsample_ground_truth(depth_m: torch.Tensor, factor: int
                            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Masked mean of valid depths over factor x factor blocks.

    Args:
        depth_m: [B, 1, H, W] metres, 0 (or negative / non-finite) where not measured.
        factor: block size, a power of two dividing H and W.

    Returns:
        (depth [B, 1, H / f, W / f], valid [B, 1, H / f, W / f] bool).
    """
    valid = torch.isfinite(depth_m) & (depth_m > 0)
    depth = torch.where(valid, depth_m, torch.zeros_like(depth_m))
    if factor == 1:
        return depth, valid
    total = F.avg_pool2d(depth, factor)
    count = F.avg_pool2d(valid.to(depth.dtype), factor)
    valid = count > 0
    return torch.where(valid, total / count.clamp(min=1e-12), torch.zeros_like(total)), valid


def level_loss(depth: torch.Tensor, gt: torch.Tensor, valid: torch.Tensor,
               config: SupervisedLossConfig, spacing: float = 1.0
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(log depth, gradient, normal) terms of one level, unweighted."""
    return (log_depth_loss(depth, gt, valid, config.log_offset),
            gradient_loss(depth, gt, valid, spacing), normal_loss(depth, gt, valid, spacing))


def supervised_loss(sigmoids: Sequence[torch.Tensor], depth_m: torch.Tensor,
                    min_depth: float, max_depth: float,
                    config: SupervisedLossConfig | None = None) -> SupervisedLossResult:
    """Sum over levels k of w_k (depth + lambda_g gradient + lambda_n normal).

    Args:
        sigmoids: the network's maps, full resolution first; level k is
            [B, 1, H / 2^k, W / 2^k] in (0, 1).
        depth_m: [B, 1, H, W] ground-truth depth (m), 0 where not measured.
        min_depth, max_depth: the range the sigmoid maps to (m).
        config: loss weights (defaults: `SupervisedLossConfig()`).

    Raises:
        InputError: a level's size is not the ground truth's divided by 2^k, or more levels
            than level weights.
    """
    config = config or SupervisedLossConfig()
    if len(sigmoids) > len(config.level_weights):
        raise InputError(f'{len(sigmoids)} output levels but only '
                         f'{len(config.level_weights)} loss.level_weights')
    height, width = depth_m.shape[-2:]
    parts = torch.zeros(3, dtype=depth_m.dtype, device=depth_m.device)
    per_level = []
    for k, sigmoid in enumerate(sigmoids):
        factor = 2 ** k
        size = (height // factor, width // factor)
        if tuple(sigmoid.shape[-2:]) != size or height % factor or width % factor:
            raise InputError(f'output level {k} is {tuple(sigmoid.shape[-2:])}, expected the '
                             f'ground truth {height}x{width} divided by {factor}')
        gt, valid = downsample_ground_truth(depth_m, factor)
        _, depth = inv_depth_to_depth(sigmoid.float(), min_depth, max_depth)
        terms = torch.stack(level_loss(depth, gt, valid, config, float(factor)))
        per_level.append(terms[0] + config.gradient_weight * terms[1]
                         + config.normal_weight * terms[2])
        parts = parts + config.level_weights[k] * terms
    total = parts[0] + config.gradient_weight * parts[1] + config.normal_weight * parts[2]
    return SupervisedLossResult(total, parts[0], parts[1], parts[2], per_level)
