"""Seeding for reproducible runs: one seed drives Python, numpy, torch and the loader workers."""
from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed the global generators; returns a generator for the DataLoader's shuffling."""
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def seed_worker(worker_id: int) -> None:
    """DataLoader worker_init_fn: derive Python and numpy seeds from the worker's torch seed
    (which the DataLoader sets from its generator and the worker id)."""
    seed = torch.initial_seed() % 2 ** 32
    random.seed(seed)
    np.random.seed(seed)
