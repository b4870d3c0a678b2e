"""Training checkpoints: the native depth_ros checkpoint plus what resuming needs, and the
initialisation of a run's networks from earlier checkpoints (model.init_*).

For `epoch_003.safetensors` (the networks + the resolved config in its metadata) two files are
written beside it: `epoch_003.train_state.pt` (optimiser, scheduler, loss scaler, epoch, step,
RNG state; saved with torch.save of tensors and plain containers, loaded with weights_only=True)
and `epoch_003.config.yaml` (the resolved configuration, readable without depth_ros). The
checkpoint's `training_config` and both YAML files are one serialisation of the config
(`training.dataclass_mapping.to_mapping`), so they hold the same values.
"""
from __future__ import annotations

from dataclasses import dataclass
import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from depth_ros.errors import InputError, OutputError
from depth_ros.models import save_checkpoint
from depth_ros.models.checkpoint import load_weights_into
from depth_ros.models.registry import ArchSpec
from training.config import ModelConfig
from training.dataclass_mapping import mapping_to_yaml, to_mapping


logger = logging.getLogger(__name__)

TRAIN_STATE_SUFFIX = '.train_state.pt'
CONFIG_SUFFIX = '.config.yaml'


@dataclass
class TrainingObjects:
    """What a checkpoint saves and a resume restores."""

    depth_net: nn.Module
    pose_net: nn.Module | None  # None: depth-supervised training
    depth_arch: ArchSpec
    pose_arch: ArchSpec | None
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler


def sidecar_path(checkpoint: Path, suffix: str = TRAIN_STATE_SUFFIX) -> Path:
    """`run/epoch_003.safetensors` -> `run/epoch_003<suffix>`."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.stem + suffix)


def save_training_checkpoint(path: Path, objects: TrainingObjects, config: Any, epoch: int,
                             step: int, notes_prefix: str = '') -> Path:
    """Write the checkpoint, its train-state sidecar and its resolved config.

    Args:
        config: the run's config (a `TrainConfig` or `training.supervised.SupervisedConfig`:
            data.height/width and model.min_depth/max_depth are read).
        epoch: epochs completed; a resumed run starts at this epoch index.
        step: optimiser steps taken so far.
        notes_prefix: put before 'epoch N, step M' in the checkpoint notes.
    """
    resolved = to_mapping(config)
    save_checkpoint(path, objects.depth_net, objects.pose_net, depth_arch=objects.depth_arch,
                    pose_arch=objects.pose_arch, height=config.data.height,
                    width=config.data.width, min_depth=config.model.min_depth,
                    max_depth=config.model.max_depth, training_config=resolved,
                    notes=f'{notes_prefix}epoch {epoch}, step {step}')
    state = {'epoch': epoch, 'step': step, 'optimizer': objects.optimizer.state_dict(),
             'scheduler': objects.scheduler.state_dict(), 'scaler': objects.scaler.state_dict(),
             'torch_rng': torch.get_rng_state()}
    try:
        torch.save(state, sidecar_path(path))
        sidecar_path(path, CONFIG_SUFFIX).write_text(mapping_to_yaml(resolved), encoding='utf-8')
    except OSError as exc:
        raise OutputError(f'cannot write training state beside {path}: {exc}') from None
    logger.info('saved checkpoint %s (epoch %d, step %d)', path, epoch, step)
    return Path(path)


def check_resumable(checkpoint: Path) -> None:
    """Raise InputError unless `checkpoint` and its train-state sidecar exist."""
    if not Path(checkpoint).is_file():
        raise InputError(f'resume checkpoint not found: {checkpoint}')
    if not sidecar_path(checkpoint).is_file():
        raise InputError(f'{checkpoint} has no training state {sidecar_path(checkpoint).name}; '
                         'it can be used as weights but not resumed from')


def load_train_state(checkpoint: Path) -> dict[str, Any]:
    """The sidecar of `checkpoint`, loaded without unpickling arbitrary objects."""
    check_resumable(checkpoint)
    path = sidecar_path(checkpoint)
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or foreign files
        raise InputError(f'cannot read training state {path}: {exc}') from None


def resume_training(checkpoint: Path, objects: TrainingObjects) -> tuple[int, int]:
    """Restore weights and optimiser state; returns (epochs completed, steps taken)."""
    state = load_train_state(checkpoint)
    load_weights_into(objects.depth_net, checkpoint, 'depth', objects.depth_arch)
    if objects.pose_net is not None:
        load_weights_into(objects.pose_net, checkpoint, 'pose', objects.pose_arch)
    objects.optimizer.load_state_dict(state['optimizer'])
    objects.scheduler.load_state_dict(state['scheduler'])
    if state['scaler'] and objects.scaler.is_enabled():
        objects.scaler.load_state_dict(state['scaler'])
    torch.set_rng_state(state['torch_rng'])
    logger.info('resumed from %s: epoch %d, step %d', checkpoint, state['epoch'], state['step'])
    return int(state['epoch']), int(state['step'])


def initialise_networks(depth_net: nn.Module, pose_net: nn.Module, model: ModelConfig) -> None:
    """Load the weights named by model.init_depth, init_pose and init_lr (in that order).

    The config validation has checked that each file holds the right architecture; a
    mismatch found here still raises WeightsError.
    """
    if model.init_depth:
        load_weights_into(depth_net, model.init_depth, 'depth', model.depth_spec)
        logger.info('depth network initialised from %s', model.init_depth)
    if model.init_pose:
        load_weights_into(pose_net, model.init_pose, 'pose', model.pose_spec)
        logger.info('pose network initialised from %s', model.init_pose)
    if model.init_lr:
        load_weights_into(depth_net.lr_net, model.init_lr, 'depth')
        logger.info('dual LR-Net initialised from %s', model.init_lr)
