"""What a training run supervises, behind the one trainer loop (`training.trainer.fit`).

A task builds the networks and the data of a run, turns a batch into a loss, and scores the
depth network on validation data; the trainer owns everything else (optimiser, mixed
precision, stop checks, checkpoints, resuming, monitoring, the resolved config).

- `SelfSupervisedTask` (here): Monodepth2's view synthesis with a pose network, plus the
  optional terms of `training.step` (`TrainConfig`).
- `training.supervised.DepthSupervisedTask`: ground-truth depth, no pose network (DRN).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from depth_ros.models import build_depth_net, build_pose_net
from depth_ros.models.dual import freeze_lr
from depth_ros.models.networks import freeze_encoder
from depth_ros.models.registry import ArchSpec, build_for_weights
from training.checkpointing import initialise_networks
from training.config import TrainConfig
from training.data.factory import build_dataset
from training.data.sample import collate_samples
from training.evaluation import evaluate_depth
from training.losses.distillation import Teacher, load_teacher
from training.seeding import seed_worker
from training.step import forward_and_loss


@dataclass
class Networks:
    """A run's networks and what they were built as (the checkpoint stores the specs)."""

    depth_net: nn.Module
    depth_arch: ArchSpec
    pose_net: nn.Module | None = None
    pose_arch: ArchSpec | None = None


@dataclass
class TaskLoss:
    """One batch's loss.

    Attributes:
        total: what is optimised.
        scalars: log name (without the 'loss/' prefix) -> scalar tensor.
        sigmoid: [B, 1, H, W] the depth network's full-resolution output, for the image log.
        images: log name -> [B, 3, H, W] extra images in [0, 1] (e.g. the auto-mask).
    """

    total: torch.Tensor
    scalars: dict[str, torch.Tensor]
    sigmoid: torch.Tensor
    images: dict[str, torch.Tensor] = field(default_factory=dict)


class Task(Protocol):
    """The loss/target strategy of a run (see the module docstring)."""

    name: str  # e.g. 'self-supervised', written into the checkpoint notes

    def build_networks(self) -> Networks:
        """The networks on the CPU, initialised, frozen where the config says so."""

    def build_data(self, generator: torch.Generator) -> tuple[DataLoader, Any]:
        """The training loader (shuffled with `generator`) and the validation data or None.

        Raises InputError for missing or malformed data."""

    def setup(self, device: torch.device) -> None:
        """Load what the loss needs beside the networks (e.g. a teacher) onto `device`."""

    def loss(self, networks: Networks, batch: Any, step: int) -> TaskLoss:
        """The loss of `batch` (on the device) at optimiser step `step` (0-based)."""

    def target_image(self, batch: Any) -> torch.Tensor:
        """[B, 3, H, W] the input image of the batch, for the image log."""

    def validate(self, depth_net: nn.Module, data: Any,
                 device: torch.device) -> dict[str, float] | None:
        """Depth metrics on the validation data (None: no ground truth)."""


def make_loader(dataset: Dataset, config: Any, shuffle: bool,
                generator: torch.Generator | None = None,
                collate_fn: Callable[[list], Any] = collate_samples) -> DataLoader:
    """The DataLoader of either task (`config` has optim.batch_size, num_workers, device)."""
    return DataLoader(dataset, batch_size=config.optim.batch_size, shuffle=shuffle,
                      drop_last=shuffle and len(dataset) >= config.optim.batch_size,
                      num_workers=config.num_workers, collate_fn=collate_fn,
                      pin_memory=config.device.startswith('cuda'), worker_init_fn=seed_worker,
                      generator=generator, persistent_workers=config.num_workers > 0)


def _build(kind: str, name: str, kwargs: dict[str, Any], overwritten: bool) -> nn.Module:
    """A depth or pose network; one its init checkpoint overwrites reads no ImageNet file first
    (so the weights package is not needed to fine-tune, e.g. on the lent GPU machine)."""
    if overwritten:
        return build_for_weights(kind, name, **kwargs)
    return (build_depth_net if kind == 'depth' else build_pose_net)(name, **kwargs)


class SelfSupervisedTask:
    """Monodepth2's self-supervised recipe and its optional terms (`training.step`)."""

    name = 'self-supervised'

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.teacher: Teacher | None = None

    def build_networks(self) -> Networks:
        model = self.config.model
        depth_net = _build('depth', model.depth_arch, model.depth_kwargs, bool(model.init_depth))
        pose_net = _build('pose', model.pose_arch, model.pose_kwargs, bool(model.init_pose))
        initialise_networks(depth_net, pose_net, model)
        if model.freeze_lr:
            freeze_lr(depth_net)
        if model.freeze_depth:
            depth_net.requires_grad_(False)
        if model.freeze_encoder:
            freeze_encoder(depth_net)
        return Networks(depth_net, model.depth_spec, pose_net, model.pose_spec)

    def build_data(self, generator: torch.Generator) -> tuple[DataLoader, Any]:
        config = self.config
        train_set = build_dataset(config.data, 'train', config.num_scales)
        val_set = build_dataset(config.data, 'val', config.num_scales)
        val = None if val_set is None else make_loader(val_set, config, False)
        return make_loader(train_set, config, True, generator), val

    def setup(self, device: torch.device) -> None:
        distill = self.config.distill
        self.teacher = (load_teacher(distill.teacher, device, distill.flip_average)
                        if distill.teacher else None)

    def loss(self, networks: Networks, batch: Any, step: int) -> TaskLoss:
        config = self.config
        out = forward_and_loss(networks.depth_net, networks.pose_net, batch, config.model,
                               config.loss, teacher=self.teacher, distill=config.distill,
                               colour_generator=self._colour_generator(step))
        scalars = {f'scale{s}': v for s, v in zip(out.loss.scales, out.loss.per_scale)}
        scalars.update(out.terms)
        automask = out.loss.automask[0][:, None].expand(-1, 3, -1, -1)
        return TaskLoss(out.total, scalars, out.sigmoids[0], {'automask': automask})

    def _colour_generator(self, step: int) -> torch.Generator | None:
        """The pyramid loss's colour draws for `step`: seeded by (seed, step), so a resumed
        run draws what the uninterrupted one would have."""
        if self.config.loss.pyramid.colour_weight <= 0:
            return None
        return torch.Generator().manual_seed(self.config.seed * 1_000_003 + step)

    def target_image(self, batch: Any) -> torch.Tensor:
        return batch.image(0)

    def validate(self, depth_net: nn.Module, data: Any,
                 device: torch.device) -> dict[str, float] | None:
        return evaluate_depth(depth_net, data, self.config.model, device)
