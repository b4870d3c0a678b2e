"""`depth-ros import-monodepth2`: convert a Monodepth2 model folder to a depth_ros checkpoint."""
from __future__ import annotations

import argparse


NAME = 'import-monodepth2'
HELP = 'convert Monodepth2 weights (encoder.pth, depth.pth, pose*.pth) to one .safetensors file'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('folder', help='Monodepth2 model folder')
    parser.add_argument('--out', '-o', required=True, help='output checkpoint (.safetensors)')
    parser.add_argument('--min-depth', type=float, default=0.1,
                        help='depth range of the sigmoid output (Monodepth2: 0.1)')
    parser.add_argument('--max-depth', type=float, default=100.0,
                        help='depth range of the sigmoid output (Monodepth2: 100)')
    parser.add_argument('--metres-per-unit', type=float, default=None,
                        help='metres per network unit (default 1); Monodepth2 mono models are '
                             'up to scale (KITTI stereo-trained models: 5.4)')
    parser.add_argument('--depth-scale', type=float, default=None,
                        help='deprecated name of --metres-per-unit')


def run(args: argparse.Namespace) -> int:
    from depth_ros.cli.common import metres_per_unit
    from depth_ros.models import import_monodepth2, save_checkpoint

    md2 = import_monodepth2(args.folder)
    height, width = md2.input_size
    meta = save_checkpoint(args.out, md2.depth_net, md2.pose_net, depth_arch=md2.depth_arch,
                           pose_arch=md2.pose_arch, height=height, width=width,
                           min_depth=args.min_depth, max_depth=args.max_depth,
                           metres_per_unit=metres_per_unit(args) or 1.0,
                           notes=f'imported from Monodepth2 folder {args.folder}')
    pose = meta.pose_arch.name if meta.pose_arch else 'none'
    print(f'wrote {args.out}: depth {meta.depth_arch.name}, pose {pose}, input '
          f'{meta.width}x{meta.height}, depth {meta.min_depth}-{meta.max_depth}')
    return 0
