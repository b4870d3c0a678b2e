"""Sparse depth from two-view geometry for real training video that has no LiDAR.

A real frame without ground truth only teaches the depth network through the photometric loss,
whose pose comes from a pose network that learned "drive straight"
(docs/learning/real_world_recipe.md). Two-view geometry measures the motion far better
(`depth_ros.pipeline.epipolar`: on KITTI 06 / 01 its 5-frame ATE is 0.34x / 0.26x
constant-forward) and triangulates the corners it tracks. Those depths, in the metres of the
depth network that sets the distance travelled, are written as KITTI depth-benchmark PNGs
(uint16 metres x 256, 0 = none) in `depth_<camera>/` of each sequence, where the trainer's depth
supervision (`loss.depth_supervision_weight`, scale-invariant log error) finds them as it finds
LiDAR. Frame i gets the corners of the pair (i, i+1) that are inliers of the essential matrix,
were tracked from frame i-1 with a triangulation that agrees within 5 %, and are seen at least
`min_parallax_deg` apart (Klodt & Vedaldi, "Supervising the new with the old", ECCV 2018, use
SfM points the same way). On the dev drive's LiDAR these depths score abs_rel 0.088 median-scaled
where the depth network scores 0.180 at the same pixels (0.147 unscaled: their metres are the
network's). Frames of a still camera, the first and last of a sequence, or whose pair cannot be
measured, get no file.

Run: `python -m training.data.geometric_depth --root runs/real_mix --weights W --sequences A B`
(sequences that already have `depth_<camera>/` are refused unless --replace).
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
import sys

import numpy as np
from PIL import Image
from tqdm import tqdm

from depth_ros.geometry.intrinsics import kitti_intrinsics
from depth_ros.inference.image_io import read_image
from depth_ros.pipeline.epipolar import EpipolarOdometry, grey_image
from depth_ros.pipeline.epipolar_config import EpipolarConfig
from depth_ros.synth.writer import encode_depth
from training.data.depth_folders import add_tree_arguments, depth_folder, run_cli, sequence_dirs
from training.data.kitti_odometry import sequence_frames


logger = logging.getLogger(__name__)
# How corners are tracked for training depth. 'recipe': session 8's tracking, with which the
# shipped weights were trained (run i). The odometry's session-9 tracking ('odometry': weak dense
# corners, none on depth edges, 9 px window) gives sparser, more accurate points (dev LiDAR
# abs_rel 0.049 vs 0.070), yet phase 3 trained on them held out worse (dev 0.191 vs 0.184 after
# the same 226 steps): docs/learning/real_world_recipe.md, "Session 9".
TRACKING = {'recipe': EpipolarConfig(corner_quality=0.01, corner_spacing_px=7.0, lk_window_px=21,
                                     fb_max_px=1.0, max_depth_contrast=0.0, absolute_sigma=0.1,
                                     direction_smoothing=0.7, turn_compensation=False,
                                     still_holds_reference=False, cheirality_baselines=50.0),
            'odometry': EpipolarConfig()}


def sparse_depth_map(shape: tuple[int, int], pixels: np.ndarray,
                     depth_m: np.ndarray) -> np.ndarray:
    """[H, W] float32 metres, 0 where no point fell (the nearest point wins a shared pixel)."""
    out = np.zeros(shape, np.float32)
    rows = np.round(pixels[:, 1]).astype(int)
    cols = np.round(pixels[:, 0]).astype(int)
    inside = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1]) & (depth_m > 0)
    order = np.argsort(-depth_m[inside])  # far first, so the nearest is written last
    out[rows[inside][order], cols[inside][order]] = depth_m[inside][order]
    return out


def write_sequence(sequence_dir: Path, predictor, camera: int = 2,
                   config: EpipolarConfig | None = None) -> dict[str, int]:
    """Write `depth_<camera>/NNNNNN.png` for the frames of one sequence (the folder appears
    whole when done, replacing one that was there); returns counts."""
    frames = sequence_frames(sequence_dir, camera)
    numbers = sorted(frames)
    first = read_image(frames[numbers[0]])
    intr = kitti_intrinsics(sequence_dir / 'calib.txt', camera, first.shape[1], first.shape[0])
    odometry, written, points = EpipolarOdometry(config), 0, 0
    previous = None
    with depth_folder(sequence_dir, camera) as out_dir:
        for number in tqdm(numbers, desc=sequence_dir.name, unit='frame'):
            image = read_image(frames[number])
            if previous is not None and number != previous + 1:
                odometry.reset()  # a gap in the numbering: no pair across it
            step = odometry.step(grey_image(image), predictor.predict(image).depth_m, intr)
            if step.status == 'motion' and len(step.previous_depth_m):
                depth = sparse_depth_map(image.shape[:2], step.previous_pixels,
                                         step.previous_depth_m)
                Image.fromarray(encode_depth(depth)).save(out_dir / f'{previous:06d}.png')
                written, points = written + 1, points + int((depth > 0).sum())
            previous = number
    return {'frames': len(numbers), 'written': written, 'points': points}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_tree_arguments(p)
    p.add_argument('--weights', default=None, help="depth weights (default: the package's)")
    p.add_argument('--metres-per-unit', type=float, default=None,
                   help="override the weights' calibration (an uncalibrated training "
                        'checkpoint: benchmarks/train_real.py metres_per_unit)')
    p.add_argument('--tracking', choices=sorted(TRACKING), default='recipe',
                   help="corner tracking: 'recipe' (the shipped weights were trained with it) "
                        "or 'odometry' (the epipolar odometry's own defaults)")
    args = p.parse_args(argv)
    return run_cli(lambda: _write_all(args))


def _write_all(args: argparse.Namespace) -> None:
    from depth_ros.inference.predictor import Predictor
    dirs = sequence_dirs(args)
    predictor = Predictor.from_checkpoint(args.weights)
    if args.metres_per_unit is not None:
        predictor = Predictor(predictor.backend, predictor.meta, args.metres_per_unit)
    for sequence_dir in dirs:
        counts = write_sequence(sequence_dir, predictor, args.camera, TRACKING[args.tracking])
        logger.info('%s: sparse depth on %d of %d frames, %.0f points a frame',
                    sequence_dir.name, counts['written'], counts['frames'],
                    counts['points'] / max(counts['written'], 1))


if __name__ == '__main__':
    sys.exit(main())
