"""Arguments shared by several subcommands."""
from __future__ import annotations

import argparse
import sys

from depth_ros.inference.backend_choices import AUTO, BACKEND_CHOICES
from depth_ros.sizes import parse_input_size


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--weights', '-w', default=None,
                        help='depth_ros checkpoint (.safetensors); default: the shipped weights')
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N (default: cpu)')
    parser.add_argument('--backend', default=AUTO, choices=BACKEND_CHOICES,
                        help='inference backend (default: auto = onnxruntime on the CPU when '
                             "installed, else torch; the node's default too)")
    parser.add_argument('--metres-per-unit', type=float, default=None,
                        help="metres per network unit, replacing the checkpoint's calibration "
                             '(default: from the checkpoint)')
    parser.add_argument('--depth-scale', type=float, default=None,
                        help='deprecated name of --metres-per-unit')
    parser.add_argument('--flip-average', action='store_true',
                        help='average the depth of the image and of its mirror image '
                             "(Monodepth2's post-processing; twice the depth network's work)")
    parser.add_argument('--input-size', default=None, metavar='WxH',
                        help="run the networks at this size instead of the weights' own "
                             '(multiples of 32, e.g. 512x160)')


def metres_per_unit(args: argparse.Namespace) -> float | None:
    """--metres-per-unit, or the deprecated --depth-scale with a warning on stderr."""
    if args.depth_scale is not None:
        print('warning: --depth-scale is deprecated (it replaces the checkpoint calibration); '
              'use --metres-per-unit', file=sys.stderr)
        if args.metres_per_unit is None:
            return args.depth_scale
    return args.metres_per_unit


def load_predictor(args: argparse.Namespace):
    """Predictor from --weights/--device/--backend/--metres-per-unit (imports torch)."""
    from depth_ros.inference import Predictor

    size = None if args.input_size is None else parse_input_size(args.input_size, '--input-size')
    return Predictor.from_checkpoint(args.weights, device=args.device, backend=args.backend,
                                     metres_per_unit=metres_per_unit(args),
                                     flip_average=args.flip_average, input_size=size)
