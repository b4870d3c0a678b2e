"""The training configuration: frozen dataclasses holding every default once.

A YAML file and `key=value` overrides only change fields; the whole configuration is then
validated before any data is read or any network is built. The resolved configuration is saved
beside every checkpoint (and inside it), so a run can be reproduced from its outputs.

Defaults are Monodepth2's (Godard et al., ICCV 2019, Sec. 4): Adam, learning rate 1e-4 for 15
epochs then 1e-5 for 5, batch 12, 192x640 inputs, frames [0, -1, 1], scales 0..3, depth range
0.1..100, ResNet-18 depth and pose networks. The extra terms (feature reconstruction of the
dual network, FA-Depth's pyramid loss, APX distillation) are off by default; docs/TRAINING.md
describes them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
import inspect
import json
import os
from typing import Any

from depth_ros.errors import ConfigError
from depth_ros.inference.devices import validate_device
from depth_ros.models import depth_net_names, pose_net_names
from depth_ros.models.checkpoint import CheckpointMeta, read_weights_meta
from depth_ros.models.registry import INIT_ONLY_KWARGS, ArchSpec
from training.data.factory import DataConfig
from training.dataclass_mapping import load_dataclass, mapping_to_yaml, to_mapping
from training.losses.distillation import DistillConfig
from training.losses.pyramid import PyramidConfig
from training.losses.self_supervised import LossConfig


DUAL_ARCH = 'dual'


@dataclass(frozen=True)
class ModelConfig:
    """Networks by registry name, their initialisation, and the depth range.

    Attributes:
        depth_arch, pose_arch: registry names (e.g. 'resnet18', 'smalldepth', 'dual').
        depth_kwargs, pose_kwargs: keyword arguments of the registry builders, e.g.
            {lr_arch: smalldepth, lr_factor: 2} for 'dual'.
        min_depth, max_depth: the range the depth network's sigmoid output maps to.
        init_depth, init_pose: native checkpoint (.safetensors) whose depth (pose) network
            initialises ours; it must hold the same architecture and arguments ('' : none).
        init_lr: 'dual' only: checkpoint whose depth network (the dual net's lr_arch with its
            lr_kwargs) initialises the LR-Net, e.g. the result of training stage 1.
        freeze_lr: 'dual' only: stage 2, the LR-Net is frozen (no gradients, BatchNorm in eval
            mode) and the optimiser gets only the trainable parameters.
        freeze_depth: the whole depth network is frozen (no gradients, BatchNorm in eval
            mode; needs init_depth): trains the pose network alone against a depth network
            that is already good, at about half the cost per step.
        freeze_encoder: the depth network's encoder is frozen (no gradients, BatchNorm in
            eval mode; needs init_depth; encoder-decoder networks only, not 'dual'): only its
            decoder adapts, e.g. a fine-tuning phase on few frames.
    """

    depth_arch: str = 'resnet18'
    pose_arch: str = 'resnet18'
    depth_kwargs: dict[str, Any] = field(default_factory=dict)
    pose_kwargs: dict[str, Any] = field(default_factory=dict)
    min_depth: float = 0.1
    max_depth: float = 100.0
    init_depth: str = ''
    init_pose: str = ''
    init_lr: str = ''
    freeze_lr: bool = False
    freeze_depth: bool = False
    freeze_encoder: bool = False

    def validate(self) -> None:
        """ConfigError for the first invalid value; init_* headers are read here."""
        _validate_model(self)

    @property
    def depth_spec(self) -> ArchSpec:
        """What the depth network is built as, as checkpoints store it."""
        return ArchSpec.of(self.depth_arch, **self.depth_kwargs)

    @property
    def pose_spec(self) -> ArchSpec:
        """What the pose network is built as, as checkpoints store it."""
        return ArchSpec.of(self.pose_arch, **self.pose_kwargs)



@dataclass(frozen=True)
class TrainLossConfig(LossConfig):
    """Monodepth2's loss (`LossConfig`) plus the terms only the trainer adds (all off).

    Attributes:
        feature_reconstruction_weight: 'dual' only: weight of the feature reconstruction loss
            on the HR-Net's features (training.losses.feature_reconstruction), stage 2.
        pyramid: FA-Depth's pyramid loss terms (training.losses.pyramid).
        static_pair_weight: weight of the static-pair pose loss (training.losses.static_pair):
            a frame against a near-copy of itself must give the identity motion (0: off).
        static_pair_noise: std of the pixel noise of that near-copy (intensities in [0, 1]).
        depth_supervision_weight: weight of the scale-invariant log error
            (training.losses.silog) against the ground-truth depth of the examples that have
            it (depth_<camera>/ in the data: synthetic exact depth, LiDAR); 0: off.
        depth_supervision_variance_focus: its lambda in [0, 1] (1: blind to scale).
        depth_supervision_metres_per_unit: metres per network depth unit: ground truth is
            divided by it before the comparison (e.g. the init checkpoint's calibration).
    """

    feature_reconstruction_weight: float = 0.0
    static_pair_weight: float = 0.0
    static_pair_noise: float = 0.01
    depth_supervision_weight: float = 0.0
    depth_supervision_variance_focus: float = 0.85
    depth_supervision_metres_per_unit: float = 1.0
    pyramid: PyramidConfig = field(default_factory=PyramidConfig)

    def validate(self) -> None:
        """ConfigError for the first invalid value."""
        _validate_loss(self)


@dataclass(frozen=True)
class OptimConfig:
    """Adam with a step decay of the learning rate.

    Attributes:
        max_steps: stop after this many optimiser steps in total (0: run every epoch).
        max_minutes: stop after this much wall-clock training time (0: no limit); the
            epoch in progress ends there and gets its checkpoint and validation.
    """

    learning_rate: float = 1e-4
    weight_decay: float = 0.0
    epochs: int = 20
    lr_step_epochs: int = 15
    lr_gamma: float = 0.1
    batch_size: int = 12
    max_steps: int = 0
    max_minutes: float = 0.0

    def validate(self) -> None:
        """ConfigError for the first invalid value."""
        if self.learning_rate <= 0 or self.weight_decay < 0:
            raise ConfigError('optim.learning_rate must be > 0 and optim.weight_decay >= 0')
        if min(self.epochs, self.batch_size) < 1 or min(self.max_steps, self.max_minutes) < 0:
            raise ConfigError('optim.epochs and optim.batch_size must be >= 1, optim.max_steps '
                              'and optim.max_minutes >= 0')
        if self.lr_step_epochs < 1 or not 0 < self.lr_gamma <= 1:
            raise ConfigError('optim.lr_step_epochs must be >= 1 and optim.lr_gamma in (0, 1]')


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs.

    Attributes:
        output_dir: run folder: checkpoints/, tensorboard/, config.yaml.
        seed: seeds Python, numpy and torch (and the data-loading workers).
        device: 'cpu', 'cuda' or 'cuda:N'.
        amp: mixed precision (float16 autocast + loss scaling); only used on CUDA.
        num_workers: data-loading processes (0: load in the training process).
        torch_threads: CPU threads for torch operations (0: torch's default, one per core).
        log_every_steps: steps between scalar logs; image_every_steps between depth images
            (0: never).
        checkpoint_every_epochs, validate_every_epochs: 0 disables (a final checkpoint is
            always written).
        resume: checkpoint (.safetensors) to continue from; its .train_state.pt sidecar holds
            the optimiser, scheduler and epoch.
    """

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: TrainLossConfig = field(default_factory=TrainLossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    output_dir: str = 'runs/train'
    seed: int = 0
    device: str = 'cpu'
    amp: bool = True
    num_workers: int = 4
    torch_threads: int = 0
    log_every_steps: int = 50
    image_every_steps: int = 500
    checkpoint_every_epochs: int = 1
    validate_every_epochs: int = 1
    resume: str = ''

    @property
    def num_scales(self) -> int:
        """Pyramid levels the data must provide: enough for the coarsest supervised scale."""
        return max(self.loss.scales) + 1


def load_config(path: str | os.PathLike | None = None,
                overrides: Sequence[str] = ()) -> TrainConfig:
    """Defaults, then the YAML file, then `key=value` overrides (values parsed as YAML).

    Raises:
        ConfigError: unreadable file, unknown key, wrong type or invalid value.
    """
    config = load_dataclass(TrainConfig, path, overrides)
    validate_config(config)
    return config


def validate_config(config: TrainConfig) -> None:
    """Raise ConfigError for the first invalid value.

    The one validation pattern of both trainers' configs: every section validates itself
    (`validate()`), then what spans sections, then the run fields (`check_run_fields`). Data
    files are checked when the datasets are built; weight files named by the config
    (model.init_*, distill.teacher) are checked here from their headers.
    """
    config.data.validate()
    config.model.validate()
    config.loss.validate()
    config.distill.validate()
    _validate_across_sections(config)
    check_run_fields(config)


def check_run_fields(config: Any) -> None:
    """The fields every training config has (see `TrainConfig`): optim, the worker and
    thread counts, the logging / checkpoint / validation cadences, output_dir and device."""
    config.optim.validate()
    if config.num_workers < 0 or config.torch_threads < 0:
        raise ConfigError('num_workers and torch_threads must be >= 0')
    for name in ('log_every_steps', 'image_every_steps', 'checkpoint_every_epochs',
                 'validate_every_epochs'):
        if getattr(config, name) < 0:
            raise ConfigError(f'{name} must be >= 0')
    if not config.output_dir:
        raise ConfigError('output_dir is empty')
    validate_device(config.device)  # ConfigError (DeviceUnavailableError: no CUDA here)


def check_depth_range(depth_arch: str, min_depth: float, max_depth: float) -> None:
    """ConfigError unless `depth_arch` is registered and 0 < min_depth < max_depth."""
    if depth_arch not in depth_net_names():
        raise ConfigError(f'model.depth_arch {depth_arch!r} is unknown; known: '
                          f'{", ".join(depth_net_names())}')
    if not 0 < min_depth < max_depth:
        raise ConfigError(f'model depth range must satisfy 0 < min_depth < max_depth, got '
                          f'{min_depth}..{max_depth}')


def _validate_model(model: ModelConfig) -> None:
    check_depth_range(model.depth_arch, model.min_depth, model.max_depth)
    if model.pose_arch not in pose_net_names():
        raise ConfigError(f'model.pose_arch {model.pose_arch!r} is unknown; known: '
                          f'{", ".join(pose_net_names())}')
    if model.depth_arch != DUAL_ARCH and (model.freeze_lr or model.init_lr):
        raise ConfigError(f'model.freeze_lr and model.init_lr need model.depth_arch: '
                          f'{DUAL_ARCH}, got {model.depth_arch!r}')
    if model.freeze_depth and not model.init_depth:
        raise ConfigError('model.freeze_depth needs model.init_depth: a frozen depth network '
                          'must start from trained weights')
    if model.freeze_encoder and (model.freeze_depth or model.depth_arch == DUAL_ARCH
                                 or not model.init_depth):
        raise ConfigError('model.freeze_encoder needs model.init_depth and an encoder-decoder '
                          'depth network (not dual), without model.freeze_depth (which '
                          'already freezes the encoder)')
    if model.init_depth:
        _check_arch(read_weights_meta(model.init_depth, 'model.init_depth').depth_arch,
                    model.depth_arch, model.depth_kwargs, 'model.init_depth', 'depth')
    if model.init_lr:
        _check_init_lr(read_weights_meta(model.init_lr, 'model.init_lr'), model)
    if model.init_pose:
        meta = read_weights_meta(model.init_pose, 'model.init_pose')
        if meta.pose_arch is None:
            raise ConfigError(f'model.init_pose: {model.init_pose} holds no pose network')
        _check_arch(meta.pose_arch, model.pose_arch, model.pose_kwargs, 'model.init_pose',
                    'pose')


def _check_arch(saved: ArchSpec, name: str, kwargs: dict[str, Any], key: str,
                part: str) -> None:
    """ConfigError unless the checkpoint's network is `name` built with `kwargs`."""
    # The registry stores arguments without initialisation-only ones, JSON-normalised.
    wanted = {k: v for k, v in kwargs.items() if k not in INIT_ONLY_KWARGS}
    if not ArchSpec(name, json.loads(json.dumps(wanted))).has_weights_of(saved):
        raise ConfigError(f'{key} holds a {saved.name!r} {part} network {saved.kwargs}, but '
                          f'the config builds {name!r} {wanted}; use a checkpoint of the same '
                          'architecture and arguments')


def _check_init_lr(meta: CheckpointMeta, model: ModelConfig) -> None:
    from depth_ros.models.architectures import dual_depth

    defaults = inspect.signature(dual_depth).parameters
    lr_arch = model.depth_kwargs.get('lr_arch', defaults['lr_arch'].default)
    lr_kwargs = model.depth_kwargs.get('lr_kwargs') or {}
    if not isinstance(lr_kwargs, dict):
        raise ConfigError(f'model.depth_kwargs.lr_kwargs must be a mapping, got {lr_kwargs!r}')
    if meta.depth_arch.name == DUAL_ARCH:
        raise ConfigError('model.init_lr holds a whole dual network; initialise from it with '
                          'model.init_depth instead')
    _check_arch(meta.depth_arch, lr_arch, lr_kwargs, 'model.init_lr', 'depth')


def _validate_loss(loss: TrainLossConfig) -> None:
    scales = loss.scales
    if not scales or len(set(scales)) != len(scales) or not set(scales) <= {0, 1, 2, 3}:
        raise ConfigError(f'loss.scales must be distinct values from 0..3, got {list(scales)}')
    if not 0 <= loss.ssim_weight <= 1:
        raise ConfigError(f'loss.ssim_weight must be in [0, 1], got {loss.ssim_weight}')
    if loss.smoothness_weight < 0 or loss.tie_noise < 0:
        raise ConfigError('loss.smoothness_weight and loss.tie_noise must be >= 0')
    if not (loss.static_pair_weight >= 0 and 0 <= loss.static_pair_noise < 1):
        raise ConfigError(f'loss.static_pair_weight must be >= 0 and loss.static_pair_noise in '
                          f'[0, 1), got {loss.static_pair_weight}, {loss.static_pair_noise}')
    if not (loss.depth_supervision_weight >= 0
            and 0 <= loss.depth_supervision_variance_focus <= 1
            and loss.depth_supervision_metres_per_unit > 0):
        raise ConfigError(
            f'loss.depth_supervision_weight must be >= 0, loss.depth_supervision_variance_focus '
            f'in [0, 1] and loss.depth_supervision_metres_per_unit > 0, got '
            f'{loss.depth_supervision_weight}, {loss.depth_supervision_variance_focus}, '
            f'{loss.depth_supervision_metres_per_unit}')
    if not loss.feature_reconstruction_weight >= 0:
        raise ConfigError(f'loss.feature_reconstruction_weight must be >= 0, got '
                          f'{loss.feature_reconstruction_weight}')
    loss.pyramid.validate()


def _validate_across_sections(config: TrainConfig) -> None:
    """Options that span sections."""
    if config.loss.feature_reconstruction_weight > 0 and config.model.depth_arch != DUAL_ARCH:
        raise ConfigError(f'loss.feature_reconstruction_weight needs model.depth_arch: '
                          f'{DUAL_ARCH} (it uses the HR-Net features), got '
                          f'{config.model.depth_arch!r}')
    scales = config.model.depth_kwargs.get('scales')
    if isinstance(scales, list) and not set(config.loss.scales) <= set(scales):
        raise ConfigError(f'loss.scales {list(config.loss.scales)} must be among the depth '
                          f'network scales model.depth_kwargs.scales {scales}')


def config_to_yaml(config: Any) -> str:
    """The resolved configuration as YAML (every field, defaults included): the same mapping
    the checkpoints store (`training.checkpointing`)."""
    return mapping_to_yaml(to_mapping(config))
