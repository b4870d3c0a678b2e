"""Weights trained on car-height cameras, run on cameras mounted lower or higher: synthetic drives.

The synthetic world renders the same streets from a camera at any height, with exact depth and
poses. For each height and seed: the depth's true metres per predicted metre (median over every
pixel, and over the lower 30 % of the image, mostly road), the camera-height factor the node's
`scale_source: camera_height` finds there (`pipeline.scale.ScaleTracker`, told the true height),
depth abs_rel unscaled and camera-height-scaled (every pixel 0.1-80 m), and the epipolar
odometry's distance published / true in the weights' metres and in camera-height metres (as the
node runs it: `benchmarks/epipolar_variants.py`'s `camera_height`).

Run: `python benchmarks/camera_heights.py [--heights 0.6 1.0 1.65 2.5] [--seeds 5 6] [--out DIR]`.
"""
from __future__ import annotations

import argparse
from pathlib import Path
import sys

import numpy as np
from tqdm import tqdm


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'benchmarks'))

import epipolar_variants as ev  # noqa: E402
from real_world_report import write_results  # noqa: E402


FRAMES = 60
ROAD_ROWS = 0.3  # the lower part of the image taken as the road


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--heights', nargs='+', type=float, default=[0.6, 1.0, 1.65, 2.5],
                   help='camera heights above the road (m)')
    p.add_argument('--seeds', nargs='+', type=int, default=[5, 6], help='synthetic drives')
    p.add_argument('--weights', default=None, help="depth weights (default: the package's)")
    p.add_argument('--out', type=Path, default=None, help='also write camera_heights.{json,md}')
    args = p.parse_args(argv)
    if not all(h > 0 for h in args.heights):
        p.error(f'heights must be positive, got {args.heights}')
    import torch
    torch.set_num_threads(1)
    from depth_ros.inference import Predictor

    predictor = Predictor.from_checkpoint(args.weights)
    results = {'command': ' '.join(['python benchmarks/camera_heights.py',
                                    *(argv if argv is not None else sys.argv[1:])]), 'runs': []}
    for height in tqdm(args.heights, desc='heights', unit='height'):
        for seed in args.seeds:
            results['runs'].append({'height_m': height, 'seed': seed,
                                    **measure(render(seed, height), predictor, height)})
    write_results(args.out, 'camera_heights', results, format_markdown(results))
    return 0


def render(seed: int, height_m: float, frames: int = FRAMES) -> list:
    """A synthetic drive seen from a camera `height_m` above the road."""
    from depth_ros.synth import render_sequence
    width, height = ev.SYNTHETIC_SIZE
    return list(render_sequence(seed=seed, frames=frames, width=width, height=height,
                                camera_height_m=height_m))


def measure(rendered: list, predictor, height_m: float) -> dict:
    """One drive rendered from `height_m`: depth scale and error, odometry distance."""
    frames = ev.synthetic_set(rendered, predictor, height_m)  # factors at the true height
    ratio, road, unscaled, scaled = [], [], [], []
    for frame, depth, f in zip(rendered, frames['depth'], frames['factor']):
        valid = (frame.depth_m > 0.1) & (frame.depth_m < 80)
        lower = valid.copy()
        lower[:int(round((1 - ROAD_ROWS) * lower.shape[0]))] = False
        truth, pred = frame.depth_m[valid], depth[valid]
        ratio.append(np.median(truth / pred))
        road.append(np.median(frame.depth_m[lower] / depth[lower]))
        unscaled.append(np.mean(np.abs(pred - truth) / truth))
        scaled.append(np.mean(np.abs(pred * f - truth) / truth))
    distance = {}
    for metres in ('network', 'camera_height'):
        config = ev.EpipolarConfig.for_motion('vehicle', metres == 'camera_height')
        distance[metres] = ev.score(ev.chain(frames, config, 0, metres))['distance_ratio']
    return {'true_over_predicted': float(np.median(ratio)),
            'road_true_over_predicted': float(np.median(road)),
            'camera_height_factor': float(np.median(frames['factor'])),
            'abs_rel_unscaled': float(np.mean(unscaled)),
            'abs_rel_camera_height': float(np.mean(scaled)),
            'distance_network_metres': distance['network'],
            'distance_camera_height_metres': distance['camera_height']}


def format_markdown(results: dict) -> str:
    lines = ['# Cameras mounted at other heights (synthetic drives)', '',
             f'Command: `{results["command"]}`', '',
             f'Medians over {FRAMES} frames at {ev.SYNTHETIC_SIZE[0]}x{ev.SYNTHETIC_SIZE[1]}: '
             'true over predicted depth (every pixel; the lower '
             f'{ROAD_ROWS:.0%} of the image, mostly road), the camera-height factor at the true '
             "height; abs_rel unscaled and camera-height-scaled; the epipolar odometry's "
             "distance published / true in the weights' and in camera-height metres.", '',
             '| height (m) | seed | true / predicted | road: true / predicted | camera-height '
             "factor | abs_rel unscaled | abs_rel camera-height | distance, weights' metres | "
             'distance, camera-height metres |', '|---|---|---|---|---|---|---|---|---|']
    for r in results['runs']:
        cells = [f'{r["height_m"]:g}', str(r['seed']), f'{r["true_over_predicted"]:.2f}',
                 f'{r["road_true_over_predicted"]:.2f}', f'{r["camera_height_factor"]:.2f}',
                 f'{r["abs_rel_unscaled"]:.3f}', f'{r["abs_rel_camera_height"]:.3f}',
                 _ratio(r['distance_network_metres']), _ratio(r['distance_camera_height_metres'])]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def _ratio(value: float | None) -> str:
    return 'n/a' if value is None else f'{value:.2f}'


if __name__ == '__main__':
    sys.exit(main())
