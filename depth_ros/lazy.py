"""Lazy package attributes (PEP 562): light submodules import without the heavy ones."""
from __future__ import annotations

from collections.abc import Callable
import importlib
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` resolving `exports` ({name: submodule}) on first use."""
    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(f'{package}.{exports[name]}'), name)
        raise AttributeError(f'module {package!r} has no attribute {name!r}')
    return __getattr__
