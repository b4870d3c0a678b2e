"""One forward pass of a training step: depth of the target, poses to each source, the loss.

Pose convention (Monodepth2, trainer.predict_poses): the pose network always sees the earlier
frame first. For a source before the target it gets (source, target) and its prediction is
inverted; for a source after the target it gets (target, source). Either way the result maps
target-camera points into the source camera, which is what view synthesis needs.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from depth_ros.geometry.poses import pose_from_parameters
from training.config import ModelConfig
from training.data.sample import Sample
from training.losses.self_supervised import LossConfig, LossResult, self_supervised_loss


@dataclass
class StepOutput:
    """The loss and what produced it (for logging)."""

    loss: LossResult
    inv_depths: list[torch.Tensor]
    source_from_target: dict[int, torch.Tensor]


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
                     model: ModelConfig, loss: LossConfig,
                     generator: torch.Generator | None = None) -> StepOutput:
    """Run both networks on a batch (already on the device) and compute the loss."""
    inv_depths = depth_net(batch.network_image(0)).inv_depths
    poses = predict_poses(pose_net, batch)
    # The loss runs in float32 even under autocast: SSIM and grid sampling need the precision.
    with torch.autocast(device_type=batch.k.device.type, enabled=False):
        result = self_supervised_loss(
            [batch.image(0, s) for s in range(len(batch.images))],
            {offset: batch.image(offset) for offset in batch.source_offsets},
            [d.float() for d in inv_depths], poses, batch.k, min_depth=model.min_depth,
            max_depth=model.max_depth, config=loss, generator=generator)
    return StepOutput(result, inv_depths, poses)
