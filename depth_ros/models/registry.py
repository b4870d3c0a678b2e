"""Architecture registry: every network is built by name, so checkpoints, configs, the CLI and
the node name an architecture instead of importing a class.

The built-in architectures are listed in `depth_ros.models.architectures` (imported here, never
the other way round). The registry returns plain modules; what a network was built from travels
as an `ArchSpec` beside it (`ArchSpec.of(name, **kwargs)`, stored by the checkpoint).
"""
from __future__ import annotations

from collections.abc import Callable
import inspect
from typing import Any

from torch import nn

from depth_ros.models.arch_spec import INIT_ONLY_KWARGS, ArchSpec, Factory, call_factory
from depth_ros.models.architectures import DEPTH_NETS, POSE_NETS


__all__ = ['INIT_ONLY_KWARGS', 'ArchSpec', 'build', 'build_depth_net', 'build_for_weights',
           'build_pose_net', 'depth_net_names', 'pose_net_names', 'register_depth_net',
           'register_pose_net']

_DEPTH: dict[str, Factory] = dict(DEPTH_NETS)
_POSE: dict[str, Factory] = dict(POSE_NETS)


def register_depth_net(name: str) -> Callable[[Factory], Factory]:
    """Decorator registering a further depth-network factory under `name` (e.g. an experiment
    of one's own; the built-in ones are listed in `architectures`)."""
    return _register(_DEPTH, name)


def register_pose_net(name: str) -> Callable[[Factory], Factory]:
    """Decorator registering a further pose-network factory under `name`."""
    return _register(_POSE, name)


def _register(table: dict[str, Factory], name: str) -> Callable[[Factory], Factory]:
    def wrap(factory: Factory) -> Factory:
        if name in table:
            raise ValueError(f'architecture {name!r} registered twice')
        table[name] = factory
        return factory
    return wrap


def depth_net_names() -> list[str]:
    return sorted(_DEPTH)


def pose_net_names() -> list[str]:
    return sorted(_POSE)


def build_depth_net(name: str, **kwargs: Any) -> nn.Module:
    """Build the depth network registered as `name` (e.g. 'resnet18')."""
    return call_factory(_DEPTH, 'depth', name, kwargs)


def build_pose_net(name: str, **kwargs: Any) -> nn.Module:
    """Build the pose network registered as `name` (e.g. 'resnet18')."""
    return call_factory(_POSE, 'pose', name, kwargs)


def build(kind: str, spec: ArchSpec) -> nn.Module:
    """Build the 'depth' or 'pose' network `spec` describes."""
    return call_factory(_table(kind), kind, spec.name, dict(spec.kwargs))


def build_for_weights(kind: str, name: str, **kwargs: Any) -> nn.Module:
    """Build a 'depth' or 'pose' network that will receive saved weights: initialisation-only
    arguments (INIT_ONLY_KWARGS) are switched off, so no pretrained file is read."""
    table = _table(kind)
    if name in table:
        accepted = inspect.signature(table[name]).parameters
        kwargs.update({k: False for k in INIT_ONLY_KWARGS if k in accepted})
    return call_factory(table, kind, name, kwargs)


def _table(kind: str) -> dict[str, Factory]:
    return _DEPTH if kind == 'depth' else _POSE
