"""Depth evaluation: the seven standard error metrics and the Eigen protocol on KITTI.

Metrics (Eigen et al., NIPS 2014): abs_rel = mean(|gt - pred| / gt), sq_rel = mean((gt - pred)^2
/ gt), rmse, rmse_log, and the fractions a1/a2/a3 of pixels with max(gt/pred, pred/gt) below
1.25, 1.25^2, 1.25^3.

Protocol (as Monodepth2's evaluate_depth.py): the predicted inverse depth is resized to the
ground-truth size with bilinear interpolation (OpenCV's INTER_LINEAR, reimplemented here), pixels
with ground truth in (1e-3, 80) m inside the Garg crop are kept, the prediction is scaled (per
image by the ratio of medians for monocular models, or by a fixed factor) and clamped to
[1e-3, 80] m. Arithmetic stays in the input precision (float32 for network outputs), as the
reference does.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from depth_ros.errors import InputError


DEPTH_METRIC_NAMES = ('abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'a1', 'a2', 'a3')
MIN_DEPTH_M = 1e-3
MAX_DEPTH_M = 80.0
# Garg et al., ECCV 2016 crop as fractions of the image: rows top, bottom; columns left, right.
GARG_CROP = (0.40810811, 0.99189189, 0.03594771, 0.96405229)


@dataclass(frozen=True)
class DepthMetrics:
    """The seven depth metrics; errors in metres where they have a unit."""

    abs_rel: float
    sq_rel: float
    rmse: float
    rmse_log: float
    a1: float
    a2: float
    a3: float

    def to_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in DEPTH_METRIC_NAMES}

    def as_array(self) -> np.ndarray:
        """The metrics as [7] float64 in DEPTH_METRIC_NAMES order."""
        return np.array([getattr(self, name) for name in DEPTH_METRIC_NAMES])

    @classmethod
    def from_array(cls, values: np.ndarray) -> DepthMetrics:
        return cls(*(float(v) for v in values))


def _float_pair(gt: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dtype = np.result_type(np.asarray(gt).dtype, np.asarray(pred).dtype, np.float32)
    return np.asarray(gt, dtype=dtype), np.asarray(pred, dtype=dtype)


def depth_metrics(gt_depth: np.ndarray, pred_depth: np.ndarray) -> DepthMetrics:
    """The seven metrics of valid, positive depths.

    Args:
        gt_depth: [N] (or any shape) ground-truth depths, all > 0.
        pred_depth: predicted depths of the same shape, all > 0.

    Raises:
        InputError: shapes differ, no values, or a depth that is not positive and finite.
    """
    gt, pred = _float_pair(gt_depth, pred_depth)
    if gt.shape != pred.shape or gt.size == 0:
        raise InputError(f'depth metrics need two non-empty arrays of one shape, got '
                         f'{gt.shape} and {pred.shape}')
    if not (np.all(gt > 0) and np.all(pred > 0) and np.isfinite(gt).all()
            and np.isfinite(pred).all()):
        raise InputError('depth metrics need positive, finite depths; mask invalid pixels first')
    thresh = np.maximum(gt / pred, pred / gt)
    return DepthMetrics(
        abs_rel=float(np.mean(np.abs(gt - pred) / gt)),
        sq_rel=float(np.mean((gt - pred) ** 2 / gt)),
        rmse=float(np.sqrt(np.mean((gt - pred) ** 2))),
        rmse_log=float(np.sqrt(np.mean((np.log(gt) - np.log(pred)) ** 2))),
        a1=float(np.mean(thresh < 1.25)),
        a2=float(np.mean(thresh < 1.25 ** 2)),
        a3=float(np.mean(thresh < 1.25 ** 3)),
    )


def _linear_taps(src_size: int, dst_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weight of the right neighbour for INTER_LINEAR along one axis.

    Pixel centres map as src = (dst + 0.5) * src_size / dst_size - 0.5, computed in float64
    (the reference values need it: float32 positions near 640 are off by up to 3e-5 px);
    positions before the first or past the last source pixel take that pixel alone.
    """
    position = (np.arange(dst_size) + 0.5) * (src_size / dst_size) - 0.5
    left = np.floor(position).astype(np.int64)
    frac = position - left
    outside = (left < 0) | (left >= src_size - 1)
    left = np.clip(left, 0, src_size - 1)
    frac[outside] = 0.0
    return left, np.minimum(left + 1, src_size - 1), frac


def resize_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize [H, W] to [height, width] like cv2.resize(image, (width, height)) INTER_LINEAR.

    Half-pixel centres, replicated border; interpolates along rows first, then columns, with
    weights rounded to the image precision: float32 input stays float32 (other dtypes are
    computed in float64).
    """
    image = np.asarray(image)
    if image.ndim != 2 or image.size == 0 or height <= 0 or width <= 0:
        raise InputError(f'resize needs a non-empty [H,W] image and a positive size, got '
                         f'{image.shape} -> {height}x{width}')
    dtype = np.float32 if image.dtype == np.float32 else np.float64
    image = image.astype(dtype, copy=False)
    if image.shape == (height, width):  # every tap weight is 0: the interpolation is a copy
        return image.copy()
    x0, x1, fx = _linear_taps(image.shape[1], width)
    y0, y1, fy = _linear_taps(image.shape[0], height)
    fx, fy = fx.astype(dtype), fy.astype(dtype)
    one = dtype(1.0)
    rows = image[:, x0] * (one - fx) + image[:, x1] * fx
    return rows[y0] * (one - fy)[:, None] + rows[y1] * fy[:, None]


def garg_crop_mask(height: int, width: int) -> np.ndarray:
    """[H, W] bool mask of the Garg crop (the Eigen split's evaluation region)."""
    top, bottom, left, right = (np.array(GARG_CROP) * [height, height, width, width]).astype(
        np.int32)
    mask = np.zeros((height, width), dtype=bool)
    mask[top:bottom, left:right] = True
    return mask


@dataclass(frozen=True, eq=False)
class DepthEvalResult:
    """Eigen-protocol results over a set of images.

    Attributes:
        mean: the metrics averaged over images.
        per_image: [N, 7] metrics per image, DEPTH_METRIC_NAMES order.
        scales: [N] scale applied to each prediction (median ratios, or the fixed scale).
        median_scaling: whether the scales are per-image median ratios.
    """

    mean: DepthMetrics
    per_image: np.ndarray = field(repr=False)
    scales: np.ndarray = field(repr=False)
    median_scaling: bool

    def to_dict(self) -> dict:
        return {'n_images': int(len(self.per_image)), **self.mean.to_dict(),
                'median_scaling': self.median_scaling,
                'scale_median': float(np.median(self.scales)),
                'scale_std': float(np.std(self.scales / np.median(self.scales)))}


def evaluate_depth_image(gt_depth: np.ndarray, pred_inv_depth_m: np.ndarray,
                         scale: float | None = None, min_depth: float = MIN_DEPTH_M,
                         max_depth: float = MAX_DEPTH_M,
                         garg_crop: bool = True) -> tuple[DepthMetrics, float]:
    """Eigen-protocol metrics of one predicted inverse-depth map.

    Args:
        gt_depth: [H, W] sparse ground truth (m), 0 where there is no measurement.
        pred_inv_depth_m: [h, w] predicted inverse depth (1/m, or 1/depth in any unit that
            `scale` or median scaling maps to metres), any resolution.
        scale: fixed factor for the predicted depth (e.g. stereo training), or None for
            per-image median scaling (monocular).
        min_depth, max_depth: valid ground-truth range and prediction clamp (m).
        garg_crop: restrict to the Garg crop (Eigen split).

    Returns:
        (metrics, the scale applied to the prediction).

    Raises:
        InputError: wrong shapes, or no valid ground-truth pixel.
    """
    gt, pred, ratio = scaled_depth_pairs(gt_depth, pred_inv_depth_m, scale, min_depth,
                                         max_depth, garg_crop)
    return depth_metrics(gt, pred), ratio


def scaled_depth_pairs(gt_depth: np.ndarray, pred_inv_depth_m: np.ndarray,
                       scale: float | None = None, min_depth: float = MIN_DEPTH_M,
                       max_depth: float = MAX_DEPTH_M,
                       garg_crop: bool = True) -> tuple[np.ndarray, np.ndarray, float]:
    """The pixels the Eigen protocol scores: ground truth and the scaled, clamped prediction.

    Arguments as `evaluate_depth_image`. Returns (gt [N] m, pred [N] m, the scale applied).
    """
    gt_depth = np.asarray(gt_depth)
    if gt_depth.ndim != 2:
        raise InputError(f'ground-truth depth must be [H,W], got shape {gt_depth.shape}')
    height, width = gt_depth.shape
    pred_depth = 1 / resize_bilinear(pred_inv_depth_m, height, width)
    mask = (gt_depth > min_depth) & (gt_depth < max_depth)
    if garg_crop:
        mask &= garg_crop_mask(height, width)
    if not mask.any():
        raise InputError('no ground-truth pixel in the valid depth range (and crop)')
    gt, pred = gt_depth[mask], pred_depth[mask]
    if scale is None:
        ratio = np.median(gt) / np.median(pred)
    else:
        ratio = pred.dtype.type(scale)
    return gt, np.clip(pred * ratio, min_depth, max_depth), float(ratio)


def evaluate_depths(gt_depths: Iterable[np.ndarray], pred_inv_depths_m: Iterable[np.ndarray],
                    scale: float | None = None, min_depth: float = MIN_DEPTH_M,
                    max_depth: float = MAX_DEPTH_M, garg_crop: bool = True) -> DepthEvalResult:
    """Eigen-protocol metrics over image pairs, averaged per image (Monodepth2's mean_errors).

    Args:
        gt_depths: ground-truth depth maps [H, W] (m, 0 = none); sizes may differ.
        pred_inv_depths_m: matching predicted inverse-depth maps (1/m, see above).
        scale, min_depth, max_depth, garg_crop: see `evaluate_depth_image`.

    Raises:
        InputError: the sequences differ in length or are empty, or an image has no valid pixel
            (the message gives its index).
    """
    per_image, scales = [], []
    for i, (gt, pred) in enumerate(_zip_strict(gt_depths, pred_inv_depths_m)):
        try:
            metrics, ratio = evaluate_depth_image(gt, pred, scale, min_depth, max_depth,
                                                  garg_crop)
        except InputError as exc:
            raise InputError(f'image {i}: {exc}') from None
        per_image.append(metrics.as_array())
        scales.append(ratio)
    if not per_image:
        raise InputError('no images to evaluate')
    per_image = np.stack(per_image)
    return DepthEvalResult(DepthMetrics.from_array(per_image.mean(axis=0)), per_image,
                           np.asarray(scales), scale is None)


def _zip_strict(a: Iterable, b: Iterable):
    """zip that raises InputError, not ValueError like zip(strict=True), on unequal lengths."""
    sentinel = object()
    iter_a, iter_b = iter(a), iter(b)
    while True:
        x, y = next(iter_a, sentinel), next(iter_b, sentinel)
        if x is sentinel and y is sentinel:
            return
        if x is sentinel or y is sentinel:
            raise InputError('ground-truth and prediction sequences differ in length')
        yield x, y
