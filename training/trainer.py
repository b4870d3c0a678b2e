"""The training loop. Data, losses, checkpoints and logging live in their own modules."""
from __future__ import annotations

from dataclasses import dataclass, field
import logging
from pathlib import Path
import time

import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from depth_ros.models import build_depth_net, build_pose_net
from depth_ros.models.dual import freeze_lr
from training.checkpointing import (
    TrainingObjects,
    check_resumable,
    initialise_networks,
    resume_training,
    save_training_checkpoint,
)
from training.config import TrainConfig, config_to_yaml
from training.data.factory import build_dataset
from training.data.sample import collate_samples
from training.evaluation import evaluate_depth
from training.losses.distillation import Teacher, load_teacher
from training.monitor import Monitor
from training.seeding import seed_everything, seed_worker
from training.step import StepOutput, forward_and_loss


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


def make_loader(dataset: Dataset, config: TrainConfig, shuffle: bool,
                generator: torch.Generator | None = None) -> DataLoader:
    return DataLoader(dataset, batch_size=config.optim.batch_size, shuffle=shuffle,
                      drop_last=shuffle and len(dataset) >= config.optim.batch_size,
                      num_workers=config.num_workers, collate_fn=collate_samples,
                      pin_memory=config.device.startswith('cuda'), worker_init_fn=seed_worker,
                      generator=generator, persistent_workers=config.num_workers > 0)


def build_training_objects(config: TrainConfig, device: torch.device) -> TrainingObjects:
    """Networks (through the registry, initialised from model.init_*), Adam over their
    trainable parameters, the step learning-rate decay and a loss scaler."""
    model = config.model
    depth_net = build_depth_net(model.depth_arch, **model.depth_kwargs)
    pose_net = build_pose_net(model.pose_arch, **model.pose_kwargs)
    initialise_networks(depth_net, pose_net, model)
    if model.freeze_lr:
        freeze_lr(depth_net)
    depth_net, pose_net = depth_net.to(device), pose_net.to(device)
    params = [p for net in (depth_net, pose_net) for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=config.optim.learning_rate,
                                 weight_decay=config.optim.weight_decay)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, config.optim.lr_step_epochs,
                                                config.optim.lr_gamma)
    scaler = torch.amp.GradScaler(device.type, enabled=_use_amp(config, device))
    return TrainingObjects(depth_net, pose_net, model.depth_spec, model.pose_spec, optimizer,
                           scheduler, scaler)


def _use_amp(config: TrainConfig, device: torch.device) -> bool:
    return config.amp and device.type == 'cuda'


def train(config: TrainConfig) -> TrainSummary:
    """Train from a validated configuration; returns where the final checkpoint is.

    Raises InputError for missing or malformed data before any network is built.
    """
    if config.resume:
        check_resumable(Path(config.resume))
    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    loader_generator = seed_everything(config.seed)
    device = torch.device(config.device)
    train_loader = make_loader(build_dataset(config.data, 'train', config.num_scales), config,
                               True, loader_generator)
    val_set = build_dataset(config.data, 'val', config.num_scales)
    val_loader = make_loader(val_set, config, False) if val_set is not None else None
    objects = build_training_objects(config, device)
    teacher = load_teacher(config.distill.teacher, device) if config.distill.teacher else None
    epoch, step = resume_training(Path(config.resume), objects) if config.resume else (0, 0)
    run_dir = Path(config.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / 'config.yaml').write_text(config_to_yaml(config), encoding='utf-8')
    monitor = Monitor(run_dir / 'tensorboard')
    summary = TrainSummary(Path(config.resume), epoch, step)
    try:
        while epoch < config.optim.epochs and not _done(config, summary):
            first_step = len(summary.losses)
            _train_epoch(config, objects, train_loader, monitor, epoch, summary, device,
                         teacher)
            objects.scheduler.step()
            epoch = summary.epochs = epoch + 1
            epoch_losses = summary.losses[first_step:]
            logger.info('epoch %d: %d steps, mean loss %.4f, next lr %.3g', epoch,
                        len(epoch_losses), sum(epoch_losses) / max(len(epoch_losses), 1),
                        objects.optimizer.param_groups[0]['lr'])
            last = epoch == config.optim.epochs or _done(config, summary)
            if last or _due(epoch, config.checkpoint_every_epochs):
                summary.checkpoint = run_dir / 'checkpoints' / f'epoch_{epoch:03d}.safetensors'
                save_training_checkpoint(summary.checkpoint, objects, config, epoch,
                                         summary.steps)
            if val_loader is not None and (last or _due(epoch, config.validate_every_epochs)):
                summary.metrics = evaluate_depth(objects.depth_net, val_loader, config.model,
                                                 device)
                _log_metrics(summary.metrics, monitor, summary.steps)
                summary.history.append((summary.steps, dict(summary.metrics or {})))
    finally:
        monitor.close()
    return summary


def _done(config: TrainConfig, summary: TrainSummary) -> bool:
    """The step or wall-clock budget is spent."""
    optim = config.optim
    if optim.max_steps > 0 and summary.steps >= optim.max_steps:
        return True
    return optim.max_minutes > 0 and time.monotonic() - summary.started >= 60 * optim.max_minutes


def _due(epoch: int, every: int) -> bool:
    return every > 0 and epoch % every == 0


def _train_epoch(config: TrainConfig, objects: TrainingObjects, loader: DataLoader,
                 monitor: Monitor, epoch: int, summary: TrainSummary, device: torch.device,
                 teacher: Teacher | None = None) -> None:
    """One pass over `loader` (or fewer batches when optim.max_steps is reached)."""
    objects.depth_net.train()
    objects.pose_net.train()
    amp = _use_amp(config, device)
    total = len(loader)
    if config.optim.max_steps > 0:
        total = min(total, config.optim.max_steps - summary.steps)
    with tqdm(total=total, desc=f'epoch {epoch + 1}/{config.optim.epochs}', unit='step',
              dynamic_ncols=True) as bar:
        for batch in loader:
            batch = batch.to(device)
            with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
                out = forward_and_loss(objects.depth_net, objects.pose_net, batch,
                                       config.model, config.loss, teacher=teacher,
                                       distill=config.distill,
                                       colour_generator=_colour_generator(config, summary.steps))
            objects.optimizer.zero_grad(set_to_none=True)
            objects.scaler.scale(out.total).backward()
            objects.scaler.step(objects.optimizer)
            objects.scaler.update()
            summary.steps += 1
            loss = float(out.total.detach())
            summary.losses.append(loss)
            bar.set_postfix(loss=f'{loss:.4f}', refresh=False)
            bar.update(1)
            _log_step(config, objects, monitor, out, batch.image(0), summary.steps)
            if _done(config, summary):
                break


def _colour_generator(config: TrainConfig, step: int) -> torch.Generator | None:
    """The pyramid loss's colour draws for `step`: seeded by (seed, step), so a resumed run
    draws what the uninterrupted one would have."""
    if config.loss.pyramid.colour_weight <= 0:
        return None
    return torch.Generator().manual_seed(config.seed * 1_000_003 + step)


def _log_step(config: TrainConfig, objects: TrainingObjects, monitor: Monitor, out: StepOutput,
              target: torch.Tensor, step: int) -> None:
    if _due(step, config.log_every_steps) or step == 1:
        values = {'loss/total': float(out.total.detach()),
                  'lr': objects.optimizer.param_groups[0]['lr']}
        for scale, value in zip(out.loss.scales, out.loss.per_scale):
            values[f'loss/scale{scale}'] = float(value.detach())
        for name, value in out.terms.items():
            values[f'loss/{name}'] = float(value.detach())
        monitor.scalars(values, step)
    if _due(step, config.image_every_steps):
        count = min(4, target.shape[0])
        monitor.images('target', target[:count], step)
        monitor.inv_depths('inv_depth', out.inv_depths[0][:count], step)
        monitor.images('automask', out.loss.automask[0][:count, None].expand(-1, 3, -1, -1),
                       step)


def _log_metrics(metrics: dict[str, float] | None, monitor: Monitor, step: int) -> None:
    if metrics:
        logger.info('validation: %s', ', '.join(f'{k} {v:.4f}' for k, v in metrics.items()))
        monitor.scalars({f'val/{k}': v for k, v in metrics.items()}, step)
