"""Real-world benchmark: depth, odometry and a still camera on every real set with ground truth.

    python benchmarks/real_world.py --weights W --out DIR      # W default: the shipped weights
    python benchmarks/real_world.py --sequence NAME=FOLDER     # a drive of yours (repeatable)
    python benchmarks/real_world.py --make-row-prior           # rebuild the row prior (once)

Sets (from ../shared, or --shared): the dev drive KITTI raw 2011_09_26_0005 (154 colour
frames, LiDAR depth, GPS/INS poses) and KITTI odometry 06 and 01 (51 grey frames each,
official poses, no depth), and any drive given with --sequence (KITTI raw synced, with
velodyne_points/ and oxts/, or KITTI odometry layout). Per set, in one pass over the frames
through the package's Predictor (torch, one thread):

- depth against LiDAR, KITTI Eigen-style: Garg crop, 1e-3..80 m, per-image median scaling;
  also unscaled (the weights' metres), camera-height-scaled (the package's estimator,
  1.65 m, level prior, filtered over frames as the node does) and median-scaled without the
  crop; beside the row prior, flat-ground prior and constant depth on the same pixels
  (depth_ros.evaluation.baselines);
- odometry: the pose network's pairs and the epipolar odometry (in the depth network's metres,
  and in camera-height metres as with scale_source camera_height) chained into trajectories,
  5-frame ATE, APE, KITTI devkit figures and the distance each publishes over the true one,
  beside constant-forward and static; a top-down picture per set (as published and Sim(3)-
  aligned);
- static pairs: each frame with itself (a few per set) and consecutive real frames of a camera
  standing still (pairs whose mean grey difference is at the noise floor, below 2 grey levels,
  in the train sets' sfnd and EuRoC runs): translation per frame in metres at the weights'
  scale and rotation in degrees (targets < 2 cm, < 0.1 deg);
- previews: camera image, predicted inverse depth and LiDAR (magma, near = bright).

Writes DIR/real_world.json and DIR/real_world.md and prints the table.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path
import re
import sys
import time

import numpy as np
from tqdm import tqdm


ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'benchmarks')]

from real_world_report import (  # noqa: E402
    EVAL_SETS,
    PLOT_LABELS,
    depth_by_range,
    format_markdown,
    issue_targets,
    relative,
    spread,
    trained_on,
    write_whole,
)
from static_pairs import static_pair_test  # noqa: E402

from depth_ros.evaluation import baselines as bl  # noqa: E402
from depth_ros.evaluation.results import json_safe  # noqa: E402
from depth_ros.geometry.se3 import orthonormalize  # noqa: E402
from depth_ros.inference.image_io import read_image  # noqa: E402
from depth_ros.inference.scale import DEFAULT_WINDOW, LOW_CONFIDENCE  # noqa: E402
from depth_ros.pipeline.epipolar import EpipolarOdometry, grey_image  # noqa: E402
from depth_ros.pipeline.epipolar_config import EpipolarConfig  # noqa: E402
from depth_ros.pipeline.track_depth import DEPTH_REFINEMENTS  # noqa: E402
from depth_ros.sizes import input_size_arg  # noqa: E402


SHARED = Path(os.environ.get('DEPTH_ROS_SHARED', ROOT.parent / 'shared'))
ROW_PRIOR_DEPTHS = 'data/real/train/kitti_raw_0926_sfnd/sequences/0926_sfnd'


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    import torch
    torch.set_num_threads(1)
    if args.make_row_prior:
        return make_row_prior(args.shared)
    from depth_ros.inference import Predictor
    from depth_ros.inference.predictor import resolve_weights
    args.out.mkdir(parents=True, exist_ok=True)
    weights = resolve_weights(args.weights)
    predictor = Predictor.from_checkpoint(weights, flip_average=args.flip_average,
                                          input_size=args.input_size)
    start = time.perf_counter()
    results = {'command': ' '.join(['python benchmarks/real_world.py', *(argv or sys.argv[1:])]),
               'weights': str(args.weights or 'default (depth_ros/weights/default.safetensors)'),
               'weights_sha256': hashlib.sha256(Path(weights).read_bytes()).hexdigest(),
               'metres_per_unit': predictor.metres_per_unit, 'flip_average': args.flip_average,
               'depth_refinement': args.depth_refinement,
               # (height, width) the networks ran at when not the weights' own, else None
               'input_size': list(predictor.input_size) if args.input_size else None,
               'architecture': f'{predictor.meta.depth_arch.name} + '
                               f'{getattr(predictor.meta.pose_arch, "name", None)}',
               'protocol': PROTOCOL.format(height=args.camera_height_m,
                                               min_confidence=LOW_CONFIDENCE),
               'row_prior': bl.load_row_prior().source, 'sets': {}}
    identical = {}
    folders = {**{name: args.shared / EVAL_SETS[name] for name in args.sets},
               **dict(args.sequence)}
    for name, folder in folders.items():
        entry, identical[name] = evaluate_set(predictor, folder, name, args)
        results['sets'][name] = entry
    results['trained_on'] = trained_on(predictor.meta.training_sequences, folders)
    results['static_pairs'] = static_pair_test(predictor, identical, args.shared,
                                               args.static_pairs)
    results['issue_12_targets'] = issue_targets(results, Path(weights).stat().st_size)
    results['seconds'] = time.perf_counter() - start
    table = format_markdown(results)
    write_whole(args.out / 'real_world.json', json.dumps(json_safe(results), indent=1) + '\n')
    write_whole(args.out / 'real_world.md', table + '\n')
    print(table)
    return 0


PROTOCOL = ('depth: LiDAR of the same frame, Garg crop, 1e-3..80 m, prediction clamped to '
            '[1e-3, 80] m, metrics averaged per image; median-scaled = per-image median ratio, '
            "unscaled = the weights' metres (metres_per_unit), camera-height = the package's "
            'estimator as the node runs it ({height:g} m, level prior, 30-frame filter, applied '
            'from confidence {min_confidence:g}: frames before are not scored with it); '
            'odometry: pose-network pairs (i, i+1) chained, and the epipolar odometry '
            '(odometry_source: epipolar) on the same frames with the same depth network; '
            '5-frame ATE (Monodepth2), APE (evo), KITTI devkit')


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--weights', type=Path,
                   help="checkpoint, or a packaged name ('default', 'real_640x192', "
                        "'synthetic'); default: the shipped default weights")
    p.add_argument('--out', type=Path, default=ROOT / 'real_world_out')
    p.add_argument('--shared', type=Path, default=SHARED, help='the shared data folder')
    p.add_argument('--sets', nargs='*', choices=sorted(EVAL_SETS),
                   help='built-in sets (default: all of them, or none when --sequence is given)')
    p.add_argument('--sequence', action='append', default=[], type=_named_folder,
                   metavar='NAME=FOLDER',
                   help='also evaluate a sequence of your own (repeatable): a KITTI odometry-'
                        'layout folder (image_2 or image_0, calib.txt, times.txt; LiDAR from '
                        'depth_2/ and poses from ../../poses/<folder name>.txt when present) or '
                        'a KITTI raw synced drive (image_0X/data, oxts/, velodyne_points/, the '
                        'calib_*.txt files in its parent folder)')
    p.add_argument('--camera-height-m', type=float, default=bl.DEFAULT_CAMERA_HEIGHT_M,
                   help='camera height above the road for the camera-height scale and the '
                        "flat-ground prior (default: KITTI's 1.65 m)")
    p.add_argument('--frames', type=int, help='first N frames of each set only (quick runs)')
    p.add_argument('--previews', type=int, default=3, help='preview PNGs on sets with LiDAR')
    p.add_argument('--flip-average', action='store_true',
                   help="depth = mean of the image's and its mirror image's (the node's "
                        'flip_average parameter)')
    p.add_argument('--input-size', metavar='WxH', type=input_size_arg,
                   help="run the networks at this size instead of the weights' own (the node's "
                        'input_size parameter; multiples of 32)')
    p.add_argument('--depth-refinement', choices=DEPTH_REFINEMENTS, default='none',
                   help="the node's depth_refinement parameter: tracks corrects the depth with "
                        'corners triangulated over several frames (pipeline.track_depth)')
    p.add_argument('--static-pairs', type=int, default=8, help='pairs per static-pair group')
    p.add_argument('--make-row-prior', action='store_true',
                   help=f'rebuild {bl.ROW_PRIOR_PATH.relative_to(ROOT)} from '
                        f'{ROW_PRIOR_DEPTHS}/depth_2 and exit')
    args = p.parse_args(argv)
    if args.sets is None:
        args.sets = [] if args.sequence else list(EVAL_SETS)
    names = list(args.sets) + [name for name, _ in args.sequence]
    if len(set(names)) != len(names):
        p.error(f'each set needs a name of its own, got {names}')
    if not names:
        p.error('nothing to evaluate: name --sets or give --sequence NAME=FOLDER')
    if not args.camera_height_m > 0:
        p.error(f'--camera-height-m must be positive, got {args.camera_height_m}')
    return args


def _named_folder(text: str) -> tuple[str, Path]:
    """`NAME=FOLDER` for --sequence: NAME names outputs (letters, digits, '_', '-', '.')."""
    name, sep, folder = text.partition('=')
    if not sep or not re.fullmatch(r'[A-Za-z0-9_.-]+', name) or not folder:
        raise argparse.ArgumentTypeError(
            f"expected NAME=FOLDER (NAME of letters, digits, '_', '-', '.'), got {text!r}")
    if not Path(folder).is_dir():
        raise argparse.ArgumentTypeError(f'{folder}: no such folder')
    return name, Path(folder)


def make_row_prior(shared: Path) -> int:
    """The package's row prior: per-row median of the sfnd training drive's LiDAR."""
    from depth_ros.evaluation.kitti_to_bag import load_kitti_sequence

    seq = load_kitti_sequence(shared / ROW_PRIOR_DEPTHS, camera=2)
    source = (f'per-row median of LiDAR depth (1e-3..80 m, every column) over all '
              f'{len(seq)} depth_2 maps of the training drive ../shared/{ROW_PRIOR_DEPTHS} '
              f'(KITTI raw 2011_09_26, 1242x375, colour camera 2; KITTI CC BY-NC-SA 3.0), made '
              'by `python benchmarks/real_world.py --make-row-prior`; rows without LiDAR are '
              'null (filled from the nearest row when used); constant_depth_m = the median of '
              'all those depths')
    prior = bl.row_prior_from_depths((seq.depth_reader(i) for i in range(len(seq))), source)
    bl.ROW_PRIOR_PATH.parent.mkdir(parents=True, exist_ok=True)
    print(f'wrote {bl.save_row_prior(prior, bl.ROW_PRIOR_PATH)}: constant depth '
          f'{prior.constant_depth_m:.2f} m, {np.isfinite(prior.depth_m).sum()} rows with data')
    return 0


def evaluate_set(predictor, folder: Path, name: str, args) -> tuple[dict, list]:
    """Network and baselines on one set; also returns a few (prepared) frames for static pairs."""
    from depth_ros.evaluation.kitti_to_bag import load_kitti_sequence
    from depth_ros.evaluation.plots import (
        plot_depth_by_range,
        plot_trajectories,
        write_depth_preview,
    )
    from depth_ros.geometry.intrinsics import kitti_intrinsics
    from depth_ros.inference.predictor import DepthResult
    from depth_ros.pipeline.epipolar import follow_scale
    from depth_ros.pipeline.scale import Mounting, ScaleTracker
    from depth_ros.pipeline.track_depth import TrackRefiner

    seq = load_kitti_sequence(folder)
    n = min(len(seq), args.frames or len(seq))
    first = read_image(seq.image_paths[0])
    intr = kitti_intrinsics(seq.calib_path, seq.camera, first.shape[1], first.shape[0])
    network = bl.ProtocolScores(no_crop=True, by_range=True)
    base = bl.DepthBaselines(no_crop=True, camera_height_m=args.camera_height_m, by_range=True)
    height, mounting = ScaleTracker('camera_height', 1.0, DEFAULT_WINDOW), Mounting.from_pitch(
        args.camera_height_m)  # as the node's scale_source camera_height, its defaults
    poses, factors, previews, still = [np.eye(4)], [], {}, []
    epipolar, epipolar_poses, last = EpipolarOdometry(), [np.eye(4)], np.eye(4)
    # The same as scale_source camera_height publishes it (`pipeline.frame`): the depth in
    # camera-height metres, the distance from corners GROUND_MEASURE_BAND_M away.
    height_epipolar = EpipolarOdometry(EpipolarConfig.for_motion('vehicle', ground_scale=True))
    height_poses, height_last, height_scale = [np.eye(4)], np.eye(4), None
    seconds: dict[str, list[float]] = {'posenet': [], 'epipolar': [], 'depth_refinement': []}
    preview_at = spread(n, args.previews if seq.depth_reader else 0)
    still_at = spread(n, args.static_pairs)
    prev, refiner = None, TrackRefiner() if args.depth_refinement == 'tracks' else None
    for i in tqdm(range(n), desc=name, unit='frame'):
        image = first if i == 0 else read_image(seq.image_paths[i])
        prepared = predictor.prepare(image)
        result = predictor.predict(prepared)
        grey = grey_image(image)
        published = result  # the depth the node publishes: scored, previewed
        if refiner is not None:  # as the frame pipeline with depth_refinement: tracks
            start = time.perf_counter()
            depth = refiner.refine(result.depth_m, refiner.measure(grey, intr))
            seconds['depth_refinement'].append(time.perf_counter() - start)
            published = DepthResult(depth, (1.0 / depth).astype(np.float32))
        if prev is not None and predictor.has_pose:
            # Re-orthonormalised as the node's chain is (float32 rotations drift).
            start = time.perf_counter()
            motion = predictor.relative_pose(prev, prepared)
            seconds['posenet'].append(time.perf_counter() - start)
            poses.append(orthonormalize(poses[-1] @ motion))
        prev = prepared
        start = time.perf_counter()
        step = epipolar.step(grey, result.depth_m, intr)
        seconds['epipolar'].append(time.perf_counter() - start)
        if step.previous_from_current is not None:
            last = step.previous_from_current
        scale = height.update(result.depth_m, intr, mounting)
        factor = scale.factor if scale.from_ground else None  # trusted, or the last trusted
        factors.append(np.nan if factor is None else factor)
        step = height_epipolar.step(grey, result.depth_m * np.float32(scale.factor), intr)
        height_scale = follow_scale(height_epipolar, height_scale, scale.factor, scale.trusted)
        if step.previous_from_current is not None:
            height_last = step.previous_from_current
        if i:  # as the frame pipeline: a pair it cannot measure repeats the last motion
            epipolar_poses.append(orthonormalize(epipolar_poses[-1] @ last))
            height_poses.append(orthonormalize(height_poses[-1] @ height_last))
        if seq.depth_reader is not None:
            gt = seq.depth_reader(i)
            if network.add(gt, published.inv_depth_m, factor):
                base.add(gt, intr)
            if i in preview_at:
                previews[i] = (image, published.inv_depth_m, gt)
        if i in still_at:
            still.append((prepared, image, result.depth_m, intr))
    entry = {'folder': relative(folder, args.shared), 'frames': n, 'camera': seq.camera,
             'image_size': [int(first.shape[1]), int(first.shape[0])],
             'gt_source': seq.gt_source, 'depth_ground_truth': seq.depth_reader is not None}
    entry['odometry_ms_median'] = {k: 1e3 * float(np.median(v[1:])) if len(v) > 1 else None
                                   for k, v in seconds.items()}  # per frame, first one left out
    entry.update(_depth_entry(network, base, factors))
    if network.frames:
        entry['depth']['baselines'].update(_oracle_priors(seq, n))
        entry['depth_by_range_plot'] = relative(plot_depth_by_range(
            args.out / f'depth_by_range_{name}.png', depth_by_range(entry['depth']),
            f'{name}: relative depth error by LiDAR range (median-scaled, Garg crop)'), args.out)
    estimates = {'epipolar': np.stack(epipolar_poses),
                 'epipolar_camera_height': np.stack(height_poses),
                 **({'network': np.stack(poses)} if predictor.has_pose else {})}
    entry.update(_trajectory_entry(seq.world_from_cam, estimates, n))
    if 'trajectory' in entry:
        entry['trajectory_plot'] = relative(plot_trajectories(
            args.out / f'trajectory_{name}.png', seq.world_from_cam[:n],
            {PLOT_LABELS[k]: v for k, v in estimates.items()}, f'{name}: {n} frames',
            unitless={'constant-forward': bl.constant_forward_poses(n)}), args.out)
    entry['verdicts'] = bl.comparison_lines(
        entry.get('depth', {}).get('network'), entry.get('depth', {}).get('baselines', {}),
        entry.get('trajectory', {}).get('network'),
        entry.get('trajectory', {}).get('baselines', {}), odometry_subject='pose network')
    if 'epipolar' in entry.get('trajectory', {}):
        entry['verdicts'] += bl.comparison_lines(
            None, {}, entry['trajectory']['epipolar'], entry['trajectory']['baselines'],
            odometry_subject='epipolar odometry')
    entry['previews'] = [relative(write_depth_preview(args.out / f'preview_{name}_{i:04d}.png',
                                                 np.repeat(img[..., None], 3, 2)
                                                 if img.ndim == 2 else img, inv, gt,
                                                 max_width=512), args.out)
                         for i, (img, inv, gt) in sorted(previews.items())] if previews else []
    return entry, still


def _oracle_priors(seq, n: int) -> dict:
    """Row prior and constant depth made from the evaluated frames' own LiDAR (an oracle: it
    has seen the ground truth; the issue's first figures used it)."""
    prior = bl.row_prior_from_depths(seq.depth_reader(i) for i in range(n))
    oracle = bl.DepthBaselines(prior=prior, no_crop=True)
    for i in range(n):
        oracle.add(seq.depth_reader(i))
    scores = oracle.to_dict()
    return {'row_prior_oracle': scores['row_prior'],
            'constant_depth_oracle': scores['constant_depth']}


def _depth_entry(network, base, factors: list[float]) -> dict:
    known = np.isfinite(factors)
    out = {'camera_height': {'frames_with_factor': int(known.sum()), 'frames': len(factors),
                             'median_factor': (float(np.median(np.asarray(factors)[known]))
                                               if known.any() else None)}}
    if network.frames:
        net = network.to_dict()
        out['depth'] = {'network': net, 'baselines': base.to_dict()}
        ratio = (net.get('camera_height') or {}).get('scale_median')
        # Median over frames of factor / (GT median / prediction median): 1 = LiDAR's scale.
        out['camera_height']['factor_over_lidar_scale'] = ratio
    return out


def _trajectory_entry(gt: np.ndarray | None, estimates: dict[str, np.ndarray], n: int) -> dict:
    """Figures of each estimate (keyed as in the JSON: PLOT_LABELS' keys) and the baselines."""
    if gt is None or n < 2:
        return {}
    gt = gt[:n]
    return {'trajectory': {**{k: bl.trajectory_figures(gt, v) for k, v in estimates.items()},
                           'baselines': bl.odometry_baselines(gt),
                           'gt_path_m': float(np.sum(np.linalg.norm(
                               np.diff(gt[:, :3, 3], axis=0), axis=1)))}}


if __name__ == '__main__':
    sys.exit(main())
