"""Does the pose network look at its input? Motion predicted for a frame paired with itself,
with a noisy copy of itself and with the next frame, beside the true motion.

    python benchmarks/pose_probe.py [--weights default synthetic runs/x.safetensors ...]

On the dev drive (KITTI raw 2011_09_26_0005 in ../shared, every 8th frame): the mean length of
the predicted translation per frame pair in metres (the weights' scale) and of the rotation in
degrees, for (f, f), (f, f + N(0, 0.01)) and (f, f+1); and the GPS/INS translation of (f, f+1).
A network that learned "drive forward" gives about the same number in all three columns.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
import sys

import numpy as np


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get('DEPTH_ROS_SHARED', ROOT.parent / 'shared'))
DEV = 'data/real/dev/kitti_raw_0926_0005/sequences/0926_0005'
NOISE_STD = 0.01


def probe(weights: str, frames: list[np.ndarray], seed: int = 0) -> dict[str, tuple]:
    """pair kind -> (mean translation m, mean rotation deg) over the frames' pairs."""
    from depth_ros.evaluation.kitti_devkit import rotation_angle
    from depth_ros.inference import Predictor

    predictor = Predictor.from_checkpoint(weights, backend='torch')
    rng = np.random.default_rng(seed)
    kinds = {'same': [], 'noisy copy': [], 'next frame': []}
    for a, b in zip(frames[0::2], frames[1::2]):
        noisy = np.clip(a + rng.normal(0.0, 255 * NOISE_STD, a.shape), 0, 255).astype(np.uint8)
        for kind, other in (('same', a), ('noisy copy', noisy), ('next frame', b)):
            pose = predictor.relative_pose(a, other)
            kinds[kind].append((np.linalg.norm(pose[:3, 3]), np.degrees(rotation_angle(pose))))
    return {k: tuple(np.mean(v, axis=0)) for k, v in kinds.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--weights', nargs='+', default=['default', 'synthetic'])
    parser.add_argument('--every', type=int, default=8, help='one pair every N frames')
    args = parser.parse_args(argv)
    import torch

    from depth_ros.evaluation.kitti_to_bag import load_kitti_sequence
    from depth_ros.inference.image_io import read_image

    torch.set_num_threads(1)
    seq = load_kitti_sequence(SHARED / DEV)
    starts = range(0, len(seq.image_paths) - 1, args.every)
    frames = [read_image(seq.image_paths[i + d]) for i in starts for d in (0, 1)]
    truth = [np.linalg.norm((np.linalg.inv(seq.world_from_cam[i]) @ seq.world_from_cam[i + 1])
                            [:3, 3]) for i in starts]
    print(f'dev drive, {len(starts)} pairs; true translation per frame {np.mean(truth):.3f} m')
    print('| weights | same (m / deg) | noisy copy (m / deg) | next frame (m / deg) |')
    print('|---|---|---|---|')
    for weights in args.weights:
        row = probe(weights, frames)
        cells = ' | '.join(f'{t:.4f} / {r:.3f}' for t, r in row.values())
        print(f'| {weights} | {cells} |', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
