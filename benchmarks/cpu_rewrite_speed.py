"""onnxruntime on the CPU: the exported graphs as they are vs rewritten (`export.cpu_rewrite`).

    python benchmarks/cpu_rewrite_speed.py [--weights W] [--reps 40] [--threads 1 2]

Times one forward of the depth and pose graphs of the weights (default: the packaged default)
in alternating rounds, so both versions see the same machine state; prints median milliseconds,
the ratio, and the largest output difference between the two versions.
"""
from __future__ import annotations

import argparse
from pathlib import Path
import statistics
import sys
import time

import numpy as np


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _session(graph, threads: int):
    import onnxruntime as ort

    from depth_ros.inference.onnx_backend import session_options

    return ort.InferenceSession(graph, session_options(threads),
                                providers=['CPUExecutionProvider'])


def _feed(session) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {i.name: rng.random([d if isinstance(d, int) else 1 for d in i.shape],
                               dtype=np.float32) for i in session.get_inputs()}


def compare(path: Path, threads: int, reps: int) -> tuple[float, float, float]:
    """(median ms as exported, median ms rewritten, max |difference|)."""
    from depth_ros.export.cpu_rewrite import cpu_graph_bytes

    plain, rewritten = _session(str(path), threads), _session(cpu_graph_bytes(path), threads)
    feed = _feed(plain)
    diff = float(np.abs(plain.run(None, feed)[0] - rewritten.run(None, feed)[0]).max())
    times: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(3):
        plain.run(None, feed)
        rewritten.run(None, feed)
    for _ in range(reps):
        for key, session in enumerate((plain, rewritten)):
            start = time.perf_counter()
            session.run(None, feed)
            times[key].append(time.perf_counter() - start)
    return (1e3 * statistics.median(times[0]), 1e3 * statistics.median(times[1]), diff)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--weights', default=None, help='checkpoint (default: packaged default)')
    parser.add_argument('--reps', type=int, default=40)
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    args = parser.parse_args()
    from depth_ros.export.cache import ensure_onnx
    from depth_ros.inference.predictor import resolve_weights
    from depth_ros.models import load_checkpoint

    graphs = ensure_onnx(load_checkpoint(resolve_weights(args.weights)))
    print('| graph | threads | as exported (ms) | rewritten (ms) | ratio | max difference |')
    print('|---|---|---|---|---|---|')
    for name, path in (('depth', graphs.depth), ('pose', graphs.pose)):
        if path is None:
            continue
        for threads in args.threads:
            plain, rewritten, diff = compare(path, threads, args.reps)
            print(f'| {name} | {threads} | {plain:.1f} | {rewritten:.1f} | '
                  f'{rewritten / plain:.2f}x | {diff:.1e} |', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
