"""No import cycle among the modules of depth_ros/ and training/.

The graph is built from the source with ast, so it sees every import, including the lazy ones
inside functions, the lazy package attributes of `depth_ros.lazy.lazy_exports` (`_EXPORTS`
tables), `importlib.import_module('literal')` and modules named as 'module:Attribute' strings
(the backend table, loaded with importlib). The implicit import of a parent package
(importing `a.b.c` runs `a/__init__` and `a/b/__init__` first) is not an edge: it is Python's,
not the code's.
"""
from __future__ import annotations

import ast
from pathlib import Path
import re

import pytest


ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ('depth_ros', 'training')
# 'package.module:Attribute', the form of the backend table and of entry points.
_ENTRY_STRING = re.compile(r'^((?:depth_ros|training)(?:\.\w+)+):\w+$')


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob('*.py'))}


def _targets(name: str, modules: dict[str, Path]) -> list[str]:
    """`name` if it is one of our modules, else its longest prefix that is (an attribute of a
    module was imported), else nothing (a third-party import)."""
    parts = name.split('.')
    for end in range(len(parts), 0, -1):
        candidate = '.'.join(parts[:end])
        if candidate in modules:
            return [candidate]
    return []


def _package_of(module: str, path: Path) -> str:
    return module if path.name == '__init__.py' else module.rpartition('.')[0]


def _absolute(node: ast.ImportFrom, module: str, path: Path) -> str:
    if node.level == 0:
        return node.module or ''
    base = _package_of(module, path).split('.')
    base = base[:len(base) - node.level + 1]
    return '.'.join(base + ([node.module] if node.module else []))


def _imported_names(tree: ast.AST, module: str, path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):  # every level: imports inside functions count too
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, path)
            # `from pkg import sub` imports the submodule pkg.sub when there is one.
            names.update(f'{source}.{alias.name}' for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = _ENTRY_STRING.match(node.value)
            if match:
                names.add(match.group(1))
        elif _is_import_module_call(node):
            names.add(node.args[0].value)
        elif _is_exports_table(node):
            package = _package_of(module, path)
            names.update(f'{package}.{v.value}' for v in node.value.values
                         if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return names


def _is_import_module_call(node: ast.AST) -> bool:
    """`importlib.import_module('literal')` or `import_module('literal')`."""
    if not isinstance(node, ast.Call) or not node.args:
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, 'id', None)
    first = node.args[0]
    return (name == 'import_module' and isinstance(first, ast.Constant)
            and isinstance(first.value, str))


def _is_exports_table(node: ast.AST) -> bool:
    """`_EXPORTS = {name: submodule}`, resolved lazily by depth_ros.lazy.lazy_exports."""
    return (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
            and any(isinstance(t, ast.Name) and t.id == '_EXPORTS' for t in node.targets))


def import_graph() -> dict[str, set[str]]:
    """module -> the modules of ours it imports."""
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding='utf-8'))
        edges = {t for name in _imported_names(tree, module, path)
                 for t in _targets(name, modules)}
        graph[module] = edges - {module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (iterative depth-first search, three colours)."""
    state: dict[str, int] = {}  # absent: unvisited, 1: on the stack, 2: done
    for start in sorted(graph):
        if start in state:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph.get(child, ())))))
    return None


def test_cycle_finder_on_constructed_graphs():
    assert find_cycle({'a': {'b'}, 'b': {'c'}, 'c': set()}) is None
    assert find_cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a']
    assert find_cycle({'a': {'b', 'c'}, 'b': {'c'}, 'c': {'b'}}) == ['b', 'c', 'b']


def test_graph_sees_lazy_and_string_imports():
    graph = import_graph()
    # A lazy import inside a function, a lazy package attribute and an importlib string.
    assert 'depth_ros.models.smalldepth' in graph['depth_ros.models.architectures']
    assert 'depth_ros.inference.predictor' in graph['depth_ros.inference']
    assert 'depth_ros.inference.torch_backend' in graph['depth_ros.inference.backend_choices']


@pytest.mark.parametrize('package', PACKAGES)
def test_no_import_cycle(package):
    cycle = find_cycle({m: e for m, e in import_graph().items()
                        if m == package or m.startswith(f'{package}.')})
    assert cycle is None, 'import cycle: ' + ' -> '.join(cycle)


def test_no_import_cycle_across_packages():
    cycle = find_cycle(import_graph())
    assert cycle is None, 'import cycle: ' + ' -> '.join(cycle)
