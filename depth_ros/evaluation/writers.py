"""The files of an evaluation: result bag, metrics.json, trajectory plot, depth previews.

`evaluate_bag` and `evaluate_recorded` compute a `BagEvalResult` and stream each frame to an
optional sink; `EvalWriter` is that sink. Everything goes to a temporary folder next to the
target (`<out>.partial`) that is renamed into place only when complete, so a failed run leaves
nothing behind (or, after a hard kill, a `.partial` folder that no command accepts).
"""
from __future__ import annotations

from collections.abc import Iterator
import contextlib
from dataclasses import replace
import json
import logging
import os
from pathlib import Path
import shutil
from typing import Any

import numpy as np

from depth_ros.errors import OutputError
from depth_ros.evaluation.bag_io import PARTIAL_SUFFIX, BagWriter, typestore
from depth_ros.evaluation.baselines import constant_forward_poses
from depth_ros.evaluation.kitti_to_bag import GT_CHILD_FRAME, GT_ODOM_TOPIC, WORLD_FRAME
from depth_ros.evaluation.results import BagEvalResult
from depth_ros.evaluation.scoring import GroundTruth
from depth_ros.ros.codecs import MsgTypes, depth_to_image, make_header, pose_to_odometry


LOG = logging.getLogger(__name__)

RESULT_DEPTH_TOPIC = '/depth_ros/depth'
RESULT_ODOM_TOPIC = '/depth_ros/odom'
ODOM_FRAME = 'odom'


@contextlib.contextmanager
def atomic_output_dir(target: str | os.PathLike) -> Iterator[Path]:
    """A folder to fill, renamed to `target` when the block succeeds, removed when it fails.

    Raises:
        OutputError: `target` exists and is not an empty folder, or cannot be created.
    """
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OutputError(f'output folder {target} exists and is not empty; remove it or choose '
                          'another')
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    if partial.exists():
        LOG.warning('removing %s left by an interrupted run', partial)
        shutil.rmtree(partial)
    try:
        partial.mkdir(parents=True)
    except OSError as exc:
        raise OutputError(f'cannot create output folder {target}: {exc.strerror or exc}') from None
    try:
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    try:
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(partial, target)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise OutputError(f'cannot move the results into {target}: '
                          f'{exc.strerror or exc}') from None


class EvalWriter:
    """Frame sink and file writer of one evaluation; a context manager around the output folder.

    Args:
        out_dir: the folder to create (may exist if empty).
        storage: result bag storage ('sqlite3' or 'mcap').
        result_bag: write the result bag.
        plots: write trajectory.png, depth_by_range.png and depth previews.
        previews: number of frames with a depth preview.
    """

    def __init__(self, out_dir: str | os.PathLike, storage: str = 'sqlite3',
                 result_bag: bool = True, plots: bool = True, previews: int = 4) -> None:
        self.out_dir = Path(out_dir)
        self.storage, self.want_bag, self.plots, self.previews = (storage, result_bag, plots,
                                                                  previews)
        self.types = MsgTypes.from_typestore(typestore())
        self.work: Path | None = None
        self._stack = contextlib.ExitStack()
        self._bag: BagWriter | None = None
        self._gt: GroundTruth | None = None
        self._gt_next = 0
        self._preview_at: set[int] = set()
        self._previews: dict[int, tuple] = {}

    def __enter__(self) -> EvalWriter:
        self.work = self._stack.enter_context(atomic_output_dir(self.out_dir))
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: Any) -> None:
        self._stack.__exit__(exc_type, exc, tb)

    def start(self, frames: int, gt: GroundTruth | None) -> None:
        """Called once before the first frame."""
        self._gt = gt
        count = min(self.previews, frames) if self.plots else 0
        if count > 0:
            self._preview_at = set(np.unique(np.linspace(0, frames - 1, count).round()
                                             .astype(int)).tolist())
        if self.want_bag:
            self._bag = self._stack.enter_context(
                BagWriter(self.work / 'result_bag', self.storage))

    def frame(self, position: int, stamp_ns: int, frame_id: str, depth_m: np.ndarray,
              cam0_from_cam: np.ndarray | None, rgb: np.ndarray | None,
              gt_depth_m: np.ndarray | None) -> None:
        """One evaluated frame: depth in metres, pose in optical axes (None: no pose)."""
        if position in self._preview_at:
            with np.errstate(divide='ignore'):
                self._previews[position] = (rgb, 1.0 / depth_m, gt_depth_m)
        if self._bag is None:
            return
        self._copy_gt_until(stamp_ns)
        header = make_header(self.types, stamp_ns, frame_id)
        self._bag.write(RESULT_DEPTH_TOPIC, stamp_ns, depth_to_image(self.types, depth_m, header))
        if cam0_from_cam is not None:
            odom = pose_to_odometry(self.types, cam0_from_cam,
                                    make_header(self.types, stamp_ns, ODOM_FRAME), frame_id)
            self._bag.write(RESULT_ODOM_TOPIC, stamp_ns, odom)

    def _copy_gt_until(self, stamp_ns: int | None) -> None:
        """Copy ground-truth poses stamped up to `stamp_ns` (all if None), in time order."""
        if self._bag is None or self._gt is None:
            return
        stamps = self._gt.stamps_ns
        while self._gt_next < len(stamps) and (stamp_ns is None
                                               or stamps[self._gt_next] <= stamp_ns):
            i, self._gt_next = self._gt_next, self._gt_next + 1
            odom = pose_to_odometry(self.types, self._gt.world_from_cam[i],
                                    make_header(self.types, int(stamps[i]), WORLD_FRAME),
                                    GT_CHILD_FRAME, pose_covariance=np.zeros(6))
            self._bag.write(GT_ODOM_TOPIC, int(stamps[i]), odom)

    def finish(self, result: BagEvalResult) -> BagEvalResult:
        """Write what needs the whole result (plots, metrics.json); the result with `outputs`.

        Paths in `outputs` are where the files are once the writer's block ends.
        """
        outputs: dict[str, Any] = {}
        if self._bag is not None:
            self._copy_gt_until(None)
            outputs['result_bag'] = str(self.out_dir / 'result_bag')
        if self.plots:
            outputs.update(self._write_plots(result))
        outputs['metrics'] = str(self.out_dir / 'metrics.json')
        result = replace(result, outputs={**result.outputs, **outputs})
        path = self.work / 'metrics.json'
        try:
            path.write_text(json.dumps(result.to_dict(), indent=1) + '\n', encoding='utf-8')
        except OSError as exc:
            raise OutputError(f'cannot write {path}: {exc.strerror or exc}') from None
        return result

    def _write_plots(self, result: BagEvalResult) -> dict[str, Any]:
        from depth_ros.evaluation import plots

        outputs: dict[str, Any] = {}
        if result.gt_world_from_cam is not None and result.world_from_cam is not None:
            gt = result.gt_world_from_cam
            plots.plot_trajectories(
                self.work / 'trajectory.png', gt,
                {'odometry': result.world_from_cam[result.gt_frames]},
                unitless={'constant-forward': constant_forward_poses(len(gt))})
            outputs['trajectory_plot'] = str(self.out_dir / 'trajectory.png')
        if result.depth_by_range and result.depth_by_range['frames']:
            plots.plot_depth_by_range(self.work / 'depth_by_range.png',
                                      {'network': result.depth_by_range},
                                      'depth error by ground-truth range (median-scaled)')
            outputs['depth_by_range_plot'] = str(self.out_dir / 'depth_by_range.png')
        names = []
        for position, (rgb, inv_depth_m, gt_depth) in sorted(self._previews.items()):
            name = f'depth_preview_{position:05d}.png'
            plots.write_depth_preview(self.work / name, rgb, inv_depth_m, gt_depth)
            names.append(str(self.out_dir / name))
        outputs['depth_previews'] = names
        return outputs
