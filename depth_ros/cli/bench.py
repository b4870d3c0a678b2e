"""`depth-ros bench`: latency, FPS, parameters and GFLOPs of every depth architecture on every
available backend; prints a table and optionally writes JSON."""
from __future__ import annotations

import argparse

from depth_ros.bench.config import BenchConfig
from depth_ros.errors import ConfigError


NAME = 'bench'
HELP = ('benchmark the depth networks (network only and end to end) on every available backend; '
        'prints a table, writes JSON')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = BenchConfig()
    parser.add_argument('--archs', default='',
                        help='comma-separated depth architectures (default: all registered)')
    parser.add_argument('--sizes', default='192x640,320x1024',
                        help='network sizes HxW, comma-separated (default: 192x640,320x1024)')
    parser.add_argument('--batch', default='',
                        help='batch sizes, e.g. 1,4 (default: 1,2 on the CPU, 1,4 on a GPU)')
    parser.add_argument('--backends', default='',
                        help='comma-separated variants, e.g. torch,onnxruntime,tensorrt-fp16 '
                             '(default: every one available on the device except the '
                             'torch.compile ones, e.g. torch-fp16-cl-compile)')
    parser.add_argument('--device', default='auto', help='cpu, cuda[:N] or auto (default)')
    parser.add_argument('--reps', type=int, default=defaults.reps,
                        help=f'most timed repetitions per measurement (default {defaults.reps})')
    parser.add_argument('--min-reps', type=int, default=defaults.min_reps,
                        help=f'fewest timed repetitions (default {defaults.min_reps})')
    parser.add_argument('--warmup', type=int, default=defaults.warmup,
                        help=f'untimed calls first (default {defaults.warmup})')
    parser.add_argument('--budget', type=float, default=defaults.budget_s,
                        help='seconds of timed calls per measurement; slow ones get fewer reps '
                             f'(default {defaults.budget_s})')
    parser.add_argument('--threads', type=int, default=None,
                        help='CPU threads for torch and onnxruntime (default: theirs)')
    parser.add_argument('--no-end-to-end', action='store_true',
                        help='network only (skip Predictor on a 375x1242 image)')
    parser.add_argument('--json', default=None, help='also write the results to this file')


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    if args.reps < 1 or args.min_reps < 1 or args.warmup < 0 or args.budget <= 0:
        raise ConfigError('--reps and --min-reps must be >= 1, --warmup >= 0, --budget > 0')
    return BenchConfig(archs=_names(args.archs), sizes=tuple(_size(s) for s in _names(args.sizes)),
                       batches=tuple(_positive_int(b, '--batch') for b in _names(args.batch)),
                       backends=_names(args.backends), device=args.device, reps=args.reps,
                       warmup=args.warmup, min_reps=min(args.min_reps, args.reps),
                       budget_s=args.budget, threads=args.threads,
                       end_to_end=not args.no_end_to_end)


def run(args: argparse.Namespace) -> int:
    from depth_ros.bench import format_table, run_benchmark, write_json

    report = run_benchmark(config_from_args(args))
    print(format_table(report))
    if args.json:
        print(f'wrote {write_json(report, args.json)}')
    return 0


def _names(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(',') if t.strip())


def _size(text: str) -> tuple[int, int]:
    parts = text.lower().split('x')
    if len(parts) != 2:
        raise ConfigError(f'size {text!r} is not HxW (e.g. 192x640)')
    return _positive_int(parts[0], '--sizes'), _positive_int(parts[1], '--sizes')


def _positive_int(text: str, option: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(f'{option}: {text!r} is not a positive integer')
    return value
