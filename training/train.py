"""Command line: `python -m training.train --config FILE [--override key=value ...]`.

Examples:
    python -m training.train --config config/train_tiny.yaml
    python -m training.train --config config/train_synthetic.yaml \\
        --override optim.batch_size=8 --override device=cuda

Configuration problems and missing data are reported on one line (no traceback), with exit
status 2; everything is validated before training starts.
"""
from __future__ import annotations

import argparse
import logging
import sys


logger = logging.getLogger('training.train')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='python -m training.train',
        description='Self-supervised monocular depth + pose training (Monodepth2 recipe).')
    parser.add_argument('--config', help='YAML file overriding the defaults (training/config.py)')
    parser.add_argument('--override', action='append', default=[], metavar='KEY=VALUE',
                        help='override one key, e.g. optim.learning_rate=2e-4 (repeatable; '
                             'values are parsed as YAML)')
    parser.add_argument('--print-config', action='store_true',
                        help='print the resolved configuration and exit')
    parser.add_argument('--log-level', default='INFO',
                        choices=['DEBUG', 'INFO', 'WARNING', 'ERROR'])
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format='%(asctime)s %(levelname)s %(name)s: '
                        '%(message)s')
    # Imported here so --help stays fast and argument errors need no torch.
    from depth_ros.memory import keep_heap_warm
    from training.cli import run_training
    from training.config import config_to_yaml, load_config
    from training.trainer import train

    keep_heap_warm()  # process-wide malloc tuning: this is the process's entry point
    return run_training(lambda: load_config(args.config, args.override), train, config_to_yaml,
                        args.print_config)


if __name__ == '__main__':
    sys.exit(main())
