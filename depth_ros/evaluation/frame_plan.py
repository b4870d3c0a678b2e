"""Which frames of a camera stream to evaluate, in which order, and what was wrong with it.

A frame whose header stamp repeats an earlier one is a duplicate and is skipped (the first
received is kept); a frame received after a later-stamped one is out of order, and frames are
evaluated in stamp order; a stamp step above `gap_factor` times the median step is a gap
(dropped frames), reported with the estimated number of missing frames. Nothing is paired by
position: stamps decide.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import logging
import math

import numpy as np

from depth_ros.errors import InputError


LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameGap:
    """Dropped frames before evaluated frame `index` (stamp `stamp_ns`)."""

    index: int
    stamp_ns: int
    gap_s: float
    missing_frames: int

    def to_dict(self) -> dict:
        return {'index': self.index, 'stamp_ns': self.stamp_ns, 'gap_s': self.gap_s,
                'missing_frames': self.missing_frames}


@dataclass(frozen=True, eq=False)
class FramePlan:
    """Which image messages to evaluate, in which order, and what was wrong with the stream.

    Attributes:
        message_indices: [N] index (within the image topic, bag order) of each evaluated
            frame, in stamp order.
        stamps_ns: [N] their header stamps, strictly increasing.
        duplicates: indices of skipped messages that repeat an earlier stamp.
        out_of_order: indices of messages received after a message with a later stamp.
        gaps: stamp steps above gap_factor * median period.
        period_s: median stamp step (nan for fewer than two frames).
    """

    message_indices: np.ndarray = field(repr=False)
    stamps_ns: np.ndarray = field(repr=False)
    duplicates: np.ndarray = field(repr=False)
    out_of_order: np.ndarray = field(repr=False)
    gaps: tuple[FrameGap, ...]
    period_s: float

    def __len__(self) -> int:
        return len(self.message_indices)

    def gap_before(self) -> np.ndarray:
        """[N] bool: the frame follows a gap, so its relative pose spans dropped frames."""
        flags = np.zeros(len(self), dtype=bool)
        flags[[gap.index for gap in self.gaps]] = True
        return flags

    def to_dict(self) -> dict:
        return {'duplicates': len(self.duplicates), 'out_of_order': len(self.out_of_order),
                'gaps': [gap.to_dict() for gap in self.gaps],
                'duplicate_messages': self.duplicates.tolist(),
                'out_of_order_messages': self.out_of_order.tolist(),
                'median_period_s': self.period_s}


def plan_frames(stamps_ns: np.ndarray, gap_factor: float = 1.5) -> FramePlan:
    """Order image messages by stamp and find duplicated, out-of-order and dropped frames.

    Args:
        stamps_ns: [M] header stamps of the image messages in bag (receive) order.
        gap_factor: a stamp step larger than gap_factor * the median step is a gap.

    Returns:
        FramePlan; among messages with equal stamps the first received is kept.
    """
    stamps = np.asarray(stamps_ns, dtype=np.int64)
    if stamps.ndim != 1 or stamps.size == 0:
        raise InputError('no image messages to evaluate')
    unique_stamps, first = np.unique(stamps, return_index=True)
    duplicates = np.setdiff1d(np.arange(stamps.size), first)
    latest_before = np.maximum.accumulate(np.concatenate([[np.iinfo(np.int64).min],
                                                          stamps[:-1]]))
    out_of_order = np.flatnonzero(stamps < latest_before)
    steps_s = np.diff(unique_stamps) * 1e-9
    period = float(np.median(steps_s)) if steps_s.size else math.nan
    gaps = tuple(FrameGap(int(i + 1), int(unique_stamps[i + 1]), float(steps_s[i]),
                          max(int(round(steps_s[i] / period)) - 1, 1))
                 for i in np.flatnonzero(steps_s > gap_factor * period))
    return FramePlan(first, unique_stamps, duplicates, out_of_order, gaps, period)


def log_plan(plan: FramePlan, topic: str) -> None:
    """Warn about every duplicate, out-of-order frame and gap of `plan`."""
    if len(plan.duplicates):
        LOG.warning('%s: %d duplicated frame(s) (repeated stamps) skipped', topic,
                    len(plan.duplicates))
    if len(plan.out_of_order):
        LOG.warning('%s: %d frame(s) received out of stamp order; evaluating in stamp order',
                    topic, len(plan.out_of_order))
    for gap in plan.gaps:
        LOG.warning('%s: %.3f s gap before frame %d (about %d frame(s) dropped); its pose spans '
                    'the gap', topic, gap.gap_s, gap.index, gap.missing_frames)
