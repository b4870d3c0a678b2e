"""One command for a CUDA machine: the CUDA tests, inference and training speed, optionally
the real-world training recipe; one JSON file and one markdown table.

    python benchmarks/gpu_check.py [--out DIR] [--train-real MINUTES]
    python benchmarks/gpu_check.py --dry-run --device cpu     # every step at toy sizes

Steps, each in its own process with a time budget (seconds, within 8 minutes in all); a step
that overruns is stopped and recorded as such, and the next one starts:
    tests             pytest on the CUDA-marked test files (backend fp32/fp16/bf16, CUDA
                      graphs, torch.compile, no host syncs, GPU training, checkpoints)   110
    bench             `depth-ros bench` (its library call) for every registered architecture
                      at 192x640 and 320x1024, batch 1 and 4, fp32/fp16/bf16, eager and
                      CUDA graphs, CUDA-event timing after warm-up; end to end
                      Predictor.predict on a 375x1242 image                             160
    compile           torch.compile (inductor) variants of SmallDepth, then ResNet-18     70
    train_monodepth2  training steps/s, images/s, data-loading share: ResNet-18 depth +
                      pose, 192x640, batch 12, mixed precision                             50
    train_default     the same for the shipped default weights' recipe                    40
    train_real        with --train-real M: benchmarks/train_real.py, M minutes split over its
                      three phases as in the CPU recipe (adds M minutes and its data
                      preparation, evaluation and calibration)
Outputs: gpu_check.json, gpu_check.md and gpu_check.log in --out (default: $OUT, else
runs/gpu_check), written whole at the end.
"""
from __future__ import annotations

import argparse
from datetime import datetime, timezone
import json
import os
from pathlib import Path
import shlex
import subprocess
import sys
import time


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gpu_report import markdown  # noqa: E402
from gpu_steps import ROOT, STEPS, StepContext, run_group, stop_groups_on_sigterm  # noqa: E402


BUDGETS_S = {'tests': 110, 'bench': 160, 'compile': 70, 'train_monodepth2': 50,
             'train_default': 40}
# Toy sizes take seconds; generous budgets keep a loaded CI machine from cutting them short.
DRY_BUDGETS_S = {'tests': 80, 'bench': 100, 'compile': 80, 'train_monodepth2': 80,
                 'train_default': 80, 'train_real': 60}
# Steps start within TOTAL_S; one that overruns its budget is stopped GRACE_S later, so all
# but train_real end within 8 minutes (plus writing the report).
TOTAL_S = 440
GRACE_S = 30  # process start-up and shutdown beyond a step's own budget
MIN_START_S = 15  # a step is skipped when less than this is left


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', default=os.environ.get('OUT') or str(ROOT / 'runs' / 'gpu_check'),
                        help='output folder (default: $OUT, else runs/gpu_check)')
    parser.add_argument('--device', default='cuda', help='cuda, cuda:N or cpu (default cuda)')
    parser.add_argument('--dry-run', action='store_true',
                        help='every step at toy sizes (with --device cpu: on this machine)')
    parser.add_argument('--train-real', type=float, default=0.0, metavar='MINUTES',
                        help='also run the real-world training recipe for MINUTES')
    parser.add_argument('--steps', default='',
                        help=f'comma-separated subset of {", ".join(STEPS)} (default: all)')
    parser.add_argument('--total', type=float, default=TOTAL_S,
                        help=f'seconds for all steps but train_real (default {TOTAL_S})')
    # Internal: run one step in this process.
    parser.add_argument('--step', help=argparse.SUPPRESS)
    parser.add_argument('--result', help=argparse.SUPPRESS)
    parser.add_argument('--budget', type=float, default=0.0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def plan(args: argparse.Namespace) -> list[tuple[str, float]]:
    """(step, budget in seconds) in the order they run."""
    budgets = dict(DRY_BUDGETS_S if args.dry_run else BUDGETS_S)
    if args.train_real > 0:
        budgets['train_real'] = DRY_BUDGETS_S['train_real'] if args.dry_run else (
            60 * args.train_real + 300)  # data preparation, calibration, evaluation
    wanted = [s.strip() for s in args.steps.split(',') if s.strip()] or list(budgets)
    unknown = sorted(set(wanted) - set(STEPS))
    if unknown:
        raise SystemExit(f'unknown step(s) {unknown}; choose from {", ".join(STEPS)}')
    return [(name, budgets.get(name, 60.0)) for name in budgets if name in wanted]


def run_all(args: argparse.Namespace) -> dict:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started, start = datetime.now(timezone.utc), time.monotonic()
    command = shlex.join([sys.executable, *sys.argv])
    results = {'command': command, 'cwd': os.getcwd(), 'dry_run': args.dry_run,
               'started_utc': started.isoformat(timespec='seconds'),
               'machine': machine_info(args.device), 'steps': {}}
    log_lines: list[str] = []
    for name, budget in plan(args):
        left = args.total - (time.monotonic() - start)
        if name != 'train_real':
            budget = min(budget, left)
        if budget < MIN_START_S:
            results['steps'][name] = {'status': 'skipped', 'wall_s': 0.0,
                                      'notes': [f'only {max(left, 0):.0f} s of the total left']}
            continue
        print(f'[gpu_check] {name}: budget {budget:.0f} s', flush=True)
        results['steps'][name] = run_step(args, name, budget, out, log_lines)
        print(f"[gpu_check] {name}: {results['steps'][name]['status']} "
              f"({results['steps'][name]['wall_s']:.0f} s)", flush=True)
    results['wall_s'] = time.monotonic() - start
    write_whole(out / 'gpu_check.log', '\n'.join(log_lines) + '\n')
    write_whole(out / 'gpu_check.json', json.dumps(results, indent=2, default=str) + '\n')
    write_whole(out / 'gpu_check.md', markdown(results))
    return results


def run_step(args: argparse.Namespace, name: str, budget: float, out: Path,
             log_lines: list[str]) -> dict:
    """Run step `name` in a child process; stop it (and what it started) GRACE_S after its
    budget."""
    result_path = out / f'.{name}.json'
    result_path.unlink(missing_ok=True)
    argv = [sys.executable, str(Path(__file__).resolve()), '--step', name, '--result',
            str(result_path), '--budget', f'{budget:.1f}', '--device', args.device,
            '--out', str(out), '--train-real', f'{args.train_real:g}']
    if args.dry_run:
        argv.append('--dry-run')
    start = time.monotonic()
    output, code = run_group(argv, budget + GRACE_S)
    result_path.with_name(f'.{result_path.name}.tmp').unlink(missing_ok=True)  # cut short
    log_lines += [f'===== {name} (exit {code}) =====', output]
    if result_path.is_file():
        result = json.loads(result_path.read_text(encoding='utf-8'))
        result_path.unlink()
        if code is None:  # what it had saved before it was stopped
            result['status'] = 'stopped'
            result.setdefault('notes', []).append(
                f'stopped after {budget + GRACE_S:.0f} s; figures up to then')
    elif code is None:
        result = {'status': 'stopped', 'notes': [f'stopped after {budget + GRACE_S:.0f} s']}
    else:
        tail = output.strip().splitlines()[-1:] or ['no output']
        result = {'status': 'failed', 'notes': [f'exit {code}: {tail[0][:300]}']}
    result['wall_s'] = time.monotonic() - start
    return result


def run_one(args: argparse.Namespace) -> int:
    """Child process: one step within its budget, its result written whole to --result."""
    import logging

    stop_groups_on_sigterm()

    logging.basicConfig(level=logging.WARNING)
    if args.dry_run:
        import torch

        torch.set_num_threads(1)  # toy sizes: threads only compete with other processes
    ctx = StepContext(device=args.device, dry_run=args.dry_run,
                      deadline=time.monotonic() + args.budget, out=Path(args.out),
                      train_real_minutes=args.train_real,
                      save_partial=lambda partial: write_whole(
                          Path(args.result), json.dumps(partial, indent=2, default=str)))
    try:
        result = STEPS[args.step](ctx)
    except Exception as exc:  # a failing step is reported, the others still run
        import traceback

        traceback.print_exc()
        result = {'status': 'failed', 'notes': ctx.notes + [f'{type(exc).__name__}: {exc}']}
    write_whole(Path(args.result), json.dumps(result, indent=2, default=str))
    return 0


def machine_info(device: str) -> dict:
    """Where it ran: CPU, GPU, driver, library versions and the commit."""
    import torch

    from depth_ros.bench.runner import machine_info as bench_machine

    dev = torch.device(device)
    info = bench_machine(dev if dev.type == 'cpu' or torch.cuda.is_available() else
                         torch.device('cpu'))
    info['cuda'] = torch.version.cuda
    info['cudnn'] = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() \
        else None
    info['driver'] = _command_output(['nvidia-smi', '--query-gpu=driver_version,memory.total',
                                      '--format=csv,noheader'])
    info['commit'] = _command_output(['git', '-C', str(ROOT), 'rev-parse', '--short', 'HEAD'])
    return info


def _command_output(argv: list[str]) -> str | None:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def write_whole(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it into place."""
    tmp = path.with_name(f'.{path.name}.tmp')
    tmp.write_text(text, encoding='utf-8')
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.step:
        return run_one(args)
    results = run_all(args)
    print(markdown(results))
    print(f'wrote {Path(args.out) / "gpu_check.json"} and gpu_check.md')
    bad = [n for n, s in results['steps'].items() if s['status'] in ('failed', 'stopped')]
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
