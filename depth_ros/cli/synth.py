"""`depth-ros synth`: render a synthetic driving sequence with exact depth and poses.

Example:
    depth-ros synth --out /tmp/synth --seed 3 --frames 50
writes /tmp/synth/sequences/00/{image_2,depth_2,times.txt,calib.txt,synth.json} and
/tmp/synth/poses/00.txt (KITTI odometry layout; depth as KITTI 16-bit PNG, metres * 256).
"""
from __future__ import annotations

import argparse
import os
import time

from depth_ros.memory import keep_heap_warm
from depth_ros.synth import DEFAULT_CAMERA_HEIGHT_M, DEFAULT_SUPERSAMPLE, generate_sequence


NAME = 'synth'
HELP = 'render a synthetic driving sequence with ground-truth depth and poses (KITTI layout)'
# Spawning workers costs about a second; it pays off on long sequences only.
PARALLEL_FROM_FRAMES = 200


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--out', required=True, metavar='DIR', help='output folder')
    parser.add_argument('--seed', type=int, default=0, help='scene and motion seed (default 0)')
    parser.add_argument('--frames', type=int, default=100,
                        help='number of frames at 10 Hz, at least 2 (default 100)')
    parser.add_argument('--sequence', default='00', metavar='XX',
                        help='KITTI sequence id (default 00)')
    parser.add_argument('--width', type=int, default=640, help='image width (default 640)')
    parser.add_argument('--height', type=int, default=192, help='image height (default 192)')
    parser.add_argument('--camera-height', type=float, default=DEFAULT_CAMERA_HEIGHT_M,
                        metavar='M', help='camera height above the road in metres '
                        f'(default {DEFAULT_CAMERA_HEIGHT_M}, KITTI)')
    parser.add_argument('--workers', type=int, default=None,
                        help='rendering processes; the output does not depend on it (default: 1 '
                        f'below {PARALLEL_FROM_FRAMES} frames, else min(2, CPU count))')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace the frames of an existing sequence')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    parser.add_argument('--supersample', type=int, default=DEFAULT_SUPERSAMPLE, metavar='K',
                        help='K x K rays a pixel, colours averaged (odd K; default '
                             f'{DEFAULT_SUPERSAMPLE}; 1: one ray, jagged silhouettes, about 8x '
                             'faster)')


def run(args: argparse.Namespace) -> int:
    keep_heap_warm()  # rendering allocates MB-sized arrays per frame (depth_ros.memory)
    workers = args.workers
    if workers is None:
        workers = 1 if args.frames < PARALLEL_FROM_FRAMES else min(2, os.cpu_count() or 1)
    start = time.perf_counter()
    seq = generate_sequence(args.out, args.seed, args.frames, sequence=args.sequence,
                            width=args.width, height=args.height,
                            camera_height_m=args.camera_height, progress=not args.no_progress,
                            overwrite=args.overwrite, workers=workers,
                            supersample=args.supersample)
    elapsed = time.perf_counter() - start
    k = seq.intrinsics
    print(f'wrote {len(seq.image_paths)} frames {k.width}x{k.height} (seed {seq.seed}) to '
          f'{seq.sequence_dir} and {seq.poses_path} in {elapsed:.1f} s')
    return 0
