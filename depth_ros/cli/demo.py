"""`depth-ros demo`: the main job on an embedded default, end to end, on this machine.

With shipped default weights and the synthetic world available: generate a synthetic driving
sequence, convert it to a rosbag2, evaluate the shipped weights on it through the same pipeline
the ROS node uses, print the metrics and write plots. Whatever is missing is stated plainly and
the demo falls back to `predict` on a generated frame.
"""
from __future__ import annotations

import argparse
import importlib.util


NAME = 'demo'
HELP = 'run the main job on an embedded default (synthetic sequence -> bag -> evaluate)'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--out', '-o', default='demo_out', help='output folder')
    parser.add_argument('--seed', type=int, default=2026,
                        help='synthetic world seed (never used in training)')
    parser.add_argument('--frames', type=int, default=60, help='synthetic frames')
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')


def _missing_pieces() -> list[str]:
    from depth_ros.inference import default_weights_path

    missing = []
    if default_weights_path() is None:
        missing.append('trained default weights (issue: training)')
    for module, what in (('depth_ros.synth', 'the synthetic world generator'),
                         ('depth_ros.evaluation.replay', 'the rosbag evaluator')):
        if importlib.util.find_spec(module) is None:
            missing.append(what)
    return missing


def run(args: argparse.Namespace) -> int:
    from depth_ros.inference import Predictor
    from depth_ros.inference.image_io import ensure_writable_dir, write_depth_outputs
    from depth_ros.memory import keep_heap_warm

    keep_heap_warm()  # this process renders and post-processes MB-sized frames
    out = ensure_writable_dir(args.out)
    missing = _missing_pieces()
    if not missing:
        from depth_ros.evaluation.demo import run_demo
        print(run_demo(out, seed=args.seed, frames=args.frames, device=args.device))
        return 0
    print('depth-ros demo: the full demo (synthetic sequence -> rosbag2 -> evaluate) needs '
          + ', '.join(missing) + ', which this build does not have yet.')
    print('Falling back to: depth-ros predict on a generated frame with RANDOMLY INITIALISED '
          'weights (the depth values are meaningless; this shows the pipeline runs).')
    frame = _generated_frame(args.seed)
    predictor = Predictor.from_random(device=args.device)
    result = predictor.predict(frame)
    from PIL import Image
    Image.fromarray(frame).save(out / 'generated_frame.png')
    npy, png = write_depth_outputs(out, 'generated_frame', result.depth_m, result.inv_depth_m)
    print(f'wrote {out / "generated_frame.png"}, {npy} ({frame.shape[1]}x{frame.shape[0]}), {png}')
    return 0


def _generated_frame(seed: int):
    """A synthetic frame: the synthetic world's first frame when available, else a pattern."""
    import numpy as np
    if importlib.util.find_spec('depth_ros.synth') is not None:
        from depth_ros.synth import render_sequence
        rgb, _, _ = next(iter(render_sequence(seed=seed, frames=1)))
        return rgb
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:192, 0:640]
    base = np.stack([x / 640, y / 192, 0.5 + 0 * x], axis=2) * 200
    return (base + rng.integers(0, 55, size=base.shape)).astype(np.uint8)
