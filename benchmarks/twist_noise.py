"""The odometry's per-frame twist errors on real drives, and how well its covariance covers them.

Where `depth_ros.pipeline.twist_noise`'s constants come from, and their check. Each set's frames
run once through the depth network; the epipolar odometry chains the drive in the weights'
metres (scale_source none / fixed) and in camera-height metres (camera_height / tf), as
`benchmarks/epipolar_variants.py` does. Every frame pair's twist (`se3.relative_pose_to_twist`,
as the node publishes it; per frame, so the time step cancels out of every ratio below) is
compared with the true one, in the camera's optical frame:
- root-mean-square error along the optical axis and across it, as fractions of the true speed,
  and of the rotation about each axis (degrees a frame): the figures the model keeps;
- the model's covariance for that frame (`TwistNoise.covariance`): the share of frames whose
  six components all lie within 2 sigma (a calibrated Gaussian: 0.95^6 = 0.74), and the mean
  normalised squared error over 6 (1: calibrated; below: conservative; above: overconfident).

With `--out` a picture per set (`twist_noise_SET.png`): each frame's error along the optical
axis and its rotation error about the vertical, in both metres, inside the model's 2 sigma.

Run: `python benchmarks/twist_noise.py [--sets odometry_00 ...] [--out DIR]`.
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

from depth_ros.geometry.se3 import invert, relative_pose_to_twist  # noqa: E402
from depth_ros.pipeline.twist_noise import twist_noise  # noqa: E402


REAL_SETS = ['odometry_00', 'odometry_06', 'odometry_01', 'dev_0926_0005']
MODES = {'network': 'fixed', 'camera_height': 'camera_height'}  # metres -> scale_source


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sets', nargs='+', default=REAL_SETS,
                   help=f'sets with poses (default {" ".join(REAL_SETS)}; seed_N too)')
    p.add_argument('--weights', default=None, help="depth weights (default: the package's)")
    p.add_argument('--out', type=Path, default=None, help='also write twist_noise.{json,md}')
    args = p.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    from depth_ros.inference import Predictor

    predictor = Predictor.from_checkpoint(args.weights)
    results = {'command': ' '.join(['python benchmarks/twist_noise.py',
                                    *(argv if argv is not None else sys.argv[1:])]), 'sets': {}}
    for name in tqdm(args.sets, desc='sets', unit='set'):
        frames = ev.load_set(name, predictor)
        results['sets'][name] = {metres: frame_errors(frames, metres) for metres in MODES}
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            plot_errors(args.out / f'twist_noise_{name}.png', name, results['sets'][name])
    for modes in results['sets'].values():  # the pictures' series stay out of the JSON
        for r in modes.values():
            r.pop('series')
    write_results(args.out, 'twist_noise', results, format_markdown(results))
    return 0


def frame_errors(frames: dict, metres: str) -> dict:
    """The drive chained in `metres`; its per-frame twist errors against the model's sigmas."""
    config = ev.EpipolarConfig.for_motion('vehicle', metres == 'camera_height')
    gt, poses = ev.chain(frames, config, 0, metres)
    rows = []
    for i in range(1, len(gt)):
        true_v, true_w = relative_pose_to_twist(invert(gt[i - 1]) @ gt[i], 1.0)
        v, w = relative_pose_to_twist(invert(poses[i - 1]) @ poses[i], 1.0)
        error = np.concatenate([v - true_v, w - true_w])
        # As the node: the weights' model while camera_height falls back to `scale`.
        noise = twist_noise('epipolar', MODES[metres], frames['from_ground'][i])
        covariance = noise.covariance(v, 1.0, np.eye(3))
        sigma = np.sqrt(np.diag(covariance))
        rows.append((np.linalg.norm(true_v), error, sigma,
                     float(error @ np.linalg.solve(covariance, error))))
    speed = np.array([r[0] for r in rows])
    error = np.array([r[1] for r in rows])
    sigma = np.array([r[2] for r in rows])
    moving = speed > 0.05  # metres a frame: a fraction of a standing camera's speed means nothing
    rel = error[moving, :3] / speed[moving, None]
    series = {'forward_error': error[:, 2], 'forward_sigma': sigma[:, 2],
              'turn_error_deg': np.degrees(error[:, 4]), 'turn_sigma_deg': np.degrees(sigma[:, 4])}
    return {'frames': len(rows), 'moving_frames': int(moving.sum()), 'series': series,
            'forward_fraction_rms': float(np.sqrt(np.mean(rel[:, 2] ** 2))),
            'sideways_fraction_rms': float(np.sqrt(np.mean(rel[:, :2] ** 2))),
            'rotation_deg_rms': float(np.degrees(np.sqrt(np.mean(error[:, 3:] ** 2)))),
            'within_2_sigma': float(np.mean(np.all(np.abs(error) <= 2 * sigma, axis=1))),
            'nees_over_6': float(np.mean([r[3] for r in rows]) / 6)}


def plot_errors(path: Path, name: str, modes: dict) -> None:
    """Per-frame errors of each metres inside their 2-sigma band: along the optical axis (m a
    frame) and about the vertical (optical y, degrees a frame)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 6), dpi=100)
    forward_ax, turn_ax = fig.subplots(2, 1, sharex=True)
    for (metres, r), colour in zip(modes.items(), ('tab:blue', 'tab:orange')):
        series = r['series']
        x = np.arange(1, len(series['forward_error']) + 1)
        for ax, error, sigma in ((forward_ax, series['forward_error'], series['forward_sigma']),
                                 (turn_ax, series['turn_error_deg'], series['turn_sigma_deg'])):
            ax.fill_between(x, -2 * sigma, 2 * sigma, color=colour, alpha=0.15)
            ax.plot(x, error, color=colour, label=f'{metres} metres (band: 2 sigma of the '
                    f'model; {r["within_2_sigma"]:.0%} of frames inside on all six)')
    forward_ax.set_ylabel('along the axis (m / frame)')
    turn_ax.set_ylabel('about the vertical (deg / frame)')
    turn_ax.set_xlabel('frame pair')
    for ax in (forward_ax, turn_ax):
        ax.axhline(0.0, color='black', linewidth=0.8)
        ax.grid(True, alpha=0.3)
    forward_ax.legend(loc='best', fontsize='small')
    fig.suptitle(f"{name}: errors of the epipolar odometry's twist, per frame pair")
    fig.tight_layout()
    fig.savefig(path)


def format_markdown(results: dict) -> str:
    lines = ['# Odometry twist errors and the covariance the node publishes', '',
             f'Command: `{results["command"]}`', '',
             'Epipolar odometry, per frame pair, in the optical frame: root-mean-square error '
             'along the optical axis and across it (fractions of the true speed), rotation '
             '(degrees a frame, per axis); the published covariance model: frames with all six '
             'components within 2 sigma (0.74 if calibrated) and mean normalised squared error '
             '/ 6 (1 if calibrated, below: conservative).', '',
             '| set | metres | frames | forward | sideways | rotation (deg) | all within 2 sigma '
             '| NEES / 6 |', '|---|---|---|---|---|---|---|---|']
    pictures = ', '.join(f'`twist_noise_{name}.png`' for name in results['sets'])
    for name, modes in results['sets'].items():
        for metres, r in modes.items():
            lines.append(f'| {name} | {metres} | {r["frames"]} | '
                         f'{r["forward_fraction_rms"]:.3f} | {r["sideways_fraction_rms"]:.3f} | '
                         f'{r["rotation_deg_rms"]:.3f} | {r["within_2_sigma"]:.2f} | '
                         f'{r["nees_over_6"]:.2f} |')
    return '\n'.join(lines + ['', f'Per-frame errors inside the 2-sigma band: {pictures}'])


if __name__ == '__main__':
    sys.exit(main())
