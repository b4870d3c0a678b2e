"""Tables of benchmarks/real_world.py: markdown of its results and issue 12's targets; the
evaluation sets, the whole-file writer and the path / sampling helpers the real-world
benchmarks share."""
from __future__ import annotations

import json
import math
from pathlib import Path
import sys

import numpy as np


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from depth_ros.evaluation import baselines as bl  # noqa: E402


# Real sets with ground-truth poses, relative to ../shared.
EVAL_SETS = {'dev_0926_0005': 'data/real/dev/kitti_raw_0926_0005/sequences/0926_0005',
             'odometry_06': 'data/kitti_odometry/sequences/06',
             'odometry_01': 'data/kitti_odometry/sequences/01'}
STILL_MAX_GREY_DIFF = 2.0  # a still camera's frame difference (JPEG + sensor noise): ~1.7
FLIP_NOTE = (", flip_average: the depth is the mean of the image's and its mirror image's "
             'inverse depth')
REFINEMENT_NOTE = (', depth_refinement: tracks (the depth corrected by corners triangulated '
                   'over several frames)')
STATIC_TARGETS = {'translation_m': 0.02, 'rotation_deg': 0.1}
SET_LABELS = {'dev_0926_0005': 'dev'}  # how the targets name a set (others: by their name)
# The name a set's frames take in a training mix (config/real_dev.yaml; others: their own name).
MIX_NAMES = {'dev_0926_0005': 'dev_0005'}


def trained_on(sequences, names) -> list[str]:
    """Those of the evaluated sets `names` whose frames the weights' last training phase
    trained on (`sequences`: its sequences, `CheckpointMeta.training_sequences`)."""
    sequences = set(sequences)
    return [name for name in names if {name, MIX_NAMES.get(name, name)} & sequences]


def _f(value, digits: int = 3) -> str:
    return 'n/a' if value is None or not math.isfinite(value) else f'{value:.{digits}f}'


def _depth_rows(name: str, depth: dict) -> list[str]:
    rows = [('network', depth['network'])] + [(bl.BASELINE_TITLES[k], v)
                                              for k, v in depth['baselines'].items()]
    lines = []
    for title, scores in rows:
        med = scores.get('median_scaled') or {}
        cells = [med.get('abs_rel'), med.get('a1'), med.get('rmse'),
                 (scores.get('unscaled') or {}).get('abs_rel'),
                 (scores.get('camera_height') or {}).get('abs_rel'),
                 (scores.get('median_scaled_no_crop') or {}).get('abs_rel')]
        bold = '**' if title == 'network' else ''
        lines.append(f'| {name} | {bold}{title}{bold} | '
                     + ' | '.join(_f(c) for c in cells) + ' |')
    return lines


RANGE_SUBJECTS = ('row_prior', 'flat_ground')  # baselines shown beside the network by range


def depth_by_range(depth: dict) -> dict[str, dict]:
    """Predictor title -> its error by LiDAR range, the network first (sets scored with
    `by_range`)."""
    out = {'network': depth['network']['by_range']}
    for name in RANGE_SUBJECTS:
        if 'by_range' in depth['baselines'].get(name, {}):
            out[bl.BASELINE_TITLES[name]] = depth['baselines'][name]['by_range']
    return out


def _range_rows(name: str, depth: dict) -> tuple[list[str], str]:
    subjects = depth_by_range(depth)
    lines = []
    for k, row in enumerate(subjects['network']['bins']):
        cells = [f"{row['range_m'][0]:g}-{row['range_m'][1]:g}", _f(row['pixel_share'])]
        for by_range in subjects.values():
            cell = by_range['bins'][k]
            signed = cell['signed_rel']
            cells.append('n/a' if signed is None else
                         f"{signed:+.3f} / {_f(cell['abs_rel_part'], 4)}")
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    slopes = ', '.join(f"{title} {_f(by_range['log_slope_median'], 2)}"
                       for title, by_range in subjects.items())
    return lines, f'{name}: log-depth slope (1 = range kept, 0 = constant): {slopes}'


def _range_section(sets: dict) -> list[str]:
    scored = {name: entry for name, entry in sets.items()
              if 'by_range' in entry.get('depth', {}).get('network', {})}
    if not scored:
        return []
    titles = list(depth_by_range(next(iter(scored.values()))['depth']))
    out = ['', '## Depth error by LiDAR range (median-scaled, the pixels above)', '',
           'Per range of the LiDAR depth: mean signed relative error (pred - gt) / gt (+ too '
           'far, - too near) / its part of abs_rel (the parts add up to abs_rel).', '',
           '| set | range (m) | pixels | ' + ' | '.join(titles) + ' |',
           '|---|---|---|' + '---|' * len(titles)]
    notes = []
    for name, entry in scored.items():
        rows, note = _range_rows(name, entry['depth'])
        out += rows
        notes.append(note)
        if entry.get('depth_by_range_plot'):
            notes.append(f"{name}: plot `{entry['depth_by_range_plot']}`")
    return out + [''] + [f'{line}  ' for line in notes[:-1]] + notes[-1:]


EPIPOLAR_TITLE = 'epipolar odometry (depth network metres)'
EPIPOLAR_HEIGHT_TITLE = 'epipolar odometry, camera-height metres (scale_source camera_height)'
# The odometry estimates, by their key in the results, as the trajectory pictures name them.
PLOT_LABELS = {'network': 'pose network', 'epipolar': 'epipolar odometry',
               'epipolar_camera_height': 'epipolar, camera-height metres'}


def _trajectory_rows(name: str, traj: dict) -> list[str]:
    """Odometry rows; the estimates in metres (not the baselines) with the distance they
    publish over the true distance, 1 / the scale of their Sim(3) fit onto the truth."""
    rows = [(title, traj[key], True) for key, title in (
        ('network', 'network'), ('epipolar', EPIPOLAR_TITLE),
        ('epipolar_camera_height', EPIPOLAR_HEIGHT_TITLE)) if key in traj] + [
        (bl.BASELINE_TITLES[k], v, False) for k, v in traj['baselines'].items()]
    forward = bl.figure(traj['baselines'], 'constant_forward', 'ate_5frame', 'mean')
    lines = []
    for title, fig, metric in rows:
        ate = bl.figure(fig, 'ate_5frame', 'mean')
        ratio = f'{ate / forward:.2f}x' if ate is not None and forward else 'n/a'
        scale = bl.figure(fig, 'ape', 'sim3', 'scale') if metric else None
        cells = [_f(ate, 4), ratio, _f(bl.figure(fig, 'ape', 'sim3', 'rmse')),
                 _f(bl.figure(fig, 'ape', 'se3', 'rmse')), _f(1 / scale if scale else None, 2),
                 f"{_f(bl.figure(fig, 'kitti_devkit', '7dof', 'rpe_m'))} / "
                 f"{_f(bl.figure(fig, 'kitti_devkit', '7dof', 'rpe_deg'))}"]
        bold = '**' if metric else ''
        lines.append(f'| {name} | {bold}{title}{bold} | ' + ' | '.join(cells) + ' |')
    return lines


def _static_rows(static: dict) -> list[str]:
    lines = []
    for name, s in static.items():
        if name == 'targets' or not s.get('pairs'):
            continue
        lines.append(f"| {name} | {s['pairs']} | {_f(s['translation_m_median'], 4)} / "
                     f"{_f(s['translation_m_max'], 4)} | {_f(s['rotation_deg_median'])} / "
                     f"{_f(s['rotation_deg_max'])} | {'yes' if s['meets_targets'] else 'NO'} |")
    return lines


def _size_note(results: dict) -> str:
    """', run at WxH' when the networks ran at a size other than the weights' own."""
    size = results.get('input_size')
    return f', run at {size[1]}x{size[0]} (input_size)' if size else ''


def format_markdown(results: dict) -> str:
    """The benchmark's tables and verdicts as markdown."""
    sets = results['sets']
    out = ['# Real-world benchmark', '', f"Command: `{results['command']}`", '',
           f"Weights: `{results['weights']}` (sha256 {results['weights_sha256'][:16]}..., "
           f"{results['architecture']}, metres_per_unit {results['metres_per_unit']:.4g}"
           f"{FLIP_NOTE if results.get('flip_average') else ''}{_size_note(results)}"
           f"{REFINEMENT_NOTE if results.get('depth_refinement') == 'tracks' else ''}). "
           f"Protocol: {results['protocol']}.", '',
           *_trained_on_note(results),
           f"Row prior: {results['row_prior']}.", '',
           '## Depth against LiDAR', '',
           '| set | predictor | abs_rel median-scaled | a1 | rmse (m) | abs_rel unscaled | '
           'abs_rel camera-height | abs_rel median-scaled, no crop |',
           '|---|---|---|---|---|---|---|---|']
    for name, entry in sets.items():
        if 'depth' in entry:
            out += _depth_rows(name, entry['depth'])
    for name, entry in sets.items():
        ch = entry.get('camera_height', {})
        if ch.get('factor_over_lidar_scale') is not None:
            out.append(f"\n{name}: camera-height factor / LiDAR median scale "
                       f"{ch['factor_over_lidar_scale']:.3f} (median over frames; factor on "
                       f"{ch['frames_with_factor']}/{ch['frames']} frames)")
    out += _range_section(sets)
    out += ['', '## Odometry (pose network, and the epipolar odometry, chained)', '',
            '| set | predictor | 5-frame ATE (m) | ATE / constant-forward | APE Sim(3) rmse (m) '
            '| APE SE(3) rmse (m) | distance published / true | devkit 7dof RPE (m / deg) |',
            '|---|---|---|---|---|---|---|---|']
    for name, entry in sets.items():
        if 'trajectory' in entry:
            out += _trajectory_rows(name, entry['trajectory'])
    plots = [f"{name} `{entry['trajectory_plot']}`" for name, entry in sets.items()
             if entry.get('trajectory_plot')]
    if plots:
        out.append('\nTop-down trajectories (as published and Sim(3)-aligned): '
                   + ', '.join(plots))
    for name, entry in sets.items():
        ms = entry.get('odometry_ms_median') or {}
        if ms.get('epipolar') is not None:
            out.append(f"\n{name}: odometry per frame (median, one thread, after the depth): "
                       f"epipolar {ms['epipolar']:.0f} ms at {entry['image_size'][0]}x"
                       f"{entry['image_size'][1]}, pose network "
                       f"{_f(ms.get('posenet'), 0)} ms"
                       + (f", depth refinement (tracks) {ms['depth_refinement']:.0f} ms"
                          if ms.get('depth_refinement') is not None else ''))
    t = results['static_pairs']['targets']
    out += ['', '## Static pairs (a camera standing still)', '',
            f"| pairs | n | translation median / max (m, weights' scale) | rotation median / "
            f"max (deg) | max < {t['translation_m']} m and < {t['rotation_deg']} deg |",
            '|---|---|---|---|---|'] + _static_rows(results['static_pairs'])
    out += ['', 'identical_SET: frames of the set each paired with itself; *_still: '
            f'consecutive frames of real video whose mean grey difference is under '
            f'{STILL_MAX_GREY_DIFF} (a camera standing still: sfnd queue, EuRoC at rest); '
            'these come from the train split.']
    out += ['', '## Issue 12 deliverable 5 targets', '', '| target | value | met |',
            '|---|---|---|']
    out += [f"| {t['target']} | {_f(t['value'], 4)} | {_met(t)} |"
            for t in results['issue_12_targets']]
    out += ['', '## Verdicts', '']
    for name, entry in sets.items():
        out += [f'- {name}: {line}' for line in entry.get('verdicts', [])]
    out += ['', f"{results['seconds']:.0f} s in all."]
    return '\n'.join(out)


def _trained_on_note(results: dict) -> list[str]:
    names = results.get('trained_on') or []
    if not names:
        return []
    return [f"**Trained on: {', '.join(names)}.** The weights' last training phase had these "
            "sets' frames in its data, so their figures are not held-out; the targets on them "
            "say so.", '']


def _met(target: dict) -> str:
    met = target['met']
    text = 'n/a' if met is None else ('yes' if met else '**NO**')
    return text if target.get('held_out', True) else f'{text} (trained on: not held-out)'


def _target(target: str, value: float | None, limit: float, held_out: bool = True) -> dict:
    return {'target': target, 'value': value, 'held_out': held_out,
            'met': None if value is None else bool(value <= limit)}


def issue_targets(results: dict, weights_bytes: int) -> list[dict]:
    """Deliverable 5 of issue 12 on the real sets (the synthetic seeds: benchmarks/learning.py);
    the dev drive's depth targets apply to every set with LiDAR (--sequence ones too). A target
    on a set in results['trained_on'] is marked held_out False."""
    sets, out = results['sets'], []
    seen = set(results.get('trained_on') or ())
    for name, entry in sets.items():
        depth = entry.get('depth')
        if not depth:
            continue
        label, held_out = SET_LABELS.get(name, name), name not in seen
        net = bl.figure(depth, 'network', 'median_scaled', 'abs_rel')
        out.append(_target(f'{label} abs_rel (Garg crop, median-scaled) <= 0.17', net, 0.17,
                           held_out))
        for prior_name in ('row_prior', 'row_prior_oracle'):
            prior = bl.figure(depth, 'baselines', prior_name, 'median_scaled', 'abs_rel')
            out.append(_target(f'{label} abs_rel <= 0.6x the {bl.BASELINE_TITLES[prior_name]}',
                               net / prior if net and prior else None, 0.6, held_out))
        ratio = entry.get('camera_height', {}).get('factor_over_lidar_scale')
        out.append(_target(f'{label} camera-height scale within 10 % of the LiDAR scale '
                           '(abs(factor / LiDAR - 1))', None if ratio is None else abs(ratio - 1),
                           0.10, held_out))
    for source, title in (('network', ''), ('epipolar', 'epipolar odometry: ')):
        for name, entry in sets.items():
            traj = entry.get('trajectory', {})
            ate = bl.figure(traj, source, 'ate_5frame', 'mean')
            forward = bl.figure(traj, 'baselines', 'constant_forward', 'ate_5frame', 'mean')
            if ate is not None and forward:
                out.append(_target(f'{title}{name} 5-frame ATE <= 0.75x constant-forward',
                                   ate / forward, 0.75, name not in seen))
    for name, group in results['static_pairs'].items():
        if isinstance(group, dict) and group.get('pairs'):
            out.append(_target(f'{name}: max translation < 0.02 m per frame',
                               group['translation_m_max'], STATIC_TARGETS['translation_m']))
            out.append(_target(f'{name}: max rotation < 0.1 deg per frame',
                               group['rotation_deg_max'], STATIC_TARGETS['rotation_deg']))
    out.append(_target('weights file <= 20 MB', weights_bytes / 1e6, 20.0))
    return out


def write_whole(path: Path, text: str) -> None:
    """Write whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(text, encoding='utf-8')
    tmp.replace(path)


def write_results(out: Path | None, stem: str, results: dict, table: str) -> None:
    """`out/stem.json` and `out/stem.md`, each whole or not at all (None: no files); print the
    table."""
    if out is not None:
        write_whole(out / f'{stem}.json', json.dumps(results, indent=1) + '\n')
        write_whole(out / f'{stem}.md', table + '\n')
    print(table)


def relative(path: Path, base: Path) -> str:
    """`path` relative to `base` when inside it (so outputs do not name this machine)."""
    try:
        return str(Path(path).resolve().relative_to(Path(base).resolve()))
    except ValueError:
        return str(path)


def spread(n: int, count: int) -> set[int]:
    """`count` indices of 0..n-1 spread evenly (all of them when count >= n)."""
    if count <= 0 or n <= 0:
        return set()
    return set(np.unique(np.linspace(0, n - 1, min(count, n)).round().astype(int)).tolist())
