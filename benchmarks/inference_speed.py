"""onnxruntime vs eager torch on the CPU: ResNet-18 depth network, 192x640, batch 1.

Exports the network once (fp32, opset 17, fixed batch 1) and times, interleaved in rounds so a
noisy shared machine slows all candidates alike:
    torch             eager PyTorch, torch.inference_mode, `--threads` intra-op threads;
    ort-basic         onnxruntime, ORT_ENABLE_BASIC (constant folding, redundant nodes);
    ort-all           onnxruntime, ORT_ENABLE_ALL (adds Conv+activation fusion and the NCHWc
                      blocked layout for convolutions);
    ort-all-nospin    ORT_ENABLE_ALL without thread-pool spin-waiting (helps when other
                      processes compete for the cores; the onnxruntime backend's default).
Prints median (and minimum) latencies and the torch / onnxruntime ratios of both (target:
>= 1.5). On a shared machine the minimum is the least disturbed sample.

Run from the repository root:
    PYTHONPATH=. python benchmarks/inference_speed.py [--rounds 5 --reps 10 --json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile

import torch

from depth_ros.bench.runner import cpu_model, machine_info
from depth_ros.bench.timing import compare
from depth_ros.export.onnx_export import export_depth_onnx
from depth_ros.inference.devices import available_cpus
from depth_ros.inference.onnx_backend import session_options
from depth_ros.models.checkpoint import CheckpointMeta
from depth_ros.models.etm import fold_for_inference
from depth_ros.models.registry import ArchSpec, build_depth_net


TARGET_RATIO = 1.5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--arch', default='resnet18')
    parser.add_argument('--height', type=int, default=192)
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--threads', type=int, default=available_cpus(),
                        help='intra-op threads for both (default: the CPUs available)')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--reps', type=int, default=10, help='timed calls per round')
    parser.add_argument('--json', default=None, help='also write the figures to this file')
    return parser.parse_args()


def ort_sessions(path: str, threads: int) -> dict:
    import onnxruntime as ort

    def session(level: str, spin: bool = True):
        options = session_options(threads, level, spinning=spin)
        return ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])

    return {'ort-basic': session('basic'), 'ort-all': session('all'),
            'ort-all-nospin': session('all', spin=False)}


def main() -> int:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = fold_for_inference(build_depth_net(args.arch))
    images = torch.rand(1, 3, args.height, args.width)
    meta = CheckpointMeta(depth_arch=ArchSpec.of(args.arch), pose_arch=None, height=args.height,
                          width=args.width)
    with tempfile.TemporaryDirectory() as folder:
        path = str(export_depth_onnx(net, meta, os.path.join(folder, 'net.depth.onnx')))
        sessions = ort_sessions(path, args.threads)
    feed = {'images': images.numpy()}

    def eager():
        with torch.inference_mode():
            return net(images).sigmoids[0]

    fns = {'torch': eager, **{name: (lambda s=s: s.run(None, feed)) for name, s in
                              sessions.items()}}
    timings = compare(fns, torch.device('cpu'), rounds=args.rounds, reps=args.reps)
    report(args, timings)
    return 0


def report(args: argparse.Namespace, timings: dict) -> None:
    print(f'{args.arch} depth network {args.height}x{args.width} batch 1, {cpu_model()}, '
          f'{args.threads} threads, load average {os.getloadavg()[0]:.2f}')
    base = timings['torch']
    figures = {}
    for name, t in timings.items():
        ratio, min_ratio = base.median_ms / t.median_ms, base.min_ms / t.min_ms
        figures[name] = {'median_ms': t.median_ms, 'p90_ms': t.p90_ms, 'min_ms': t.min_ms,
                         'reps': t.reps, 'speedup_vs_torch': ratio,
                         'speedup_of_min_vs_torch': min_ratio}
        print(f'  {name:15s} median {t.median_ms:8.1f} ms  p90 {t.p90_ms:8.1f}  '
              f'min {t.min_ms:8.1f}  torch/this: median {ratio:5.2f}x, min {min_ratio:5.2f}x')
    best = max((n for n in timings if n != 'torch'), key=lambda n: figures[n]['speedup_vs_torch'])
    verdict = 'meets' if figures[best]['speedup_vs_torch'] >= TARGET_RATIO else 'misses'
    print(f'best onnxruntime: {best}, {figures[best]["speedup_vs_torch"]:.3f}x faster than '
          f'eager torch ({verdict} the {TARGET_RATIO}x target)')
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as f:
            json.dump({'machine': machine_info(torch.device('cpu')), 'args': vars(args),
                       'results': figures}, f, indent=2)


if __name__ == '__main__':
    raise SystemExit(main())
