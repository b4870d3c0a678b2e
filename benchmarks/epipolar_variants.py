"""Epipolar odometry settings side by side: 5-frame ATE / constant-forward on chosen sequences.

How session 18 chose the vehicle motion model (docs/learning/real_world_recipe.md, "Session
18"): each set's frames are run once through the depth network (cached in memory), then every
variant of `EpipolarConfig` (JSON overrides of its defaults) chains the whole drive as the frame
pipeline does (a pair it cannot measure repeats the last motion) and is scored against the
set's poses: Monodepth2's 5-frame ATE over constant-forward's, and APE Sim(3) over
constant-forward's. The selection score is the geometric mean of the ATE ratios; settings are
chosen on the selection sets (KITTI odometry 00, synthetic seeds 5-8) and only then looked at
on the evaluation sets (06, 01, the dev drive, seeds 2026 / 31337).

A variant may also say in which metres the odometry measures (`"metres"`, beside the config's
overrides): `network` (the default: the depth network's metres, as `scale_source: none /
fixed` publishes), `camera_height` (as the camera_height / tf sources publish: the depth times
the frame's camera-height factor before the odometry sees it, the overrides on
`EpipolarConfig.for_motion('vehicle', ground_scale=True)`) or `camera_height_step` (before
session 21: each step of the network-metres odometry times the factor). Each variant's
"distance published / true" is 1 / the scale of its Sim(3) fit onto the poses.

`--stops N` inserts N stops of three frames (the frame repeated, as a car waiting) into every
set and scores the moving frames only: what a stop costs the odometry.

Run: `python benchmarks/epipolar_variants.py --sets selection --variant
shipped={} --variant before='{"direction_smoothing": 0.7, "turn_compensation": false}'
[--out DIR]`.
"""
from __future__ import annotations

import argparse
from dataclasses import replace
import json
import os
from pathlib import Path
import sys

import numpy as np
from tqdm import tqdm


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'benchmarks'))

from real_world_report import EVAL_SETS, write_results  # noqa: E402

from depth_ros.evaluation.baselines import constant_forward_poses  # noqa: E402
from depth_ros.evaluation.plots import align_positions_sim3  # noqa: E402
from depth_ros.evaluation.trajectory import ape, ate_5frame  # noqa: E402
from depth_ros.geometry.se3 import from_rotation_translation, orthonormalize  # noqa: E402
from depth_ros.inference.scale import DEFAULT_WINDOW, KITTI_CAMERA_HEIGHT_M  # noqa: E402
from depth_ros.pipeline.epipolar import (  # noqa: E402
    EpipolarOdometry,
    follow_scale,
    grey_image,
)
from depth_ros.pipeline.epipolar_config import EpipolarConfig  # noqa: E402
from depth_ros.pipeline.scale import Mounting, ScaleTracker  # noqa: E402
from depth_ros.synth.world import DEFAULT_SUPERSAMPLE, supersample_arg  # noqa: E402


SHARED = Path(os.environ.get('DEPTH_ROS_SHARED', ROOT.parent / 'shared'))
KITTI_SETS = {'odometry_00': 'data/real/train/kitti_odom00/sequences/00', **EVAL_SETS}
SYNTHETIC_SIZE = (416, 128)  # the learning benchmark's frames (width, height)
METRES = ('network', 'camera_height', 'camera_height_step')
GROUPS = {'selection': ['odometry_00', 'seed_5', 'seed_6', 'seed_7', 'seed_8'],
          'evaluation': ['odometry_06', 'odometry_01', 'dev_0926_0005', 'seed_2026',
                         'seed_31337']}


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    import torch
    torch.set_num_threads(1)
    from depth_ros.inference import Predictor

    predictor = Predictor.from_checkpoint(args.weights)
    names = set_names(args.sets)
    data = {name: load_set(name, predictor, args.supersample)
            for name in tqdm(names, desc='depth', unit='set')}
    results = {'command': ' '.join(['python benchmarks/epipolar_variants.py',
                                    *(argv if argv is not None else sys.argv[1:])]),
               'stops': args.stops, 'supersample': args.supersample, 'variants': {}}
    for label, overrides in args.variant:
        overrides = dict(overrides)
        metres = overrides.pop('metres', 'network')
        config = replace(EpipolarConfig.for_motion('vehicle', metres == 'camera_height'),
                         **overrides)
        scores = {name: score(chain(frames, config, args.stops, metres))
                  for name, frames in data.items()}
        ratios = [s['ate_ratio'] for s in scores.values()]
        results['variants'][label] = {'overrides': overrides, 'metres': metres, 'sets': scores,
                                      'geomean_ate_ratio': float(np.exp(np.mean(np.log(ratios))))}
    write_results(args.out, 'epipolar_variants', results, format_markdown(results))
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sets', nargs='+', default=['selection'],
                   help="'selection', 'evaluation' or set names (odometry_00, odometry_06, "
                        'odometry_01, dev_0926_0005, seed_N)')
    p.add_argument('--variant', action='append', type=_variant, required=True,
                   metavar='NAME=JSON', help='EpipolarConfig overrides, e.g. free=\'{"direction_'
                   'smoothing": 0, "turn_compensation": false}\' ({} for the defaults)')
    p.add_argument('--stops', type=int, default=0, help='stops of three frames inserted per set')
    p.add_argument('--weights', default=None, help="depth weights (default: the package's)")
    p.add_argument('--supersample', type=supersample_arg,
                   default=DEFAULT_SUPERSAMPLE, metavar='K',
                   help='rays per pixel side of the synthetic seeds (default '
                        f'{DEFAULT_SUPERSAMPLE}; 1: one ray, the frames before session 19)')
    p.add_argument('--out', type=Path, default=None, help='also write epipolar_variants.{json,md}')
    args = p.parse_args(argv)
    unknown = [n for n in set_names(args.sets) if n not in KITTI_SETS and not _is_seed(n)]
    if unknown:
        p.error(f'unknown sets {unknown}: use selection, evaluation, {", ".join(KITTI_SETS)} '
                'or seed_N')
    return args


def set_names(sets: list[str]) -> list[str]:
    """The sets named on the command line, groups expanded."""
    return [n for group in sets for n in GROUPS.get(group, [group])]


def _is_seed(name: str) -> bool:
    return name.startswith('seed_') and name[5:].isdigit()


def _variant(text: str) -> tuple[str, dict]:
    name, _, overrides = text.partition('=')
    try:
        values = json.loads(overrides or '{}')
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f'{text!r}: not NAME=JSON ({exc})') from exc
    if not name or not isinstance(values, dict):
        raise argparse.ArgumentTypeError(f'{text!r}: expected NAME=JSON object')
    if values.get('metres', 'network') not in METRES:
        raise argparse.ArgumentTypeError(f'{text!r}: metres must be one of {METRES}')
    return name, values


def load_set(name: str, predictor, supersample: int = DEFAULT_SUPERSAMPLE) -> dict:
    """{'grey': [H, W] uint8 frames, 'depth': network depth (m), 'intrinsics', 'gt': poses};
    a synthetic seed rendered with `supersample` rays per pixel side."""
    if name.startswith('seed_'):
        from depth_ros.synth import render_sequence
        width, height = SYNTHETIC_SIZE
        return synthetic_set(list(render_sequence(seed=int(name[5:]), frames=60, width=width,
                                                  height=height, supersample=supersample)),
                             predictor)
    from depth_ros.evaluation.kitti_to_bag import load_kitti_sequence
    from depth_ros.geometry.intrinsics import kitti_intrinsics
    from depth_ros.inference.image_io import read_image
    seq = load_kitti_sequence(SHARED / KITTI_SETS[name])
    images = [read_image(p) for p in seq.image_paths]
    intr = kitti_intrinsics(seq.calib_path, seq.camera, images[0].shape[1], images[0].shape[0])
    return _frames(images, intr, seq.world_from_cam[:len(images)], predictor)


def synthetic_set(frames: list, predictor, camera_height_m: float = KITTI_CAMERA_HEIGHT_M) -> dict:
    """`load_set` of rendered synthetic frames (`depth_ros.synth.render_sequence`) whose camera
    is `camera_height_m` above the road."""
    from depth_ros.synth import synth_intrinsics
    height, width = frames[0].rgb.shape[:2]
    return _frames([f.rgb for f in frames], synth_intrinsics(width, height),
                   np.stack([f.world_from_cam for f in frames]), predictor, camera_height_m)


def _frames(images: list, intr, gt: np.ndarray, predictor,
            camera_height_m: float = KITTI_CAMERA_HEIGHT_M) -> dict:
    depth = [predictor.predict(predictor.prepare(i)).depth_m for i in images]
    tracker = ScaleTracker('camera_height', 1.0, DEFAULT_WINDOW)  # the node's defaults
    mounting = Mounting.from_pitch(camera_height_m)
    scales = [tracker.update(d, intr, mounting) for d in depth]
    return {'grey': [grey_image(i) for i in images], 'intrinsics': intr, 'gt': gt,
            'depth': depth, 'factor': [s.factor for s in scales],
            'from_ground': [s.from_ground for s in scales],
            'trusted': [s.trusted for s in scales]}


def chain(frames: dict, config: EpipolarConfig, stops: int,
          metres: str = 'network') -> tuple[np.ndarray, np.ndarray]:
    """(ground truth, chained poses) of the moving frames, with `stops` stops inserted, in
    `metres` (one of METRES)."""
    n = len(frames['grey'])
    at = set(np.linspace(0, n - 1, stops + 2).round().astype(int)[1:-1].tolist()) if stops else ()
    order = [i for i in range(n) for _ in range(4 if i in at else 1)]
    odometry, poses, last = EpipolarOdometry(config), [np.eye(4)], np.eye(4)
    depth_scale = None
    for k, i in enumerate(order):
        factor = frames['factor'][i]
        depth = frames['depth'][i] * (factor if metres == 'camera_height' else 1.0)
        step = odometry.step(frames['grey'][i], depth, frames['intrinsics'])
        if metres == 'camera_height':  # as the frame pipeline
            depth_scale = follow_scale(odometry, depth_scale, factor, frames['trusted'][i])
        if step.previous_from_current is not None:
            last = step.previous_from_current
        if k:
            move = last if metres != 'camera_height_step' else from_rotation_translation(
                last[:3, :3], last[:3, 3] * factor)
            poses.append(orthonormalize(poses[-1] @ move))
    moving = [k for k in range(len(order)) if k == 0 or order[k] != order[k - 1]]
    return frames['gt'], np.stack(poses)[moving]


def score(pair: tuple[np.ndarray, np.ndarray]) -> dict:
    gt, poses = pair
    forward = constant_forward_poses(len(gt))
    ate, ate_cf = ate_5frame(gt, poses).mean, ate_5frame(gt, forward).mean
    _, scale = align_positions_sim3(gt, poses)  # None: the estimate never moved
    sim3 = ape(gt, poses, 'sim3' if scale is not None else 'se3').rmse
    sim3_cf = ape(gt, forward, 'sim3').rmse
    return {'ate_5frame': ate, 'ate_ratio': ate / ate_cf, 'ape_sim3': sim3,
            'ape_sim3_ratio': sim3 / sim3_cf,
            'distance_ratio': None if scale is None else 1.0 / scale}


def format_markdown(results: dict) -> str:
    variants = results['variants']
    sets = list(next(iter(variants.values()))['sets']) if variants else []
    lines = ['# Epipolar odometry variants', '', f'Command: `{results["command"]}`', '',
             "5-frame ATE / constant-forward (APE Sim(3) / constant-forward's; distance "
             'published / true)'
             + (f'; {results["stops"]} stops of three frames inserted per set, moving frames '
                'scored' if results['stops'] else '')
             + f'; synthetic seeds rendered with {results.get("supersample", 1)} x '
               f'{results.get("supersample", 1)} rays a pixel.', '',
             '| variant | overrides | metres | ' + ' | '.join(sets) + ' | geometric mean |',
             '|---|---|---|' + '---|' * (len(sets) + 1)]
    for label, v in variants.items():
        cells = [f'{s["ate_ratio"]:.3f}x ({s["ape_sim3_ratio"]:.3f}; '
                 + ('n/a' if s.get('distance_ratio') is None else f'{s["distance_ratio"]:.2f}')
                 + ')' for s in v['sets'].values()]
        lines.append(f'| {label} | `{json.dumps(v["overrides"])}` | '
                     f'{v.get("metres", "network")} | ' + ' | '.join(cells)
                     + f' | {v["geomean_ate_ratio"]:.3f} |')
    return '\n'.join(lines)


if __name__ == '__main__':
    sys.exit(main())
