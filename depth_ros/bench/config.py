"""What `depth-ros bench` measures (importable without torch, for argument parsing)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BenchConfig:
    """What to measure. Empty `archs` / `backends`: every registered / available one; empty
    `batches`: 1 and 2 on the CPU (a full default run then takes minutes on 2 cores), 1 and 4 on
    a GPU.

    `reps` is the most timed repetitions per measurement; fewer are run when one call is slow,
    as many as fit in `budget_s` but at least `min_reps`.
    """

    archs: tuple[str, ...] = ()
    sizes: tuple[tuple[int, int], ...] = ((192, 640), (320, 1024))
    batches: tuple[int, ...] = ()
    backends: tuple[str, ...] = ()
    device: str = 'auto'
    reps: int = 20
    warmup: int = 2
    min_reps: int = 3
    budget_s: float = 1.0
    threads: int | None = None
    image_size: tuple[int, int] = (375, 1242)
    end_to_end: bool = True
    seed: int = 0
