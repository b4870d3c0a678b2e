"""Trivial baselines that every learned depth and odometry figure is reported beside (numpy).

A figure means little without the score of a predictor that knows nothing about the image. The
baselines are scored by the same functions, on the same frames and ground-truth pixels:

Depth (an [H, W] depth map per frame, through `evaluate_depth_image`):
- row prior: depth as a function of the image row only, the per-row median of LiDAR depth of
  training drives (KITTI raw 2011_09_26 sfnd, 78 scans; `RowPrior`, package data
  `data/kitti_row_prior.json`), resampled to the image height;
- flat ground: the depth of a level road plane seen from the camera height h,
  depth = h * fy / (v - cy) for rows below the horizon (v > cy), the maximum depth above it;
- constant depth: one value everywhere (the row prior's overall LiDAR median, in metres).

Each is scored median-scaled, unscaled (they are in metres by construction) and scaled by the
camera-height estimator run on the baseline's own depth map, as the network's depth is.

Odometry (world_from_cam trajectories, through the 5-frame ATE, the KITTI devkit and APE):
- constant forward: identity rotation and one unit along the optical axis per frame. The 5-frame
  ATE aligns scale per snippet, so this is a strong baseline for it on driving data;
- static: identity poses (no motion). Metrics that need a scale (Sim(3) APE, devkit 7dof) are
  undefined for it and reported as None.
"""
from __future__ import annotations

from collections.abc import Callable
import math
from typing import Any

import numpy as np

from depth_ros.errors import InputError
from depth_ros.evaluation.depth_metrics import MAX_DEPTH_M, MIN_DEPTH_M, DepthEvalResult
from depth_ros.evaluation.kitti_devkit import kitti_devkit_metrics
from depth_ros.evaluation.row_prior import (  # noqa: F401  (part of this module's API)
    ROW_PRIOR_PATH,
    RowPrior,
    load_row_prior,
    row_prior_from_depths,
    save_row_prior,
)
from depth_ros.evaluation.scoring import DepthScores
from depth_ros.evaluation.trajectory import ape, as_poses, ate_5frame
from depth_ros.geometry.ground_plane import LEVEL_CAMERA_UP, fit_ground_plane
from depth_ros.geometry.intrinsics import Intrinsics


DEFAULT_CAMERA_HEIGHT_M = 1.65  # KITTI's colour cameras (Geiger et al., IJRR 2013, Fig. 3)
DEPTH_BASELINES = ('row_prior', 'flat_ground', 'constant_depth')
PROTOCOLS = ('median_scaled', 'unscaled', 'camera_height')
_SCORING_KINDS = {'median_scaled': 'median', 'unscaled': 'fixed', 'camera_height': 'height'}
BASELINE_TITLES = {'row_prior': 'row prior', 'flat_ground': 'flat-ground prior',
                   'constant_depth': 'constant depth', 'constant_forward': 'constant-forward',
                   'static': 'static',
                   'row_prior_oracle': "row prior of the set's own LiDAR (oracle)",
                   'constant_depth_oracle': "constant depth of the set's own LiDAR (oracle)"}


def flat_ground_depth(intrinsics: Intrinsics, camera_height_m: float = DEFAULT_CAMERA_HEIGHT_M,
                      max_depth: float = MAX_DEPTH_M) -> np.ndarray:
    """Depth (m) of a level ground plane `camera_height_m` below a level pinhole camera.

    A pixel row v below the horizon (v > cy) sees the road at z = h * fy / (v - cy); rows at
    or above the horizon, and depths beyond `max_depth`, get `max_depth`.

    Returns:
        [height, width] float32 depth along the optical axis.
    """
    if not camera_height_m > 0:
        raise InputError(f'camera height must be positive, got {camera_height_m}')
    rows = np.arange(intrinsics.height, dtype=np.float64) - intrinsics.cy
    with np.errstate(divide='ignore'):
        column = np.where(rows > 0, camera_height_m * intrinsics.fy / rows, max_depth)
    column = np.minimum(column, max_depth)
    return np.repeat(column[:, None], intrinsics.width, axis=1).astype(np.float32)


def baseline_depth_maps(height: int, width: int, prior: RowPrior | None,
                        intrinsics: Intrinsics | None,
                        camera_height_m: float = DEFAULT_CAMERA_HEIGHT_M,
                        max_depth: float = MAX_DEPTH_M) -> dict[str, np.ndarray]:
    """The depth baselines for an image of this size: name -> [H, W] depth (m).

    The row prior and constant depth need `prior`; the flat ground needs `intrinsics`; a
    baseline whose input is missing is left out.
    """
    maps: dict[str, np.ndarray] = {}
    if prior is not None:
        maps['row_prior'] = prior.depth_map(height, width)
        maps['constant_depth'] = np.full((height, width), prior.constant_depth_m, np.float32)
    if intrinsics is not None:
        if (intrinsics.width, intrinsics.height) != (width, height):
            intrinsics = intrinsics.scaled(width, height)
        maps['flat_ground'] = flat_ground_depth(intrinsics, camera_height_m, max_depth)
    return {name: maps[name] for name in DEPTH_BASELINES if name in maps}


def camera_height_factor(depth_m: np.ndarray, intrinsics: Intrinsics | None,
                         camera_height_m: float = DEFAULT_CAMERA_HEIGHT_M,
                         prior_up: np.ndarray | tuple = LEVEL_CAMERA_UP) -> float | None:
    """One frame's camera-height scale factor (the estimator's fit, default settings).

    For a depth map that is the same every frame (a baseline) the estimator's filtered factor
    is this value. None when no ground plane agrees with the prior (e.g. constant depth).
    """
    if intrinsics is None:
        return None
    plane = fit_ground_plane(depth_m, intrinsics, prior_up, rng=np.random.default_rng(0))
    return None if plane is None else camera_height_m / plane.distance


class ProtocolScores:
    """`scoring.DepthScores` (the evaluator's per-image Eigen metrics) under the reports'
    protocol names: 'median_scaled', 'unscaled', 'camera_height' (frames with a factor), and
    with `no_crop` also 'median_scaled_no_crop' (every valid pixel, no Garg crop); with
    `by_range` also 'by_range', the median-scaled error by ground-truth range
    (`DepthScores.ranges`).
    """

    def __init__(self, garg_crop: bool = True, min_depth: float = MIN_DEPTH_M,
                 max_depth: float = MAX_DEPTH_M, no_crop: bool = False,
                 by_range: bool = False) -> None:
        self.scores = DepthScores(min_depth, max_depth, garg_crop)
        self.uncropped = DepthScores(min_depth, max_depth, False) if no_crop else None
        self.by_range = by_range

    @property
    def frames(self) -> int:
        return len(self.scores.rows['median'])

    def add(self, gt_depth_m: np.ndarray, inv_depth_m: np.ndarray,
            height_factor: float | None = None) -> bool:
        """Score one frame; False (and nothing recorded) when it has no valid GT pixel."""
        before = self.frames
        self.scores.add(gt_depth_m, inv_depth_m, height_factor)
        if self.frames == before:
            return False
        if self.uncropped is not None:  # the crop's pixels are a subset: this frame has some
            self.uncropped.add(gt_depth_m, inv_depth_m)
        return True

    def result(self, protocol: str) -> DepthEvalResult | None:
        """Mean metrics under one protocol, None when no frame was scored with it."""
        if protocol == 'median_scaled_no_crop':
            return None if self.uncropped is None else self.uncropped.result('median')
        return self.scores.result(_SCORING_KINDS[protocol])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {'frames': self.frames}
        for protocol in (*PROTOCOLS, 'median_scaled_no_crop'):
            result = self.result(protocol)
            if result is not None:
                out[protocol] = result.to_dict()
            elif protocol in PROTOCOLS:
                out[protocol] = None
        if self.by_range:
            out['by_range'] = self.scores.ranges.to_dict()
        return out


class DepthBaselines:
    """Every depth baseline scored on the frames given to `add`, as the network is.

    Args:
        prior: the row prior (None: `load_row_prior()`, the package's KITTI prior).
        camera_height_m: for the flat-ground prior and the camera-height scale.
        prior_up: the camera's up direction, prior of the ground-plane fit.
        garg_crop, min_depth, max_depth, no_crop, by_range: as `ProtocolScores`.
        height_scale: also score with the camera-height scale (needs intrinsics).
    """

    def __init__(self, prior: RowPrior | None = None,
                 camera_height_m: float = DEFAULT_CAMERA_HEIGHT_M,
                 prior_up: np.ndarray | tuple = LEVEL_CAMERA_UP, garg_crop: bool = True,
                 min_depth: float = MIN_DEPTH_M, max_depth: float = MAX_DEPTH_M,
                 no_crop: bool = False, height_scale: bool = True,
                 by_range: bool = False) -> None:
        self.prior = load_row_prior() if prior is None else prior
        self.camera_height_m, self.prior_up = camera_height_m, prior_up
        self.height_scale = height_scale
        self.max_depth = max_depth
        self._make = lambda: ProtocolScores(garg_crop, min_depth, max_depth, no_crop, by_range)
        self.scores: dict[str, ProtocolScores] = {}
        self._cache: dict[tuple, dict[str, tuple[np.ndarray, float | None]]] = {}

    def _maps(self, height: int, width: int,
              intrinsics: Intrinsics | None) -> dict[str, tuple[np.ndarray, float | None]]:
        """name -> (inverse depth, camera-height factor), computed once per size and camera."""
        key = (height, width, intrinsics)
        if key not in self._cache:
            intr = (intrinsics.scaled(width, height) if intrinsics is not None
                    and (intrinsics.width, intrinsics.height) != (width, height) else intrinsics)
            maps = baseline_depth_maps(height, width, self.prior, intr, self.camera_height_m,
                                       self.max_depth)
            self._cache[key] = {
                name: (1.0 / depth, camera_height_factor(
                    depth, intr if self.height_scale else None, self.camera_height_m,
                    self.prior_up))
                for name, depth in maps.items()}
        return self._cache[key]

    def add(self, gt_depth_m: np.ndarray, intrinsics: Intrinsics | None = None) -> None:
        """Score every baseline on one ground-truth frame (intrinsics: of the GT's image)."""
        gt = np.nan_to_num(np.asarray(gt_depth_m, dtype=np.float32), nan=0.0)
        for name, (inv_depth_m, factor) in self._maps(*gt.shape, intrinsics).items():
            self.scores.setdefault(name, self._make()).add(gt, inv_depth_m, factor)

    def to_dict(self) -> dict[str, Any]:
        return {name: self.scores[name].to_dict() for name in DEPTH_BASELINES
                if name in self.scores}


class BaselineComparison:
    """The baselines of one evaluation run (what `depth-ros evaluate` wires in).

    Feed every ground-truth depth frame the network is scored on to `add_depth`, then call
    `report` with the network's figures and the ground-truth poses of the scored frames.
    Intrinsics (of the ground truth's image) enable the flat-ground prior and, with
    `camera_height_m`, the camera-height scale; without them those are left out.
    """

    def __init__(self, garg_crop: bool = True, min_depth: float = MIN_DEPTH_M,
                 max_depth: float = MAX_DEPTH_M, camera_height_m: float | None = None,
                 prior_up: np.ndarray | tuple = LEVEL_CAMERA_UP) -> None:
        self.depth = DepthBaselines(None, camera_height_m or DEFAULT_CAMERA_HEIGHT_M, prior_up,
                                    garg_crop, min_depth, max_depth,
                                    height_scale=camera_height_m is not None)

    def add_depth(self, gt_depth_m: np.ndarray, intrinsics: Intrinsics | None = None) -> None:
        self.depth.add(gt_depth_m, intrinsics)

    def report(self, gt_world_from_cam: np.ndarray | None = None,
               network_depth: dict[str, Any] | None = None,
               network_trajectory: dict[str, Any] | None = None,
               odometry_subject: str = 'network') -> dict[str, Any]:
        """{'depth': per baseline and protocol, 'odometry': per baseline, 'verdicts': lines}.

        Args:
            gt_world_from_cam: [N, 4, 4] ground truth of the scored frames (None: no odometry).
            network_depth: {protocol: DepthEvalResult.to_dict()} of the network.
            network_trajectory: the network's TrajectoryReport.to_dict() (or
                `trajectory_figures`).
            odometry_subject: what measured that trajectory, as the verdicts name it.
        """
        odometry = ({} if gt_world_from_cam is None or len(gt_world_from_cam) < 2
                    else odometry_baselines(gt_world_from_cam))
        depth = self.depth.to_dict()
        return {'depth': depth, 'odometry': odometry,
                'verdicts': comparison_lines(network_depth, depth, network_trajectory,
                                             odometry, odometry_subject=odometry_subject)}


def format_baselines(report: dict[str, Any] | None) -> list[str]:
    """Terminal lines of a `BaselineComparison.report`: the baselines' figures, then verdicts."""
    if not report:
        return []
    lines = ['', 'baselines (same frames and pixels)']
    for name, scores in report['depth'].items():
        cells = [f'{p.replace("_", "-")} {figure(scores, p, "abs_rel"):.4f}' for p in PROTOCOLS
                 if figure(scores, p, 'abs_rel') is not None]
        lines.append(f'  {BASELINE_TITLES[name]:<18} depth abs_rel: ' + ', '.join(cells))
    for name, figures in report['odometry'].items():
        ate, sim3 = figure(figures, 'ate_5frame', 'mean'), figure(figures, 'ape', 'sim3', 'rmse')
        lines.append(f'  {BASELINE_TITLES[name]:<18} 5-frame ATE {ate:.4f} m'
                     + (f', APE Sim(3) rmse {sim3:.4f} m' if sim3 is not None else ''))
    return lines + [f'  {line}' for line in report['verdicts']]


def constant_forward_poses(frames: int, step: float = 1.0) -> np.ndarray:
    """[frames, 4, 4] world_from_cam: identity rotation, `step` further along +z each frame."""
    poses = np.tile(np.eye(4), (frames, 1, 1))
    poses[:, 2, 3] = step * np.arange(frames)
    return poses


def static_poses(frames: int) -> np.ndarray:
    """[frames, 4, 4] identity poses: a camera that never moves."""
    return np.tile(np.eye(4), (frames, 1, 1))


ODOMETRY_BASELINE_POSES: dict[str, Callable[[int], np.ndarray]] = {
    'constant_forward': constant_forward_poses, 'static': static_poses}


def _or_none(compute: Callable[[], Any]) -> Any:
    """The figures' dict, or None when the metric is undefined for this prediction."""
    try:
        return compute().to_dict()
    except InputError:
        return None


def trajectory_figures(gt_world_from_cam: np.ndarray,
                       pred_world_from_cam: np.ndarray) -> dict[str, Any]:
    """5-frame ATE, devkit (scale, 7dof, 6dof) and APE (se3, sim3) of one prediction.

    Unlike `report.evaluate_trajectory`, a metric that is undefined for this prediction (an
    alignment that needs a scale, for a prediction that does not move) is None instead of an
    error, so predictors that know nothing can be scored beside the network.
    """
    gt = as_poses(gt_world_from_cam, 'ground-truth pose', min_count=2)
    pred = as_poses(pred_world_from_cam, 'predicted pose', min_count=2)
    return {'n_poses': len(gt), 'ate_5frame': _or_none(lambda: ate_5frame(gt, pred)),
            'kitti_devkit': {a: _or_none(lambda a=a: kitti_devkit_metrics(gt, pred, a))
                             for a in ('scale', '7dof', '6dof')},
            'ape': {a: _or_none(lambda a=a: ape(gt, pred, a)) for a in ('se3', 'sim3')}}


def odometry_baselines(gt_world_from_cam: np.ndarray) -> dict[str, dict[str, Any]]:
    """Trajectory figures of every odometry baseline on the ground truth's frames."""
    gt = as_poses(gt_world_from_cam, 'ground-truth pose', min_count=2)
    return {name: trajectory_figures(gt, make(len(gt)))
            for name, make in ODOMETRY_BASELINE_POSES.items()}


def verdict(what: str, network: float | None, baseline: float | None,
            baseline_name: str, subject: str = 'network') -> str | None:
    """One plain line comparing a lower-is-better figure of the network (or `subject`) with a
    baseline."""
    if network is None or baseline is None or not (math.isfinite(network)
                                                   and math.isfinite(baseline)):
        return None
    title = BASELINE_TITLES.get(baseline_name, baseline_name)
    ratio = f'{network / baseline:.2f}x' if baseline > 0 else 'n/a'
    beats = 'beats' if network < baseline else 'does NOT beat'
    return (f'{what}: {subject} {network:.4g} vs {title} {baseline:.4g} ({ratio}): '
            f'{subject} {beats} the {title}')


def figure(tree: Any, *keys: str) -> Any:
    """tree[k1][k2]... of nested result dicts, None where a level is missing or None."""
    for key in keys:
        if not isinstance(tree, dict) or tree.get(key) is None:
            return None
        tree = tree[key]
    return tree


def comparison_lines(network_depth: dict[str, Any] | None, depth_baselines: dict[str, Any],
                     network_trajectory: dict[str, Any] | None,
                     trajectory_baselines: dict[str, Any],
                     protocols: tuple[str, ...] = PROTOCOLS,
                     odometry_subject: str = 'network') -> list[str]:
    """Verdict lines: depth abs_rel per protocol, 5-frame ATE and Sim(3) APE per baseline.

    Args:
        network_depth: {protocol: DepthEvalResult.to_dict()} of the network (or None).
        depth_baselines: `DepthBaselines.to_dict()`.
        network_trajectory: `trajectory_figures` of the network (or a TrajectoryReport dict).
        trajectory_baselines: `odometry_baselines(...)`.
        protocols: the depth protocols to compare (e.g. leave out 'unscaled' for weights whose
            depth_scale was never calibrated).
        odometry_subject: what measured the trajectory ('network', 'epipolar odometry', ...).
    """
    lines = []
    for protocol in protocols:
        for name, scores in depth_baselines.items():
            lines.append(verdict(f'depth abs_rel, {protocol.replace("_", "-")}',
                                 figure(network_depth, protocol, 'abs_rel'),
                                 figure(scores, protocol, 'abs_rel'), name))
    for name, figures in trajectory_baselines.items():
        lines.append(verdict('5-frame ATE (m)', figure(network_trajectory, 'ate_5frame', 'mean'),
                             figure(figures, 'ate_5frame', 'mean'), name, odometry_subject))
        lines.append(verdict('APE Sim(3) rmse (m)',
                             figure(network_trajectory, 'ape', 'sim3', 'rmse'),
                             figure(figures, 'ape', 'sim3', 'rmse'), name, odometry_subject))
    return [line for line in lines if line is not None]
