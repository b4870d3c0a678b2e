"""An architecture's name and arguments (`ArchSpec`), and calling a factory with checked
arguments. A leaf module: the architecture table and the registry both import it."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
import inspect
import json
from typing import Any

from torch import nn

from depth_ros.errors import ConfigError


# Arguments that only choose an initialisation (e.g. ImageNet weights): never stored in a
# checkpoint's spec, and switched off when a network is built to receive saved weights.
INIT_ONLY_KWARGS = ('pretrained',)
# Arguments that change how a network reads its input, not its parameters: weights saved with
# one value load into a network built with another (pose_lite's antisymmetric reading).
READING_ONLY_KWARGS = ('antisymmetric',)

Factory = Callable[..., nn.Module]


@dataclass(frozen=True)
class ArchSpec:
    """Name and keyword arguments of a registered architecture, as a checkpoint stores them."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, **kwargs: Any) -> ArchSpec:
        """The spec of `name` built with `kwargs`: initialisation-only arguments dropped and
        values JSON-normalised (tuples become lists), so it compares equal after a checkpoint
        round trip."""
        spec = {k: v for k, v in kwargs.items() if k not in INIT_ONLY_KWARGS}
        return cls(name, json.loads(json.dumps(spec)))

    def to_dict(self) -> dict[str, Any]:
        return {'name': self.name, 'kwargs': dict(self.kwargs)}

    def has_weights_of(self, other: ArchSpec) -> bool:
        """Whether weights saved as `other` load into a network built as this spec: the same
        name and arguments, reading-only arguments aside."""
        def weights_part(spec: ArchSpec) -> dict[str, Any]:
            return {k: v for k, v in spec.kwargs.items() if k not in READING_ONLY_KWARGS}

        return self.name == other.name and weights_part(self) == weights_part(other)


def call_factory(table: Mapping[str, Factory], kind: str, name: str,
                 kwargs: dict[str, Any]) -> nn.Module:
    """Build `table[name](**kwargs)`, refusing unknown names and arguments with a ConfigError.

    Args:
        table: architecture name -> factory.
        kind: 'depth' or 'pose', for the messages.
    """
    if name not in table:
        raise ConfigError(f'unknown {kind} architecture {name!r}; known: '
                          f'{", ".join(sorted(table))}')
    factory = table[name]
    allowed = set(inspect.signature(factory).parameters)
    unknown = set(kwargs) - allowed
    if unknown:
        raise ConfigError(f'{kind} architecture {name!r} has no argument(s) {sorted(unknown)}; '
                          f'it takes {sorted(allowed)}')
    return factory(**kwargs)
