"""Settings of `depth_refinement: tracks` (`pipeline.track_depth`) against LiDAR or exact depth.

    python benchmarks/track_depth_sweep.py --out DIR
    python benchmarks/track_depth_sweep.py --sequence synth2026=FOLDER --sets   # yours only

How `TrackConfig`'s reference distance (`min_flow`), corner count, spreading Gaussian (`sigma`)
and prior were chosen (docs/learning/real_world_recipe.md, "Session 24"). Per set the depth
network (the shipped default weights, one torch thread) runs once per frame; then for each
corner count and reference distance the refiner tracks the whole sequence in order, and each
(sigma, prior) corrects the same points. Scored as the real-world benchmark scores depth: Garg
crop, 1e-3..80 m, per-image median scaling, abs_rel averaged over the frames with depth ground
truth (frames the refiner leaves alone count with the network's figure). Sets: the dev drive
and the stop-and-go training drive sfnd (LiDAR) from ../shared, and any KITTI-layout folder with
depth_2/ given as --sequence NAME=FOLDER (the synthetic seeds at 1242x375: `depth-ros synth
--seed 2026 --frames 60 --width 1242 --height 375 --out F`).

Writes DIR/track_depth_sweep.json and .md (whole or not at all) and prints the table.
"""
from __future__ import annotations

import argparse
from dataclasses import replace
import itertools
from pathlib import Path
import sys
import time

import numpy as np
from tqdm import tqdm


ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'benchmarks')]

from real_world import SHARED, _named_folder  # noqa: E402
from real_world_report import write_results  # noqa: E402

from depth_ros.evaluation.depth_metrics import evaluate_depth_image  # noqa: E402
from depth_ros.inference.image_io import read_image  # noqa: E402
from depth_ros.pipeline.epipolar import grey_image  # noqa: E402
from depth_ros.pipeline.track_depth import TrackConfig, TrackRefiner  # noqa: E402


SETS = {'dev_0926_0005': 'data/real/dev/kitti_raw_0926_0005/sequences/0926_0005',
        'sfnd': 'data/real/train/kitti_raw_0926_sfnd/sequences/0926_sfnd'}


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    import torch

    from depth_ros.inference import Predictor
    torch.set_num_threads(1)
    predictor = Predictor.from_checkpoint(None)
    folders = {**{name: args.shared / SETS[name] for name in args.sets}, **dict(args.sequence)}
    rows = []
    for name, folder in folders.items():
        rows += sweep_set(predictor, name, folder, args)
    results = {'command': ' '.join(['python benchmarks/track_depth_sweep.py',
                                    *(argv or sys.argv[1:])]),
               'defaults': TrackConfig().__dict__, 'rows': rows}
    write_results(args.out, 'track_depth_sweep', results, format_table(rows))
    return 0


def sweep_set(predictor, name: str, folder: Path, args) -> list[dict]:
    """One row per (corners, min_flow, sigma, prior) on this set."""
    from depth_ros.evaluation.kitti_sequence import load_kitti_sequence
    from depth_ros.geometry.intrinsics import kitti_intrinsics

    seq = load_kitti_sequence(folder)
    if seq.depth_reader is None:
        raise SystemExit(f'{folder}: no depth ground truth (depth_2/)')
    n = min(len(seq), args.frames or len(seq))
    greys, nets, truth = [], [], {}
    for i in tqdm(range(n), desc=f'{name}: network', unit='frame'):
        image = read_image(seq.image_paths[i])
        greys.append(grey_image(image))
        nets.append(predictor.predict(image).depth_m.astype(np.float32))
        gt = seq.depth_reader(i)
        if gt is not None and (gt > 0).any():
            truth[i] = gt
    first = read_image(seq.image_paths[0])
    intr = kitti_intrinsics(seq.calib_path, seq.camera, first.shape[1], first.shape[0])
    base = float(np.mean([_abs_rel(truth[i], nets[i]) for i in truth]))
    rows = []
    for corners, min_flow in itertools.product(args.corners, args.min_flow):
        config = TrackConfig(max_corners=corners, min_flow=min_flow)
        refiner, found, seconds = TrackRefiner(config), [], []
        for grey in tqdm(greys, desc=f'{name}: tracks {corners} / {min_flow}', unit='frame'):
            start = time.perf_counter()
            found.append(refiner.measure(grey, intr))
            seconds.append(time.perf_counter() - start)
        backs = np.array([p.frames_back for p in found])
        for sigma, prior in itertools.product(args.sigma, args.prior):
            refiner.config = replace(config, sigma=sigma, prior=prior)
            scores = [_abs_rel(truth[i], refiner.refine(nets[i], found[i])) for i in truth]
            rows.append({'set': name, 'frames_scored': len(truth), 'corners': corners,
                         'min_flow': min_flow, 'sigma': sigma, 'prior': prior,
                         'abs_rel': float(np.mean(scores)), 'network_abs_rel': base,
                         'frames_refined': int((backs > 0).sum()), 'frames': n,
                         'frames_back_median': float(np.median(backs[backs > 0]))
                         if (backs > 0).any() else None,
                         'points_median': float(np.median([len(p.depth) for p in found])),
                         'measure_ms_median': 1e3 * float(np.median(seconds[1:]))})
    return rows


def _abs_rel(gt: np.ndarray, depth: np.ndarray) -> float:
    metrics, _ = evaluate_depth_image(gt, 1.0 / depth)  # Garg crop, median-scaled
    return metrics.abs_rel


def format_table(rows: list[dict]) -> str:
    lines = ['| set | corners | min_flow | sigma | prior | abs_rel | network | refined frames | '
             'frames back (median) | points (median) | ms a frame (median) |',
             '|---|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        back = '-' if r['frames_back_median'] is None else f"{r['frames_back_median']:.0f}"
        lines.append(f"| {r['set']} | {r['corners']} | {r['min_flow']:g} | {r['sigma']:g} | "
                     f"{r['prior']:g} | {r['abs_rel']:.4f} | {r['network_abs_rel']:.4f} | "
                     f"{r['frames_refined']} / {r['frames']} | {back} | "
                     f"{r['points_median']:.0f} | {r['measure_ms_median']:.0f} |")
    return '\n'.join(lines)


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(',')]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    d = TrackConfig()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', type=Path, default=ROOT / 'track_depth_sweep_out')
    p.add_argument('--shared', type=Path, default=SHARED, help='the shared data folder')
    p.add_argument('--sets', nargs='*', choices=sorted(SETS), default=sorted(SETS))
    p.add_argument('--sequence', action='append', default=[], type=_named_folder,
                   metavar='NAME=FOLDER', help='a KITTI-layout folder with depth_2/ (repeatable)')
    p.add_argument('--frames', type=int, help='first N frames of each set only')
    p.add_argument('--corners', type=lambda t: [int(v) for v in t.split(',')],
                   default=[d.max_corners], help=f'max_corners values (default {d.max_corners})')
    p.add_argument('--min-flow', type=_floats, default=[0.015, 0.025, 0.04],
                   help='min_flow values, fractions of the width (comma-separated)')
    p.add_argument('--sigma', type=_floats, default=[0.012, d.sigma, 0.032],
                   help='sigma values, fractions of the width')
    p.add_argument('--prior', type=_floats, default=[1.0, d.prior], help='prior values (points)')
    args = p.parse_args(argv)
    if not args.sets and not args.sequence:
        p.error('nothing to sweep: name --sets or give --sequence NAME=FOLDER')
    return args


if __name__ == '__main__':
    sys.exit(main())
