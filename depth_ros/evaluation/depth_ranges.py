"""Where the depth error is: the Eigen protocol's relative error by ground-truth range (numpy).

One abs_rel says how wrong a depth map is, not where. Split by the ground truth's distance it
shows which ranges a network gets wrong and in which direction. A network that cannot tell
near from far predicts something like the conditional mean of the depth given the image: too
far nearby, too near far away (a compressed range). `log_slope` measures that: the
least-squares slope of log predicted depth on log true depth, per image, 1 when the range is
kept, 0 for a constant map; the median over images is reported.

The pixels, the median scaling and the clamp are the protocol's own
(`depth_metrics.scaled_depth_pairs`), so the ranges' shares of abs_rel add up to the abs_rel
that `evaluate_depth_image` reports.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from depth_ros.errors import InputError
from depth_ros.evaluation.depth_metrics import MAX_DEPTH_M, MIN_DEPTH_M, scaled_depth_pairs


RANGE_EDGES_M = (0.0, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 60.0, 80.0)


class RangeErrors:
    """Median-scaled relative depth error by ground-truth range, accumulated frame by frame.

    Args:
        edges_m: increasing range edges (m); they must cover [min_depth, max_depth].
        garg_crop, min_depth, max_depth: the Eigen protocol's settings.
    """

    def __init__(self, edges_m: tuple[float, ...] = RANGE_EDGES_M, garg_crop: bool = True,
                 min_depth: float = MIN_DEPTH_M, max_depth: float = MAX_DEPTH_M) -> None:
        edges = np.asarray(edges_m, dtype=np.float64)
        if (edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0)
                or edges[0] > min_depth or edges[-1] < max_depth):
            raise InputError(f'range edges must increase and cover {min_depth}..{max_depth} m, '
                             f'got {list(edges_m)}')
        self.edges = edges
        self.settings = (min_depth, max_depth, garg_crop)
        bins = len(edges) - 1
        self.pixels = np.zeros(bins)
        self.signed_sum = np.zeros(bins)
        self.abs_sum = np.zeros(bins)
        self.abs_part_sum = np.zeros(bins)  # sum over images of (bin's |rel| sum / image's pixels)
        self.slopes: list[float] = []
        self.frames = 0

    def add(self, gt_depth_m: np.ndarray, inv_depth_m: np.ndarray) -> bool:
        """Score one frame ([H, W] ground truth in m, 0 or NaN = none; [h, w] predicted
        inverse depth before scaling); False (nothing recorded) when it has no valid pixel."""
        low, high, crop = self.settings
        try:
            gt, pred, _ = scaled_depth_pairs(np.nan_to_num(gt_depth_m, nan=0.0), inv_depth_m,
                                             None, low, high, crop)
        except InputError:
            return False
        self.add_pairs(gt, pred)
        return True

    def add_pairs(self, gt_m: np.ndarray, pred_m: np.ndarray) -> None:
        """Score one frame's protocol pixels as `scaled_depth_pairs` returns them with median
        scaling ([N] ground truth and scaled prediction, m, N > 0)."""
        gt, pred = np.asarray(gt_m, np.float64), np.asarray(pred_m, np.float64)
        rel = (pred - gt) / gt
        which = np.clip(np.searchsorted(self.edges, gt, side='right') - 1, 0, len(self.pixels) - 1)
        bins = len(self.pixels)
        self.pixels += np.bincount(which, minlength=bins)
        self.signed_sum += np.bincount(which, rel, minlength=bins)
        abs_in_bin = np.bincount(which, np.abs(rel), minlength=bins)
        self.abs_sum += abs_in_bin
        self.abs_part_sum += abs_in_bin / len(gt)
        self.frames += 1
        log_gt = np.log(gt)
        spread = np.var(log_gt)
        if spread > 0:
            self.slopes.append(float(np.mean((log_gt - log_gt.mean()) * np.log(pred)) / spread))

    def to_dict(self) -> dict[str, Any]:
        """{'frames', 'log_slope_median', 'bins': [{'range_m', 'pixel_share', 'signed_rel',
        'abs_rel', 'abs_rel_part'}]}: per range the mean signed and absolute relative error of
        its pixels, and its part of the frames' mean abs_rel (the parts add up to it)."""
        total = self.pixels.sum()
        bins = []
        for k, count in enumerate(self.pixels):
            bins.append({'range_m': [float(self.edges[k]), float(self.edges[k + 1])],
                         'pixel_share': float(count / total) if total else None,
                         'signed_rel': float(self.signed_sum[k] / count) if count else None,
                         'abs_rel': float(self.abs_sum[k] / count) if count else None,
                         'abs_rel_part': (float(self.abs_part_sum[k] / self.frames)
                                          if self.frames else None)})
        return {'frames': self.frames,
                'log_slope_median': float(np.median(self.slopes)) if self.slopes else None,
                'bins': bins}
