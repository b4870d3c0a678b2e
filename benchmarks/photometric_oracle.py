"""How good is the best pose the training loss can give? Per-pair photometric optimisation
with a frozen depth network, scored like the pose network.

    python benchmarks/photometric_oracle.py [--weights default] [--iterations 100]

For every consecutive pair (i, i+1) of each evaluation set, the six pose parameters are
optimised directly (Adam, all pairs at once, each pair's own loss) to minimise the loss the pose
network is trained with: Monodepth2's auto-masked SSIM + L1 reprojection error of frame i+1
warped into frame i with the weights' depth of frame i, at the weights' input size. The result
is the pose that loss prefers for that pair, free of any network's limits, so:

- if it does not beat constant-forward on a set, no pose network trained with this loss and this
  depth network can be expected to, pair by pair (a network can still be smoother than the
  per-pair optimum: it averages over its training data);
- its speed spread and direction spread say how precisely the loss pins the motion down.

Prints and writes oracle.json / oracle.md to --out. Slow on a CPU (about 2 s per iteration per
50 pairs on one core).
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
import sys
import time

import numpy as np


ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'benchmarks')]

from real_world_report import EVAL_SETS, write_results  # noqa: E402


SHARED = Path(os.environ.get('DEPTH_ROS_SHARED', ROOT.parent / 'shared'))


def optimise_pairs(checkpoint, folder: Path, iterations: int, lr: float, seed: int = 0,
                   loss_scale: int = 1, start: str = 'forward'):
    """cur_from_prev [N-1, 4, 4] (network units) minimising each pair's loss, and the loss.

    The depth network sees the weights' input size; the loss compares images `loss_scale`
    times larger, with the depth upsampled bilinearly (1: the training loss as it is). The
    optimisation starts 0.5 m straight ahead (`start='forward'`) or at the true motion
    (`'truth'`, translation divided by the weights' metres_per_unit): from the truth, where the
    loss moves the pose to says whether the loss's nearest minimum is the truth."""
    import torch
    import torch.nn.functional as F

    from depth_ros.evaluation.kitti_sequence import load_kitti_sequence
    from depth_ros.geometry.intrinsics import kitti_intrinsics
    from depth_ros.geometry.poses import pose_from_parameters
    from depth_ros.inference.image_io import read_image
    from depth_ros.inference.preprocess import as_rgb_uint8, to_network_input
    from training.losses.self_supervised import LossConfig, self_supervised_loss

    meta = checkpoint.meta
    seq = load_kitti_sequence(folder)
    images = [as_rgb_uint8(read_image(p)) for p in seq.image_paths]
    height0, width0 = images[0].shape[:2]
    x = torch.cat([to_network_input([im], meta.height, meta.width, torch.device('cpu'))
                   for im in images])
    height, width = meta.height * loss_scale, meta.width * loss_scale
    intr = kitti_intrinsics(seq.calib_path, seq.camera, width0, height0).scaled(width, height)
    n = len(x) - 1
    k = torch.from_numpy(intr.matrix(homogeneous=True)).float().expand(n, 4, 4)
    with torch.no_grad():
        sigmoid = torch.cat([checkpoint.depth_net(x[i:i + 8]).sigmoids[0]
                             for i in range(0, n, 8)])
    if loss_scale != 1:
        x = torch.cat([to_network_input([im], height, width, torch.device('cpu'))
                       for im in images])
        sigmoid = F.interpolate(sigmoid, size=(height, width), mode='bilinear',
                                align_corners=False)
    generator = torch.Generator().manual_seed(seed)
    # A tiny random rotation: the axis-angle map has no gradient at exactly zero.
    axis_angle = (1e-4 * torch.randn(n, 1, 3, generator=generator)).requires_grad_(True)
    translation = torch.zeros(n, 1, 3)
    translation[:, 0, 2] = -0.5 / meta.metres_per_unit  # 0.5 m forward
    if start == 'truth':
        from scipy.spatial.transform import Rotation

        from depth_ros.evaluation.trajectory import local_from_global

        gt = local_from_global(seq.world_from_cam)
        translation = torch.from_numpy(gt[:, :3, 3] / meta.metres_per_unit).float().view(n, 1, 3)
        axis_angle = torch.from_numpy(Rotation.from_matrix(gt[:, :3, :3]).as_rotvec()).float()
        axis_angle = (axis_angle.view(n, 1, 3) + 1e-6).requires_grad_(True)
    translation.requires_grad_(True)
    optimiser = torch.optim.Adam([axis_angle, translation], lr=lr)
    config = LossConfig(scales=(0,), smoothness_weight=0.0)
    for _ in range(iterations):
        pose = pose_from_parameters(axis_angle, translation, invert=False)
        loss = self_supervised_loss([x[:-1]], {1: x[1:]}, [sigmoid[:-1]], {1: pose}, k,
                                    min_depth=meta.min_depth, max_depth=meta.max_depth,
                                    config=config, generator=generator).total
        optimiser.zero_grad()
        (loss * n).backward()  # each pair's parameters get its own loss's gradient
        optimiser.step()
    return pose.detach().double().numpy(), float(loss.detach()), seq.world_from_cam


def spread(local: np.ndarray) -> dict:
    """Speed coefficient of variation, mean and spread of the direction of travel."""
    steps = np.linalg.inv(local)[:, :3, 3]
    distances = np.linalg.norm(steps, axis=1)
    directions = steps / np.maximum(distances, 1e-12)[:, None]
    return {'speed_cv': float(distances.std() / distances.mean()),
            'direction_mean_xy': directions[:, :2].mean(axis=0).tolist(),
            'direction_std_xy': directions[:, :2].std(axis=0).tolist()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--weights', default='default')
    p.add_argument('--iterations', type=int, default=100)
    p.add_argument('--lr', type=float, default=5e-4)
    p.add_argument('--start', choices=('forward', 'truth'), default='forward',
                   help='start 0.5 m straight ahead, or at the true motion')
    p.add_argument('--loss-scale', type=int, default=1,
                   help='compare images this many times larger than the input size')
    p.add_argument('--sets', nargs='+', choices=sorted(EVAL_SETS), default=list(EVAL_SETS))
    p.add_argument('--shared', type=Path, default=SHARED)
    p.add_argument('--out', type=Path, default=ROOT / 'docs' / 'learning' / 'photometric_oracle')
    args = p.parse_args(argv)
    import torch

    from depth_ros.evaluation.baselines import constant_forward_poses
    from depth_ros.evaluation.trajectory import (
        ate_5frame,
        ate_5frame_from_local,
        local_from_global,
    )
    from depth_ros.inference.predictor import resolve_weights
    from depth_ros.models.checkpoint import load_checkpoint

    torch.set_num_threads(1)
    checkpoint = load_checkpoint(resolve_weights(args.weights))
    results = {'command': ' '.join(['python benchmarks/photometric_oracle.py',
                                    *(argv if argv is not None else sys.argv[1:])]),
               'weights': args.weights, 'input_size': [checkpoint.meta.height,
                                                       checkpoint.meta.width],
               'loss_scale': args.loss_scale, 'start': args.start, 'sets': {}}
    for name in args.sets:
        start = time.perf_counter()
        local, loss, world = optimise_pairs(checkpoint, args.shared / EVAL_SETS[name],
                                            args.iterations, args.lr,
                                            loss_scale=args.loss_scale, start=args.start)
        gt = local_from_global(world)
        cf = ate_5frame(world, constant_forward_poses(len(world))).mean
        oracle = ate_5frame_from_local(gt, local).mean
        results['sets'][name] = {'pairs': len(local), 'final_loss': loss,
                                 'ate_5frame': oracle, 'constant_forward_ate_5frame': cf,
                                 'vs_constant_forward': oracle / cf, 'oracle': spread(local),
                                 'ground_truth': spread(gt),
                                 'seconds': time.perf_counter() - start}
        print(f'{name}: oracle ATE {oracle:.4f} m = {oracle / cf:.2f}x constant-forward '
              f'({cf:.4f} m), {time.perf_counter() - start:.0f} s', flush=True)
    lines = ['| set | pairs | oracle ATE / constant-forward | oracle speed CV (truth) | '
             'oracle direction std x, y (truth) |', '|---|---|---|---|---|']
    for name, r in results['sets'].items():
        o, g = r['oracle'], r['ground_truth']
        lines.append(f"| {name} | {r['pairs']} | {r['vs_constant_forward']:.2f}x | "
                     f"{o['speed_cv']:.3f} ({g['speed_cv']:.3f}) | "
                     f"{o['direction_std_xy'][0]:.4f}, {o['direction_std_xy'][1]:.4f} "
                     f"({g['direction_std_xy'][0]:.4f}, {g['direction_std_xy'][1]:.4f}) |")
    write_results(args.out, 'oracle', results, '\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
