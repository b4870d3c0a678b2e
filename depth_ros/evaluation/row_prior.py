"""The row prior: depth as a function of the image row, from LiDAR of training drives (numpy).

The package ships one (`data/kitti_row_prior.json`, rebuilt by
`python benchmarks/real_world.py --make-row-prior`); `baselines` scores it beside the network.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from depth_ros.errors import InputError
from depth_ros.evaluation.depth_metrics import MAX_DEPTH_M, MIN_DEPTH_M
from depth_ros.files import replaced_whole


ROW_PRIOR_PATH = Path(__file__).resolve().parent / 'data' / 'kitti_row_prior.json'


@dataclass(frozen=True, eq=False)
class RowPrior:
    """Depth as a function of the image row.

    Attributes:
        depth_m: [R] per-row median depth (m) of an R-row image; NaN where no row had data.
        constant_depth_m: median of every depth the prior was made from (m).
        source: how it was made.
    """

    depth_m: np.ndarray = field(repr=False)
    constant_depth_m: float
    source: str = ''

    def depth_map(self, height: int, width: int) -> np.ndarray:
        """[height, width] float32 depth (m): the rows resampled, rows without data filled.

        Row centres map as src = (row + 0.5) * R / height - 0.5 and are linearly interpolated
        between rows with data; rows outside take the nearest row with data.
        """
        known = np.flatnonzero(np.isfinite(self.depth_m))
        if known.size == 0:
            raise InputError('the row prior has no row with depth')
        rows = (np.arange(height) + 0.5) * (len(self.depth_m) / height) - 0.5
        column = np.interp(rows, known, self.depth_m[known])
        return np.repeat(column[:, None], width, axis=1).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {'source': self.source, 'image_height': int(len(self.depth_m)),
                'constant_depth_m': self.constant_depth_m,
                'depth_m': [None if not math.isfinite(v) else round(float(v), 4)
                            for v in self.depth_m]}


def row_prior_from_depths(depths: Iterable[np.ndarray], source: str = '',
                          min_depth: float = MIN_DEPTH_M,
                          max_depth: float = MAX_DEPTH_M) -> RowPrior:
    """Per-row median of valid depths over ground-truth maps of one size.

    Args:
        depths: [H, W] depth maps (m, 0 = no measurement), all the same size.
        source: provenance text stored with the prior.
        min_depth, max_depth: depths outside (min, max) are ignored.

    Raises:
        InputError: no maps, maps of different sizes, or no valid depth at all.
    """
    per_row: list[list[np.ndarray]] | None = None
    for depth in depths:
        depth = np.asarray(depth, dtype=np.float64)
        if per_row is None:
            per_row, shape = [[] for _ in range(depth.shape[0])], depth.shape
        if depth.shape != shape:
            raise InputError(f'row prior: a depth map is {depth.shape}, the first {shape}')
        valid = (depth > min_depth) & (depth < max_depth)
        for row in np.flatnonzero(valid.any(axis=1)):
            per_row[row].append(depth[row, valid[row]])
    if per_row is None or not any(per_row):
        raise InputError('row prior: no valid depth in the given maps')
    medians = np.array([np.median(np.concatenate(v)) if v else np.nan for v in per_row])
    everything = np.concatenate([np.concatenate(v) for v in per_row if v])
    return RowPrior(medians, float(np.median(everything)), source)


def load_row_prior(path: str | os.PathLike | None = None) -> RowPrior:
    """The row prior stored as JSON (default: the package's KITTI prior)."""
    path = Path(ROW_PRIOR_PATH if path is None else path)
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
        depth = np.array([np.nan if v is None else float(v) for v in data['depth_m']])
        return RowPrior(depth, float(data['constant_depth_m']), str(data.get('source', '')))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f'cannot read the row prior {path}: {exc}') from None


def save_row_prior(prior: RowPrior, path: str | os.PathLike) -> Path:
    """Write the prior as JSON (whole or not at all)."""
    path = Path(path)
    with replaced_whole(path) as partial:
        partial.write_text(json.dumps(prior.to_dict(), indent=1) + '\n', encoding='utf-8')
    return path
