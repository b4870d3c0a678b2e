"""Training-step throughput: data loading vs compute, for the Monodepth2 recipe on this machine.

ResNet-18 depth + pose networks, frames [0, -1, 1], scales 0..3, at 192x640 with batch 4 on the
CPU by default. Data comes from a temporary KITTI-odometry-layout sequence of random 1242x375
PNG frames (decoding and resizing cost the same as real frames), or from --data.

    python benchmarks/train_step.py [--steps 5] [--batch 4] [--device cpu] [--threads N]

Data time is the wait for the next batch from the DataLoader; step time is forward + loss +
backward + optimiser step (synchronised on CUDA). Both are reported per step and per example.
"""
from __future__ import annotations

import argparse
from pathlib import Path
import statistics
import sys
import tempfile
import time

import numpy as np
from PIL import Image
import torch


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.config import load_config  # noqa: E402
from training.data.factory import build_dataset  # noqa: E402
from training.step import forward_and_loss  # noqa: E402
from training.trainer import build_training_objects, make_loader  # noqa: E402


def write_random_sequence(root: Path, frames: int, width: int = 1242, height: int = 375) -> Path:
    """KITTI odometry layout with random colour frames and a KITTI-like calib.txt."""
    seq = root / 'sequences' / '00'
    (seq / 'image_2').mkdir(parents=True)
    p2 = f'{0.58 * width} 0 {0.5 * width} 0 0 {1.92 * height} {0.5 * height} 0 0 0 1 0'
    (seq / 'calib.txt').write_text(f'P2: {p2}\n')
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    for i in range(frames):
        Image.fromarray(np.roll(base, 4 * i, axis=1)).save(seq / 'image_2' / f'{i:06d}.png')
    return root


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--height', type=int, default=192)
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--steps', type=int, default=5, help='timed steps')
    parser.add_argument('--warmup', type=int, default=1, help='untimed steps first')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--num-workers', type=int, default=0)
    parser.add_argument('--threads', type=int, default=0, help='torch threads (0: default)')
    parser.add_argument('--data', help='KITTI odometry root with sequence 00 (default: random)')
    return parser.parse_args()


def run(args: argparse.Namespace, data_root: Path) -> tuple[list[float], list[float]]:
    config = load_config(None, [
        'data.kind=kitti_odometry', f'data.path={data_root}', 'data.sequences=["00"]',
        f'data.height={args.height}', f'data.width={args.width}', f'device={args.device}',
        f'optim.batch_size={args.batch}', f'num_workers={args.num_workers}'])
    device = torch.device(config.device)
    loader = make_loader(build_dataset(config.data, 'train', config.num_scales), config, True,
                         torch.Generator().manual_seed(0))
    objects = build_training_objects(config, device)
    batches = iter(loader)
    data_s, step_s = [], []
    for i in range(args.warmup + args.steps):
        start = time.perf_counter()
        batch = next(batches).to(device)
        loaded = time.perf_counter()
        out = forward_and_loss(objects.depth_net, objects.pose_net, batch, config.model,
                               config.loss)
        objects.optimizer.zero_grad(set_to_none=True)
        out.loss.total.backward()
        objects.optimizer.step()
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        done = time.perf_counter()
        if i >= args.warmup:
            data_s.append(loaded - start)
            step_s.append(done - loaded)
    return data_s, step_s


def main() -> int:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    needed = (args.warmup + args.steps) * args.batch + 2
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.data) if args.data else write_random_sequence(Path(tmp), needed)
        data_s, step_s = run(args, root)
    data_ms, step_ms = 1000 * statistics.mean(data_s), 1000 * statistics.mean(step_s)
    total_s = (data_ms + step_ms) / 1000
    print(f'train step: resnet18 depth+pose, {args.height}x{args.width}, batch {args.batch}, '
          f'{args.device}, {torch.get_num_threads()} torch threads, '
          f'{args.num_workers} loader workers, {args.steps} timed steps')
    print(f'  data loading : {data_ms:8.1f} ms/step  ({data_ms / args.batch:7.1f} ms/example)')
    print(f'  compute      : {step_ms:8.1f} ms/step  ({step_ms / args.batch:7.1f} ms/example)'
          f'  [min {1000 * min(step_s):.1f}, max {1000 * max(step_s):.1f}]')
    print(f'  throughput   : {1 / total_s:8.3f} steps/s ({args.batch / total_s:.2f} examples/s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
