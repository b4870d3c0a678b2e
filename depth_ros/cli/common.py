"""Arguments shared by several subcommands."""
from __future__ import annotations

import argparse

from depth_ros.inference.backend_choices import BACKEND_NAMES


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--weights', '-w', default=None,
                        help='depth_ros checkpoint (.safetensors); default: the shipped weights')
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N (default: cpu)')
    parser.add_argument('--backend', default='torch', choices=BACKEND_NAMES,
                        help='inference backend (default: torch)')
    parser.add_argument('--depth-scale', type=float, default=None,
                        help='metres per network unit (default: from the checkpoint)')


def load_predictor(args: argparse.Namespace):
    """Predictor from --weights/--device/--backend/--depth-scale (imports torch)."""
    from depth_ros.inference import Predictor

    return Predictor.from_checkpoint(args.weights, device=args.device, backend=args.backend,
                                     depth_scale=args.depth_scale)
