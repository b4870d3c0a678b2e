"""Latency measurement: warm-up, then repetitions timed with CUDA events on a GPU and a
monotonic clock on the CPU; medians, not means, because a shared machine has outliers."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import statistics
import time

import torch


@dataclass(frozen=True)
class Timing:
    """Latency of one call, milliseconds, over `reps` timed repetitions."""

    median_ms: float
    p90_ms: float
    min_ms: float
    reps: int


def measure(fn: Callable[[], object], device: torch.device, *, warmup: int = 2, reps: int = 20,
            min_reps: int = 3, budget_s: float = 2.0) -> Timing:
    """Time `fn()`, as many repetitions as fit in `budget_s` within [min_reps, reps].

    Up to `warmup` untimed calls come first (at least one; fewer when the ones after the first
    already took half the budget: the first may include one-off work such as cuDNN autotuning,
    CUDA graph capture or compilation); the last of them estimates the per-call time that sets
    the repetition count.
    """
    durations: list[float] = []
    while len(durations) < max(1, warmup):
        start = time.perf_counter()
        _call(fn, device)
        durations.append(time.perf_counter() - start)
        if sum(durations[1:]) > budget_s / 2:
            break
    per_call = durations[-1]
    count = int(min(reps, max(min_reps, budget_s // max(per_call, 1e-6))))
    return _summary([_timed_call(fn, device) for _ in range(max(1, count))])


def _call(fn: Callable[[], object], device: torch.device) -> None:
    fn()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _timed_call(fn: Callable[[], object], device: torch.device) -> float:
    if device.type != 'cuda':
        start = time.perf_counter()
        fn()
        return (time.perf_counter() - start) * 1e3
    begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    begin.record()
    fn()
    end.record()
    end.synchronize()
    return begin.elapsed_time(end)


def compare(fns: dict[str, Callable[[], object]], device: torch.device, *, rounds: int = 5,
            reps: int = 10, warmup: int = 2) -> dict[str, Timing]:
    """Time several calls interleaved: `rounds` rounds of `reps` calls of each in turn.

    Interleaving spreads slow phases of a shared machine over all candidates instead of
    penalising whichever happened to run during them, so their ratios are fairer.
    """
    for fn in fns.values():
        for _ in range(max(1, warmup)):
            _call(fn, device)
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            samples[name] += [_timed_call(fn, device) for _ in range(reps)]
    return {name: _summary(s) for name, s in samples.items()}


def _summary(samples: list[float]) -> Timing:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return Timing(statistics.median(samples), p90, ordered[0], len(samples))
