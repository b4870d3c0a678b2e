"""How much `depth-ros evaluate` adds to the networks' own time (target: at most 15 %).

The networks' own time is a loop of `Predictor.prepare` + `predict` + `relative_pose` over frames
already decoded in memory: exactly the calls `evaluate_bag` makes per frame. The overhead is
everything else `evaluate_bag` does: reading the bag (twice: stamps first, then frames),
message conversions, writing the result bag, stamp pairing and the metrics. Plots are written
once per run and are timed apart.

Frames: the real KITTI 06 frames in ../shared (51, 1226x370 grey) by default, a synthetic
sequence with --synthetic, or any KITTI odometry folder with --sequence-dir. Networks:
ResNet-18 depth + pose at 192x640 (random weights unless --weights), on the CPU.

    .venv/bin/python benchmarks/evaluate_overhead.py --frames 20 --threads 1
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
import math
import os
from pathlib import Path
import shutil
import sys
import tempfile
import time

import numpy as np


ROOT = Path(__file__).resolve().parents[1]
SHARED_06 = Path(os.environ.get('DEPTH_ROS_SHARED', ROOT.parent / 'shared')) / (
    'data/kitti_odometry/sequences/06')
TARGET = 0.15


@dataclass
class Timing:
    wall_s: float
    cpu_s: float


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--frames', type=int, default=20, help='frames to replay (default 20)')
    parser.add_argument('--sequence-dir', type=Path, default=None,
                        help='KITTI odometry sequence folder (default: ../shared KITTI 06)')
    parser.add_argument('--synthetic', action='store_true',
                        help='render a synthetic sequence (seed 2026, 640x192) instead')
    parser.add_argument('--weights', default=None, help='checkpoint (default: random ResNet-18)')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch CPU threads (default 1: a shared machine times more '
                             'steadily single-threaded)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--storage', default='sqlite3', choices=('sqlite3', 'mcap'))
    parser.add_argument('--repeats', type=int, default=1,
                        help='repeat both measurements, keep the fastest of each')
    return parser.parse_args()


def _trimmed_sequence(source: Path, frames: int, work: Path) -> tuple[Path, Path | None]:
    """A copy of the first `frames` frames of a KITTI sequence (symlinked images)."""
    seq = work / 'sequences' / source.name
    for folder in sorted(source.glob('image_*')) + sorted(source.glob('depth_*')):
        (seq / folder.name).mkdir(parents=True)
        for path in sorted(folder.iterdir())[:frames]:
            (seq / folder.name / path.name).symlink_to(path.resolve())
    shutil.copy(source / 'calib.txt', seq / 'calib.txt')
    if (source / 'times.txt').is_file():
        lines = (source / 'times.txt').read_text().splitlines()[:frames]
        (seq / 'times.txt').write_text('\n'.join(lines) + '\n')
    poses = source.parent.parent / 'poses' / f'{source.name}.txt'
    return seq, poses if poses.is_file() else None


def _source(args: argparse.Namespace, work: Path) -> tuple[Path, Path | None]:
    if args.synthetic:
        from depth_ros.synth import generate_sequence
        print(f'rendering {args.frames} synthetic frames (not timed)')
        generate_sequence(work / 'synth', seed=2026, frames=args.frames, width=640, height=192)
        return work / 'synth' / 'sequences' / '00', None
    source = args.sequence_dir or SHARED_06
    if not source.is_dir():
        sys.exit(f'no sequence at {source}: pass --sequence-dir or --synthetic')
    return _trimmed_sequence(source, args.frames, work)


def _timed(fn, *a, **kw) -> tuple[object, Timing]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*a, **kw)
    return out, Timing(time.perf_counter() - wall, time.process_time() - cpu)


def _network_loop(predictor, frames: list[np.ndarray]) -> None:
    """The per-frame calls of evaluate_bag, on frames already in memory."""
    prev = None
    for rgb in frames:
        prepared = predictor.prepare(rgb)
        predictor.predict(prepared)
        if prev is not None:
            predictor.relative_pose(prev, prepared)
        prev = prepared


def _decoded_frames(bag: Path) -> list[np.ndarray]:
    from depth_ros.evaluation.bag_io import BagReader
    from depth_ros.ros.codecs import image_to_rgb

    with BagReader(bag) as reader:
        return [image_to_rgb(decode()) for _, _, _, decode in reader.messages(
            ['/camera/image_raw'])]


def _report(frames: int, net: Timing, evaluation: Timing, inside: dict, plots_s: float) -> None:
    print(f'\nframes: {frames}')
    print(f'networks alone : {net.wall_s:7.2f} s wall ({frames / net.wall_s:5.2f} frames/s), '
          f'{net.cpu_s:7.2f} s CPU')
    print(f'evaluate_bag   : {evaluation.wall_s:7.2f} s wall ({frames / evaluation.wall_s:5.2f} '
          f'frames/s), {evaluation.cpu_s:7.2f} s CPU')
    wall = (evaluation.wall_s - net.wall_s) / net.wall_s
    cpu = (evaluation.cpu_s - net.cpu_s) / net.cpu_s
    print(f'overhead       : {100 * wall:6.1f} % wall, {100 * cpu:6.1f} % CPU '
          f'(target <= {100 * TARGET:.0f} %)')
    print(f'overhead inside the same run (total - time in predictor calls): '
          f'{100 * inside["overhead_ratio"]:.1f} %')
    print(f'plots (once per run, not in the ratio): {plots_s:.2f} s')
    verdict = 'MET' if max(cpu, inside['overhead_ratio']) <= TARGET else 'NOT MET'
    print(f'target {verdict}')


def main() -> int:
    args = _parse()
    import torch

    from depth_ros.evaluation import plots
    from depth_ros.evaluation.kitti_to_bag import kitti_to_bag
    from depth_ros.evaluation.replay import EvalOptions, evaluate_bag
    from depth_ros.inference import Predictor

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix='depth_ros_bench_') as tmp:
        work = Path(tmp)
        seq, poses = _source(args, work)
        summary = kitti_to_bag(seq, work / 'bag', poses=poses, storage=args.storage)
        predictor = (Predictor.from_checkpoint(args.weights, device=args.device)
                     if args.weights else Predictor.from_random(device=args.device))
        print(f'{summary.frames} frames of {summary.width}x{summary.height}; networks '
              f'{predictor.meta.depth_arch.name} at {predictor.meta.height}x'
              f'{predictor.meta.width}, {args.threads} thread(s), {args.device}')
        frames = _decoded_frames(summary.bag)
        _network_loop(predictor, frames[:2])  # warm-up
        nets, evals = [], []
        for repeat in range(args.repeats):
            nets.append(_timed(_network_loop, predictor, frames)[1])
            out = work / f'eval{repeat}'
            result, timing = _timed(evaluate_bag, summary.bag, predictor, out,
                                    # the pose network: the calls _network_loop times
                                    options=EvalOptions(plots=False, storage=args.storage,
                                                        odometry_source='posenet'))
            evals.append((timing, result))
        net = min(nets, key=lambda t: t.cpu_s)
        evaluation, result = min(evals, key=lambda e: e[0].cpu_s)
        plot_s = math.nan
        if result.gt_world_from_cam is not None:
            plot_s = _timed(plots.plot_trajectory, work / 'trajectory.png',
                            result.gt_world_from_cam,
                            result.world_from_cam[result.gt_frames])[1].wall_s
        _report(len(frames), net, evaluation, result.timing, plot_s)
    return 0


if __name__ == '__main__':
    sys.exit(main())
