"""When to trust the camera-height scale: the node's minimum confidence, chosen and checked.

The node applies the camera-height filter's factor only from `scale_min_confidence` up and
keeps the last trusted factor (or `scale` before any) below it (`pipeline.scale.ScaleTracker`).
This measures, per set, each frame's ground-plane factor, plane support and true scale (LiDAR
or synthetic depth over the network's, median per frame), then replays them through the node's
filter and gate (`CameraHeightScale.add`, `ScaleTracker.judge`) for each threshold and each
starting frame (every second one, 20 frames at least left):
- on drives with road in view, how often a factor is not trusted after the fifth frame (a
  false alarm) and the worst error of the factor applied;
- on the traffic queue (KITTI's stop-and-go drive: the cars hide the road), whether the fit of
  the cars is ever applied, and the worst error of what is;
- open road, then the queue (the dev drive's first N frames, then the queue; the same car and
  day): the factor applied on the queue over the queue's LiDAR scale;
- synthetic queues with exact depth (`depth_ros.synth.queue`: the camera creeps from 14 m to
  2.5 m behind a queue of cars, lorries in the other lane), by the gap to the car ahead, alone
  and after the same street's open road (seed N's drive). Added after the threshold was chosen
  (session 23): queue 2026 then showed a filter started 6-8 m behind the queue trusting
  factors 30-45 % too large, which the planes' tilt weight (`inference.scale.tilt_weight`,
  chosen on queue 5, the real queue and the selection drives, with 2026 in view) now stops;
  queue 31337 was first run with the tilt weight in place.
Thresholds are chosen on the selection sets (KITTI 00, seeds 5-8, the queue); the evaluation
sets (06, 01, the dev drive, seeds 2026 / 31337) are looked at after.

Run: `python benchmarks/scale_gate.py [--out DIR] [--frames N]` (about 5 minutes: the depth
network once per frame).
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

from depth_ros.inference.scale import (  # noqa: E402
    DEFAULT_WINDOW,
    KITTI_CAMERA_HEIGHT_M,
    LOW_CONFIDENCE,
    CameraHeightScale,
)
from depth_ros.pipeline.scale import Mounting, ScaleTracker  # noqa: E402


QUEUE = 'queue_0926_sfnd'
QUEUE_FOLDER = 'data/real/train/kitti_raw_0926_sfnd/sequences/0926_sfnd'
ROAD_SETS = {'selection': ['odometry_00', 'seed_5', 'seed_6', 'seed_7', 'seed_8'],
             'evaluation': ['odometry_06', 'odometry_01', 'dev_0926_0005', 'seed_2026',
                            'seed_31337']}
SYNTH_QUEUES = ('synthqueue_5', 'synthqueue_2026', 'synthqueue_31337')  # seed N's street
QUEUE_GAPS_M = (14.0, 2.5)  # the camera creeps from the first gap to the second
GAP_BINS_M = ((10.0, 14.0), (6.0, 10.0), (4.0, 6.0), (2.5, 4.0))
THRESHOLDS = (0.0, 0.3, 0.35, 0.4, 0.45, 0.5)
ROAD_THEN_QUEUE = (10, 20, 40, 154)  # dev drive frames before the queue
SETTLE = 5  # frames the filter needs before a miss counts (its count term: frames / 5)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--weights', default=None, help="depth weights (default: the package's)")
    p.add_argument('--frames', type=int, default=None, help='first N frames of each set')
    p.add_argument('--sets', nargs='+', default=None,
                   help=f'sets (default: {QUEUE} and every road set)')
    p.add_argument('--out', type=Path, default=None, help='also write scale_gate.{json,md,png}')
    args = p.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    from depth_ros.inference import Predictor

    predictor = Predictor.from_checkpoint(args.weights)
    names = args.sets or [QUEUE, *ROAD_SETS['selection'], *ROAD_SETS['evaluation'],
                          *SYNTH_QUEUES]
    frames = {name: measure(name, predictor, args.frames) for name in tqdm(names, unit='set')}
    results = {'command': ' '.join(['python benchmarks/scale_gate.py',
                                    *(argv if argv is not None else sys.argv[1:])]),
               'default_min_confidence': LOW_CONFIDENCE, 'window': DEFAULT_WINDOW,
               'thresholds': {f'{m:g}': {name: replay_starts(rows, m)
                                         for name, rows in frames.items()}
                              for m in THRESHOLDS}}
    if QUEUE in frames and 'dev_0926_0005' in frames:
        results['road_then_queue'] = {
            f'{m:g}': {str(n): road_then_queue(frames['dev_0926_0005'][:n], frames[QUEUE], m)
                       for n in ROAD_THEN_QUEUE} for m in (0.0, LOW_CONFIDENCE)}
    results['synthetic_queues'] = {
        name: {f'{m:g}': synthetic_queue(frames.get('seed_' + name.split('_')[1], []),
                                         frames[name], m) for m in (0.0, LOW_CONFIDENCE)}
        for name in frames if name in SYNTH_QUEUES}
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        plot_confidence(args.out / 'scale_gate.png', frames)
    write_results(args.out, 'scale_gate', results, format_markdown(results))
    return 0


def measure(name: str, predictor, limit: int | None) -> list[dict]:
    """Per frame: the ground-plane factor and plane (`CameraHeightScale.frame_factor`, one
    estimator along the drive as in the node) and the true scale (median truth / prediction)."""
    images, truths, intr = _load(name, limit)
    estimator = CameraHeightScale(KITTI_CAMERA_HEIGHT_M)
    rows = []
    for image, truth in zip(images, truths):
        depth = predictor.predict(predictor.prepare(image())).depth_m
        factor, plane = estimator.frame_factor(depth, intr)
        gt = truth()
        valid = (gt > 1e-3) & (gt < 80) if gt is not None else None
        rows.append({'factor': factor, 'plane': plane,
                     'truth': (float(np.median(gt[valid] / depth[valid]))
                               if valid is not None and valid.sum() > 100 else None)})
    if name in SYNTH_QUEUES:
        for row, gap in zip(rows, np.linspace(*QUEUE_GAPS_M, len(rows))):
            row['gap_m'] = float(gap)
    return rows


def _load(name: str, limit: int | None) -> tuple[list, list, object]:
    """(image loaders, ground-truth depth loaders, intrinsics) of a named set."""
    if name.startswith(('seed_', 'synthqueue_')):
        from depth_ros.synth import Renderer, synth_intrinsics
        from depth_ros.synth.queue import make_queue_world
        from depth_ros.synth.world import make_world
        width, height = ev.SYNTHETIC_SIZE
        seed, count = int(name.split('_')[1]), limit or 60
        world = (make_world(seed, count, width, height) if name.startswith('seed_') else
                 make_queue_world(seed, count, width, height, start_gap_m=QUEUE_GAPS_M[0],
                                  end_gap_m=QUEUE_GAPS_M[1]))
        renderer = Renderer(world)
        frames = [renderer.frame(i) for i in range(count)]
        return ([lambda f=f: f.rgb for f in frames], [lambda f=f: f.depth_m for f in frames],
                synth_intrinsics(width, height))
    from depth_ros.evaluation.kitti_to_bag import load_kitti_sequence
    from depth_ros.geometry.intrinsics import kitti_intrinsics
    from depth_ros.inference.image_io import read_image
    folder = QUEUE_FOLDER if name == QUEUE else ev.KITTI_SETS[name]
    seq = load_kitti_sequence(ev.SHARED / folder)
    n = min(len(seq), limit or len(seq))
    first = read_image(seq.image_paths[0])
    intr = kitti_intrinsics(seq.calib_path, seq.camera, first.shape[1], first.shape[0])
    reader = seq.depth_reader
    return ([lambda i=i: read_image(seq.image_paths[i]) for i in range(n)],
            [lambda i=i: reader(i) if reader is not None else None for i in range(n)], intr)


def replay(rows: list[dict], min_confidence: float) -> list:
    """The node's filter and gate over recorded frames: the ScaleResult of each."""
    estimator = CameraHeightScale(KITTI_CAMERA_HEIGHT_M, window=DEFAULT_WINDOW)
    tracker = ScaleTracker('camera_height', 1.0, DEFAULT_WINDOW, min_confidence)
    mounting = Mounting.from_pitch(KITTI_CAMERA_HEIGHT_M)
    return [tracker.judge(estimator.add(r['factor'], r['plane']), mounting) for r in rows]


def replay_starts(rows: list[dict], min_confidence: float) -> dict:
    """Over every second starting frame: untrusted share after SETTLE frames, the worst error
    of the applied factor (where the truth is known), the highest confidence reached and the
    lowest after SETTLE frames."""
    untrusted = total = 0
    worst, highest, lowest = 0.0, 0.0, 1.0
    for start in range(0, max(1, len(rows) - 20), 2):
        part = rows[start:]
        results = replay(part, min_confidence)
        settled = results[SETTLE:]
        untrusted += sum(not r.trusted for r in settled)
        total += len(settled)
        errors = [abs(r.factor / row['truth'] - 1) for r, row in zip(settled, part[SETTLE:])
                  if row['truth']]
        worst = max([worst, *errors])
        highest = max(highest, max(r.confidence for r in results))
        lowest = min([lowest, *(r.confidence for r in settled)])
    return {'untrusted_after_settling': untrusted / total if total else None,
            'worst_applied_error': worst, 'highest_confidence': highest,
            'lowest_settled_confidence': lowest}


def road_then_queue(road: list[dict], queue: list[dict], min_confidence: float) -> dict:
    """Open road, then the queue: the applied factor over the queue's true scale."""
    results = replay(road + queue, min_confidence)[len(road):]
    ratios = [r.factor / row['truth'] for r, row in zip(results, queue) if row['truth']]
    return {'median': float(np.median(ratios)), 'max': float(np.max(ratios)),
            'trusted_queue_frames': sum(r.trusted for r in results),
            'queue_frames': len(results)}


def synthetic_queue(road: list[dict], queue: list[dict], min_confidence: float) -> dict:
    """A synthetic queue by the gap to the car ahead (GAP_BINS_M): each frame's own plane-fit
    error, the filter's confidence and the applied factor's error, from the queue's first frame;
    and after the same street's open road (`road`, when measured)."""
    def by_gap(results: list, rows: list[dict]) -> list[dict]:
        table = []
        for low, high in GAP_BINS_M:
            pick = [(r, row) for r, row in zip(results, rows) if low <= row['gap_m'] <= high]
            fits = [abs(row['factor'] / row['truth'] - 1) for _, row in pick
                    if row['factor'] is not None]
            if not pick:  # a short run (--frames) leaves a bin empty
                continue
            table.append({'gap_m': [low, high], 'frames': len(pick),
                          'fitted': len(fits),
                          'fit_error_median': float(np.median(fits)) if fits else None,
                          'confidence_median': float(np.median([r.confidence for r, _ in pick])),
                          'trusted': sum(r.trusted for r, _ in pick),
                          'applied_error_max': max(abs(r.factor / row['truth'] - 1)
                                                   for r, row in pick)})
        return table

    out = {'alone': by_gap(replay(queue, min_confidence), queue)}
    if road:
        out['after_road'] = by_gap(replay(road + queue, min_confidence)[len(road):], queue)
    return out


def plot_confidence(path: Path, frames: dict) -> None:
    """The filter's confidence along each drive (from its first frame), the default line."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 5), dpi=100)
    ax = fig.subplots()
    for name, rows in frames.items():
        confidence = [r.confidence for r in replay(rows, LOW_CONFIDENCE)]
        ax.plot(confidence, lw=2.5 if name == QUEUE else 1.0, label=name,
                color='black' if name == QUEUE else None,
                ls='--' if name in SYNTH_QUEUES else '-')
    ax.axhline(LOW_CONFIDENCE, color='tab:red', ls='--',
               label=f'scale_min_confidence {LOW_CONFIDENCE:g}')
    ax.set(xlabel='frame', ylabel='camera-height scale confidence', ylim=(0, 1),
           title="The camera-height filter's confidence: road drives (solid), the real traffic "
                 'queue (black) and synthetic queues (dashed)')
    ax.legend(fontsize=7, ncol=3)
    fig.savefig(path)


def format_markdown(results: dict) -> str:
    lines = ['# When to trust the camera-height scale (scale_min_confidence)', '',
             f'Command: `{results["command"]}`', '',
             'Per threshold and set, over every second starting frame: the share of frames '
             f'after the {SETTLE}th whose factor is not trusted (a false alarm on a road drive), '
             'the worst error of the factor applied where the truth is known (LiDAR or '
             "synthetic depth), and the highest confidence reached. The queue is KITTI's "
             'stop-and-go drive (cars hide the road).', '']
    names = list(next(iter(results['thresholds'].values())))
    lines += ['| min confidence | ' + ' | '.join(names) + ' |',
              '|---|' + '---|' * len(names)]
    for m, per_set in results['thresholds'].items():
        cells = [f'{_share(s["untrusted_after_settling"])} / {s["worst_applied_error"]:.2f}'
                 for s in per_set.values()]
        lines.append(f'| {m} | ' + ' | '.join(cells) + ' |')
    first = next(iter(results['thresholds'].values()))
    lines += ['', f'Confidence, lowest after the {SETTLE}th frame / highest, over every start: '
              + ', '.join(f'{n} {s["lowest_settled_confidence"]:.2f} / '
                          f'{s["highest_confidence"]:.2f}' for n, s in first.items())]
    if 'road_then_queue' in results:
        lines += ['', '## Open road, then the queue', '',
                  "The dev drive's first N frames, then the queue: the applied factor over the "
                  "queue's LiDAR scale (median, max) and the queue frames whose own filter "
                  'factor was trusted.', '',
                  '| min confidence | road frames | median | max | trusted queue frames |',
                  '|---|---|---|---|---|']
        for m, per_n in results['road_then_queue'].items():
            for n, r in per_n.items():
                lines.append(f'| {m} | {n} | {r["median"]:.3f} | {r["max"]:.3f} | '
                             f'{r["trusted_queue_frames"]} / {r["queue_frames"]} |')
    for name, per_m in results.get('synthetic_queues', {}).items():
        lines += ['', f'## Synthetic queue {name} (exact depth)', '',
                  'The camera creeps from 14 m to 2.5 m behind a queue (lorries in the other '
                  'lane). Per gap to the car ahead: the frames whose plane fit found a factor and '
                  'its median error, the median confidence, the frames whose own factor was '
                  'trusted, and the worst error of the factor applied (alone: from the '
                  "queue's first frame; after road: the same street's open-road drive first).",
                  '', '| min confidence | start | gap (m) | fitted / frames | fit error | '
                  'confidence | trusted | applied error (max) |',
                  '|---|---|---|---|---|---|---|---|']
        for m, starts in per_m.items():
            for start, table in starts.items():
                for r in table:
                    fit = 'n/a' if r['fit_error_median'] is None else \
                        f'{r["fit_error_median"]:.3f}'
                    lines.append(f'| {m} | {start} | {r["gap_m"][1]:g}-{r["gap_m"][0]:g} | '
                                 f'{r["fitted"]} / {r["frames"]} | {fit} | '
                                 f'{r["confidence_median"]:.2f} | {r["trusted"]} | '
                                 f'{r["applied_error_max"]:.3f} |')
    return '\n'.join(lines)


def _share(value: float | None) -> str:
    return 'n/a' if value is None else f'{value:.0%}'


if __name__ == '__main__':
    sys.exit(main())
