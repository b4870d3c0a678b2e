"""What constant-forward's 5-frame ATE is made of, per evaluation set (ground truth only).

    python benchmarks/constant_forward_anatomy.py [--out docs/learning/constant_forward_anatomy]

The 5-frame ATE aligns each 5-frame snippet's start and scale, so "every frame moves one unit
along the optical axis" (constant-forward) is only wrong where the true motion is not a steady
straight line along the optical axis. Hybrid trajectories built from pieces of the ground truth
say which piece matters on each set (ATE as a multiple of constant-forward's, lower = that piece
explains more of constant-forward's error):

- `+ true rotation`: constant-forward's translation with the true rotation of every frame;
- `+ true speed`: constant-forward's direction with the true distance of every frame;
- `+ true direction`: the true direction of travel of every frame, constant distance;
- `+ mean direction`: one fixed direction for the whole set (the mean true direction: the
  camera's mounting relative to the direction of travel) and the true rotation;
- `smoothed truth`: the true positions smoothed over frames (Gaussian, sigma 1 frame), i.e.
  how much of the truth is frame-to-frame jitter that no smooth estimate can follow.

A network must predict the pieces that matter on a set better than constant-forward does to
beat it there. Writes anatomy.json and anatomy.md to --out.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
import sys

import numpy as np


ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'benchmarks')]

from real_world_report import EVAL_SETS, write_results  # noqa: E402


SHARED = Path(os.environ.get('DEPTH_ROS_SHARED', ROOT.parent / 'shared'))
SMOOTH_SIGMA = 1.0


def _local(rotations: np.ndarray, directions: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """cur_from_prev [N, 4, 4] from prev_from_cur rotations, unit directions of travel in the
    previous camera and distances."""
    prev_from_cur = np.tile(np.eye(4), (len(rotations), 1, 1))
    prev_from_cur[:, :3, :3] = rotations
    prev_from_cur[:, :3, 3] = directions * distances[:, None]
    return np.linalg.inv(prev_from_cur)


def anatomy(world_from_cam: np.ndarray) -> dict:
    """Constant-forward's 5-frame ATE and the hybrids' ATE / constant-forward's."""
    from scipy.ndimage import gaussian_filter1d

    from depth_ros.evaluation.trajectory import ate_5frame_from_local, local_from_global

    gt = local_from_global(world_from_cam)  # cur_from_prev
    prev_from_cur = np.linalg.inv(gt)
    rotations, steps = prev_from_cur[:, :3, :3], prev_from_cur[:, :3, 3]
    distances = np.linalg.norm(steps, axis=1)
    directions = steps / np.maximum(distances, 1e-12)[:, None]
    n = len(gt)
    forward, ones, still = np.tile([0.0, 0.0, 1.0], (n, 1)), np.ones(n), np.tile(np.eye(3),
                                                                                 (n, 1, 1))
    mean_dir = directions.mean(axis=0)
    mean_dir /= np.linalg.norm(mean_dir)
    smoothed = world_from_cam.copy()
    smoothed[:, :3, 3] = gaussian_filter1d(world_from_cam[:, :3, 3], SMOOTH_SIGMA, axis=0,
                                           mode='nearest')
    hybrids = {
        '+ true rotation': _local(rotations, forward, ones),
        '+ true speed': _local(still, forward, distances),
        '+ true direction': _local(still, directions, ones),
        '+ mean direction, true rotation': _local(rotations, np.tile(mean_dir, (n, 1)), ones),
        'smoothed truth': local_from_global(smoothed),
    }
    cf = ate_5frame_from_local(gt, _local(still, forward, ones)).mean
    return {'constant_forward_ate_5frame': cf, 'frames': n + 1,
            'speed_cv': float(distances.std() / distances.mean()),
            'mean_direction': mean_dir.tolist(),
            'direction_std_xy': directions[:, :2].std(axis=0).tolist(),
            'vs_constant_forward': {k: ate_5frame_from_local(gt, v).mean / cf
                                    for k, v in hybrids.items()}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--shared', type=Path, default=SHARED)
    p.add_argument('--out', type=Path, default=ROOT / 'docs' / 'learning'
                   / 'constant_forward_anatomy')
    args = p.parse_args(argv)
    from depth_ros.evaluation.kitti_sequence import load_kitti_sequence

    results = {name: anatomy(load_kitti_sequence(args.shared / rel).world_from_cam)
               for name, rel in EVAL_SETS.items()}
    names = list(next(iter(results.values()))['vs_constant_forward'])
    lines = ['| set | constant-forward ATE (m) | speed CV | mean direction (x, y) | '
             + ' | '.join(names) + ' |', '|---' * (4 + len(names)) + '|']
    for name, r in results.items():
        mx, my = r['mean_direction'][:2]
        lines.append(f"| {name} | {r['constant_forward_ate_5frame']:.4f} | {r['speed_cv']:.3f} "
                     f'| {mx:+.4f}, {my:+.4f} | '
                     + ' | '.join(f"{r['vs_constant_forward'][k]:.2f}x" for k in names) + ' |')
    write_results(args.out, 'anatomy', results, '\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
