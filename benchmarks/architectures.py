"""The papers' architectures side by side: size, cost, CPU latency, and what each learns on the
synthetic world within the same training budget.

For every depth architecture of the registry (default: resnet18, smalldepth, dna_lite0, dual,
drn) this script measures, in one run:
- parameters and GFLOPs of the inference form (ETM folded) at 192x640 (depth_ros.bench.flops);
- CPU latency, batch 1, 192x640, median of repeated forward passes with the current torch
  thread count;
- depth abs_rel (per-image median scaling) and the pose network's 5-frame ATE on the held-out
  synthetic seeds of benchmarks/learning.py, after training for --minutes of wall-clock time on
  the learning benchmark's training sequences (runs/synth_train, generated when missing).

Self-supervised architectures train with config/train_synthetic.yaml (pose_lite pose network)
at --train-size; DRN is a supervised network and trains with training.supervised on the same
frames' rendered depth (marked in the table: its abs_rel is not comparable with the
self-supervised rows, and it has no pose network).

    python benchmarks/architectures.py --minutes 8              # train + evaluate all
    python benchmarks/architectures.py --evaluate-only          # re-use runs/arch_<name>/

Writes docs/architectures/results.json and results.md (the table, the command, the machine).
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import platform
import sys
import time


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'benchmarks'))

import learning  # noqa: E402


ARCHS = ('resnet18', 'smalldepth', 'dna_lite0', 'dual', 'drn')
SUPERVISED = ('drn',)
LATENCY_SIZE = (192, 640)


def main() -> int:
    args = _parse()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    data = ROOT / 'runs' / 'synth_train'
    learning._ensure_training_data(data)
    rows = []
    for arch in args.archs:
        print(f'== {arch}', flush=True)
        row = {'arch': arch, 'supervision': 'depth' if arch in SUPERVISED else 'video'}
        row.update(_cost(arch))
        run_dir = ROOT / 'runs' / f'arch_{arch}'
        start = time.perf_counter()
        if not args.evaluate_only:
            _train(arch, data, run_dir, args)
        row['train_minutes'] = (time.perf_counter() - start) / 60
        checkpoint = _last_checkpoint(run_dir)
        row['checkpoint'] = str(checkpoint.relative_to(ROOT))
        row.update(_quality(checkpoint, args.frames))
        rows.append(row)
        print(_format([row]), flush=True)
    results = {'command': ' '.join(['python', 'benchmarks/architectures.py'] + sys.argv[1:]),
               'machine': _machine(torch), 'train_size': args.train_size,
               'minutes_per_arch': args.minutes, 'eval_seeds': list(learning.EVAL_SEEDS),
               'eval_frames': args.frames, 'rows': rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / 'results.json').write_text(json.dumps(results, indent=1))
    (args.out / 'results.md').write_text(_markdown(results))
    print(_format(rows))
    return 0


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--archs', nargs='+', default=list(ARCHS), help='registry names')
    p.add_argument('--minutes', type=float, default=8.0, help='training budget per architecture')
    p.add_argument('--train-size', default='96x320', help='training HxW (multiples of 32)')
    p.add_argument('--frames', type=int, default=30, help='frames per evaluation sequence')
    p.add_argument('--threads', type=int, default=1, help='torch threads (0: torch default)')
    p.add_argument('--evaluate-only', action='store_true', help='use runs/arch_<name>/ as is')
    p.add_argument('--out', type=Path, default=ROOT / 'docs' / 'architectures')
    args = p.parse_args()
    try:
        height, width = (int(v) for v in args.train_size.lower().split('x'))
    except ValueError:
        p.error(f'--train-size must look like 96x320, got {args.train_size!r}')
    if height % 32 or width % 32:
        p.error(f'--train-size sides must be multiples of 32, got {args.train_size}')
    args.size = (height, width)
    return args


def _cost(arch: str) -> dict:
    """Parameters and GFLOPs at 192x640, and CPU latency at batch 1 (inference form)."""
    import torch

    from depth_ros.bench.flops import depth_net_gflops, parameter_count
    from depth_ros.bench.timing import measure
    from depth_ros.models.etm import fold_for_inference
    from depth_ros.models.registry import build_for_weights

    torch.manual_seed(0)
    net = fold_for_inference(build_for_weights('depth', arch)).eval()
    images = torch.rand(1, 3, *LATENCY_SIZE)
    with torch.inference_mode():
        timing = measure(lambda: net(images), torch.device('cpu'), warmup=2, reps=10,
                         budget_s=20.0)
    return {'params_m': parameter_count(net) / 1e6,
            'gflops': depth_net_gflops(arch, *LATENCY_SIZE),
            'cpu_ms': timing.median_ms}


def _train(arch: str, data: Path, run_dir: Path, args: argparse.Namespace) -> None:
    height, width = args.size
    common = [f'output_dir={run_dir}', f'data.height={height}', f'data.width={width}',
              f'optim.max_minutes={args.minutes}', f'torch_threads={args.threads}']
    if arch in SUPERVISED:
        from training.supervised import load_supervised_config, train_supervised

        folder = _rgbd_view(data, run_dir.parent / f'arch_{arch}_data')
        config = load_supervised_config(None, common + [
            'data.kind=rgbd_folder', f'data.path={folder}', 'data.depth_scale=256',
            f'model.depth_arch={arch}', 'model.max_depth=100', 'optim.batch_size=8',
            'optim.learning_rate=3e-4', 'num_workers=1', 'log_every_steps=10'])
        train_supervised(config)
        return
    from training.config import load_config
    from training.trainer import train

    train(load_config(ROOT / 'config' / 'train_synthetic.yaml',
                      common + [f'model.depth_arch={arch}']))


def _rgbd_view(data: Path, folder: Path) -> Path:
    """The training sequences' frames and rendered depth as an RGB-D folder (color/ + depth/),
    by symbolic links: the supervised trainer reads the same frames as the others."""
    for sub in ('color', 'depth'):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for i in range(len(learning.TRAIN_SEEDS)):
        seq = data / 'sequences' / f'{i:02d}'
        for image in sorted((seq / 'image_2').glob('*.png')):
            name = f'{i:02d}_{image.name}'
            for sub, src in (('color', image), ('depth', seq / 'depth_2' / image.name)):
                link = folder / sub / name
                if not link.exists():
                    os.symlink(src.resolve(), link)
    return folder


def _last_checkpoint(run_dir: Path) -> Path:
    found = sorted((run_dir / 'checkpoints').glob('*.safetensors'))
    if not found:
        raise SystemExit(f'no checkpoint in {run_dir}/checkpoints: train first (drop '
                         '--evaluate-only)')
    return found[-1]


def _quality(checkpoint: Path, frames: int) -> dict:
    """Mean over the evaluation seeds of median-scaled abs_rel and 5-frame ATE."""
    from depth_ros.inference import Predictor

    predictor = Predictor.from_checkpoint(checkpoint)
    abs_rel, ate, zero = [], [], []
    for seed in learning.EVAL_SEEDS:
        r = learning.evaluate_predictor(predictor, learning._sequence(seed, frames))
        abs_rel.append(r['depth_median_scaled']['abs_rel'])
        if 'ate_5frame' in r:
            ate.append(r['ate_5frame']['mean'])
            zero.append(r['ate_5frame_zero_motion']['mean'])
    out = {'abs_rel': sum(abs_rel) / len(abs_rel), 'abs_rel_per_seed': abs_rel}
    if ate:
        out.update(ate_m=sum(ate) / len(ate), ate_zero_motion_m=sum(zero) / len(zero))
    return out


def _machine(torch) -> dict:
    return {'cpu': platform.processor() or platform.machine(), 'cores': os.cpu_count(),
            'torch': torch.__version__, 'torch_threads': torch.get_num_threads()}


def _format(rows: list[dict]) -> str:
    lines = ['| arch | supervision | params (M) | GFLOPs 192x640 | CPU ms b1 192x640 | '
             'train min | abs_rel (median) | 5-frame ATE (m) |',
             '|---|---|---|---|---|---|---|---|']
    for r in rows:
        ate = f'{r["ate_m"]:.4f}' if 'ate_m' in r else 'no pose net'
        lines.append(f'| {r["arch"]} | {r["supervision"]} | {r["params_m"]:.2f} | '
                     f'{r["gflops"]:.2f} | {r["cpu_ms"]:.0f} | {r["train_minutes"]:.1f} | '
                     f'{r["abs_rel"]:.3f} | {ate} |')
    return '\n'.join(lines)


def _markdown(results: dict) -> str:
    m = results['machine']
    return '\n'.join([
        '# Architectures on the synthetic world', '',
        f'Command: `{results["command"]}`', '',
        f'Machine: {m["cpu"]}, {m["cores"]} cores, torch {m["torch"]}, '
        f'{m["torch_threads"]} torch thread(s). Training: {results["minutes_per_arch"]} '
        f'minutes wall-clock per architecture at {results["train_size"]} on the learning '
        f'benchmark\'s training sequences; evaluation: {results["eval_frames"]} frames of seeds '
        f'{", ".join(map(str, results["eval_seeds"]))} (never trained on), per-image median '
        'scaling, 0.1-80 m; ATE: 5-frame protocol, pose_lite trained with each depth network. '
        'Zero-motion ATE for reference: ' + ', '.join(
            f'{r["ate_zero_motion_m"]:.3f} m' for r in results['rows'][:1]
            if 'ate_zero_motion_m' in r) + '.', '',
        _format(results['rows']), '',
        'DRN is trained supervised on the rendered depth (no pose network): its abs_rel is not '
        'comparable with the self-supervised rows. dna_lite0 starts from ImageNet weights (its '
        'encoder), the others from random initialisation. Equal wall-clock budgets favour the '
        'cheap networks, which take more optimiser steps in the same time; a few minutes on a '
        "CPU rank the starts of training, not the architectures' final accuracy.", ''])


if __name__ == '__main__':
    sys.exit(main())
