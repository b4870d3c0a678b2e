"""The end-to-end demo: synthetic drive -> rosbag2 -> replay through the networks -> metrics.

`run_demo` generates a synthetic KITTI-layout sequence (`depth_ros.synth.generate_sequence`),
converts it with `kitti_to_bag`, evaluates a checkpoint (the shipped default weights unless
`weights` is given) with `evaluate_bag` exactly as `depth-ros evaluate` does, and returns the
metrics with a short explanation as text (`depth-ros demo` prints it); the bags, metrics.json
and plots stay in `out_dir`. Progress goes to the log.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
import shutil

from depth_ros.evaluation.kitti_to_bag import kitti_to_bag
from depth_ros.evaluation.replay import BagEvalResult, evaluate_bag, format_result


LOG = logging.getLogger(__name__)

SEQUENCE = '00'
# Folders the demo creates inside out_dir, replaced on every run.
DEMO_FOLDERS = ('synthetic', 'synthetic_bag', 'evaluation')


def _fresh(out_dir: Path) -> None:
    """Remove the demo's own folders from an earlier run (never anything else in out_dir)."""
    for name in DEMO_FOLDERS:
        path = out_dir / name
        if path.is_dir():
            LOG.info('replacing %s from an earlier demo run', path)
            shutil.rmtree(path)


def explain(result: BagEvalResult, seed: int, weights_notes: str) -> str:
    """What the demo's numbers mean, in a few lines for the terminal."""
    lines = [
        '',
        'What these numbers mean:',
        f'- The sequence was rendered for this run from synthetic-world seed {seed}; the demo '
        'seeds are kept out of training, so every frame is new to the networks.',
        '- Depth: abs_rel, sq_rel, rmse (m), rmse_log and a1-a3 (share of pixels within '
        '1.25, 1.25^2, 1.25^3 of the truth) against the rendered ground-truth depth. '
        '"median-scaled" rescales each predicted depth map by median(gt) / median(pred), the '
        'standard protocol for monocular networks, whose scale is ambiguous; "unscaled" takes '
        'the metres the checkpoint reports.',
        "- 5-frame ATE: Monodepth2's pose metric, the mean position error (m) over every "
        "5-frame snippet after aligning each snippet's start and scale to the ground truth.",
        '- APE: the whole chained trajectory after a rigid (se3) or similarity (sim3) fit; '
        'devkit figures need paths of 100 m or more and read n/a on short runs.',
    ]
    if weights_notes:
        lines.append(f'- Checkpoint notes: {weights_notes}')
    if result.trajectory is None:
        lines.append('- No trajectory metrics were computed (see the notes above).')
    return '\n'.join(lines)


def run_demo(out_dir: str | os.PathLike, seed: int, frames: int, device: str,
             weights: str | os.PathLike | None = None, width: int = 640,
             height: int = 192) -> str:
    """Synthetic sequence -> kitti-to-bag -> evaluate -> metrics text and plots.

    Args:
        out_dir: output folder; its `synthetic/`, `synthetic_bag/` and `evaluation/` are
            replaced.
        seed: synthetic-world seed.
        frames: frames to render.
        device: inference device ('cpu', 'cuda', 'cuda:N').
        weights: checkpoint to evaluate; None uses the shipped default weights.
        width, height: rendered image size.

    Returns:
        The metrics and what they mean, for the terminal (errors are raised as DepthRosError).
    """
    from depth_ros.inference import Predictor
    from depth_ros.inference.image_io import ensure_writable_dir
    from depth_ros.synth import generate_sequence

    out_dir = ensure_writable_dir(out_dir)
    _fresh(out_dir)
    predictor = Predictor.from_checkpoint(weights, device=device)
    LOG.info('1/3 rendering %d synthetic frames (%dx%d, seed %d)', frames, width, height, seed)
    generate_sequence(out_dir / 'synthetic', seed=seed, frames=frames, sequence=SEQUENCE,
                      width=width, height=height)
    LOG.info('2/3 writing the rosbag2')
    summary = kitti_to_bag(out_dir / 'synthetic' / 'sequences' / SEQUENCE,
                           out_dir / 'synthetic_bag')
    LOG.info('    %s: %s', summary.bag,
             ', '.join(f'{t} x{n}' for t, n in summary.topics.items()))
    LOG.info('3/3 replaying the bag through the frame pipeline (depth network, odometry)')
    result = evaluate_bag(summary.bag, predictor, out_dir / 'evaluation')
    return format_result(result) + '\n' + explain(result, seed, predictor.meta.notes)
