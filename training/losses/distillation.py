"""APX distillation: the student's depth approximates a frozen pretrained teacher's.

FA-Depth (Wang and Cheng 2024) transfers a pretrained teacher to the small student with a
"function approximation loss" restricted by a position mask to where the teacher is
trustworthy. The definition below is our interpretation (no reference vectors exist).

Teacher: a native checkpoint's depth network, frozen, in eval mode, run without gradients on
the un-jittered target resized to the teacher's training size; its full-resolution output is
resized bilinearly to the input size H x W and mapped to depth d_t with the teacher's own depth
range.

Loss: for every supervised scale s, the student's sigmoid output is upsampled to H x W (as the
photometric loss does) and mapped to depth d_s with the student's range; then

    L_s = sum_p M_s(p) |log d_s(p) - log d_t(p)| / max(1, sum_p M_s(p)),    L = mean_s L_s,

with p over the pixels of the batch. The log makes the error relative (near and far pixels
weigh alike) and equals |log(1/d_s) - log(1/d_t)|, so it also reads as an inverse-depth error.

Position mask: M_s(p) = 1 where the teacher explains the target better than the student and
the pixel is supervised at all:

    e_t(p) < e_s(p)  and  mu_s(p) = 1,

where e(p) = min over the source views of pe(I_t(p), I_{src->t}(p)), the photometric error of
the main loss (same SSIM weight) of the source warped into the target with that depth and the
pose network's poses (the same poses for both, detached), and mu_s is the student's auto-mask
at scale s (1 where a warped source beat the identity reprojection). Without the mask, M = 1.
The teacher and the mask receive no gradient; only the student does.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import logging
import math

import torch
from torch import nn
import torch.nn.functional as F

from depth_ros.errors import ConfigError
from depth_ros.geometry.projection import inv_depth_to_depth
from depth_ros.models import depth_net_names
from depth_ros.models.checkpoint import load_checkpoint, read_weights_meta
from training.losses.photometric import photometric_error
from training.losses.pyramid import log_depth
from training.view_synthesis import synthesize_view


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistillConfig:
    """APX distillation from a pretrained teacher (off while `teacher` is empty).

    Attributes:
        teacher: native checkpoint (.safetensors) whose depth network is the teacher.
        weight: weight of the distillation loss in the total.
        position_mask: only distil where the teacher's reprojection error is lower than the
            student's and the pixel is not auto-masked.
        flip_average: the teacher's depth is the mean of the image's and its mirror image's
            (inverse depth; the runtime's `flip_average`), so a student distilled from its own
            weights learns what that test-time averaging adds without paying for it at run time.
    """

    teacher: str = ''
    weight: float = 1.0
    position_mask: bool = True
    flip_average: bool = False

    def validate(self, where: str = 'distill') -> None:
        """Raise ConfigError for a bad weight or a teacher file that is missing or not a
        depth_ros checkpoint (reads the file's header only)."""
        if not math.isfinite(self.weight) or self.weight < 0:
            raise ConfigError(f'{where}.weight must be a finite value >= 0, got {self.weight}')
        if self.teacher:
            meta = read_weights_meta(self.teacher, f'{where}.teacher')
            if meta.depth_arch.name not in depth_net_names():
                raise ConfigError(f'{where}.teacher {self.teacher}: depth architecture '
                                  f'{meta.depth_arch.name!r} is not registered here')


@dataclass
class Teacher:
    """A frozen depth network and what is needed to read its output as depth."""

    net: nn.Module
    min_depth: float
    max_depth: float
    height: int
    width: int
    flip_average: bool = False

    @torch.no_grad()
    def depth(self, images: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] images in [0, 1] -> [B, 1, H, W] depth (teacher units), no gradient."""
        height, width = images.shape[-2:]
        if (height, width) != (self.height, self.width):
            images = F.interpolate(images, size=(self.height, self.width), mode='bilinear',
                                   align_corners=False)
        sigmoid = self.net(images).sigmoids[0].float()
        if self.flip_average:  # inverse depth is affine in the sigmoid: averaging either is one
            mirrored = self.net(torch.flip(images, dims=[-1])).sigmoids[0].float()
            sigmoid = 0.5 * (sigmoid + torch.flip(mirrored, dims=[-1]))
        if sigmoid.shape[-2:] != (height, width):
            sigmoid = F.interpolate(sigmoid, size=(height, width), mode='bilinear',
                                      align_corners=False)
        _, depth = inv_depth_to_depth(sigmoid, self.min_depth, self.max_depth)
        return depth


def load_teacher(path: str, device: torch.device | str = 'cpu',
                 flip_average: bool = False) -> Teacher:
    """The depth network of checkpoint `path`, frozen and in eval mode, on `device`
    (`flip_average`: see DistillConfig)."""
    checkpoint = load_checkpoint(path, device, load_pose=False)
    net = checkpoint.depth_net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    meta = checkpoint.meta
    logger.info('distillation teacher: %s (%s, %dx%d)', path, meta.depth_arch.name, meta.height,
                meta.width)
    return Teacher(net, meta.min_depth, meta.max_depth, meta.height, meta.width, flip_average)


def min_warp_error(target: torch.Tensor, warped: Sequence[torch.Tensor],
                   ssim_weight: float) -> torch.Tensor:
    """Per-pixel minimum photometric error over warped source views.

    Args:
        target: [B, 3, H, W] target image.
        warped: per source view, [B, 3, H, W] that view warped into the target.
        ssim_weight: alpha of the photometric error.

    Returns:
        [B, H, W].
    """
    errors = torch.cat([photometric_error(image, target, ssim_weight) for image in warped],
                       dim=1)
    return errors.min(dim=1).values


@torch.no_grad()
def position_mask(target: torch.Tensor, sources: Mapping[int, torch.Tensor],
                  teacher_depth: torch.Tensor, source_from_target: Mapping[int, torch.Tensor],
                  k: torch.Tensor, student_warped: Mapping[int, torch.Tensor],
                  automask: torch.Tensor, ssim_weight: float) -> torch.Tensor:
    """Where the teacher's minimum reprojection error beats the student's (module docstring).

    Args:
        target: [B, 3, H, W] target image.
        sources: frame offset -> [B, 3, H, W] source image.
        teacher_depth: [B, 1, H, W] teacher depth.
        source_from_target: frame offset -> [B, 4, 4] pose used by both.
        k: [B, 4, 4] intrinsics at H x W.
        student_warped: frame offset -> [B, 3, H, W] source warped with the student's depth.
        automask: [B, H, W] 1 where the pixel is supervised by view synthesis.
        ssim_weight: alpha of the photometric error.

    Returns:
        [B, H, W] float, 1 where the teacher is trusted.
    """
    inv_k = torch.linalg.inv(k)
    teacher_warped = [synthesize_view(sources[o], teacher_depth, k, source_from_target[o], inv_k)
                      for o in sources]
    teacher_error = min_warp_error(target, teacher_warped, ssim_weight)
    student_error = min_warp_error(target, [student_warped[o] for o in sources], ssim_weight)
    return ((teacher_error < student_error) & (automask > 0)).to(target.dtype)


def distillation_loss(student_sigmoids: Sequence[torch.Tensor], teacher_depth: torch.Tensor,
                      scales: Sequence[int], min_depth: float, max_depth: float,
                      masks: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
    """Mean over `scales` of the masked mean |log d_student - log d_teacher|.

    Args:
        student_sigmoids: per scale (index = scale), the student's sigmoid outputs.
        teacher_depth: [B, 1, H, W] teacher depth (no gradient).
        scales: supervised scales.
        min_depth, max_depth: the student's depth range.
        masks: per entry of `scales`, [B, H, W] position mask (None: every pixel).

    Returns:
        Scalar.
    """
    height, width = teacher_depth.shape[-2:]
    log_teacher = torch.log(teacher_depth.detach())
    terms = []
    for i, scale in enumerate(scales):
        sigmoid = F.interpolate(student_sigmoids[scale], size=(height, width),
                                  mode='bilinear', align_corners=False)
        error = (log_depth(sigmoid, min_depth, max_depth) - log_teacher).abs()[:, 0]
        if masks is None:
            terms.append(error.mean())
        else:
            terms.append((error * masks[i]).sum() / masks[i].sum().clamp_min(1))
    return torch.stack(terms).mean()
