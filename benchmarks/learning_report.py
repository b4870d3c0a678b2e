"""What benchmarks/learning.py shows besides its results JSON: the markdown table of the trained
network, the untrained one and the baselines per evaluation seed (with the verdicts), and the
learning curve of the training runs (TensorBoard scalars, plotted)."""
from __future__ import annotations

from pathlib import Path
import sys


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from depth_ros.evaluation import baselines as bl  # noqa: E402


def format_table(results: dict) -> str:
    """The results as a markdown table (one block of rows per seed), then the seeds' verdicts."""
    lines = ['| seed | model | abs_rel (median) | abs_rel (unscaled) | a1 | 5-frame ATE (m) |',
             '|---|---|---|---|---|---|']
    for seed, entry in results['seeds'].items():
        for name in ('trained', 'untrained'):
            r = entry[name]
            ate = r.get('ate_5frame', {}).get('mean', float('nan'))
            lines.append(f'| {seed} | {name} | {r["depth_median_scaled"]["abs_rel"]:.3f} | '
                         f'{r["depth_unscaled"]["abs_rel"]:.3f} | '
                         f'{r["depth_median_scaled"]["a1"]:.3f} | {ate:.4f} |')
        if 'ate_5frame_epipolar' in entry['trained']:
            lines.append(f'| {seed} | trained depth, epipolar odometry | | | | '
                         f'{entry["trained"]["ate_5frame_epipolar"]["mean"]:.4f} |')
        c = entry['constant_depth']
        zero = entry['trained'].get('ate_5frame_zero_motion', {}).get('mean', float('nan'))
        lines.append(f'| {seed} | constant depth / zero motion | {c["abs_rel"]:.3f} | | '
                     f'{c["a1"]:.3f} | {zero:.4f} |')
        h = entry['trained'].get('camera_height', {})
        if h.get('frames_with_factor'):
            lines.append(f'| {seed} | trained, camera-height scale | | {h["abs_rel"]:.3f} | | '
                         f'(scale error median {100 * h["median_abs_scale_error"]:.1f} %, '
                         f'{h["frames_with_factor"]}/{h["frames"]} frames) |')
        lines += _baseline_rows(seed, entry.get('baselines'))
    for seed, entry in results['seeds'].items():
        lines += [f'- seed {seed}: {line}' for line in entry.get('verdicts', [])]
    return '\n'.join(lines)


def _baseline_rows(seed: str, baselines: dict | None) -> list[str]:
    """Table rows of the baselines: depth (median-scaled, unscaled in metres) and ATE."""
    if not baselines:
        return []
    rows = []
    for name, scores in baselines['depth'].items():
        med, raw = scores['median_scaled'], scores['unscaled']
        rows.append(f'| {seed} | {bl.BASELINE_TITLES[name]} | {med["abs_rel"]:.3f} | '
                    f'{raw["abs_rel"]:.3f} | {med["a1"]:.3f} | |')
    for name, figures in baselines['odometry'].items():
        rows.append(f'| {seed} | {bl.BASELINE_TITLES[name]} odometry | | | | '
                    f'{figures["ate_5frame"]["mean"]:.4f} |')
    return rows


def learning_curve(run_dirs: list[Path], out: Path, title: str = '') -> dict:
    """Training loss and validation abs_rel from the runs' TensorBoard logs, plotted.

    Successive phases (e.g. a lower learning rate started from the previous phase's weights)
    are joined: a phase's steps are counted after the previous phase's last step.
    """
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        return {'note': 'tensorboard not installed: no learning curve'}
    series: dict[str, list] = {}
    offset, boundaries = 0, []
    for run_dir in run_dirs:
        acc = EventAccumulator(str(Path(run_dir) / 'tensorboard'))
        acc.Reload()
        tags = acc.Tags().get('scalars', [])
        last = 0
        for tag in ('loss/total', 'val/abs_rel'):
            if tag in tags:
                points = [(offset + e.step, e.value) for e in acc.Scalars(tag)]
                series.setdefault(tag, []).extend(points)
                last = max([last] + [step for step, _ in points])
        boundaries.append(last)
        offset = last
    out.mkdir(parents=True, exist_ok=True)
    _plot_curve(series, out / 'learning_curve.png', title, boundaries[:-1])
    return {tag: values for tag, values in series.items()}


def _plot_curve(series: dict, path: Path, title: str, boundaries: list[int]) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    if 'loss/total' in series:
        steps, values = zip(*series['loss/total'])
        ax.plot(steps, values, color='tab:blue', label='training loss')
    for step in boundaries:
        ax.axvline(step, color='grey', linestyle=':', label='next training phase')
    ax.set_xlabel('optimiser step')
    ax.set_ylabel('self-supervised loss', color='tab:blue')
    if 'val/abs_rel' in series:
        twin = ax.twinx()
        steps, values = zip(*series['val/abs_rel'])
        twin.plot(steps, values, 'o-', color='tab:red', label='validation abs_rel')
        twin.set_ylabel('validation abs_rel (median scaled)', color='tab:red')
    ax.set_title(f'{title} on the synthetic world (2-core CPU)')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
