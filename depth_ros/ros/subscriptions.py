"""QoS profiles of the node's inputs, and taking the messages a subscription holds (rclpy)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy


def input_qos(reliability: str, depth: int) -> QoSProfile:
    """Keep-last, volatile; 'reliable' or 'best_effort' (the sensor-data profile)."""
    policy = (ReliabilityPolicy.RELIABLE if reliability == 'reliable'
              else ReliabilityPolicy.BEST_EFFORT)
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=policy,
                      durability=DurabilityPolicy.VOLATILE)


def take_waiting(subscription: Any, callback: Callable[[Any], None], limit: int) -> int:
    """Hand every message `subscription` has received (at most `limit`) to `callback` now.

    rclpy's executor takes one message per subscription per wait cycle, so on a busy CPU the
    small camera_infos drain no faster than the large images they belong to, and the reader's
    history drops them. This takes them the way the executor does (`handle.take_message`).

    Returns:
        How many messages were taken.
    """
    for taken in range(limit):
        with subscription.handle:
            message = subscription.handle.take_message(subscription.msg_type, subscription.raw)
        if message is None:
            return taken
        callback(message[0])
    return limit
