"""`depth-ros predict`: depth for image files or folders -> .npy (metres) + colourised PNG."""
from __future__ import annotations

import argparse
import logging

import numpy as np
from tqdm import tqdm

from depth_ros.cli.common import add_model_arguments, load_predictor
from depth_ros.errors import WeightsError


NAME = 'predict'
HELP = 'predict depth for images (files or folders); writes <name>_depth.npy and .png'
LOG = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('inputs', nargs='+', help='image files and/or folders of images')
    parser.add_argument('--out', '-o', default='depth_out', help='output folder')
    add_model_arguments(parser)
    parser.add_argument('--arch', default=None,
                        help='fail unless the checkpoint holds this depth architecture')
    parser.add_argument('--random-weights', action='store_true',
                        help='use randomly initialised ResNet-18 networks (demo without weights)')


def run(args: argparse.Namespace) -> int:
    from depth_ros.inference import Predictor
    from depth_ros.inference.image_io import (
        ensure_writable_dir,
        list_images,
        read_image,
        write_depth_outputs,
    )
    from depth_ros.inference.predictor import resolve_weights
    from depth_ros.models.checkpoint import read_meta

    paths = list_images(args.inputs)
    out_dir = ensure_writable_dir(args.out)
    if args.random_weights:
        predictor = Predictor.from_random(device=args.device)
        print('note: using RANDOMLY INITIALISED weights; the depth is meaningless')
    else:
        if args.arch:  # checked on the header, before a backend exports or loads anything
            arch = read_meta(resolve_weights(args.weights)).depth_arch.name
            if args.arch != arch:
                raise WeightsError(f'checkpoint holds a {arch!r} depth network, not '
                                   f'{args.arch!r}')
        predictor = load_predictor(args)
    for path in tqdm(paths, desc='predict', unit='img', disable=len(paths) < 2):
        result = predictor.predict(read_image(path))
        npy, png = write_depth_outputs(out_dir, path.stem, result.depth_m, result.inv_depth_m)
        print(f'{path} -> {npy} ({result.depth_m.shape[1]}x{result.depth_m.shape[0]}, '
              f'median {float(np.nanmedian(result.depth_m)):.2f} m), {png}')
    return 0

