"""Training depth written beside the frames of a KITTI-layout tree (`depth_<camera>/`, KITTI
depth-benchmark PNGs): the command line and the folder that appears whole or not at all, shared
by training.data.geometric_depth (triangulated corners) and training.data.teacher_depth (a
teacher network's dense depth)."""
from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
import logging
from pathlib import Path
import shutil
import sys

from depth_ros.errors import DepthRosError, InputError


def add_tree_arguments(parser: argparse.ArgumentParser) -> None:
    """--root, --sequences, --camera and --replace."""
    parser.add_argument('--root', type=Path, required=True,
                        help='KITTI-layout tree (sequences/)')
    parser.add_argument('--sequences', nargs='+', required=True)
    parser.add_argument('--camera', type=int, default=2)
    parser.add_argument('--replace', action='store_true',
                        help='replace a depth folder that exists (never LiDAR you want to keep)')


def sequence_dirs(args: argparse.Namespace) -> list[Path]:
    """The sequence folders named by `args`, all checked before any is written: InputError for
    one that already has `depth_<camera>/` (LiDAR?) unless --replace."""
    dirs = [args.root / 'sequences' / name for name in args.sequences]
    for sequence_dir in dirs:
        if (sequence_dir / f'depth_{args.camera}').exists() and not args.replace:
            raise InputError(f'{sequence_dir}/depth_{args.camera} exists (LiDAR?); '
                             'pass --replace to overwrite it')
    return dirs


def run_cli(body: Callable[[], None]) -> int:
    """Run a command's `body` with INFO logging and one torch thread (the 2-core machines these
    run on train beside them); exit status 0, or 2 with the message of a DepthRosError."""
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(message)s')
    import torch
    torch.set_num_threads(1)
    try:
        body()
    except DepthRosError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    return 0


@contextmanager
def depth_folder(sequence_dir: Path, camera: int) -> Iterator[Path]:
    """Yield an empty folder to write into; on success it replaces `depth_<camera>/` whole, on
    an error it is removed and the folder that was there stays."""
    target = sequence_dir / f'depth_{camera}'
    partial = sequence_dir / f'.depth_{camera}.partial'
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if target.exists():
        shutil.rmtree(target)
    partial.rename(target)
