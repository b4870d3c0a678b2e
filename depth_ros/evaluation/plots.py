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


def place_at_start(gt_world_from_cam: np.ndarray,
                   pred_world_from_cam: np.ndarray) -> np.ndarray:
    """Predicted positions [N, 3] as published (no scale, no fit), only started where the ground
    truth starts: each pose re-expressed from the prediction's first frame and put on the ground
    truth's first pose, so a correct odometry in metres lies on the ground truth."""
    gt, pred = np.asarray(gt_world_from_cam), np.asarray(pred_world_from_cam)
    placed = gt[0] @ np.linalg.inv(pred[0]) @ pred
    return placed[:, :3, 3]


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
    return plot_trajectories(path, gt_world_from_cam, {'estimate': pred_world_from_cam},
                             title=title, as_published=False)


def plot_trajectories(path: str | os.PathLike, gt_world_from_cam: np.ndarray,
                      estimates: dict[str, np.ndarray], title: str = '',
                      as_published: bool = True,
                      unitless: dict[str, np.ndarray] | None = None) -> Path:
    """Top-down (x right, z forward) plot of ground truth and several estimates of its frames.

    With `as_published`, two panels: the estimates in their own metres, only started at the
    ground truth's first pose (`place_at_start`: scale errors show), and each Sim(3)-aligned
    (the shape; the legend gives the fitted scale); else the aligned panel alone.

    Args:
        path: PNG to write.
        gt_world_from_cam: [N, 4, 4] ground-truth poses, camera optical axes (x right, y down,
            z forward), as KITTI ground truth.
        estimates: name -> [N, 4, 4] poses of the same frames, in metres.
        title: plot title.
        as_published: draw the unaligned panel too.
        unitless: name -> [N, 4, 4] poses without a metric scale (a baseline such as
            constant-forward): aligned panel only.

    Returns:
        The written path.

    Raises:
        InputError: no estimate, or one whose frame count differs from the ground truth's.
    """
    from matplotlib.figure import Figure

    gt = np.asarray(gt_world_from_cam)
    unitless = unitless or {}
    if not estimates and not unitless:
        raise InputError('plot_trajectories needs at least one estimate')
    for name, poses in {**estimates, **unitless}.items():
        if np.shape(poses) != gt.shape:
            raise InputError(f'estimate {name!r} has poses of shape {np.shape(poses)}, the '
                             f'ground truth {gt.shape}: give the poses of the same frames')
    path = Path(path)
    fig = Figure(figsize=(12 if as_published else 6, 6), dpi=100)
    axes = fig.subplots(1, 2 if as_published else 1, squeeze=False)[0]
    if as_published:
        _draw_top_down(axes[0], gt, {name: place_at_start(gt, poses)
                                     for name, poses in estimates.items()},
                       'as published (metres), started at the first ground-truth pose')
    aligned = {}
    for name, poses in {**estimates, **unitless}.items():
        xyz, scale = align_positions_sim3(gt, poses)
        aligned[name + (f', scale {scale:.3g}' if scale is not None
                        else ' (no motion: translated only)')] = xyz
    _draw_top_down(axes[-1], gt, aligned, 'Sim(3) aligned to the ground truth')
    fig.suptitle(title or f'trajectory, {len(gt)} frames')
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise OutputError(f'cannot write {path}: {exc.strerror or exc}') from None
    return path


def _draw_top_down(ax, gt: np.ndarray, curves: dict[str, np.ndarray], subtitle: str) -> None:
    """Ground truth (black, with its start) and each [N, 3] curve, x right / z forward."""
    gt_xyz = gt[:, :3, 3]
    ax.plot(gt_xyz[:, 0], gt_xyz[:, 2], '-', color='black', linewidth=2, label='ground truth')
    ax.plot(gt_xyz[:1, 0], gt_xyz[:1, 2], 'o', color='black', label='start')
    for name, xyz in curves.items():
        ax.plot(xyz[:, 0], xyz[:, 2], '-', label=name)
    ax.set_xlabel('x (m, right)')
    ax.set_ylabel('z (m, forward)')
    ax.set_aspect('equal', adjustable='datalim')
    ax.grid(True, alpha=0.3)
    ax.legend(loc='best', fontsize='small')
    ax.set_title(subtitle, fontsize='medium')


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
