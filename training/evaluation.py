"""Depth validation during training, one per-image loop for both kinds of supervision.

- Self-supervised runs (`evaluate_depth`): median-scaled metrics (the network's scale is
  arbitrary) against the validation data's ground truth when it has some (e.g.
  depth_ros.synth sequences with depth_2/), over depth in (1e-3, 80) m.
- Depth-supervised runs (`evaluate_metric_depth`): metrics without scaling (the network
  predicts metres), over ground truth in the model's depth range.

Ground truth is compared at the network resolution (the datasets resize it with nearest
neighbour) and without the Garg crop, which is specific to KITTI's LiDAR. Use `depth-ros`
evaluation for the full Eigen protocol on exported models.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
import logging
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from depth_ros.errors import InputError
from depth_ros.evaluation.depth_metrics import DEPTH_METRIC_NAMES, evaluate_depth_image
from depth_ros.geometry.projection import inv_depth_to_depth


logger = logging.getLogger(__name__)


@torch.no_grad()
def evaluate_depth(depth_net: nn.Module, loader: DataLoader, model: Any,
                   device: torch.device) -> dict[str, float] | None:
    """Mean per-image median-scaled depth metrics over `loader` (a self-supervised validation
    loader of `training.data.sample.Sample`); None when it has no ground truth.

    Args:
        model: the model config (min_depth, max_depth of the sigmoid mapping).
    """
    def pairs() -> Iterator[tuple[torch.Tensor, torch.Tensor] | None]:
        for batch in loader:
            yield None if batch.depth_m is None else (batch.network_image(0), batch.depth_m)

    per_image = _per_image_metrics(depth_net, pairs(), model, device, {'scale': None})
    if per_image is None:
        logger.info('validation data has no ground-truth depth; skipping depth metrics')
        return None
    if not per_image:
        logger.warning('validation data has no valid ground-truth pixel; no depth metrics')
        return None
    return _mean(per_image)


@torch.no_grad()
def evaluate_metric_depth(depth_net: nn.Module, dataset: Dataset, model: Any,
                          device: torch.device) -> dict[str, float]:
    """Mean per-image depth metrics without median scaling over an RGB-D dataset
    (`training.data.rgbd`), over ground truth in (model.min_depth, model.max_depth).

    Raises:
        InputError: no image has ground truth in the model's range.
    """
    samples = (dataset[i] for i in range(len(dataset)))
    pairs = ((s.image[None], s.depth_m[None]) for s in samples)
    options = {'scale': 1.0, 'min_depth': model.min_depth, 'max_depth': model.max_depth}
    per_image = _per_image_metrics(depth_net, pairs, model, device, options)
    if not per_image:
        raise InputError('the validation data has no ground-truth depth in the model range')
    return _mean(per_image)


def _per_image_metrics(depth_net: nn.Module,
                       pairs: Iterable[tuple[torch.Tensor, torch.Tensor] | None], model: Any,
                       device: torch.device, options: dict) -> list[np.ndarray] | None:
    """Metrics of every image with valid ground truth; None as soon as a batch has none.

    Args:
        pairs: (images [B,3,H,W] in [0,1], ground-truth depth [B,1,H,W] metres, 0: none).
        options: keyword arguments of `evaluate_depth_image` (scale, depth range).

    The network is put in eval mode and restored to its previous mode afterwards.
    """
    was_training = depth_net.training
    depth_net.eval()
    per_image = []
    try:
        for pair in pairs:
            if pair is None:
                return None
            images, gt = pair
            sigmoid = depth_net(images.to(device)).sigmoids[0]
            inv_depth, _ = inv_depth_to_depth(sigmoid.float(), model.min_depth, model.max_depth)
            for gt_m, pred in zip(gt[:, 0].numpy(), inv_depth[:, 0].cpu().numpy()):
                try:
                    metrics, _ = evaluate_depth_image(gt_m, pred, garg_crop=False, **options)
                except InputError:
                    continue  # no valid ground truth in this image
                per_image.append(metrics.as_array())
    finally:
        depth_net.train(was_training)
    return per_image


def _mean(per_image: list[np.ndarray]) -> dict[str, float]:
    return {name: float(v) for name, v in zip(DEPTH_METRIC_NAMES, np.mean(per_image, axis=0))}
