"""Supervised depth training on RGB-D data (e.g. DRN on NYU Depth v2): no pose network, the
loss compares every output level with ground-truth depth (`training.losses.supervised`).

Command line: `python -m training.supervised --config FILE [--override key=value ...]`.

Example configuration (YAML; every other key keeps its default below):

    data: {kind: rgbd_folder, path: ../shared/data/rgbd/tum_like_5, depth_scale: 1000,
           height: 64, width: 96}
    model: {depth_arch: drn, max_depth: 10}
    optim: {batch_size: 2, epochs: 1, max_steps: 5}
    output_dir: runs/supervised_tiny

Supervision is a task of the one trainer (`training.trainer.fit` with `DepthSupervisedTask`):
validation, stop checks, checkpoints (with their train-state and config sidecars, so a run
resumes with `resume`), monitoring and the resolved config are the self-supervised trainer's.
The run folder gets config.yaml and checkpoints/epoch_NNN.safetensors, a native depth_ros
checkpoint (depth network only; pose None) that the Predictor, export and bench load like any
other.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
import logging
import os
import sys
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from depth_ros.errors import InputError
from depth_ros.models import build_depth_net
from depth_ros.models.registry import ArchSpec
from training.cli import run_training
from training.config import OptimConfig, check_depth_range, check_run_fields, config_to_yaml
from training.data.rgbd import RgbdDataConfig, RgbdSample, build_rgbd_dataset, collate_rgbd
from training.dataclass_mapping import load_dataclass
from training.evaluation import evaluate_metric_depth
from training.losses.supervised import (
    SupervisedLossConfig,
    SupervisedLossResult,
    supervised_loss,
)
from training.tasks import Networks, TaskLoss, make_loader
from training.trainer import TrainSummary, fit


logger = logging.getLogger('training.supervised')


@dataclass(frozen=True)
class SupervisedModelConfig:
    """The depth network by registry name and the range (m) its sigmoid maps to."""

    depth_arch: str = 'drn'
    min_depth: float = 0.1
    max_depth: float = 10.0

    def validate(self) -> None:
        check_depth_range(self.depth_arch, self.min_depth, self.max_depth)


@dataclass(frozen=True)
class SupervisedConfig:
    """Everything a supervised run needs. The run fields (optim to resume) mean what they mean
    in `training.config.TrainConfig`; `validate_every_epochs` 0 validates after the last
    epoch only."""

    data: RgbdDataConfig = field(default_factory=RgbdDataConfig)
    model: SupervisedModelConfig = field(default_factory=SupervisedModelConfig)
    loss: SupervisedLossConfig = field(default_factory=SupervisedLossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    output_dir: str = 'runs/supervised'
    seed: int = 0
    device: str = 'cpu'
    amp: bool = True
    num_workers: int = 2
    torch_threads: int = 0
    log_every_steps: int = 50
    image_every_steps: int = 0
    checkpoint_every_epochs: int = 1
    validate_every_epochs: int = 0
    resume: str = ''


def load_supervised_config(path: str | os.PathLike | None = None,
                           overrides: tuple[str, ...] | list[str] = ()) -> SupervisedConfig:
    """Defaults, then the YAML file, then `key=value` overrides (values parsed as YAML).

    Raises:
        ConfigError: unreadable file, unknown key, wrong type or invalid value.
    """
    config = load_dataclass(SupervisedConfig, path, overrides)
    validate_supervised_config(config)
    return config


def validate_supervised_config(config: SupervisedConfig) -> None:
    """Raise ConfigError for the first invalid value (checks that need no files): each
    section validates itself, then the run fields shared with the self-supervised config."""
    config.data.validate()
    config.loss.validate()
    config.model.validate()
    check_run_fields(config)


def supervised_step(depth_net: nn.Module, batch: RgbdSample, model: SupervisedModelConfig,
                    loss: SupervisedLossConfig) -> SupervisedLossResult:
    """Forward the batch (already on the device) and compute the supervised loss."""
    sigmoids = depth_net(batch.image).sigmoids
    return supervised_loss(sigmoids, batch.depth_m, model.min_depth, model.max_depth, loss)


class DepthSupervisedTask:
    """Ground-truth depth at every output level (`training.losses.supervised`), no pose."""

    name = 'supervised'

    def __init__(self, config: SupervisedConfig) -> None:
        self.config = config

    def build_networks(self) -> Networks:
        arch = self.config.model.depth_arch
        return Networks(build_depth_net(arch), ArchSpec.of(arch))

    def build_data(self, generator: torch.Generator) -> tuple[DataLoader, Any]:
        config = self.config
        train_set = build_rgbd_dataset(config.data, 'train')
        if len(train_set) == 0:
            raise InputError(f'no training examples in {config.data.path}')
        loader = make_loader(train_set, config, True, generator, collate_fn=collate_rgbd)
        return loader, build_rgbd_dataset(config.data, 'val')

    def setup(self, device: torch.device) -> None:
        """Nothing beside the network."""

    def loss(self, networks: Networks, batch: RgbdSample, step: int) -> TaskLoss:
        model = self.config.model
        sigmoids = networks.depth_net(batch.image).sigmoids
        # The loss compares depth in metres (logs, gradients, normals): float32 under autocast.
        with torch.autocast(device_type=batch.image.device.type, enabled=False):
            result = supervised_loss([s.float() for s in sigmoids], batch.depth_m,
                                     model.min_depth, model.max_depth, self.config.loss)
        scalars = {'log_depth': result.log_depth, 'gradient': result.gradient,
                   'normal': result.normal}
        return TaskLoss(result.total, scalars, sigmoids[0])

    def target_image(self, batch: RgbdSample) -> torch.Tensor:
        return batch.image

    def validate(self, depth_net: nn.Module, data: Any,
                 device: torch.device) -> dict[str, float]:
        return evaluate_metric_depth(depth_net, data, self.config.model, device)


def train_supervised(config: SupervisedConfig) -> TrainSummary:
    """Train the depth network on RGB-D data; writes config.yaml and checkpoints.

    Raises InputError for missing or malformed data before any network is built.
    """
    return fit(config, DepthSupervisedTask(config))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m training.supervised',
                                     description='Supervised depth training on RGB-D data.')
    parser.add_argument('--config', help='YAML file overriding the defaults')
    parser.add_argument('--override', action='append', default=[], metavar='KEY=VALUE',
                        help='override one key, e.g. optim.max_steps=5 (repeatable)')
    parser.add_argument('--print-config', action='store_true',
                        help='print the resolved configuration and exit')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    from depth_ros.memory import keep_heap_warm

    keep_heap_warm()  # process-wide malloc tuning: this is the process's entry point
    return run_training(lambda: load_supervised_config(args.config, args.override),
                        train_supervised, config_to_yaml, args.print_config)


if __name__ == '__main__':
    sys.exit(main())
