"""Pictures of an evaluation: top-down trajectories and depth previews.

matplotlib is imported inside the plotting function only (it is optional at run time); the
depth previews need Pillow alone.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from depth_ros.colormaps import colorize_inv_depth
from depth_ros.errors import InputError, OutputError
from depth_ros.evaluation.alignment import umeyama


LOG = logging.getLogger(__name__)


def align_positions_sim3(gt_world_from_cam: np.ndarray,
                         pred_world_from_cam: np.ndarray) -> tuple[np.ndarray, float | None]:
    """Predicted positions [N, 3] moved onto ground truth by a Umeyama Sim(3), and its scale.

    A prediction that does not move has no defined scale: it is then only translated onto the
    first ground-truth position and the scale is None.
    """
    gt_xyz = np.asarray(gt_world_from_cam)[:, :3, 3]
    pred_xyz = np.asarray(pred_world_from_cam)[:, :3, 3]
    try:
        transform = umeyama(pred_xyz, gt_xyz, with_scale=True)
    except InputError:
        return pred_xyz - pred_xyz[0] + gt_xyz[0], None
    return transform.apply_points(pred_xyz), transform.scale


def plot_trajectory(path: str | os.PathLike, gt_world_from_cam: np.ndarray,
                    pred_world_from_cam: np.ndarray, title: str = '') -> Path:
    """Top-down (x right, z forward) plot of ground truth and the Sim(3)-aligned estimate.

    Args:
        path: PNG to write.
        gt_world_from_cam, pred_world_from_cam: [N, 4, 4] poses of the same frames, camera
            optical axes (x right, y down, z forward), as KITTI ground truth.
        title: plot title.

    Returns:
        The written path.
    """
    from matplotlib.figure import Figure

    path = Path(path)
    gt_xyz = np.asarray(gt_world_from_cam)[:, :3, 3]
    aligned, scale = align_positions_sim3(gt_world_from_cam, pred_world_from_cam)
    fig = Figure(figsize=(6, 6), dpi=100)
    ax = fig.add_subplot()
    ax.plot(gt_xyz[:, 0], gt_xyz[:, 2], '-', color='black', label='ground truth')
    label = ('estimate, Sim(3) aligned' if scale is not None
             else 'estimate (no motion: translated only)')
    ax.plot(aligned[:, 0], aligned[:, 2], '-', color='tab:red', label=label)
    ax.plot(gt_xyz[:1, 0], gt_xyz[:1, 2], 'o', color='black', label='start')
    ax.set_xlabel('x (m, right)')
    ax.set_ylabel('z (m, forward)')
    ax.set_aspect('equal', adjustable='datalim')
    ax.grid(True, alpha=0.3)
    ax.legend(loc='best')
    suffix = f' (scale {scale:.3g})' if scale is not None else ''
    ax.set_title((title or f'trajectory, {len(gt_xyz)} frames') + suffix)
    try:
        fig.savefig(path)
    except OSError as exc:
        raise OutputError(f'cannot write {path}: {exc.strerror or exc}') from None
    return path


def _fit_width(image: np.ndarray, width: int) -> np.ndarray:
    """Resize [H, W, 3] uint8 to `width` keeping the aspect ratio (nearest: keeps lidar dots)."""
    from PIL import Image

    height = max(1, round(image.shape[0] * width / image.shape[1]))
    if image.shape[:2] == (height, width):
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.NEAREST))


def write_depth_preview(path: str | os.PathLike, rgb: np.ndarray | None,
                        inv_depth_m: np.ndarray, gt_depth_m: np.ndarray | None = None,
                        max_width: int = 640) -> Path:
    """One PNG: the camera image above the predicted depth above the ground truth (if any).

    Depth panels show inverse depth with the magma colour map (near = bright), each scaled to
    its own 95th percentile as Monodepth2's visualisations are; missing ground truth is black.

    Args:
        path: PNG to write.
        rgb: [H, W, 3] uint8 camera image, or None (a recorded run has none): no image panel.
        inv_depth_m: [h, w] predicted inverse depth (1/m).
        gt_depth_m: [h', w'] ground-truth depth (m, 0 or NaN = none), or None.
        max_width: width of the panels in pixels (images are only shrunk).
    """
    from PIL import Image

    width = min(max_width, (rgb if rgb is not None else inv_depth_m).shape[1])
    panels = ([] if rgb is None else [rgb]) + [colorize_inv_depth(inv_depth_m)]
    if gt_depth_m is not None:
        gt = np.asarray(gt_depth_m, dtype=np.float32)
        with np.errstate(divide='ignore', invalid='ignore'):
            gt_inv = np.where(np.isfinite(gt) & (gt > 0), 1.0 / gt, np.nan)
        panels.append(colorize_inv_depth(gt_inv))
    strip = np.concatenate([_fit_width(panel, width) for panel in panels], axis=0)
    path = Path(path)
    try:
        Image.fromarray(strip).save(path)
    except OSError as exc:
        raise OutputError(f'cannot write {path}: {exc.strerror or exc}') from None
    return path


def plot_depth_by_range(path: str | os.PathLike, by_range: dict[str, dict],
                        title: str = '') -> Path:
    """Two panels over the ground truth's range: each predictor's mean signed relative error
    (above 0: too far; below: too near) and its part of abs_rel (the bars of one predictor add
    up to its abs_rel).

    Args:
        path: PNG to write.
        by_range: predictor name -> `depth_ranges.RangeErrors.to_dict()`, all with one set of
            range edges.
        title: plot title.
    """
    from matplotlib.figure import Figure

    path = Path(path)
    names = list(by_range)
    if not names:
        raise InputError('plot_depth_by_range needs at least one predictor')
    bins = by_range[names[0]]['bins']
    labels = [f"{b['range_m'][0]:g}-{b['range_m'][1]:g}" for b in bins]
    x = np.arange(len(bins))
    width = 0.8 / len(names)
    fig = Figure(figsize=(11, 4.2), dpi=100)
    signed_ax, part_ax = fig.subplots(1, 2)
    for k, name in enumerate(names):
        rows = by_range[name]['bins']
        slope = by_range[name].get('log_slope_median')
        label = name + (f' (log slope {slope:.2f})' if slope is not None else '')
        signed = [np.nan if r['signed_rel'] is None else r['signed_rel'] for r in rows]
        part = [0.0 if r['abs_rel_part'] is None else r['abs_rel_part'] for r in rows]
        signed_ax.plot(x, signed, 'o-', label=label)
        part_ax.bar(x - 0.4 + (k + 0.5) * width, part, width,
                    label=f'{name} (abs_rel {sum(part):.3f})')
    signed_ax.axhline(0.0, color='black', linewidth=0.8)
    signed_ax.set_ylabel('mean (pred - gt) / gt, median-scaled')
    part_ax.set_ylabel('part of abs_rel')
    for ax in (signed_ax, part_ax):
        ax.set_xticks(x, labels)
        ax.set_xlabel('ground-truth depth (m)')
        ax.grid(True, alpha=0.3)
        ax.legend(loc='best', fontsize='small')
    fig.suptitle(title or 'depth error by range')
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise OutputError(f'cannot write {path}: {exc.strerror or exc}') from None
    return path
