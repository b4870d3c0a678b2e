"""Strict conversion between frozen config dataclasses and plain mappings (YAML/JSON).

Defaults live only in the dataclasses; a mapping overrides some of them. Every key must be a
field, every value must have the field's type (ints are accepted for floats, lists for tuples),
and nested dataclasses are nested mappings. `dict[str, ...]` fields (e.g. an architecture's
keyword arguments) take any mapping of names to JSON-like values. Errors name the dotted key.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, is_dataclass
import json
import os
from pathlib import Path
import types
import typing
from typing import Any, TypeVar

import yaml

from depth_ros.errors import ConfigError


T = TypeVar('T')


def load_dataclass(cls: type[T], path: str | os.PathLike | None = None,
                   overrides: Sequence[str] = ()) -> T:
    """Defaults of `cls`, then the YAML file, then `key=value` overrides (values parsed as YAML).

    Raises:
        ConfigError: unreadable file, bad override, unknown key or wrong type.
    """
    data = _read_yaml(Path(path)) if path else {}
    for item in overrides:
        key, sep, text = item.partition('=')
        if not sep:
            raise ConfigError(f'override {item!r} must look like key=value, '
                              'e.g. optim.learning_rate=2e-4')
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise ConfigError(f'override {item!r}: the value is not valid YAML') from None
        set_dotted(data, key.strip(), value)
    return from_mapping(cls, data)


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f'config file not found: {path}')
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except yaml.YAMLError as exc:
        raise ConfigError(f'{path} is not valid YAML: {exc}'.replace('\n', ' ')) from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f'{path}: expected a mapping of config sections at the top level')
    return data or {}


def from_mapping(cls: type[T], data: Any, where: str = '') -> T:
    """Build dataclass `cls` from `data`, a mapping of overrides (None: all defaults)."""
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(f'{where or "config"}: expected a mapping of keys, got '
                          f'{type(data).__name__} {data!r}')
    hints = typing.get_type_hints(cls)
    known = [f.name for f in fields(cls)]
    unknown = [key for key in data if key not in known]
    if unknown:
        raise ConfigError(f'unknown config key {_join(where, str(unknown[0]))!r}; '
                          f'valid keys{" in " + where if where else ""}: {", ".join(known)}')
    values = {key: _convert(hints[key], value, _join(where, key)) for key, value in data.items()}
    return cls(**values)


def to_mapping(obj: Any) -> Any:
    """A config dataclass as nested dicts of YAML-safe values (tuples become lists)."""
    if is_dataclass(obj):
        return {f.name: to_mapping(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, (tuple, list)):
        return [to_mapping(v) for v in obj]
    return obj


def mapping_to_yaml(mapping: dict[str, Any]) -> str:
    """YAML of a `to_mapping` result, keys in field order (what config files are written as)."""
    return yaml.safe_dump(mapping, sort_keys=False)


def _join(where: str, key: str) -> str:
    return f'{where}.{key}' if where else key


def _convert(hint: Any, value: Any, key: str) -> Any:
    if is_dataclass(hint):
        return from_mapping(hint, value, key)
    origin = typing.get_origin(hint)
    if origin is tuple:
        item_type = typing.get_args(hint)[0]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f'{key}: expected a list of {item_type.__name__}, got {value!r}')
        return tuple(_convert(item_type, v, f'{key}[{i}]') for i, v in enumerate(value))
    if origin is dict:
        return _json_mapping(value, key)
    if origin in (typing.Union, types.UnionType):
        raise ConfigError(f'{key}: optional fields are not supported in configs')
    return _scalar(hint, value, key)


def _json_mapping(value: Any, key: str) -> dict[str, Any]:
    """A mapping of names to YAML values, as plain JSON-like data (None: empty)."""
    value = {} if value is None else value
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ConfigError(f'{key}: expected a mapping of names to values, e.g. '
                          f'{{lr_arch: smalldepth, lr_factor: 2}}, got {value!r}')
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        raise ConfigError(f'{key}: values must be numbers, strings, booleans, lists or '
                          f'mappings, got {value!r}') from None


def _scalar(hint: type, value: Any, key: str) -> Any:
    # bool is a subclass of int: reject True for int fields and 1 for bool fields.
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is float:
        value = _yaml11_float(value)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is str:
        ok = isinstance(value, str)
    else:
        raise ConfigError(f'{key}: unsupported config type {hint!r}')
    if not ok:
        hint_text = ' (quote it in YAML)' if hint is str else ''
        raise ConfigError(f'{key}: expected {hint.__name__}, got {type(value).__name__} '
                          f'{value!r}{hint_text}')
    return value


def _yaml11_float(value: Any) -> Any:
    # PyYAML follows YAML 1.1, which reads 1e-4 (no dot) as a string; accept it as a float.
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def set_dotted(data: dict, dotted_key: str, value: Any) -> None:
    """Set data['a']['b'] = value for 'a.b', creating mappings on the way."""
    parts = dotted_key.split('.')
    if not all(parts):
        raise ConfigError(f'bad override key {dotted_key!r}: expected dotted names like '
                          'optim.learning_rate')
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f'override {dotted_key!r}: {".".join(parts[:i + 1])} is a value, '
                              'not a section')
        node = child
    node[parts[-1]] = value
