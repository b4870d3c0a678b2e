"""What each packaged weights file costs the node per frame on this machine.

`Predictor.predict` (depth at the weights' input size, resized back) and `relative_pose` on a real
1242x375 KITTI frame, per packaged name and backend, timed interleaved (medians and p90 in ms)
with the ratio to `default` on the same backend. Depth quality is benchmarks/real_world.py's job;
this says what the better depth of `real_640x192` costs on a CPU.

Run from the repository root:
    PYTHONPATH=. python benchmarks/weights_cost.py [--threads 1] [--backends torch onnxruntime]
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import sys

import numpy as np
from real_world_report import write_whole
import torch

from depth_ros.bench.runner import machine_info
from depth_ros.bench.timing import compare
from depth_ros.inference import Predictor
from depth_ros.inference.image_io import read_image
from depth_ros.inference.predictor import PACKAGED_WEIGHTS, default_weights_path
from depth_ros.sizes import input_size_arg


ROOT = Path(__file__).resolve().parents[1]
FRAME = Path('data/real/dev/kitti_raw_0926_0005/sequences/0926_0005/image_2/000000.jpg')


def frame(shared: Path) -> np.ndarray:
    """A real 1242x375 camera frame, or a seeded random one where ../shared is absent."""
    path = shared / FRAME
    if path.is_file():
        return read_image(path)
    print(f'{path} not found: timing a random 375x1242 image', file=sys.stderr)
    return np.random.default_rng(0).integers(0, 255, (375, 1242, 3), np.uint8)


def _variant(text: str) -> tuple[str, tuple[int, int], bool]:
    """'NAME@WxH[+flip]' -> (name, (height, width), flip)."""
    flip = text.endswith('+flip')
    name, _, size = text.removesuffix('+flip').partition('@')
    if name not in PACKAGED_WEIGHTS or not size:
        raise argparse.ArgumentTypeError(f'{text!r}: expected NAME@WxH[+flip] with NAME one of '
                                         f"{', '.join(PACKAGED_WEIGHTS)}")
    return name, input_size_arg(size), flip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--threads', type=int, default=1, help='torch intra-op threads')
    parser.add_argument('--backends', nargs='+', default=['torch', 'onnxruntime'],
                        choices=['torch', 'onnxruntime'])
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--shared', type=Path,
                        default=Path(os.environ.get('DEPTH_ROS_SHARED', ROOT.parent / 'shared')))
    parser.add_argument('--json', type=Path, help='also write the figures to this file')
    parser.add_argument('--also', action='append', default=[], type=_variant,
                        metavar='NAME@WxH[+flip]',
                        help="also time packaged weights at another input size (the node's "
                             'input_size), +flip with flip_average; repeatable, e.g. '
                             'real_640x192@512x160+flip')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    image = frame(args.shared)
    variants = [(n, None, False) for n in PACKAGED_WEIGHTS if default_weights_path(n) is not None]
    fns, sizes = {}, {}
    for backend in args.backends:
        for name, size, flip in variants + args.also:
            predictor = Predictor.from_checkpoint(name, backend=backend, input_size=size,
                                                  flip_average=flip)
            label = name + (f'@{size[1]}x{size[0]}' if size else '') + ('+flip' if flip else '')
            sizes[label] = f'{predictor.meta.width}x{predictor.meta.height}'
            fns[f'{label}/{backend}'] = (
                lambda p=predictor: (p.predict(image), p.relative_pose(image, image)))
    timings = compare(fns, torch.device('cpu'), rounds=args.rounds, reps=args.reps)
    info = machine_info(torch.device('cpu'))
    print(f'machine: {info}; torch threads {args.threads}; 375x1242 frame, predict + '
          f'relative_pose, {args.rounds} rounds x {args.reps} calls')
    print('| weights | input | backend | median ms | p90 ms | x default |')
    print('|---|---|---|---|---|---|')
    rows = []
    for key, timing in timings.items():
        name, backend = key.split('/')
        ratio = timing.median_ms / timings[f'default/{backend}'].median_ms
        rows.append({'weights': name, 'input': sizes[name], 'backend': backend,
                     'median_ms': timing.median_ms, 'p90_ms': timing.p90_ms,
                     'x_default': ratio})
        print(f'| {name} | {sizes[name]} | {backend} | {timing.median_ms:.0f} | '
              f'{timing.p90_ms:.0f} | {ratio:.2f} |')
    if args.json:
        write_whole(args.json, json.dumps({'machine': info, 'threads': args.threads,
                                           'rows': rows}, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
