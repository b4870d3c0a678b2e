"""Training curves: scalars as JSON lines (always, when given a file), and TensorBoard scalars
and images when `torch.utils.tensorboard` is usable.

TensorBoard is optional: without it the monitor logs one line saying so and writes the JSON
lines only, so a run's curves survive on machines without it
(`python -c "import pandas; print(pandas.read_json('runs/X/scalars.jsonl', lines=True))"`).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import torch


logger = logging.getLogger(__name__)


class Monitor:
    """Writes to `log_dir` (a TensorBoard event folder) and appends every `scalars` call to
    `scalars_path` as one JSON line {"step": N, tag: value, ...} (a resumed run appends)."""

    def __init__(self, log_dir: Path, scalars_path: Path | None = None) -> None:
        self._writer = None
        self._lines = None
        if scalars_path is not None:
            Path(scalars_path).parent.mkdir(parents=True, exist_ok=True)
            self._lines = Path(scalars_path).open('a', encoding='utf-8')
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:
            logger.info('TensorBoard logging disabled (%s); install it with '
                        '`pip install tensorboard` to get curves and depth images', exc)
            return
        self._writer = SummaryWriter(log_dir=str(log_dir))
        logger.info('TensorBoard logs: %s', log_dir)

    @property
    def enabled(self) -> bool:
        return self._writer is not None

    def scalars(self, values: dict[str, float], step: int) -> None:
        if self._lines is not None:
            self._lines.write(json.dumps({'step': int(step),
                                          **{k: float(v) for k, v in values.items()}}) + '\n')
            self._lines.flush()
        if self._writer is not None:
            for tag, value in values.items():
                self._writer.add_scalar(tag, value, step)

    def images(self, tag: str, images: torch.Tensor, step: int) -> None:
        """[N, 3, H, W] images in [0, 1]."""
        if self._writer is not None:
            self._writer.add_images(tag, images.detach().float().cpu().clamp(0, 1), step)

    def sigmoids(self, tag: str, sigmoid: torch.Tensor, step: int) -> None:
        """[N, 1, H, W] the depth network's sigmoid output, each map stretched to [0, 1]
        (near = bright)."""
        if self._writer is not None:
            maps = sigmoid.detach().float().cpu()
            low = maps.amin(dim=(1, 2, 3), keepdim=True)
            high = maps.amax(dim=(1, 2, 3), keepdim=True)
            self.images(tag, ((maps - low) / (high - low + 1e-8)).expand(-1, 3, -1, -1), step)

    def close(self) -> None:
        if self._lines is not None:
            self._lines.close()
        if self._writer is not None:
            self._writer.close()
