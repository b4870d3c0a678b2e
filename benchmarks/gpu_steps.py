"""The steps of benchmarks/gpu_check.py, each run in its own process within a time budget.

Every step returns a JSON-ready dict with `status` ('ok', 'partial', 'failed', 'skipped' or
'not available'), `notes` (why something was left out) and its figures. A step stops starting
new work when its deadline is near and says what it left out; gpu_check.py stops a step that
overruns its budget altogether.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
import json
import os
from pathlib import Path
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time


ROOT = Path(__file__).resolve().parents[1]
CUDA_TEST_FILES = ('test/inference/test_cuda_backend.py', 'test/training/test_cuda_training.py')
# Most important first: the papers' two networks, then the shipped default's, then the rest.
FIRST_ARCHS = ('resnet18', 'smalldepth', 'dna_lite0')
# SmallDepth first: at batch 1 it is bound by kernel launches, where fusing helps most.
COMPILE_ARCHS = ('smalldepth', 'resnet18')
TEST_RESULT = re.compile(r'::(\S+) (PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS)')


@dataclass
class StepContext:
    """What a step may use: device, toy sizes or not, its deadline (time.monotonic())."""

    device: str
    dry_run: bool
    deadline: float
    out: Path
    train_real_minutes: float = 0.0
    notes: list[str] = field(default_factory=list)
    # Writes a result so far, kept if the step is stopped before it returns its own.
    save_partial: Callable[[dict], None] = lambda result: None

    def left(self) -> float:
        return self.deadline - time.monotonic()


def child_env() -> dict[str, str]:
    """The environment of processes this script starts: the repository importable."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(p for p in (str(ROOT), env.get('PYTHONPATH')) if p)
    return env


# Process groups this process started and has not seen end (see `run_group`).
_GROUPS: set[int] = set()


def run_group(argv: list[str], timeout: float) -> tuple[str, int | None]:
    """Run `argv` in the repository root in a process group of its own; past `timeout`
    seconds the group (its children too: loader workers, pytest, training) is asked to stop,
    and killed 5 s later. Returns (stdout + stderr, exit status or None when stopped)."""
    proc = subprocess.Popen(argv, cwd=ROOT, env=child_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    _GROUPS.add(proc.pid)
    try:
        output, _ = proc.communicate(timeout=timeout)
        return output, proc.returncode
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            output = ''
        _signal_group(proc.pid, signal.SIGKILL)
        output += proc.communicate()[0] or ''
        return output, None
    finally:
        _GROUPS.discard(proc.pid)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:  # the group has ended
        pass


def stop_groups_on_sigterm() -> None:
    """In a step's process: on SIGTERM (the step overran its budget), kill the process groups
    it started (e.g. pytest) before exiting, so nothing outlives the step."""
    def stop(signum, frame):
        for pgid in list(_GROUPS):
            _signal_group(pgid, signal.SIGKILL)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def run_tests(ctx: StepContext) -> dict:
    """pytest on the CUDA test files (they skip without CUDA, as in a dry run on the CPU)."""
    argv = [sys.executable, '-m', 'pytest', '-v', '-rfE', '-p', 'no:cacheprovider',
            *CUDA_TEST_FILES]
    output, code = run_group(argv, max(5.0, ctx.left() - 5))
    stopped = code is None
    outcomes = TEST_RESULT.findall(output)
    counts = {}
    for _, outcome in outcomes:
        counts[outcome.lower()] = counts.get(outcome.lower(), 0) + 1
    failed = [name for name, outcome in outcomes if outcome in ('FAILED', 'ERROR')]
    status = 'ok' if code == 0 and not failed else 'failed'
    if stopped:
        status = 'partial'
        ctx.notes.append('pytest stopped at the step budget; counts are of the tests finished')
    return {'status': status, 'command': argv, 'counts': counts, 'failed': failed,
            'returncode': code, 'output_tail': output[-4000:], 'notes': ctx.notes}


def bench_settings(ctx: StepContext):
    """The BenchConfig of the inference benchmark (toy sizes in a dry run)."""
    from depth_ros.bench.config import BenchConfig

    if ctx.dry_run:
        return BenchConfig(sizes=((64, 128),), batches=(1,), device=ctx.device, reps=1,
                           warmup=1, min_reps=1, budget_s=0.05, image_size=(96, 320))
    return BenchConfig(sizes=((192, 640), (320, 1024)), batches=(1, 4), device=ctx.device,
                       reps=100, warmup=3, min_reps=5, budget_s=0.25)


def ordered_archs() -> list[str]:
    from depth_ros.models.registry import depth_net_names

    names = depth_net_names()
    return [a for a in FIRST_ARCHS if a in names] + [a for a in names if a not in FIRST_ARCHS]


def run_bench(ctx: StepContext) -> dict:
    """`depth-ros bench` (run_benchmark, the CLI's library call) for every registered
    architecture, one at a time, while the budget lasts."""
    from depth_ros.bench.variants import Variant, select_variants

    config = bench_settings(ctx)
    import torch

    variants = select_variants(torch.device(ctx.device)) if not ctx.dry_run else [
        Variant('torch', 'torch')]  # onnxruntime's export per network is too slow for a toy run
    return _bench_archs(ctx, config, ordered_archs(), variants, 'bench')


def run_compile(ctx: StepContext) -> dict:
    """torch.compile variants of the papers' two networks at 192x640, batch 1 (a dry run
    traces with the 'eager' compile backend: the code path without code generation)."""
    from depth_ros.bench.variants import Variant, select_variants

    config = replace(bench_settings(ctx), batches=(1,), end_to_end=False)
    import torch

    if ctx.dry_run:
        variants = [Variant('torch-compile-eager', 'torch', {'compile': 'eager'})]
    else:
        config = replace(config, sizes=((192, 640),))
        variants = select_variants(torch.device(ctx.device), (
            'torch-fp16-cl-compile', 'torch-fp16-cl-compile-graphs'))
    archs = COMPILE_ARCHS[:1] if ctx.dry_run else COMPILE_ARCHS
    return _bench_archs(ctx, config, list(archs), variants, 'compile')


def _bench_archs(ctx: StepContext, config, archs: list[str], variants: list,
                 label: str) -> dict:
    from depth_ros.bench.runner import run_benchmark

    rows, done, slowest = [], [], 0.0
    result = {'status': 'partial', 'variants': [v.label for v in variants],
              'sizes': [list(s) for s in config.sizes], 'batches': list(config.batches),
              'archs': done, 'rows': rows, 'notes': ctx.notes}
    for arch in archs:
        if ctx.left() < 1.2 * slowest:
            ctx.notes.append(f'{label}: budget spent, not measured: '
                             f'{", ".join(a for a in archs if a not in done)}')
            break
        start = time.monotonic()
        report = run_benchmark(replace(config, archs=(arch,)), progress=False,
                               variants=variants)
        rows += [vars(r) for r in report.rows]
        done.append(arch)
        slowest = max(slowest, time.monotonic() - start)
        ctx.save_partial(result)  # the architectures so far survive a stop
    failed = [r for r in rows if r['error']]
    result['status'] = 'ok' if len(done) == len(archs) and not failed else 'partial'
    return result


@dataclass(frozen=True)
class Recipe:
    """A training configuration whose step throughput is measured."""

    name: str
    depth_arch: str
    pose_arch: str
    height: int
    width: int
    batch: int
    depth_kwargs: dict = field(default_factory=dict)


def monodepth2_recipe(dry_run: bool) -> Recipe:
    """ResNet-18 depth + pose at 192x640, batch 12 (Monodepth2's; toy: 64x128, batch 2)."""
    if dry_run:
        return Recipe('monodepth2', 'resnet18', 'resnet18', 64, 128, 2)
    return Recipe('monodepth2', 'resnet18', 'resnet18', 192, 640, 12)


def default_recipe(dry_run: bool) -> Recipe:
    """The architectures, size and batch of the shipped default weights' training config
    (ImageNet initialisation off: the weights package is not needed to time a step)."""
    from depth_ros.inference.predictor import default_weights_path
    from depth_ros.models.checkpoint import load_checkpoint

    meta = load_checkpoint(default_weights_path()).meta
    trained = meta.training_config or {}
    batch = int(trained.get('optim', {}).get('batch_size', 8))
    height, width = (64, 128) if dry_run else (meta.height, meta.width)
    return Recipe('default', meta.depth_arch.name, meta.pose_arch.name, height, width,
                  2 if dry_run else batch, _without_pretraining(meta.depth_arch))


def _without_pretraining(spec) -> dict:
    """The architecture's arguments, with `pretrained=False` where its factory takes it."""
    import torch

    from depth_ros.errors import ConfigError
    from depth_ros.models.registry import build_depth_net

    kwargs = dict(spec.kwargs)
    try:
        with torch.device('meta'):  # no memory, no weights read
            build_depth_net(spec.name, **kwargs, pretrained=False)
    except ConfigError:  # no such argument
        return kwargs
    return {**kwargs, 'pretrained': False}


def run_train(ctx: StepContext, recipe: Recipe) -> dict:
    """Training-step throughput of `recipe` with mixed precision on random KITTI-sized PNG
    frames: steps/s, images/s and the share of the step spent waiting for data."""
    import torch
    from train_step import write_random_sequence

    from training.config import load_config
    from training.data.factory import build_dataset
    from training.trainer import build_training_objects, make_loader

    workers = 0 if ctx.dry_run else min(8, max(1, (os.cpu_count() or 2) - 2))
    warmup, steps = (1, 1) if ctx.dry_run else (3, 60)
    frames = min((warmup + steps) * recipe.batch + 2, 12 if ctx.dry_run else 120)
    source = (96, 320) if ctx.dry_run else (375, 1242)
    with tempfile.TemporaryDirectory(prefix='gpu_check_train_') as tmp:
        root = write_random_sequence(Path(tmp), frames, width=source[1], height=source[0])
        config = load_config(None, [
            'data.kind=kitti_odometry', f'data.path={root}', 'data.sequences=["00"]',
            f'data.height={recipe.height}', f'data.width={recipe.width}',
            f'model.depth_arch={recipe.depth_arch}', f'model.pose_arch={recipe.pose_arch}',
            f'model.depth_kwargs={json.dumps(recipe.depth_kwargs)}',  # JSON is YAML
            f'optim.batch_size={recipe.batch}',
            f'device={ctx.device}', 'amp=true', f'num_workers={workers}',
            f'output_dir={tmp}/run'])
        device = torch.device(config.device)
        loader = make_loader(build_dataset(config.data, 'train', config.num_scales), config,
                             True, torch.Generator().manual_seed(0))
        objects = build_training_objects(config, device)
        data_s, step_s = _timed_steps(ctx, config, objects, _endless(loader), device,
                                      warmup, steps)
    return _train_figures(ctx, recipe, config, data_s, step_s, workers, steps)


def _endless(loader) -> Iterator:
    while True:
        yield from loader


def _timed_steps(ctx: StepContext, config, objects, batches: Iterator, device, warmup: int,
                 steps: int) -> tuple[list[float], list[float]]:
    """The trainer's step (autocast + loss scaling, as training.trainer._train_epoch), timed:
    waiting for the batch (and its upload) apart from the rest, synchronised per step."""
    import torch

    from training.step import forward_and_loss

    amp = config.amp and device.type == 'cuda'
    data_s, step_s = [], []
    for i in range(warmup + steps):
        if i >= warmup and ctx.left() < 2 * max(step_s + data_s + [0.5]):
            ctx.notes.append(f'budget reached after {len(step_s)} timed steps')
            break
        start = time.perf_counter()
        batch = next(batches).to(device)
        loaded = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
            out = forward_and_loss(objects.depth_net, objects.pose_net, batch, config.model,
                                   config.loss)
        objects.optimizer.zero_grad(set_to_none=True)
        objects.scaler.scale(out.total).backward()
        objects.scaler.step(objects.optimizer)
        objects.scaler.update()
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        if i >= warmup:
            data_s.append(loaded - start)
            step_s.append(time.perf_counter() - loaded)
    return data_s, step_s


def _train_figures(ctx: StepContext, recipe: Recipe, config, data_s: list[float],
                   step_s: list[float], workers: int, planned: int) -> dict:
    import torch

    figures = {'recipe': vars(recipe), 'amp': config.amp, 'num_workers': workers,
               'cudnn_benchmark': torch.backends.cudnn.benchmark, 'timed_steps': len(step_s),
               'notes': ctx.notes}
    if not step_s:
        return {'status': 'failed', **figures, 'notes': ctx.notes + ['no step was timed']}
    total = sum(data_s) + sum(step_s)
    figures.update({
        'steps_per_s': len(step_s) / total, 'images_per_s': recipe.batch * len(step_s) / total,
        'data_ms': 1e3 * statistics.mean(data_s), 'compute_ms': 1e3 * statistics.mean(step_s),
        'compute_min_ms': 1e3 * min(step_s), 'data_share': sum(data_s) / total})
    return {'status': 'ok' if len(step_s) == planned else 'partial', **figures}


def run_train_real(ctx: StepContext) -> dict:
    """The real-world recipe (config/train_real.yaml through benchmarks/train_real.py) for
    the given minutes; a dry run only checks that the script takes the options."""
    config, script = ROOT / 'config' / 'train_real.yaml', ROOT / 'benchmarks' / 'train_real.py'
    if not config.is_file() or not script.is_file():
        return {'status': 'not available', 'notes': [f'{config.name} or {script.name} absent']}
    # The budget split as in the shipped CPU recipe (62 + 24 + 55 minutes: main, fine,
    # depth-supervised), so M minutes in all is what the three phases get.
    main, fine, sup = (round(ctx.train_real_minutes * share / 141, 2) for share in (62, 24, 55))
    argv = [sys.executable, str(script), '--minutes', f'{main:g}', '--fine-minutes', f'{fine:g}',
            '--sup-minutes', f'{sup:g}', '--device', ctx.device, *packed_mix_options()]
    if ctx.dry_run:
        output, _ = run_group([sys.executable, str(script), '--help'], 60)
        takes = all(opt in output for opt in ('--minutes', '--fine-minutes', '--sup-minutes',
                                               '--device'))
        return {'status': 'ok' if takes else 'failed', 'command': argv,
                'notes': ['dry run: not trained; the script takes the phase budgets and --device'
                          if takes else 'the script lacks a phase budget option or --device']}
    output, code = run_group(argv, max(10.0, ctx.left() - 10))
    if code is None:
        ctx.notes.append('stopped at the budget')
    result = {'status': {0: 'ok', None: 'partial'}.get(code, 'failed'), 'command': argv,
              'returncode': code, 'output_tail': output[-4000:], 'notes': ctx.notes}
    result['weights'] = _bring_back_weights(ctx)
    return result


PACKED_MIX = ROOT / 'runs' / 'gpu_mix' / 'sequences'


def packed_mix_options() -> list[str]:
    """Without ../shared (the GPU machine), the real sequences packed by
    benchmarks/pack_real_mix.py and carried as runs/gpu_mix are the recipe's real data: copied
    into runs/real_mix, no dev drive (no validation curve), no real-world benchmark (it needs
    ../shared: evaluate the weights brought back where it is)."""
    if (ROOT.parent / 'shared' / 'data' / 'real').is_dir() or not PACKED_MIX.is_dir():
        return []
    target = ROOT / 'runs' / 'real_mix' / 'sequences'
    for sequence in PACKED_MIX.iterdir():
        if not (target / sequence.name).exists():
            shutil.copytree(sequence, target / sequence.name)
    return ['--no-dev', '--no-benchmark']


def _bring_back_weights(ctx: StepContext) -> str | None:
    """Copy the run's calibrated weights (float16), else its newest checkpoint, into the output
    folder when it fits what the GPU machine sends back (16 MiB a file)."""
    run = ROOT / 'runs' / 'train_real'
    found = [run / 'calibrated.safetensors', *sorted(
        (run / 'checkpoints').glob('epoch_*.safetensors'), reverse=True)]
    for path in found:
        if path.is_file() and path.stat().st_size <= 16 * 2**20:
            target = ctx.out / 'train_real.safetensors'
            shutil.copyfile(path, target)
            return f'{target} (from {path.relative_to(ROOT)})'
    return None


STEPS = {
    'tests': run_tests,
    'bench': run_bench,
    'compile': run_compile,
    'train_monodepth2': lambda ctx: run_train(ctx, monodepth2_recipe(ctx.dry_run)),
    'train_default': lambda ctx: run_train(ctx, default_recipe(ctx.dry_run)),
    'train_real': run_train_real,
}
