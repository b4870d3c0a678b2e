"""Architecture registry: every network is built by name, so checkpoints, configs, the CLI and
the node name an architecture instead of importing a class.

Each entry records the keyword arguments it was built with (`net.arch`), which the checkpoint
format stores so a checkpoint can rebuild its own network.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import inspect
import json
from typing import Any

from torch import nn

from depth_ros.errors import ConfigError


@dataclass(frozen=True)
class ArchSpec:
    """Name and keyword arguments of a registered architecture."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {'name': self.name, 'kwargs': dict(self.kwargs)}


# Arguments that only choose an initialisation (e.g. ImageNet weights): never stored in a
# checkpoint's spec, and switched off when a network is built to receive saved weights.
INIT_ONLY_KWARGS = ('pretrained',)

_DEPTH: dict[str, Callable[..., nn.Module]] = {}
_POSE: dict[str, Callable[..., nn.Module]] = {}


def register_depth_net(name: str) -> Callable:
    """Decorator registering a depth-network factory under `name`."""
    return _register(_DEPTH, name)


def register_pose_net(name: str) -> Callable:
    """Decorator registering a pose-network factory under `name`."""
    return _register(_POSE, name)


def _register(table: dict, name: str) -> Callable:
    def wrap(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in table:
            raise ValueError(f'architecture {name!r} registered twice')
        table[name] = factory
        return factory
    return wrap


def depth_net_names() -> list[str]:
    _ensure_registered()
    return sorted(_DEPTH)


def pose_net_names() -> list[str]:
    _ensure_registered()
    return sorted(_POSE)


def build_depth_net(name: str, **kwargs: Any) -> nn.Module:
    """Build the depth network registered as `name` (e.g. 'resnet18')."""
    return _build(_DEPTH, 'depth', name, kwargs)


def build_for_weights(kind: str, name: str, **kwargs: Any) -> nn.Module:
    """Build a 'depth' or 'pose' network that will receive saved weights: initialisation-only
    arguments (INIT_ONLY_KWARGS) are switched off, so no pretrained file is read."""
    table = _DEPTH if kind == 'depth' else _POSE
    _ensure_registered()
    if name in table:
        accepted = inspect.signature(table[name]).parameters
        kwargs.update({k: False for k in INIT_ONLY_KWARGS if k in accepted})
    return _build(table, kind, name, kwargs)


def build_pose_net(name: str, **kwargs: Any) -> nn.Module:
    """Build the pose network registered as `name` (e.g. 'resnet18')."""
    return _build(_POSE, 'pose', name, kwargs)


def _build(table: dict, kind: str, name: str, kwargs: dict[str, Any]) -> nn.Module:
    _ensure_registered()
    if name not in table:
        known = ', '.join(sorted(table))
        raise ConfigError(f'unknown {kind} architecture {name!r}; known: {known}')
    factory = table[name]
    allowed = set(inspect.signature(factory).parameters)
    unknown = set(kwargs) - allowed
    if unknown:
        raise ConfigError(f'{kind} architecture {name!r} has no argument(s) {sorted(unknown)}; '
                          f'it takes {sorted(allowed)}')
    net = factory(**kwargs)
    # JSON-normalised (tuples become lists) so a spec compares equal after a checkpoint round trip.
    spec = {k: v for k, v in kwargs.items() if k not in INIT_ONLY_KWARGS}
    net.arch = ArchSpec(name, json.loads(json.dumps(spec)))
    return net


def _ensure_registered() -> None:
    # Importing the architecture modules runs their @register decorators.
    import depth_ros.models.architectures  # noqa: F401
