"""The `depth-ros` command: thin subcommands over library calls.

Each subcommand is a module of this package defining `NAME`, `HELP`, `add_arguments(parser)` and
`run(args) -> int`. Errors raised as `DepthRosError` (or a missing optional dependency) are printed
as one line on stderr with exit status 2; nothing a user can cause prints a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from depth_ros.errors import DepthRosError


# Subcommand modules, in the order `--help` lists them.
SUBCOMMANDS = (
    'demo',
    'predict',
    'import_monodepth2',
    'synth',
    'kitti_to_bag',
    'bag_to_kitti',
    'evaluate',
    'eval_trajectory',
    'export',
    'bench',
)


def _load(name: str):
    return importlib.import_module(f'depth_ros.cli.{name}')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='depth-ros',
        description='Self-supervised monocular depth and visual odometry: '
                    'predict, evaluate, export.')
    parser.add_argument('-v', '--verbose', action='store_true', help='debug logging')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    sub.required = True
    for name in SUBCOMMANDS:
        try:
            module = _load(name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith('depth_ros.cli.'):
                continue  # subcommand not written yet
            raise
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format='%(levelname)s %(name)s: %(message)s')
    try:
        return int(args._run(args) or 0)
    except DepthRosError as exc:
        print(f'depth-ros {args.command}: error: {exc}', file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        print(f'depth-ros {args.command}: error: missing optional dependency {exc.name!r}; '
              'install the matching extra (see README)', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f'depth-ros {args.command}: interrupted', file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
