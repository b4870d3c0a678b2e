"""Network input sizes: 'WxH' text as users write image sizes, and the encoders' stride.

The depth and pose networks are fully convolutional, so weights trained at one size run at any
other multiple of the stride (`CheckpointMeta.with_input_size`, the node's `input_size`).
Pure Python (no torch): the ROS input checks use the stride too.
"""
from __future__ import annotations

import argparse

from depth_ros.errors import ConfigError


# Every encoder here downsamples by 32: input sides are multiples of it.
NETWORK_STRIDE = 32


def parse_size(text: str, what: str = 'size') -> tuple[int, int]:
    """'640x192' (width x height, as image sizes are written) -> (height, width).

    Raises:
        ConfigError: not two positive integers joined by 'x'.
    """
    parts = str(text).strip().lower().split('x')
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise ConfigError(f'{what} {text!r} is not WxH (width x height, e.g. 640x192)') from None
    if width <= 0 or height <= 0:
        raise ConfigError(f'{what} {text!r}: width and height must be positive')
    return height, width


def check_input_size(height: int, width: int, what: str = 'network input size') -> None:
    """Raise ConfigError unless height and width are positive multiples of NETWORK_STRIDE."""
    if height <= 0 or width <= 0 or height % NETWORK_STRIDE or width % NETWORK_STRIDE:
        raise ConfigError(f'{what} {width}x{height} (WxH): both sides must be positive '
                          f'multiples of {NETWORK_STRIDE}, e.g. 640x192 or 512x160')


def parse_input_size(text: str, what: str = 'input size') -> tuple[int, int]:
    """'512x160' -> (160, 512) for a network input: `parse_size` and `check_input_size`."""
    height, width = parse_size(text, what)
    check_input_size(height, width, what)
    return height, width


def input_size_arg(text: str) -> tuple[int, int]:
    """argparse `type=` for a network input size option: (height, width), or the parser's
    usage error (exit status 2) for a bad one."""
    try:
        return parse_input_size(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
