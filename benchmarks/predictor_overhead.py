"""Predictor overhead: end to end on a 375x1242 image vs the bare network forward.

ResNet-18 depth network at 192x640, batch 1, on the CPU (random weights: speed does not depend
on their values). Timed interleaved in rounds:
    forward      backend.depth(images) on an already prepared [1,3,192,640] tensor;
    prepare      Predictor.prepare: uint8 HxWx3 -> antialiased resize -> [1,3,192,640];
    end_to_end   Predictor.predict: prepare, forward, sigmoid -> depth, resize back to
                 375x1242, copy to numpy.
Prints the medians and end_to_end / forward (target: <= 1.15).

Run from the repository root:
    PYTHONPATH=. python benchmarks/predictor_overhead.py [--backend onnxruntime] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile

import numpy as np
import torch

from depth_ros.bench.runner import cpu_model, machine_info
from depth_ros.bench.timing import compare
from depth_ros.inference.backends import make_backend
from depth_ros.inference.predictor import Predictor
from depth_ros.models.checkpoint import Checkpoint, CheckpointMeta
from depth_ros.models.etm import fold_for_inference
from depth_ros.models.registry import ArchSpec, build_depth_net


TARGET_RATIO = 1.15


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--arch', default='resnet18')
    parser.add_argument('--backend', default='torch', choices=('torch', 'onnxruntime'))
    parser.add_argument('--threads', type=int, default=None,
                        help='torch intra-op threads (default: torch default)')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--reps', type=int, default=10, help='timed calls per round')
    parser.add_argument('--json', default=None, help='also write the figures to this file')
    return parser.parse_args()


def build_predictor(arch: str, backend: str, cache_dir: str) -> Predictor:
    torch.manual_seed(0)
    net = fold_for_inference(build_depth_net(arch))
    meta = CheckpointMeta(depth_arch=ArchSpec.of(arch), pose_arch=None, height=192, width=640)
    options = {'cache_dir': cache_dir} if backend == 'onnxruntime' else {}
    return Predictor(make_backend(backend, Checkpoint(net, None, meta), torch.device('cpu'),
                                  **options), meta)


def main() -> int:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    image = np.random.default_rng(0).integers(0, 256, (375, 1242, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as cache:
        predictor = build_predictor(args.arch, args.backend, cache)
        prepared = predictor.prepare(image).tensor
        fns = {'forward': lambda: predictor.backend.depth(prepared),
               'prepare': lambda: predictor.prepare(image),
               'end_to_end': lambda: predictor.predict(image)}
        timings = compare(fns, torch.device('cpu'), rounds=args.rounds, reps=args.reps)
    report(args, timings)
    return 0


def report(args: argparse.Namespace, timings: dict) -> None:
    ratio = timings['end_to_end'].median_ms / timings['forward'].median_ms
    print(f'{args.arch} 192x640 batch 1, {args.backend} backend, {cpu_model()}, '
          f'{torch.get_num_threads()} torch threads, load average {os.getloadavg()[0]:.2f}')
    for name, t in timings.items():
        print(f'  {name:11s} median {t.median_ms:8.1f} ms  p90 {t.p90_ms:8.1f}  '
              f'min {t.min_ms:8.1f}  ({t.reps} calls)')
    verdict = 'meets' if ratio <= TARGET_RATIO else 'misses'
    print(f'end_to_end / forward = {ratio:.3f} ({verdict} the <= {TARGET_RATIO} target); '
          f'end_to_end - forward = '
          f'{timings["end_to_end"].median_ms - timings["forward"].median_ms:.1f} ms')
    if args.json:
        figures = {n: vars(t) for n, t in timings.items()}
        with open(args.json, 'w', encoding='utf-8') as f:
            json.dump({'machine': machine_info(torch.device('cpu')), 'args': vars(args),
                       'results': figures, 'ratio': ratio}, f, indent=2)


if __name__ == '__main__':
    raise SystemExit(main())
