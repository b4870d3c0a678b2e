"""How well do the dev drive's GPS/INS poses know each frame's motion? A LiDAR-based check.

The dev drive (KITTI raw 2011_09_26_drive_0005) has poses from the car's GPS/INS, not KITTI's
official odometry poses. Frame-to-frame, three independent estimates of the direction of travel
are compared:

- gps: the poses file;
- lidar: corners tracked into the next frame (pyramidal Lucas-Kanade) with the LiDAR depth of
  the first frame (the nearest return within a pixel), solved by PnP with RANSAC: metric, and
  independent of both the GPS and the depth network;
- epipolar: the package's epipolar odometry (`depth_ros.pipeline.epipolar`) with the default
  weights' depth.

If the GPS/INS poses knew each step, lidar and epipolar would scatter around them; if they
agree with each other and not with the GPS/INS, the GPS/INS steps are the noisy ones, and no
odometry can score well against them on the 5-frame ATE (which aligns 5-frame snippets). The
script prints the spread of the direction differences and the 5-frame ATE / constant-forward
of each estimate, and writes dev_truth_check.{json,md}.

Run: `python benchmarks/dev_truth_check.py [--out docs/learning/dev_truth_check]`.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
import sys

import numpy as np
from tqdm import tqdm


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'benchmarks'))

from real_world_report import EVAL_SETS, write_results  # noqa: E402

from depth_ros.evaluation import baselines as bl  # noqa: E402
from depth_ros.evaluation.trajectory import ate_5frame_from_local, local_from_global  # noqa: E402
from depth_ros.geometry.se3 import invert  # noqa: E402


SHARED = Path(os.environ.get('DEPTH_ROS_SHARED', ROOT.parent / 'shared'))
DEV = 'dev_0926_0005'


def lidar_pnp(cv2, grey_a, grey_b, lidar_a, k) -> np.ndarray | None:
    """current_from_previous from LiDAR depth at corners of `a` and their tracks in `b`."""
    corners = cv2.goodFeaturesToTrack(grey_a, 3000, 0.005, 5)
    tracked, ok, _ = cv2.calcOpticalFlowPyrLK(grey_a, grey_b, corners, None, winSize=(21, 21),
                                              maxLevel=3)
    a, b = corners.reshape(-1, 2)[ok.ravel() == 1], tracked.reshape(-1, 2)[ok.ravel() == 1]
    nearest = np.where(lidar_a > 0, lidar_a, np.inf)
    nearest = cv2.erode(nearest.astype(np.float32), np.ones((3, 3), np.uint8))  # min of 3x3
    z = nearest[np.clip(np.round(a[:, 1]).astype(int), 0, lidar_a.shape[0] - 1),
                np.clip(np.round(a[:, 0]).astype(int), 0, lidar_a.shape[1] - 1)]
    keep = np.isfinite(z) & (z < 60)
    if keep.sum() < 12:
        return None
    xyz = np.linalg.solve(k, np.c_[a[keep], np.ones(keep.sum())].T).T * z[keep, None]
    found, rvec, tvec, _ = cv2.solvePnPRansac(xyz, b[keep], k, None, reprojectionError=1.0,
                                              iterationsCount=500)
    if not found:
        return None
    pose = np.eye(4)
    pose[:3, :3], pose[:3, 3] = cv2.Rodrigues(rvec)[0], tvec.ravel()
    return pose


def _directions(prev_from_cur: np.ndarray) -> np.ndarray:
    t = prev_from_cur[:, :3, 3]
    return t / np.linalg.norm(t, axis=1, keepdims=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--shared', type=Path, default=SHARED)
    p.add_argument('--out', type=Path, default=ROOT / 'docs' / 'learning' / 'dev_truth_check')
    args = p.parse_args(argv)
    import cv2
    import torch
    torch.set_num_threads(1)

    from depth_ros.evaluation.kitti_sequence import load_kitti_sequence
    from depth_ros.geometry.intrinsics import kitti_intrinsics
    from depth_ros.inference.image_io import read_image
    from depth_ros.inference.predictor import Predictor
    from depth_ros.pipeline.epipolar import EpipolarOdometry, camera_matrix, grey_image

    seq = load_kitti_sequence(args.shared / EVAL_SETS[DEV])
    n, predictor, epipolar = len(seq), Predictor.from_checkpoint(), EpipolarOdometry()
    gps = local_from_global(seq.world_from_cam[:n])  # cur_from_prev
    lidar, epi, greys, last = [], [], [], np.eye(4)
    for i in tqdm(range(n), desc=DEV, unit='frame'):
        image = read_image(seq.image_paths[i])
        if i == 0:
            intr = kitti_intrinsics(seq.calib_path, seq.camera, image.shape[1], image.shape[0])
        greys.append(grey_image(image))
        step = epipolar.step(greys[-1], predictor.predict(image).depth_m, intr)
        if i == 0:
            continue
        if step.previous_from_current is not None:
            last = invert(step.previous_from_current)
        epi.append(last)
        pose = lidar_pnp(cv2, greys[-2], greys[-1], seq.depth_reader(i - 1), camera_matrix(intr))
        lidar.append(pose if pose is not None else (lidar[-1] if lidar else np.eye(4)))
    estimates = {'gps': gps, 'lidar': np.stack(lidar), 'epipolar': np.stack(epi)}
    dirs = {k: _directions(invert(v)) for k, v in estimates.items()}
    forward = ate_5frame_from_local(gps, local_from_global(bl.constant_forward_poses(n))).mean
    spread = {f'{a} - {b}': np.degrees((dirs[a] - dirs[b])[:, :2].std(axis=0)).tolist()
              for a, b in (('gps', 'lidar'), ('epipolar', 'lidar'), ('gps', 'epipolar'))}
    ate = {k: ate_5frame_from_local(gps, v).mean / forward for k, v in estimates.items()
           if k != 'gps'}
    results = {'set': DEV, 'pairs': n - 1, 'constant_forward_ate_5frame_m': forward,
               'direction_difference_std_deg_xy': spread, 'ate_5frame_vs_constant_forward': ate}
    lines = [f'# {DEV}: frame-to-frame direction of travel, three estimates', '',
             '| pair of estimates | std of the direction difference, x / y (deg) |', '|---|---|']
    lines += [f'| {k} | {v[0]:.2f} / {v[1]:.2f} |' for k, v in spread.items()]
    lines += ['', '| estimate | 5-frame ATE against the GPS/INS poses / constant-forward |',
              '|---|---|'] + [f'| {k} | {v:.2f}x |' for k, v in ate.items()]
    write_results(args.out, 'dev_truth_check', results, '\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
