"""Supervised depth training on RGB-D data (e.g. DRN on NYU Depth v2): no pose network, the
loss compares every output level with ground-truth depth (`training.losses.supervised`).

Command line: `python -m training.supervised --config FILE [--override key=value ...]`.

Example configuration (YAML; every other key keeps its default below):

    data: {kind: rgbd_folder, path: ../shared/data/rgbd/tum_like_5, depth_scale: 1000,
           height: 64, width: 96}
    model: {depth_arch: drn, max_depth: 10}
    optim: {batch_size: 2, epochs: 1, max_steps: 5}
    output_dir: runs/supervised_tiny

The run folder gets config.yaml and checkpoints/epoch_NNN.safetensors, a native depth_ros
checkpoint (depth network only; pose None) that the Predictor, export and bench load like any
other.
"""
from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field
import logging
import os
from pathlib import Path
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from depth_ros.errors import ConfigError, InputError
from depth_ros.geometry.projection import inv_depth_to_depth
from depth_ros.inference.devices import validate_device
from depth_ros.models import ArchSpec, build_depth_net, depth_net_names, save_checkpoint
from training.cli import run_training
from training.config import OptimConfig, config_to_yaml
from training.data.rgbd import RgbdDataConfig, RgbdSample, build_rgbd_dataset, collate_rgbd
from training.dataclass_mapping import load_dataclass
from training.losses.supervised import (
    SupervisedLossConfig,
    SupervisedLossResult,
    supervised_loss,
)
from training.monitor import Monitor
from training.seeding import seed_everything, seed_worker


logger = logging.getLogger('training.supervised')


@dataclass(frozen=True)
class SupervisedModelConfig:
    """The depth network by registry name and the range (m) its sigmoid maps to."""

    depth_arch: str = 'drn'
    min_depth: float = 0.1
    max_depth: float = 10.0


@dataclass(frozen=True)
class SupervisedConfig:
    """Everything a supervised run needs (see `training.config.TrainConfig` for the shared
    fields' meaning; `optim` is the same Adam + step decay section)."""

    data: RgbdDataConfig = field(default_factory=RgbdDataConfig)
    model: SupervisedModelConfig = field(default_factory=SupervisedModelConfig)
    loss: SupervisedLossConfig = field(default_factory=SupervisedLossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    output_dir: str = 'runs/supervised'
    seed: int = 0
    device: str = 'cpu'
    num_workers: int = 2
    torch_threads: int = 0
    log_every_steps: int = 50
    checkpoint_every_epochs: int = 1


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
    """Raise ConfigError for the first invalid value (checks that need no files)."""
    config.data.validate()
    config.loss.validate()
    model, optim = config.model, config.optim
    if model.depth_arch not in depth_net_names():
        raise ConfigError(f'model.depth_arch {model.depth_arch!r} is unknown; known: '
                          f'{", ".join(depth_net_names())}')
    if not 0 < model.min_depth < model.max_depth:
        raise ConfigError(f'model depth range must satisfy 0 < min_depth < max_depth, got '
                          f'{model.min_depth}..{model.max_depth}')
    if optim.learning_rate <= 0 or optim.batch_size < 1 or optim.epochs < 1:
        raise ConfigError('optim.learning_rate must be > 0, optim.batch_size and optim.epochs '
                          '>= 1')
    if optim.max_steps < 0 or optim.lr_step_epochs < 1 or not 0 < optim.lr_gamma <= 1:
        raise ConfigError('optim.max_steps must be >= 0, optim.lr_step_epochs >= 1 and '
                          'optim.lr_gamma in (0, 1]')
    if min(config.num_workers, config.torch_threads, config.log_every_steps,
           config.checkpoint_every_epochs) < 0:
        raise ConfigError('num_workers, torch_threads, log_every_steps and '
                          'checkpoint_every_epochs must be >= 0')
    validate_device(config.device)


def supervised_step(depth_net: nn.Module, batch: RgbdSample, model: SupervisedModelConfig,
                    loss: SupervisedLossConfig) -> SupervisedLossResult:
    """Forward the batch (already on the device) and compute the supervised loss."""
    inv_depths = depth_net(batch.image).inv_depths
    return supervised_loss(inv_depths, batch.depth_m, model.min_depth, model.max_depth, loss)


@dataclass
class SupervisedSummary:
    """What a run produced: its last checkpoint, the loss of every step, validation metrics."""

    checkpoint: Path
    epochs: int = 0
    steps: int = 0
    losses: list[float] = field(default_factory=list)
    metrics: dict[str, float] | None = None


def train_supervised(config: SupervisedConfig) -> SupervisedSummary:
    """Train the depth network on RGB-D data; writes config.yaml and checkpoints.

    Raises InputError for missing or malformed data before any network is built.
    """
    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    generator = seed_everything(config.seed)
    device = torch.device(config.device)
    train_set = build_rgbd_dataset(config.data, 'train')
    if len(train_set) == 0:
        raise InputError(f'no training examples in {config.data.path}')
    loader = DataLoader(train_set, batch_size=config.optim.batch_size, shuffle=True,
                        drop_last=len(train_set) >= config.optim.batch_size,
                        num_workers=config.num_workers, collate_fn=collate_rgbd,
                        worker_init_fn=seed_worker, generator=generator)
    val_set = build_rgbd_dataset(config.data, 'val')
    depth_net = build_depth_net(config.model.depth_arch).to(device)
    optimizer = torch.optim.Adam(depth_net.parameters(), lr=config.optim.learning_rate,
                                 weight_decay=config.optim.weight_decay)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, config.optim.lr_step_epochs,
                                                config.optim.lr_gamma)
    run_dir = Path(config.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / 'config.yaml').write_text(config_to_yaml(config), encoding='utf-8')
    monitor = Monitor(run_dir / 'tensorboard')
    summary = SupervisedSummary(run_dir / 'checkpoints' / 'epoch_000.safetensors')
    started = time.monotonic()
    try:
        while summary.epochs < config.optim.epochs and not _done(config, summary, started):
            _train_epoch(config, depth_net, optimizer, loader, monitor, summary, device, started)
            scheduler.step()
            summary.epochs += 1
            last = summary.epochs == config.optim.epochs or _done(config, summary, started)
            every = config.checkpoint_every_epochs
            if last or (every and summary.epochs % every == 0):
                summary.checkpoint = _save(run_dir, depth_net, config, summary)
            if last and val_set is not None:
                summary.metrics = evaluate_metric_depth(depth_net, val_set, config.model, device)
                monitor.scalars({f'val/{k}': v for k, v in summary.metrics.items()},
                                summary.steps)
    finally:
        monitor.close()
    return summary


def _done(config: SupervisedConfig, summary: SupervisedSummary, started: float) -> bool:
    optim = config.optim
    if optim.max_steps > 0 and summary.steps >= optim.max_steps:
        return True
    return optim.max_minutes > 0 and time.monotonic() - started >= 60 * optim.max_minutes


def _train_epoch(config: SupervisedConfig, depth_net: nn.Module,
                 optimizer: torch.optim.Optimizer, loader: DataLoader, monitor: Monitor,
                 summary: SupervisedSummary, device: torch.device, started: float) -> None:
    depth_net.train()
    with tqdm(loader, desc=f'epoch {summary.epochs + 1}/{config.optim.epochs}', unit='step',
              dynamic_ncols=True) as bar:
        for batch in bar:
            result = supervised_step(depth_net, batch.to(device), config.model, config.loss)
            optimizer.zero_grad(set_to_none=True)
            result.total.backward()
            optimizer.step()
            summary.steps += 1
            loss = float(result.total.detach())
            summary.losses.append(loss)
            bar.set_postfix(loss=f'{loss:.4f}', refresh=False)
            if summary.steps == 1 or (config.log_every_steps
                                      and summary.steps % config.log_every_steps == 0):
                monitor.scalars({'loss/total': loss,
                                 'loss/log_depth': float(result.log_depth.detach()),
                                 'loss/gradient': float(result.gradient.detach()),
                                 'loss/normal': float(result.normal.detach()),
                                 'lr': optimizer.param_groups[0]['lr']}, summary.steps)
            if _done(config, summary, started):
                break


def _save(run_dir: Path, depth_net: nn.Module, config: SupervisedConfig,
          summary: SupervisedSummary) -> Path:
    path = run_dir / 'checkpoints' / f'epoch_{summary.epochs:03d}.safetensors'
    save_checkpoint(path, depth_net, None, depth_arch=ArchSpec.of(config.model.depth_arch),
                    height=config.data.height, width=config.data.width,
                    min_depth=config.model.min_depth, max_depth=config.model.max_depth,
                    training_config=asdict(config),
                    notes=f'supervised, epoch {summary.epochs}, step {summary.steps}')
    logger.info('saved checkpoint %s (epoch %d, step %d)', path, summary.epochs, summary.steps)
    return path


@torch.no_grad()
def evaluate_metric_depth(depth_net: nn.Module, dataset: Dataset,
                          model: SupervisedModelConfig, device: torch.device) -> dict[str, float]:
    """Mean per-image depth metrics without median scaling (the network predicts metres), over
    ground truth in (min_depth, max_depth)."""
    from depth_ros.evaluation.depth_metrics import DEPTH_METRIC_NAMES, evaluate_depth_image

    was_training = depth_net.training
    depth_net.eval()
    per_image = []
    try:
        for i in range(len(dataset)):
            sample = dataset[i]
            sigmoid = depth_net(sample.image[None].to(device)).inv_depths[0]
            inv_depth, _ = inv_depth_to_depth(sigmoid.float(), model.min_depth, model.max_depth)
            try:
                metrics, _ = evaluate_depth_image(
                    sample.depth_m[0].numpy(), inv_depth[0, 0].cpu().numpy(), scale=1.0,
                    min_depth=model.min_depth, max_depth=model.max_depth, garg_crop=False)
            except InputError:
                continue  # no valid ground truth in this image
            per_image.append(metrics.as_array())
    finally:
        depth_net.train(was_training)
    if not per_image:
        raise InputError('the validation data has no ground-truth depth in the model range')
    means = np.mean(per_image, axis=0)
    return {name: float(v) for name, v in zip(DEPTH_METRIC_NAMES, means)}


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
    return run_training(lambda: load_supervised_config(args.config, args.override),
                        train_supervised, config_to_yaml, args.print_config)


if __name__ == '__main__':
    sys.exit(main())
