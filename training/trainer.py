"""The training loop, one for every kind of supervision: the task (`training.tasks`) says how a
batch becomes a loss and how validation scores the depth network; data, losses, checkpoints
and logging live in their own modules.

`train(config)` runs a self-supervised `TrainConfig`; `fit(config, task)` runs any task
(`training.supervised.train_supervised` is `fit` with the depth-supervised task). The config
needs the run fields both configs share: optim, output_dir, seed, device, amp, num_workers,
torch_threads, log_every_steps, image_every_steps, checkpoint_every_epochs,
validate_every_epochs and resume (see `training.config.TrainConfig`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
import logging
from pathlib import Path
import time
from typing import Any

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from training.checkpointing import (
    TrainingObjects,
    check_resumable,
    resume_training,
    save_training_checkpoint,
)
from training.config import TrainConfig, config_to_yaml
from training.monitor import Monitor
from training.seeding import seed_everything
from training.tasks import Networks, SelfSupervisedTask, Task, TaskLoss, make_loader


__all__ = ['TrainSummary', 'build_training_objects', 'fit', 'make_loader', 'train']


logger = logging.getLogger(__name__)


@dataclass
class TrainSummary:
    """What a run produced: its last checkpoint, the loss of every step, final metrics."""

    checkpoint: Path
    epochs: int
    steps: int
    losses: list[float] = field(default_factory=list)
    metrics: dict[str, float] | None = None
    history: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)


def train(config: TrainConfig) -> TrainSummary:
    """Self-supervised training from a validated configuration (see `fit`)."""
    return fit(config, SelfSupervisedTask(config))


def build_training_objects(config: Any, device: torch.device,
                           networks: Networks | None = None) -> TrainingObjects:
    """Networks (the task's, by default the self-supervised ones of `config`), Adam over their
    trainable parameters, the step learning-rate decay and a loss scaler."""
    networks = networks or SelfSupervisedTask(config).build_networks()
    depth_net = networks.depth_net.to(device)
    pose_net = networks.pose_net.to(device) if networks.pose_net is not None else None
    params = [p for net in (depth_net, pose_net) if net is not None
              for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=config.optim.learning_rate,
                                 weight_decay=config.optim.weight_decay)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, config.optim.lr_step_epochs,
                                                config.optim.lr_gamma)
    scaler = torch.amp.GradScaler(device.type, enabled=_use_amp(config, device))
    return TrainingObjects(depth_net, pose_net, networks.depth_arch, networks.pose_arch,
                           optimizer, scheduler, scaler)


def _use_amp(config: Any, device: torch.device) -> bool:
    return config.amp and device.type == 'cuda'


def fit(config: Any, task: Task) -> TrainSummary:
    """Train `task` from a validated configuration; returns where the final checkpoint is.

    Writes `config.yaml`, `checkpoints/epoch_NNN.safetensors` (with sidecars, see
    `training.checkpointing`) and `tensorboard/` under config.output_dir. Raises InputError for
    missing or malformed data before any network is built.
    """
    if config.resume:
        check_resumable(Path(config.resume))
    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    loader_generator = seed_everything(config.seed)  # the run's seed, as its config says
    device = torch.device(config.device)
    train_loader, val_data = task.build_data(loader_generator)
    objects = build_training_objects(config, device, task.build_networks())
    task.setup(device)
    epoch, step = resume_training(Path(config.resume), objects) if config.resume else (0, 0)
    run_dir = Path(config.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / 'config.yaml').write_text(config_to_yaml(config), encoding='utf-8')
    monitor = Monitor(run_dir / 'tensorboard', run_dir / 'scalars.jsonl')
    summary = TrainSummary(Path(config.resume), epoch, step)
    try:
        while epoch < config.optim.epochs and not _done(config, summary):
            epoch = _run_epoch(config, task, objects, train_loader, monitor, epoch, summary,
                               device)
            last = epoch == config.optim.epochs or _done(config, summary)
            if last or _due(epoch, config.checkpoint_every_epochs):
                summary.checkpoint = run_dir / 'checkpoints' / f'epoch_{epoch:03d}.safetensors'
                save_training_checkpoint(summary.checkpoint, objects, config, epoch,
                                         summary.steps, notes_prefix=_notes_prefix(task))
            if val_data is not None and (last or _due(epoch, config.validate_every_epochs)):
                summary.metrics = task.validate(objects.depth_net, val_data, device)
                _log_metrics(summary.metrics, monitor, summary.steps)
                summary.history.append((summary.steps, dict(summary.metrics or {})))
    finally:
        monitor.close()
    return summary


def _notes_prefix(task: Task) -> str:
    return '' if task.name == SelfSupervisedTask.name else f'{task.name}, '


def _run_epoch(config: Any, task: Task, objects: TrainingObjects, loader: DataLoader,
               monitor: Monitor, epoch: int, summary: TrainSummary,
               device: torch.device) -> int:
    """One epoch and its learning-rate step; returns the number of epochs completed."""
    first_step = len(summary.losses)
    _train_epoch(config, task, objects, loader, monitor, epoch, summary, device)
    objects.scheduler.step()
    summary.epochs = epoch + 1
    losses = summary.losses[first_step:]
    logger.info('epoch %d: %d steps, mean loss %.4f, next lr %.3g', summary.epochs,
                len(losses), sum(losses) / max(len(losses), 1),
                objects.optimizer.param_groups[0]['lr'])
    return summary.epochs


def _done(config: Any, summary: TrainSummary) -> bool:
    """The step or wall-clock budget is spent. The wall clock counts once this run has made a
    step, so every run makes at least one (and writes its checkpoint) however small its budget
    or however slow its start."""
    optim = config.optim
    if optim.max_steps > 0 and summary.steps >= optim.max_steps:
        return True
    return (optim.max_minutes > 0 and bool(summary.losses)
            and time.monotonic() - summary.started >= 60 * optim.max_minutes)


def _due(count: int, every: int) -> bool:
    return every > 0 and count % every == 0


def _train_epoch(config: Any, task: Task, objects: TrainingObjects, loader: DataLoader,
                 monitor: Monitor, epoch: int, summary: TrainSummary,
                 device: torch.device) -> None:
    """One pass over `loader` (or fewer batches when optim.max_steps is reached)."""
    networks = Networks(objects.depth_net, objects.depth_arch, objects.pose_net,
                        objects.pose_arch)
    for net in (objects.depth_net, objects.pose_net):
        if net is not None:  # a network with nothing to train keeps eval-mode BatchNorm
            net.train(any(p.requires_grad for p in net.parameters()))
    amp = _use_amp(config, device)
    total = len(loader)
    if config.optim.max_steps > 0:
        total = min(total, config.optim.max_steps - summary.steps)
    with tqdm(total=total, desc=f'epoch {epoch + 1}/{config.optim.epochs}', unit='step',
              dynamic_ncols=True) as bar:
        for batch in loader:
            batch = batch.to(device)
            with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
                out = task.loss(networks, batch, summary.steps)
            objects.optimizer.zero_grad(set_to_none=True)
            objects.scaler.scale(out.total).backward()
            objects.scaler.step(objects.optimizer)
            objects.scaler.update()
            summary.steps += 1
            loss = float(out.total.detach())
            summary.losses.append(loss)
            bar.set_postfix(loss=f'{loss:.4f}', refresh=False)
            bar.update(1)
            _log_step(config, objects, monitor, out, task.target_image(batch), summary.steps)
            if _done(config, summary):
                break


def _log_step(config: Any, objects: TrainingObjects, monitor: Monitor, out: TaskLoss,
              target: torch.Tensor, step: int) -> None:
    if _due(step, config.log_every_steps) or step == 1:
        values = {'loss/total': float(out.total.detach()),
                  'lr': objects.optimizer.param_groups[0]['lr']}
        values.update({f'loss/{name}': float(v.detach()) for name, v in out.scalars.items()})
        monitor.scalars(values, step)
    if _due(step, config.image_every_steps):
        count = min(4, target.shape[0])
        monitor.images('target', target[:count], step)
        monitor.sigmoids('sigmoid', out.sigmoid[:count], step)
        for name, images in out.images.items():
            monitor.images(name, images[:count], step)


def _log_metrics(metrics: dict[str, float] | None, monitor: Monitor, step: int) -> None:
    if metrics:
        logger.info('validation: %s', ', '.join(f'{k} {v:.4f}' for k, v in metrics.items()))
        monitor.scalars({f'val/{k}': v for k, v in metrics.items()}, step)
