"""One forward pass of a training step: depth of the target, poses to each source, the loss.

Pose convention (Monodepth2, trainer.predict_poses): the pose network always sees the earlier
frame first. For a source before the target it gets (source, target) and its prediction is
inverted; for a source after the target it gets (target, source). Either way the result maps
target-camera points into the source camera, which is what view synthesis needs.

The total is Monodepth2's loss plus the weighted optional terms that the config switches on
(all off by default, when the total is Monodepth2's loss itself): FA-Depth's pyramid terms
(training.losses.pyramid), APX distillation from a teacher (training.losses.distillation),
the static-pair pose loss (training.losses.static_pair), the scale-invariant log error against
ground-truth depth where an example has it (training.losses.silog) and, for the dual network,
the feature reconstruction loss on the HR-Net's features.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from depth_ros.geometry.poses import pose_from_parameters
from depth_ros.geometry.projection import inv_depth_to_depth
from training.config import ModelConfig, TrainLossConfig
from training.data.sample import Sample
from training.losses.distillation import (
    DistillConfig,
    Teacher,
    distillation_loss,
    position_mask,
)
from training.losses.feature_reconstruction import feature_reconstruction_loss
from training.losses.pyramid import pyramid_terms
from training.losses.self_supervised import LossResult, self_supervised_loss
from training.losses.silog import silog_loss
from training.losses.static_pair import static_pair_loss


DISTILL, FEATURE_RECONSTRUCTION = 'distill', 'feature_reconstruction'
STATIC_PAIR, DEPTH_SUPERVISION = 'static_pair', 'depth_supervision'


@dataclass
class StepOutput:
    """The loss and what produced it (for logging).

    Attributes:
        loss: Monodepth2's loss.
        sigmoids: the depth network's sigmoid outputs per scale.
        source_from_target: frame offset -> [B, 4, 4] predicted pose.
        total: what is optimised: `loss.total` plus the weighted `terms`.
        terms: name -> unweighted scalar of each optional term that is on.
    """

    loss: LossResult
    sigmoids: list[torch.Tensor]
    source_from_target: dict[int, torch.Tensor]
    total: torch.Tensor
    terms: dict[str, torch.Tensor] = field(default_factory=dict)


def predict_poses(pose_net: nn.Module, batch: Sample) -> dict[int, torch.Tensor]:
    """Frame offset -> [B, 4, 4] float32 source_from_target for every source of `batch`."""
    target = batch.network_image(0)
    poses = {}
    for offset in batch.source_offsets:
        source = batch.network_image(offset)
        if offset < 0:
            params = pose_net.predict_parameters(source, target)
        else:
            params = pose_net.predict_parameters(target, source)
        # Rotation matrices in float32 even under mixed precision.
        with torch.autocast(device_type=target.device.type, enabled=False):
            poses[offset] = pose_from_parameters(params.axis_angle.float(),
                                                 params.translation.float(), invert=offset < 0)
    return poses


def forward_and_loss(depth_net: nn.Module, pose_net: nn.Module, batch: Sample,
                     model: ModelConfig, loss: TrainLossConfig,
                     generator: torch.Generator | None = None, *,
                     teacher: Teacher | None = None, distill: DistillConfig | None = None,
                     colour_generator: torch.Generator | None = None) -> StepOutput:
    """Run both networks on a batch (already on the device) and compute the loss.

    Args:
        generator: random generator of the auto-mask tie-breaking noise.
        teacher: the distillation teacher (None: no distillation).
        distill: distillation weight and position mask (None: the defaults).
        colour_generator: CPU generator of the pyramid loss's colour perturbation.
    """
    image = batch.network_image(0)
    sigmoids = depth_net(image).sigmoids
    poses = predict_poses(pose_net, batch)

    def photometric(maps: list[torch.Tensor]) -> LossResult:
        # The loss runs in float32 even under autocast: SSIM and grid sampling need it.
        with torch.autocast(device_type=batch.k.device.type, enabled=False):
            return self_supervised_loss(
                [batch.image(0, s) for s in range(len(batch.images))],
                {offset: batch.image(offset) for offset in batch.source_offsets},
                [d.float() for d in maps], poses, batch.k, min_depth=model.min_depth,
                max_depth=model.max_depth, config=loss, generator=generator)

    result = photometric(sigmoids)
    out = StepOutput(result, sigmoids, poses, result.total)
    weights = dict(loss.pyramid.weights)
    if weights:
        out.terms.update(pyramid_terms(
            depth_net, image, sigmoids, loss.pyramid, loss.scales, model.min_depth,
            model.max_depth, lambda maps: photometric(maps).total, colour_generator))
    distill = distill or DistillConfig()
    if teacher is not None and distill.weight > 0:
        weights[DISTILL] = distill.weight
        out.terms[DISTILL] = _distillation(teacher, distill, batch, out, model, loss)
    if loss.feature_reconstruction_weight > 0:
        weights[FEATURE_RECONSTRUCTION] = loss.feature_reconstruction_weight
        out.terms[FEATURE_RECONSTRUCTION] = _feature_reconstruction(depth_net, batch, out,
                                                                    model, loss)
    if loss.static_pair_weight > 0:
        weights[STATIC_PAIR] = loss.static_pair_weight
        out.terms[STATIC_PAIR] = static_pair_loss(pose_net, image, batch.image(0),
                                                  loss.static_pair_noise, colour_generator)
    if loss.depth_supervision_weight > 0 and batch.depth_m is not None:
        weights[DEPTH_SUPERVISION] = loss.depth_supervision_weight
        out.terms[DEPTH_SUPERVISION] = _depth_supervision(sigmoids[0], batch.depth_m, model,
                                                          loss)
    for name, value in out.terms.items():
        out.total = out.total + weights[name] * value
    return out


def _depth_supervision(sigmoid: torch.Tensor, depth_m: torch.Tensor, model: ModelConfig,
                       loss: TrainLossConfig) -> torch.Tensor:
    """Scale-invariant log error of the full-resolution depth where ground truth exists
    (examples without any are zeros and do not count), in network units."""
    with torch.autocast(device_type=sigmoid.device.type, enabled=False):
        _, depth = inv_depth_to_depth(sigmoid.float(), model.min_depth, model.max_depth)
        gt = depth_m.float() / loss.depth_supervision_metres_per_unit
        valid = (gt > model.min_depth) & (gt < model.max_depth) & torch.isfinite(gt)
        return silog_loss(depth, gt, valid, loss.depth_supervision_variance_focus)


def _distillation(teacher: Teacher, distill: DistillConfig, batch: Sample, out: StepOutput,
                  model: ModelConfig, loss: TrainLossConfig) -> torch.Tensor:
    """APX distillation of the teacher's depth for the un-jittered target."""
    target = batch.image(0)
    teacher_depth = teacher.depth(target)
    with torch.autocast(device_type=target.device.type, enabled=False):
        masks = None
        if distill.position_mask:
            sources = {offset: batch.image(offset) for offset in batch.source_offsets}
            poses = {offset: pose.detach() for offset, pose in out.source_from_target.items()}
            masks = [position_mask(target, sources, teacher_depth, poses, batch.k,
                                   {o: out.loss.warped[o][i] for o in sources},
                                   out.loss.automask[i], loss.ssim_weight)
                     for i in range(len(loss.scales))]
        return distillation_loss([d.float() for d in out.sigmoids], teacher_depth,
                                 loss.scales, model.min_depth, model.max_depth, masks)


def _feature_reconstruction(depth_net: nn.Module, batch: Sample, out: StepOutput,
                            model: ModelConfig, loss: TrainLossConfig) -> torch.Tensor:
    """Feature reconstruction on the dual network's HR-Net features, full-resolution depth.

    The features receive no gradient from this term: it supervises depth and pose, and
    learning the features through it too would have a trivial minimum (constant features).
    """
    hr_net = depth_net.hr_net
    with torch.no_grad():
        target_features = hr_net(batch.image(0)).float()
        source_features = [hr_net(batch.image(o)).float() for o in batch.source_offsets]
    with torch.autocast(device_type=batch.k.device.type, enabled=False):
        _, depth = inv_depth_to_depth(out.sigmoids[0].float(), model.min_depth,
                                      model.max_depth)
        return feature_reconstruction_loss(
            target_features, source_features, depth, batch.k,
            [out.source_from_target[o] for o in batch.source_offsets], loss.automask)
