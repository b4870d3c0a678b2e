"""Fit a `pose_corr` pose network to a frozen depth network, on features computed once.

    python -m training.pose_fit --minutes 40 --out runs/pose_fit

Self-supervised like the main trainer (Monodepth2's auto-masked minimum reprojection loss at
full resolution, sources t-1 and t+1), but the depth network and the pose network's trunk are
frozen, so every frame's trunk features and every target's depth are computed once and a step
only runs the correlation, the head and the view synthesis: about 1.1 s for 12 examples on one
core, against 5.5-12 s for a `training.train` step of 8, so a 2-core CPU can take thousands of
steps. Each example is cached as seen and mirrored left-right (flip augmentation).

Data: the training config's `data` section (default `config/train_real.yaml`: real video +
synthetic sequences, static stretches filtered). While training, the 5-frame ATE of the pose
network on the evaluation sequences (default: the dev drive, odometry 06 and 01) is printed
beside constant-forward's, measured on the same frames: it is watched, never used to select.
Writes `<out>/pose_fit.safetensors` (the depth network and metadata of `--weights`, with the
new pose network; written whole at every evaluation) and `<out>/log.jsonl`.
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
import sys
import time

import numpy as np
import torch

from depth_ros.errors import DepthRosError
from depth_ros.evaluation.kitti import read_kitti_poses
from depth_ros.geometry.poses import pose_from_parameters
from depth_ros.models import save_checkpoint
from depth_ros.models.arch_spec import ArchSpec
from depth_ros.models.checkpoint import load_checkpoint
from depth_ros.models.networks import half_difference
from depth_ros.models.outputs import PoseParameters
from depth_ros.models.pose_corr import pose_corr_net
from training.losses.self_supervised import LossConfig, self_supervised_loss


logger = logging.getLogger(__name__)

EVAL_SETS = {'dev': 'data/real/dev/kitti_raw_0926_0005/sequences/0926_0005',
             '06': 'data/kitti_odometry/sequences/06',
             '01': 'data/kitti_odometry/sequences/01'}
LOSS = LossConfig(scales=(0,), smoothness_weight=0.0)


class FeatureCache:
    """Per example and mirror: uint8 frames (in the dataset's `frame_offsets` order, target
    first), trunk features (fine, coarse), target sigmoid and intrinsics, as stacked tensors
    indexed by example."""

    def __init__(self, offsets, images, fine, coarse, sigmoids, ks, gt_poses) -> None:
        self.offsets = tuple(offsets)
        self.images, self.fine, self.coarse = images, fine, coarse
        self.sigmoids, self.ks = sigmoids, ks
        # [N, T, 4, 4] source_from_target in network units, NaN where no poses are known.
        self.gt_poses = gt_poses

    def features(self, index: torch.Tensor, offset: int) -> tuple[torch.Tensor, torch.Tensor]:
        slot = self.offsets.index(offset)
        return self.fine[index, slot].float(), self.coarse[index, slot].float()

    def image(self, index: torch.Tensor, offset: int) -> torch.Tensor:
        return self.images[index, self.offsets.index(offset)].float() / 255.0

    def __len__(self) -> int:
        return self.images.shape[0]


MIRROR = torch.diag(torch.tensor([-1.0, 1.0, 1.0, 1.0]))


def _ground_truth(record, poses_dir: Path, metres_per_unit: float, known: dict):
    """[T, 4, 4] source_from_target (network units) of a record, or None without poses.

    Frames are `<root>/sequences/<seq>/image_2/<index>.<ext>`; poses `<poses_dir>/<seq>.txt`."""
    target = Path(record.image_paths[0])
    seq = target.parent.parent.name
    if seq not in known:
        path = poses_dir / f'{seq}.txt'
        known[seq] = read_kitti_poses(path).world_from_cam if path.is_file() else None
    world = known[seq]
    if world is None:
        return None
    frames = world[[int(Path(frame).stem) for frame in record.image_paths]]
    rel = np.linalg.inv(frames) @ frames[0]
    rel[:, :3, 3] /= metres_per_unit
    return torch.from_numpy(rel).float()


@torch.no_grad()
def build_cache(dataset, depth_net, trunk, poses_dir: Path, metres_per_unit: float,
                progress: bool = True) -> FeatureCache:
    """Run the frozen networks once over every example and its mirror image."""
    images, fine, coarse, sigmoids, ks, gts = [], [], [], [], [], []
    known: dict = {}
    offsets = dataset.frame_offsets
    for i in range(len(dataset)):
        sample = dataset[i]
        gt = _ground_truth(dataset.records[i], poses_dir, metres_per_unit, known)
        if gt is None:
            gt = torch.full((len(offsets), 4, 4), float('nan'))
        frames = sample.images[0]  # [T, 3, H, W], target first
        width = frames.shape[-1]
        for mirror in (False, True):
            f = frames.flip(-1) if mirror else frames
            k = sample.k.clone()
            if mirror:
                k[0, 2] = width - 1 - k[0, 2]
            images.append((f * 255).round().to(torch.uint8))
            f_fine, f_coarse = trunk(f)
            fine.append(f_fine.half())
            coarse.append(f_coarse.half())
            sigmoids.append(depth_net(f[:1]).sigmoids[0][0].half())
            ks.append(k)
            gts.append(MIRROR @ gt @ MIRROR if mirror else gt)
        if progress and (i + 1) % 50 == 0:
            logger.info('cached %d / %d examples', i + 1, len(dataset))
    return FeatureCache(dataset.frame_offsets, torch.stack(images), torch.stack(fine),
                        torch.stack(coarse), torch.stack(sigmoids), torch.stack(ks),
                        torch.stack(gts))


def pair_parameters(pose_net, first: tuple[torch.Tensor, torch.Tensor],
                    second: tuple[torch.Tensor, torch.Tensor]) -> PoseParameters:
    """The antisymmetric reading of the head for trunk features (fine, coarse) of the pair."""
    encoder = pose_net.encoder
    both = torch.cat([encoder.combine(first, second), encoder.combine(second, first)])
    return half_difference(pose_net.decoder([both]))


def batch_loss(pose_net, cache: FeatureCache, index: torch.Tensor, gap: int, min_depth: float,
               max_depth: float, generator: torch.Generator,
               supervision_weight: float = 0.0) -> torch.Tensor:
    """Monodepth2's loss of one batch with the cached depth, sources t - gap and t + gap,
    plus `supervision_weight` x the mean absolute difference of the predicted and known
    source_from_target matrices where poses are known (<data>/poses/<sequence>.txt)."""
    target = cache.features(index, 0)
    poses, sources = {}, {}
    for offset in (-gap, gap):
        source = cache.features(index, offset)
        if offset < 0:
            params = pair_parameters(pose_net, source, target)
        else:
            params = pair_parameters(pose_net, target, source)
        poses[offset] = pose_from_parameters(params.axis_angle, params.translation,
                                             invert=offset < 0)
        sources[offset] = cache.image(index, offset)
    result = self_supervised_loss([cache.image(index, 0)], sources,
                                  [cache.sigmoids[index].float()], poses, cache.ks[index],
                                  min_depth=min_depth, max_depth=max_depth, config=LOSS,
                                  generator=generator)
    total = result.total
    if supervision_weight > 0:
        terms = []
        for offset in (-gap, gap):
            gt = cache.gt_poses[index, cache.offsets.index(offset)]
            known = ~torch.isnan(gt[:, 0, 0])
            if bool(known.any()):
                terms.append((poses[offset][known, :3] - gt[known, :3]).abs().mean())
        if terms:
            total = total + supervision_weight * torch.stack(terms).mean()
    return total


class EvalSequence:
    """Trunk features of every frame of a sequence with ground truth, and its baselines."""

    def __init__(self, name: str, folder: Path, trunk, height: int, width: int) -> None:
        from depth_ros.evaluation.baselines import constant_forward_poses
        from depth_ros.evaluation.kitti_sequence import load_kitti_sequence
        from depth_ros.evaluation.trajectory import ate_5frame, local_from_global
        from depth_ros.inference.image_io import read_image
        from depth_ros.inference.preprocess import as_rgb_uint8, to_network_input

        seq = load_kitti_sequence(folder)
        if seq.world_from_cam is None:
            raise DepthRosError(f'{folder} has no ground-truth poses')
        self.name = name
        with torch.no_grad():
            features = [trunk(to_network_input([as_rgb_uint8(read_image(p))], height, width,
                                               torch.device('cpu')))
                        for p in seq.image_paths]
        self.fine = torch.cat([f for f, _ in features])
        self.coarse = torch.cat([c for _, c in features])
        self.gt_local = local_from_global(seq.world_from_cam)
        n = len(seq.image_paths)
        self.constant_forward = ate_5frame(seq.world_from_cam, constant_forward_poses(n)).mean

    @torch.no_grad()
    def ate_ratio(self, pose_net) -> tuple[float, float]:
        """(5-frame ATE, ATE / constant-forward's) of the network on this sequence."""
        from depth_ros.evaluation.trajectory import ate_5frame_from_local

        params = pair_parameters(pose_net, (self.fine[:-1], self.coarse[:-1]),
                                 (self.fine[1:], self.coarse[1:]))
        local = pose_from_parameters(params.axis_angle, params.translation, invert=False)
        ate = ate_5frame_from_local(self.gt_local, local.double().numpy()).mean
        return ate, ate / self.constant_forward


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--weights', default='depth_ros/weights/default.safetensors',
                   help='checkpoint whose depth network is frozen and kept')
    p.add_argument('--config', default='config/train_real.yaml', help='its data section is used')
    p.add_argument('--shared', type=Path, default=Path(__file__).resolve().parents[1].parent
                   / 'shared', help='../shared, for the evaluation sequences')
    p.add_argument('--out', type=Path, default=Path('runs/pose_fit'))
    p.add_argument('--minutes', type=float, default=30.0)
    p.add_argument('--batch-size', type=int, default=12)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--max-displacement', type=int, default=4)
    p.add_argument('--fine-displacement', type=int, default=0)
    p.add_argument('--supervision-weight', type=float, default=0.0,
                   help='weight of the pose error on examples with known poses '
                        '(<data.path>/poses/<sequence>.txt: the synthetic world writes them; '
                        'copy real ones there, e.g. KITTI odometry 00)')
    p.add_argument('--gaps', type=int, nargs='+', default=[1],
                   help='frame gaps of the source frames (1: t-1 and t+1; 1 2: also t-2, t+2, '
                        'one gap per batch at random)')
    p.add_argument('--eval-every', type=int, default=100, help='steps')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(message)s')
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    from training.config import load_config
    from training.data.factory import build_dataset

    base = load_checkpoint(args.weights)
    meta = base.meta
    pose_net = pose_corr_net(pretrained=False, max_displacement=args.max_displacement,
                             fine_displacement=args.fine_displacement)
    trunk = pose_net.encoder.trunk
    encoder_state = {k[len('encoder.'):]: v for k, v in base.depth_net.state_dict().items()
                     if k.startswith('encoder.')}
    trunk.load_state_dict({k: encoder_state[k] for k in trunk.state_dict()})
    offsets = [0] + [o for g in sorted(args.gaps) for o in (-g, g)]
    config = load_config(args.config, [f'data.frame_offsets={offsets}'])
    dataset = build_dataset(config.data, 'train', num_scales=1)
    dataset.augmentation = None  # mirrors are cached explicitly; no colour jitter
    if (config.data.height, config.data.width) != (meta.height, meta.width):
        raise DepthRosError(f'data is {config.data.height}x{config.data.width}, the weights '
                            f'{meta.height}x{meta.width}')
    t0 = time.monotonic()
    cache = build_cache(dataset, base.depth_net, trunk, Path(config.data.path) / 'poses',
                        meta.metres_per_unit)
    logger.info('%d of %d examples with known poses', int((~torch.isnan(
        cache.gt_poses[:, 0, 0, 0])).sum()), len(cache))
    logger.info('cache: %d examples in %.0f s', len(cache), time.monotonic() - t0)
    evals = [EvalSequence(n, args.shared / rel, trunk, meta.height, meta.width)
             for n, rel in EVAL_SETS.items()]
    pose_net.train()
    params = [p for p in pose_net.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=args.lr)
    generator = torch.Generator().manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    log = (args.out / 'log.jsonl').open('a')
    deadline, step, losses = time.monotonic() + 60 * args.minutes, 0, []
    while True:
        order = torch.randperm(len(cache), generator=generator)
        for start in range(0, len(order) - args.batch_size + 1, args.batch_size):
            gap = args.gaps[int(torch.randint(len(args.gaps), (1,), generator=generator))]
            loss = batch_loss(pose_net, cache, order[start:start + args.batch_size], gap,
                              meta.min_depth, meta.max_depth, generator,
                              args.supervision_weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            step += 1
            done = time.monotonic() > deadline
            if step % args.eval_every == 0 or done:
                _evaluate_and_save(pose_net, evals, step, float(np.mean(losses)), log, base,
                                   args)
                losses = []
            if done:
                return 0


def _evaluate_and_save(pose_net, evals, step: int, loss: float, log, base, args) -> None:
    pose_net.eval()
    entry = {'step': step, 'loss': loss}
    for e in evals:
        ate, ratio = e.ate_ratio(pose_net)
        entry[e.name] = {'ate_5frame': ate, 'vs_constant_forward': ratio}
    pose_net.train()
    logger.info('step %d loss %.4f  ATE / constant-forward: %s', step, loss,
                '  '.join(f"{e.name} {entry[e.name]['vs_constant_forward']:.2f}x"
                          for e in evals))
    log.write(json.dumps(entry) + '\n')
    log.flush()
    meta = base.meta
    path = args.out / 'pose_fit.safetensors'
    partial = path.with_suffix('.partial')
    save_checkpoint(partial, base.depth_net, pose_net, depth_arch=meta.depth_arch,
                    pose_arch=ArchSpec.of('pose_corr', max_displacement=args.max_displacement,
                                          fine_displacement=args.fine_displacement),
                    height=meta.height, width=meta.width, min_depth=meta.min_depth,
                    max_depth=meta.max_depth, metres_per_unit=meta.metres_per_unit,
                    training_config={'pose_fit': {k: str(v) for k, v in vars(args).items()},
                                     'step': step},
                    notes=meta.notes)
    partial.replace(path)


if __name__ == '__main__':
    sys.exit(main())
