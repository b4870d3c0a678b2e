"""`run_benchmark`: latency of every registered depth architecture on every available backend.

For each architecture (random weights: speed does not depend on their values), network size,
and backend variant it measures
    network: `backend.depth(images)` on a prepared [B,3,H,W] tensor already on the device;
    end_to_end: `Predictor.predict` on a 375x1242 uint8 RGB image (KITTI's size): resize,
        network, depth conversion, resize back, copy to numpy; batch 1.
A variant that fails (not installed, export unsupported by a new architecture) gives rows with
`error` set instead of stopping the run.
"""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, replace
import logging
import os
import platform
import tempfile

import numpy as np
import torch
from tqdm import tqdm

from depth_ros.bench.config import BenchConfig
from depth_ros.bench.flops import depth_net_gflops, parameter_count
from depth_ros.bench.timing import Timing, measure
from depth_ros.bench.variants import Variant, is_available, select_variants
from depth_ros.errors import ConfigError
from depth_ros.inference.backends import make_backend, resolve_device
from depth_ros.inference.predictor import Predictor
from depth_ros.models.checkpoint import Checkpoint, CheckpointMeta
from depth_ros.models.etm import fold_for_inference
from depth_ros.models.registry import ArchSpec, build_for_weights, depth_net_names


LOG = logging.getLogger(__name__)
DEFAULT_BATCHES = {'cpu': (1, 2), 'cuda': (1, 4)}


@dataclass
class BenchRow:
    """One measurement. Latency in ms; fps = images per second; gflops per image."""

    arch: str
    backend: str
    mode: str  # 'network' or 'end_to_end'
    height: int
    width: int
    batch: int
    params_m: float
    gflops: float
    median_ms: float | None = None
    p90_ms: float | None = None
    fps: float | None = None
    reps: int = 0
    error: str = ''


@dataclass
class BenchReport:
    machine: dict
    config: dict
    rows: list[BenchRow] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {'machine': self.machine, 'config': self.config,
                'flops_convention': '2 x multiply-accumulates of conv/matmul, per image',
                'rows': [asdict(r) for r in self.rows]}


def run_benchmark(config: BenchConfig, progress: bool = True,
                  variants: list[Variant] | None = None) -> BenchReport:
    """Measure every (architecture, size, backend, batch) of `config`; see the module doc.

    `variants` replaces the ones `config.backends` names (those not available are left out).
    """
    device = _device(config.device)
    if config.threads:
        torch.set_num_threads(config.threads)
    archs = list(config.archs) or depth_net_names()
    unknown = sorted(set(archs) - set(depth_net_names()))
    if unknown:
        raise ConfigError(f'unknown architecture(s) {unknown}; known: {depth_net_names()}')
    if variants is None:
        variants = select_variants(device, config.backends)
    else:
        variants = [v for v in variants if is_available(v, device)]
    config = replace(config, batches=config.batches or DEFAULT_BATCHES[device.type])
    report = BenchReport(machine_info(device), _config_dict(config, device, variants))
    _warn_if_busy(report.machine)
    units = len(archs) * len(config.sizes) * len(variants)
    with tempfile.TemporaryDirectory(prefix='depth_ros_bench_') as cache, \
            tqdm(total=units, desc='bench', unit='run', disable=not progress) as bar:
        for arch in archs:
            net = _random_depth_net(arch, config.seed)
            for height, width in config.sizes:
                base = _base_row(arch, net, height, width)
                for variant in variants:
                    bar.set_postfix_str(f'{arch} {height}x{width} {variant.label}')
                    report.rows += _measure_variant(config, device, variant, net, base, cache)
                    bar.update()
    report.machine['load_average_1m_end'] = _load_average()
    _warn_if_busy(report.machine, 'load_average_1m_end')
    return report


def _warn_if_busy(machine: dict, key: str = 'load_average_1m') -> None:
    load, cpus = machine.get(key), machine['cpus_available']
    if load is not None and load > cpus:
        LOG.warning('the machine is busy (load average %.1f on %d CPUs): CPU timings, eager '
                    'torch with several threads above all, are unreliable', load, cpus)


def _measure_variant(config: BenchConfig, device: torch.device, variant: Variant,
                     net: torch.nn.Module, base: dict, cache: str) -> list[BenchRow]:
    rows = []
    meta = CheckpointMeta(depth_arch=ArchSpec.of(base['arch']), pose_arch=None,
                          height=base['height'], width=base['width'],
                          notes='random weights (benchmark)')
    options = dict(variant.options)
    if variant.uses_cache:
        options['cache_dir'] = cache
    if variant.backend == 'onnxruntime' and config.threads:
        options['threads'] = config.threads
    try:
        checkpoint = Checkpoint(copy.deepcopy(net), None, meta)
        backend = make_backend(variant.backend, checkpoint, device, **options)
    except Exception as exc:  # a benchmark reports a failing backend and goes on
        return [_failed(base, variant, 'network', b, exc) for b in config.batches]
    for batch in config.batches:
        images = torch.rand(batch, 3, meta.height, meta.width, device=device)
        rows.append(_timed_row(base, variant, 'network', batch,
                               lambda im=images: backend.depth(im), config, device))
    if config.end_to_end:
        predictor = Predictor(backend, meta)
        image = _kitti_like_image(*config.image_size, seed=config.seed)
        rows.append(_timed_row(base, variant, 'end_to_end', 1,
                               lambda: predictor.predict(image), config, device))
    return rows


def _timed_row(base: dict, variant: Variant, mode: str, batch: int, fn, config: BenchConfig,
               device: torch.device) -> BenchRow:
    try:
        timing = measure(fn, device, warmup=config.warmup, reps=config.reps,
                         min_reps=config.min_reps, budget_s=config.budget_s)
    except Exception as exc:  # e.g. out of memory at a large batch: report, continue
        return _failed(base, variant, mode, batch, exc)
    return _row(base, variant, mode, batch, timing)


def _row(base: dict, variant: Variant, mode: str, batch: int, timing: Timing) -> BenchRow:
    fps = 1e3 * batch / timing.median_ms if timing.median_ms > 0 else None
    return BenchRow(backend=variant.label, mode=mode, batch=batch, median_ms=timing.median_ms,
                    p90_ms=timing.p90_ms, fps=fps, reps=timing.reps, **base)


def _failed(base: dict, variant: Variant, mode: str, batch: int, exc: Exception) -> BenchRow:
    message = (str(exc).splitlines() or [''])[0]
    LOG.warning('%s %s on %s failed: %s', base['arch'], mode, variant.label, message)
    return BenchRow(backend=variant.label, mode=mode, batch=batch,
                    error=f'{type(exc).__name__}: {message}', **base)


def _base_row(arch: str, net: torch.nn.Module, height: int, width: int) -> dict:
    return dict(arch=arch, height=height, width=width,
                params_m=parameter_count(net) / 1e6,
                gflops=depth_net_gflops(arch, height, width))


def _random_depth_net(arch: str, seed: int) -> torch.nn.Module:
    # Timed in inference form (ETM branches folded), as deployed. A forked RNG: the caller's
    # global torch generator is left as it was.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = build_for_weights('depth', arch)  # timing needs no pretraining
    return fold_for_inference(net)


def _kitti_like_image(height: int, width: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _device(name: str) -> torch.device:
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    return resolve_device(name)


def _config_dict(config: BenchConfig, device: torch.device, variants: list[Variant]) -> dict:
    d = asdict(replace(config, device=str(device)))
    d['backends'] = [v.label for v in variants]
    return d


def machine_info(device: torch.device) -> dict:
    """Where the numbers were measured: CPU model and count, library versions, GPU."""
    info = {'platform': platform.platform(), 'python': platform.python_version(),
            'cpu': cpu_model(), 'cpus_available': _cpu_count(),
            'torch': torch.__version__, 'torch_threads': torch.get_num_threads(),
            'load_average_1m': _load_average()}
    try:
        import onnxruntime

        info['onnxruntime'] = onnxruntime.__version__
    except ImportError:
        pass
    if device.type == 'cuda':
        info['gpu'] = torch.cuda.get_device_name(device)
        info['cuda'] = torch.version.cuda
    return info


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (platform.processor() elsewhere)."""
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def _load_average() -> float | None:
    # Recorded because other work on a shared machine distorts CPU timings.
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
