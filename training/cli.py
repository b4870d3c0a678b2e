"""The shared body of the training command lines (self-supervised and supervised)."""
from __future__ import annotations

from collections.abc import Callable
import logging
import sys
from typing import Any

from depth_ros.errors import DepthRosError


logger = logging.getLogger(__name__)


def run_training(load: Callable[[], Any], train: Callable[[Any], Any],
                 to_yaml: Callable[[Any], str], print_config: bool) -> int:
    """Load and validate the config, print it or train; errors are one line, exit status 2."""
    try:
        config = load()
        if print_config:
            sys.stdout.write(to_yaml(config))
            return 0
        summary = train(config)
    except DepthRosError as exc:
        logger.error('%s', exc)
        return 2
    except KeyboardInterrupt:
        logger.error('interrupted')
        return 130
    logger.info('done: %d epoch(s), %d step(s), last loss %s, checkpoint %s', summary.epochs,
                summary.steps, f'{summary.losses[-1]:.4f}' if summary.losses else 'n/a',
                summary.checkpoint)
    return 0
