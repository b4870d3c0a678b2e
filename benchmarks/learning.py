"""Learning benchmark: does self-supervised training learn depth and motion on the synthetic world?

Trains (optionally) with config/train_synthetic.yaml, then evaluates a checkpoint on synthetic
sequences of seeds never used in training, against baselines measured in the same run on the
same frames and pixels: the untrained network, and depth_ros.evaluation.baselines (row prior
from the training seed's rendered depth, flat-ground prior at 1.65 m, constant depth,
constant-forward and static odometry), with a plain line when the network does not beat one.
Also reports the camera-height metric
scale (issue: metric scale without ground truth). Writes results JSON, a markdown table and the
learning curve, and can install the checkpoint as the package's default weights.

    python benchmarks/learning.py --train --minutes 35            # data, training, evaluation
    python benchmarks/learning.py --checkpoint runs/.../epoch_004.safetensors --install-default

Depth metrics: every valid ground-truth pixel (0.1..80 m, no Garg crop: the synthetic world has
no car bonnet), per-image median scaling unless said otherwise. ATE: Monodepth2's 5-frame
protocol on the pose network's (frame i, frame i+1) predictions.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys
import time

import numpy as np


ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'benchmarks')]

from learning_report import format_table, learning_curve  # noqa: E402
from real_world_report import write_whole  # noqa: E402

from depth_ros.errors import ConfigError  # noqa: E402
from depth_ros.evaluation import baselines as bl  # noqa: E402
from depth_ros.evaluation.depth_metrics import evaluate_depths  # noqa: E402
from depth_ros.evaluation.trajectory import ate_5frame_from_local, local_from_global  # noqa: E402
from depth_ros.geometry.se3 import invert  # noqa: E402
from depth_ros.pipeline.epipolar import EpipolarOdometry, grey_image  # noqa: E402
from depth_ros.sizes import input_size_arg, parse_size  # noqa: E402
from depth_ros.synth.world import DEFAULT_SUPERSAMPLE, supersample_arg  # noqa: E402


TRAIN_SEEDS = (100, 101, 102, 103, 104, 105)
VAL_SEED = 900
EVAL_SEEDS = (2026, 31337)
SIZE = (128, 416)  # height, width: the evaluation seeds' default size (--size)
MAX_EVAL_DEPTH_M = 80.0


def main() -> int:
    args = _parse()
    data = ROOT / 'runs' / 'synth_train'
    if args.train:
        _ensure_training_data(data)
        checkpoint, run_dir = _train(args.minutes)
    else:
        checkpoint, run_dir = Path(args.checkpoint), Path(args.checkpoint).parents[1]
    results = evaluate_all(checkpoint, args.frames, args.size, args.input_size,
                           args.supersample)
    results['training'] = learning_curve(args.runs or [run_dir], args.out,
                                         _arch_title(checkpoint))
    args.out.mkdir(parents=True, exist_ok=True)
    write_whole(args.out / 'learning_results.json', json.dumps(results, indent=1))
    print(format_table(results))
    if args.install_default:
        install_default(checkpoint, data, results)
    return 0


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--train', action='store_true', help='generate data and train first')
    p.add_argument('--minutes', type=float, default=35.0, help='training wall-clock budget')
    p.add_argument('--checkpoint', help='evaluate this checkpoint (without --train)')
    p.add_argument('--frames', type=int, default=60, help='frames per evaluation sequence')
    p.add_argument('--runs', type=Path, nargs='+',
                   help='run folders of successive training phases for the learning curve '
                        "(default: the checkpoint's run); a phase started from model.init_* "
                        "counts its steps after the previous phase's")
    p.add_argument('--out', type=Path, default=ROOT / 'docs' / 'learning')
    p.add_argument('--install-default', action='store_true',
                   help='write depth_ros/weights/default.safetensors (float16, metres_per_unit '
                        'calibrated); '
                        'update its MODEL_CARD.md with the figures printed')
    p.add_argument('--size', default='416x128', metavar='WxH',
                   help='size the evaluation seeds are rendered at (default 416x128; the '
                        "weights' own input size measures them without resampling)")
    p.add_argument('--supersample', type=supersample_arg,
                   default=DEFAULT_SUPERSAMPLE, metavar='K',
                   help='render the evaluation seeds with K x K rays per pixel, averaged (odd '
                        f"K; default {DEFAULT_SUPERSAMPLE}, the world's; 1: one ray, the frames "
                        'before session 19)')
    p.add_argument('--input-size', metavar='WxH', type=input_size_arg,
                   help="run the networks at this size instead of the weights' own (the "
                        "node's input_size parameter; multiples of 32)")
    args = p.parse_args()
    if not args.train and not args.checkpoint:
        p.error('give --train or --checkpoint')
    try:
        height, width = parse_size(args.size, '--size')
    except ConfigError as exc:
        p.error(str(exc))
    if width < 32 or height < 32:
        p.error(f'--size {args.size!r}: at least 32x32')
    args.size = (height, width)
    return args


def _ensure_training_data(root: Path) -> None:
    from depth_ros.synth import generate_sequence

    jobs = [(s, f'{i:02d}', 200) for i, s in enumerate(TRAIN_SEEDS)] + [(VAL_SEED, '90', 60)]
    for seed, seq, frames in jobs:
        if not (root / 'sequences' / seq / 'synth.json').is_file():
            generate_sequence(root, seed, frames, sequence=seq, width=SIZE[1], height=SIZE[0])


def _train(minutes: float) -> tuple[Path, Path]:
    from training.config import load_config
    from training.trainer import train

    config = load_config(ROOT / 'config' / 'train_synthetic.yaml',
                         [f'optim.max_minutes={minutes}'])
    summary = train(config)
    return summary.checkpoint, Path(config.output_dir)


def _arch_title(checkpoint: Path) -> str:
    from depth_ros.models.checkpoint import read_meta

    meta = read_meta(checkpoint)
    pose = f' + {meta.pose_arch.name}' if meta.pose_arch else ''
    return f'{meta.depth_arch.name}{pose}'


def _sequence(seed: int, frames: int, size: tuple[int, int] = SIZE,
              supersample: int = DEFAULT_SUPERSAMPLE):
    """Synthetic frames of `seed` (rendered in memory at `size`, height and width, with
    `supersample` x `supersample` rays per pixel) with GT depth and poses."""
    from depth_ros.synth import render_sequence

    return list(render_sequence(seed=seed, frames=frames, width=size[1], height=size[0],
                                supersample=supersample))


def _intrinsics(frames):
    """The synthetic camera's intrinsics at the size `frames` were rendered at."""
    from depth_ros.synth import synth_intrinsics

    height, width = frames[0].rgb.shape[:2]
    return synth_intrinsics(width, height)


def evaluate_predictor(predictor, frames, epipolar: bool = False) -> dict:
    """Depth (median-scaled, unscaled, camera-height scaled) and 5-frame ATE on one sequence;
    with `epipolar`, also the 5-frame ATE of the epipolar odometry on the network's depth
    (`odometry_source: epipolar`; a pair it cannot measure repeats the last motion, as in the
    frame pipeline)."""
    from depth_ros.inference.scale import DEFAULT_WINDOW, KITTI_CAMERA_HEIGHT_M
    from depth_ros.pipeline.scale import Mounting, ScaleTracker

    intr = _intrinsics(frames)
    # As the node's scale_source camera_height; the synthetic camera is mounted at 1.65 m.
    scale, mounting = ScaleTracker('camera_height', 1.0, DEFAULT_WINDOW), Mounting.from_pitch(
        KITTI_CAMERA_HEIGHT_M)
    gts, preds, height_factors, prepared, pred_local = [], [], [], [], []
    odometry, epipolar_local, last = EpipolarOdometry() if epipolar else None, [], np.eye(4)
    for frame in frames:
        image = predictor.prepare(frame.rgb)
        result = predictor.predict(image)
        if odometry is not None:
            step = odometry.step(grey_image(frame.rgb), result.depth_m, intr)
            last = last if step.previous_from_current is None else step.previous_from_current
            if gts:
                epipolar_local.append(invert(last))
        applied = scale.update(result.depth_m, intr, mounting)
        gts.append(np.where(frame.depth_m > 0, frame.depth_m, 0.0))
        preds.append(result.inv_depth_m)
        height_factors.append(applied.factor if applied.from_ground else None)
        if prepared and predictor.has_pose:
            pred_local.append(invert(predictor.relative_pose(prepared[-1], image)))
        prepared = [image]
    kwargs = dict(garg_crop=False, max_depth=MAX_EVAL_DEPTH_M)
    median = evaluate_depths(gts, preds, **kwargs)
    unscaled = evaluate_depths(gts, preds, scale=1.0, **kwargs)
    out = {'depth_median_scaled': median.mean.to_dict(), 'depth_unscaled': unscaled.mean.to_dict()}
    out.update(_height_scale_figures(gts, preds, height_factors, median.scales, kwargs))
    gt_local = local_from_global(np.stack([f.world_from_cam for f in frames]))
    if pred_local:
        out['ate_5frame'] = ate_5frame_from_local(gt_local, np.stack(pred_local)).to_dict()
        out['ate_5frame_zero_motion'] = ate_5frame_from_local(
            gt_local, np.broadcast_to(np.eye(4), gt_local.shape)).to_dict()
    if epipolar_local:
        out['ate_5frame_epipolar'] = ate_5frame_from_local(
            gt_local, np.stack(epipolar_local)).to_dict()
    return out


def _height_scale_figures(gts, preds, factors, true_scales, kwargs) -> dict:
    """Camera-height scale vs the true (median GT/pred) scale, and depth metrics with it."""
    known = [i for i, f in enumerate(factors) if f is not None]
    if not known:
        return {'camera_height': {'frames_with_factor': 0}}
    rel = np.array([factors[i] / true_scales[i] - 1.0 for i in known])
    depth = [evaluate_depths([gts[i]], [preds[i] / factors[i]], scale=1.0, **kwargs).mean
             for i in known]
    abs_rel = float(np.mean([d.abs_rel for d in depth]))
    return {'camera_height': {
        'frames_with_factor': len(known), 'frames': len(factors),
        'median_abs_scale_error': float(np.median(np.abs(rel))),
        'median_scale_error': float(np.median(rel)),
        'abs_rel': abs_rel}}


def evaluate_all(checkpoint: Path, n_frames: int, size: tuple[int, int] = SIZE,
                 input_size: tuple[int, int] | None = None,
                 supersample: int = DEFAULT_SUPERSAMPLE) -> dict:
    """The trained weights and the baselines on every evaluation seed, rendered at `size`
    (height, width) with `supersample` rays per pixel side; the networks run at `input_size`
    (None: the weights' own)."""
    import tempfile

    import torch

    from depth_ros.inference import Predictor
    from depth_ros.models import (
        ArchSpec,
        build_depth_net,
        build_pose_net,
        save_checkpoint,
    )

    trained = Predictor.from_checkpoint(checkpoint, input_size=input_size)
    meta = trained.meta
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        untrained_path = Path(tmp) / 'untrained.safetensors'
        save_checkpoint(untrained_path, build_depth_net(meta.depth_arch.name),
                        build_pose_net(meta.pose_arch.name),
                        depth_arch=ArchSpec.of(meta.depth_arch.name),
                        pose_arch=ArchSpec.of(meta.pose_arch.name), height=meta.height,
                        width=meta.width)
        untrained = Predictor.from_checkpoint(untrained_path)
    results = {'checkpoint': str(checkpoint), 'size': f'{size[1]}x{size[0]}',
               'input_size': f'{meta.width}x{meta.height}', 'supersample': supersample,
               'seeds': {}}
    prior = _training_row_prior(size=size)
    results['row_prior'] = prior.source
    for seed in EVAL_SEEDS:
        frames = _sequence(seed, n_frames, size, supersample)
        start = time.perf_counter()
        entry = {'trained': evaluate_predictor(trained, frames, epipolar=True),
                 'untrained': evaluate_predictor(untrained, frames),
                 'constant_depth': _constant_depth(frames)}
        entry['baselines'] = evaluate_baselines(frames, prior)
        entry['verdicts'] = _verdicts(entry)
        entry['seconds'] = time.perf_counter() - start
        results['seeds'][str(seed)] = entry
    return results


def _training_row_prior(frames: int = 40, size: tuple[int, int] = SIZE) -> bl.RowPrior:
    """Row prior from the rendered depth of a training seed (never an evaluation seed)."""
    gts = [np.where(f.depth_m > 0, f.depth_m, 0.0)
           for f in _sequence(TRAIN_SEEDS[0], frames, size)]
    return bl.row_prior_from_depths(
        gts, f'per-row median of the rendered depth of training seed {TRAIN_SEEDS[0]}, '
             f'{frames} frames at {size[1]}x{size[0]}', max_depth=MAX_EVAL_DEPTH_M)


def evaluate_baselines(frames, prior: bl.RowPrior) -> dict:
    """Depth and odometry baselines on the evaluated frames and pixels (same protocol)."""
    intr = _intrinsics(frames)
    depth = bl.DepthBaselines(prior, garg_crop=False, max_depth=MAX_EVAL_DEPTH_M)
    for frame in frames:
        depth.add(np.where(frame.depth_m > 0, frame.depth_m, 0.0), intr)
    poses = np.stack([f.world_from_cam for f in frames])
    return {'depth': depth.to_dict(), 'odometry': bl.odometry_baselines(poses)}


def _verdicts(entry: dict) -> list[str]:
    """Plain lines where the trained network does or does not beat a baseline."""
    trained = entry['trained']
    height = trained.get('camera_height', {})
    network = {'median_scaled': trained['depth_median_scaled'],
               'camera_height': {'abs_rel': height['abs_rel']} if 'abs_rel' in height else None}
    # 'unscaled' is left out: a training checkpoint's metres_per_unit is 1, not metres.
    lines = bl.comparison_lines(network, entry['baselines']['depth'], trained,
                                entry['baselines']['odometry'],
                                protocols=('median_scaled', 'camera_height'),
                                odometry_subject='pose network')
    if 'ate_5frame_epipolar' in trained:
        lines += bl.comparison_lines(None, {}, {'ate_5frame': trained['ate_5frame_epipolar']},
                                     entry['baselines']['odometry'],
                                     odometry_subject='epipolar odometry')
    return lines


def _constant_depth(frames) -> dict:
    gts = [np.where(f.depth_m > 0, f.depth_m, 0.0) for f in frames]
    preds = [np.ones_like(g) for g in gts]
    return evaluate_depths(gts, preds, garg_crop=False, max_depth=MAX_EVAL_DEPTH_M).mean.to_dict()


def install_default(checkpoint: Path, data: Path, results: dict) -> None:
    """Copy the checkpoint into the package with depth_scale calibrated on training data.

    The scale is the median GT/prediction ratio over a training sequence (never an evaluation
    seed), so the weights give metres on the synthetic world's camera.
    """
    from depth_ros.inference import Predictor
    from depth_ros.models import load_checkpoint, save_checkpoint

    frames = _sequence(TRAIN_SEEDS[0], 40)
    predictor = Predictor.from_checkpoint(checkpoint)
    gts = [np.where(f.depth_m > 0, f.depth_m, 0.0) for f in frames]
    preds = [predictor.predict(f.rgb).inv_depth_m for f in frames]
    ratio = float(np.median(evaluate_depths(gts, preds, garg_crop=False,
                                            max_depth=MAX_EVAL_DEPTH_M).scales))
    ckpt = load_checkpoint(checkpoint)
    target = ROOT / 'depth_ros' / 'weights' / 'default.safetensors'
    save_checkpoint(target, ckpt.depth_net, ckpt.pose_net, depth_arch=ckpt.meta.depth_arch,
                    pose_arch=ckpt.meta.pose_arch, height=ckpt.meta.height,
                    width=ckpt.meta.width, min_depth=ckpt.meta.min_depth,
                    max_depth=ckpt.meta.max_depth,
                    metres_per_unit=ratio * ckpt.meta.metres_per_unit,
                    training_config=ckpt.meta.training_config, half=True,
                    notes=f'depth_ros default weights: {_arch_title(checkpoint)} trained '
                          'self-supervised on the synthetic world; see MODEL_CARD.md')
    print(f'installed {target} ({target.stat().st_size / 1e6:.1f} MB), depth_scale {ratio:.4f}')


if __name__ == '__main__':
    sys.exit(main())
