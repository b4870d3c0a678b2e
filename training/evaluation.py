"""Depth evaluation during training: median-scaled metrics against ground truth, when the
validation data has it (e.g. depth_ros.synth sequences with depth_2/).

Ground truth is compared at the network resolution (the dataset resizes it with nearest
neighbour), over pixels with depth in (1e-3, 80) m and without the Garg crop, which is specific
to KITTI's LiDAR. Use `depth-ros` evaluation for the full Eigen protocol on exported models.
"""
from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from depth_ros.errors import InputError
from depth_ros.evaluation.depth_metrics import DEPTH_METRIC_NAMES, evaluate_depth_image
from depth_ros.geometry.projection import inv_depth_to_depth
from training.config import ModelConfig


logger = logging.getLogger(__name__)


@torch.no_grad()
def evaluate_depth(depth_net: nn.Module, loader: DataLoader, model: ModelConfig,
                   device: torch.device) -> dict[str, float] | None:
    """Mean per-image depth metrics over `loader` (None when it has no ground truth).

    The network is put in eval mode and restored to its previous mode afterwards.
    """
    was_training = depth_net.training
    depth_net.eval()
    per_image = []
    try:
        for batch in loader:
            if batch.depth_m is None:
                logger.info('validation data has no ground-truth depth; skipping depth metrics')
                return None
            sigmoid = depth_net(batch.network_image(0).to(device)).inv_depths[0]
            inv_depth, _ = inv_depth_to_depth(sigmoid.float(), model.min_depth, model.max_depth)
            for gt, pred in zip(batch.depth_m[:, 0].numpy(), inv_depth[:, 0].cpu().numpy()):
                try:
                    metrics, _ = evaluate_depth_image(gt, pred, scale=None, garg_crop=False)
                except InputError:
                    continue  # no valid ground truth in this image
                per_image.append(metrics.as_array())
    finally:
        depth_net.train(was_training)
    if not per_image:
        logger.warning('validation data has no valid ground-truth pixel; no depth metrics')
        return None
    mean = np.mean(per_image, axis=0)
    return {name: float(v) for name, v in zip(DEPTH_METRIC_NAMES, mean)}
