"""Dense depth from a teacher network, at full resolution, for real training video without LiDAR.

The trainer's distillation (`training.losses.distillation`) feeds its teacher the student's own
frames (416x128 for `default`): `real_640x192` run at 512x160 with the mirror average scores
dev abs_rel 0.168 on full-resolution frames but 0.178 on that upsampled view
(docs/learning/real_world_recipe.md, "Session 14"), no better than `default` with the mirror.
This writes what the teacher sees at full resolution instead, as KITTI depth-benchmark PNGs
(uint16 metres x 256) in `depth_<camera>/` of each sequence, where the trainer's depth
supervision (`loss.depth_supervision_weight`, scale-invariant log error) finds them as it finds
LiDAR. The data loader crops and resizes them with the frames (nearest neighbour), so the
student at any size learns the teacher's full-resolution depth.

With `--sparse-root R`, a frame that also has sparse depth in `R/sequences/<name>/depth_<c>/`
(training.data.geometric_depth's triangulated corners) gets the teacher's depth scaled by the
median sparse / teacher ratio at those pixels (when at least `--min-sparse` of them), then the
sparse depths written over it: the teacher's structure, two-view geometry's scale and points.

With `--refinement tracks`, the teacher's depth of each frame is corrected as the node's
`depth_refinement: tracks` corrects what it publishes (`depth_ros.pipeline.track_depth`: corners
tracked through the sequence in frame order, triangulated over a long baseline); on the dev drive
that takes the teacher from abs_rel 0.168 to 0.153 (docs/learning/real_world_recipe.md,
"Session 24"). A gap in the frame numbering restarts the tracks.

Run: `python -m training.data.teacher_depth --root runs/real_mix_teacher --sequences A B \
      --weights real_640x192 --input-size 512x160 --flip-average`
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

from depth_ros.errors import InputError
from depth_ros.geometry.intrinsics import kitti_intrinsics
from depth_ros.inference.image_io import read_image
from depth_ros.pipeline.epipolar import grey_image
from depth_ros.pipeline.track_depth import DEPTH_REFINEMENTS, TrackRefiner
from depth_ros.sizes import input_size_arg
from depth_ros.synth.writer import encode_depth
from training.data.depth_folders import add_tree_arguments, depth_folder, run_cli, sequence_dirs
from training.data.images import load_depth_png
from training.data.kitti_odometry import sequence_frames


logger = logging.getLogger(__name__)
MAX_METRES = 255.0  # the PNG encoding's range (uint16 / 256)


MIN_SPARSE_POINTS = 20  # sparse points a frame needs before they set its scale


def merge_sparse(dense_m: np.ndarray, sparse_m: np.ndarray,
                 min_points: int = MIN_SPARSE_POINTS) -> tuple[np.ndarray, float | None]:
    """The teacher's [H, W] depth scaled to the sparse points' median ratio, the sparse points
    written over it; (dense unchanged, None) when fewer than `min_points` points."""
    if sparse_m.shape != dense_m.shape:
        raise InputError(f'sparse depth {sparse_m.shape} and teacher depth {dense_m.shape} '
                         'differ in size')
    points = (sparse_m > 0) & (dense_m > 0)
    if int(points.sum()) < min_points:
        return dense_m, None
    ratio = float(np.median(sparse_m[points] / dense_m[points]))
    out = dense_m * ratio
    out[sparse_m > 0] = sparse_m[sparse_m > 0]
    return out, ratio


def write_sequence(sequence_dir: Path, predictor, camera: int = 2,
                   sparse_dir: Path | None = None, min_points: int = MIN_SPARSE_POINTS,
                   refiner: TrackRefiner | None = None) -> dict[str, float]:
    """Write `depth_<camera>/NNNNNN.png` (the teacher's metres, corrected by `refiner` when
    given) for every frame of one sequence (the folder appears whole when done, replacing one
    that was there); returns counts."""
    frames = sequence_frames(sequence_dir, camera)
    merged, ratios, refined, previous, intrinsics = 0, [], 0, None, None
    with depth_folder(sequence_dir, camera) as out_dir:
        for number in tqdm(sorted(frames), desc=sequence_dir.name, unit='frame'):
            image = read_image(frames[number])
            depth = predictor.predict(image).depth_m.astype(np.float32)
            if refiner is not None:
                if intrinsics is None:
                    intrinsics = kitti_intrinsics(sequence_dir / 'calib.txt', camera,
                                                  image.shape[1], image.shape[0])
                if previous is not None and number != previous + 1:
                    refiner.reset()  # a gap in the numbering: no tracks across it
                points = refiner.measure(grey_image(image), intrinsics)
                refined += points.status == 'points'
                depth = refiner.refine(depth, points)
                previous = number
            sparse = None if sparse_dir is None else sparse_dir / f'{number:06d}.png'
            if sparse is not None and sparse.is_file():
                depth, ratio = merge_sparse(depth, load_depth_png(sparse), min_points)
                if ratio is not None:
                    merged += 1
                    ratios.append(ratio)
            depth = np.where(np.isfinite(depth), np.clip(depth, 0.0, MAX_METRES), 0.0)
            Image.fromarray(encode_depth(depth)).save(out_dir / f'{number:06d}.png')
    return {'frames': len(frames), 'merged': merged, 'refined': refined,
            'median_ratio': float(np.median(ratios)) if ratios else float('nan')}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_tree_arguments(p)
    p.add_argument('--weights', required=True, help='teacher weights (file or packaged name)')
    p.add_argument('--input-size', type=input_size_arg, default=None, metavar='WxH',
                   help="the teacher's network input size (default: the weights' own)")
    p.add_argument('--flip-average', action='store_true',
                   help="the teacher's depth is the mean of the image's and its mirror's")
    p.add_argument('--refinement', choices=DEPTH_REFINEMENTS, default='none',
                   help="'tracks': correct the teacher's depth with corners triangulated over "
                        'a long baseline, as the node does (default none)')
    p.add_argument('--sparse-root', type=Path, default=None,
                   help='a tree with sparse depth (training.data.geometric_depth) to merge')
    p.add_argument('--min-sparse', type=int, default=MIN_SPARSE_POINTS,
                   help='sparse points a frame needs before they set its scale')
    args = p.parse_args(argv)
    return run_cli(lambda: _write_all(args))


def _write_all(args: argparse.Namespace) -> None:
    from depth_ros.inference.predictor import Predictor
    dirs = sequence_dirs(args)
    predictor = Predictor.from_checkpoint(
        args.weights, flip_average=args.flip_average, input_size=args.input_size)
    for sequence_dir in dirs:
        sparse_dir = (None if args.sparse_root is None else args.sparse_root / 'sequences'
                      / sequence_dir.name / f'depth_{args.camera}')
        refiner = TrackRefiner() if args.refinement == 'tracks' else None
        counts = write_sequence(sequence_dir, predictor, args.camera, sparse_dir,
                                args.min_sparse, refiner)
        logger.info('%s: teacher depth on %d frames, %d refined by tracks, %d merged with '
                    'sparse depth (median sparse / teacher %.3f)', sequence_dir.name,
                    counts['frames'], counts['refined'], counts['merged'],
                    counts['median_ratio'])


if __name__ == '__main__':
    sys.exit(main())
